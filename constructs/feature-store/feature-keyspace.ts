import { ArnFormat, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cassandra from 'aws-cdk-lib/aws-cassandra';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, type IConstruct } from 'constructs';
import { pascalCase } from '../private/ids';
import { acknowledgeWildcardResource } from '../private/nag';
import { ValidationError } from '../private/validation-error';
import { KeyspaceRegions } from './keyspace-regions';

/** Keyspaces' limit on a table's default time to live (20 years). */
export const MAX_TTL_SECONDS = 630_720_000;

const NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/;

export interface FeatureTableSpec {
  /** Table name: a letter, then letters, digits or underscores (48 at most). */
  readonly name: string;
  /** Default time to live of rows; a write may set its own. */
  readonly ttlSeconds: number;
}

/** Capacity of every table. */
export type FeatureTableCapacity =
  | { readonly mode: 'PAY_PER_REQUEST' }
  | {
      readonly mode: 'PROVISIONED';
      /** Floor and ceiling of the capacity auto scaling keeps each table at. */
      readonly minReadCapacityUnits: number;
      readonly maxReadCapacityUnits: number;
      readonly minWriteCapacityUnits: number;
      readonly maxWriteCapacityUnits: number;
      readonly targetUtilizationPercent: number;
    };

export interface FeatureKeyspaceProps {
  readonly keyspaceName: string;
  /**
   * Every region the keyspace is replicated to, this stack's region included. Multi-Region
   * keyspaces are active-active: every replica takes reads and writes, so no failover is needed.
   */
  readonly regions: readonly string[];
  readonly tables: readonly FeatureTableSpec[];
  readonly capacity: FeatureTableCapacity;
  /**
   * Encrypts the log group of the functions that add the Regions; its policy must admit CloudWatch Logs of this region
   * (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * The online feature store: an Amazon Keyspaces (Cassandra-compatible) multi-Region keyspace and its
 * feature tables, each keyed by entity id with one row per feature group.
 *
 * The keyspace is created single-Region and extended to the other Regions by `KeyspaceRegions`
 * (UpdateKeyspace): its CloudFormation replication specification never changes, so adding a Region
 * to a running deployment never replaces the keyspace or its tables.
 *
 * Every table has point-in-time recovery (35 days) and client-side timestamps, which multi-Region
 * replication needs to resolve concurrent writes (last writer wins). Keyspaces encrypts at rest
 * (with an AWS owned key: a multi-Region table takes a single key setting for all its replicas, and
 * a customer key is bound to one region) and accepts TLS connections only.
 */
export class FeatureKeyspace extends Construct implements IFeatureKeyspace {
  /**
   * The keyspace by name, as every region of the tier holds it (the home region creates it and
   * extends it to the others): ARNs are formatted in `scope`'s stack, so they name that region's replica.
   */
  public static fromKeyspaceName(scope: IConstruct, keyspaceName: string): IFeatureKeyspace {
    return { keyspaceName, grantReadData: (grantee) => grantReadData(scope, keyspaceName, grantee) };
  }

  public readonly keyspaceName: string;
  public readonly keyspace: cassandra.CfnKeyspace;
  public readonly tables: Record<string, cassandra.CfnTable> = {};
  /** Adds the other Regions once the tables exist. */
  public readonly regions: KeyspaceRegions;

  constructor(scope: Construct, id: string, props: FeatureKeyspaceProps) {
    super(scope, id);
    validate(this, props);
    this.keyspaceName = props.keyspaceName;

    this.keyspace = new cassandra.CfnKeyspace(this, 'Resource', {
      keyspaceName: props.keyspaceName,
      replicationSpecification: { replicationStrategy: 'SINGLE_REGION' },
      clientSideTimestampsEnabled: true,
    });
    this.keyspace.applyRemovalPolicy(RemovalPolicy.RETAIN);

    for (const spec of props.tables) {
      const table = new cassandra.CfnTable(this, pascalCase(spec.name), {
        keyspaceName: this.keyspace.ref,
        tableName: spec.name,
        partitionKeyColumns: [{ columnName: 'entity_id', columnType: 'text' }],
        clusteringKeyColumns: [{ column: { columnName: 'feature_group', columnType: 'text' }, orderBy: 'ASC' }],
        regularColumns: [
          { columnName: 'features', columnType: 'blob' }, // the feature group's values, serialised
          { columnName: 'event_time', columnType: 'timestamp' },
          { columnName: 'feature_version', columnType: 'int' },
        ],
        defaultTimeToLive: spec.ttlSeconds,
        pointInTimeRecoveryEnabled: true,
        clientSideTimestampsEnabled: true,
        encryptionSpecification: { encryptionType: 'AWS_OWNED_KMS_KEY' },
        ...capacityOf(props.capacity),
      });
      table.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.tables[spec.name] = table;
    }
    const ownRegion = Stack.of(this).region;
    this.regions = new KeyspaceRegions(this, 'Regions', {
      keyspaceName: props.keyspaceName,
      regions: [ownRegion, ...props.regions.filter((r) => r !== ownRegion)],
      logEncryptionKey: props.logEncryptionKey,
    });
    // A Region is added to a keyspace with every table in it, each with client-side timestamps.
    this.regions.node.addDependency(...Object.values(this.tables));
  }

  public grantReadData(grantee: iam.IGrantable): iam.Grant {
    return grantReadData(this, this.keyspaceName, grantee);
  }
}

/** The feature keyspace of a region, created there or named, and what may be granted on it. */
export interface IFeatureKeyspace {
  readonly keyspaceName: string;
  /** Allow `grantee` to read (`cassandra:Select`) every table of the keyspace in this region. */
  grantReadData(grantee: iam.IGrantable): iam.Grant;
}

function grantReadData(scope: IConstruct, keyspaceName: string, grantee: iam.IGrantable): iam.Grant {
  const tables = Stack.of(scope).formatArn({
    service: 'cassandra',
    resource: `/keyspace/${keyspaceName}/table`,
    resourceName: '*',
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const grant = iam.Grant.addToPrincipal({ grantee, actions: ['cassandra:Select'], resourceArns: [tables] });
  if (Construct.isConstruct(grantee))
    acknowledgeWildcardResource(
      grantee,
      tables,
      'The prediction service reads every online feature table of the one feature keyspace; table names are the only wildcard.',
    );
  return grant;
}

function capacityOf(capacity: FeatureTableCapacity): Pick<cassandra.CfnTableProps, 'billingMode' | 'autoScalingSpecifications'> {
  if (capacity.mode === 'PAY_PER_REQUEST') return { billingMode: { mode: 'ON_DEMAND' } };
  const scaling = (minimumUnits: number, maximumUnits: number): cassandra.CfnTable.AutoScalingSettingProperty => ({
    minimumUnits,
    maximumUnits,
    scalingPolicy: {
      targetTrackingScalingPolicyConfiguration: { targetValue: capacity.targetUtilizationPercent },
    },
  });
  const read = scaling(capacity.minReadCapacityUnits, capacity.maxReadCapacityUnits);
  return {
    billingMode: {
      mode: 'PROVISIONED',
      provisionedThroughput: {
        readCapacityUnits: capacity.minReadCapacityUnits,
        writeCapacityUnits: capacity.minWriteCapacityUnits,
      },
    },
    // Multi-Region provisioned tables must auto scale writes. A Region added by UpdateKeyspace
    // takes these settings and then scales on its own.
    autoScalingSpecifications: {
      readCapacityAutoScaling: read,
      writeCapacityAutoScaling: scaling(capacity.minWriteCapacityUnits, capacity.maxWriteCapacityUnits),
    },
  };
}

function validate(scope: Construct, props: FeatureKeyspaceProps): void {
  const fail = (message: string) => {
    throw new ValidationError(message, scope);
  };
  const region = Stack.of(scope).region;
  if (!NAME_PATTERN.test(props.keyspaceName)) {
    fail(`keyspaceName "${props.keyspaceName}" is invalid: expected a letter, then up to 47 letters, digits or underscores`);
  }
  if (props.regions.length < 2) {
    fail(`regions must list at least 2 regions for a multi-Region keyspace, got ${props.regions.join(', ') || 'none'}`);
  }
  if (new Set(props.regions).size !== props.regions.length) {
    fail(`regions lists a region twice: ${props.regions.join(', ')}`);
  }
  if (!Token.isUnresolved(region) && !props.regions.includes(region)) {
    fail(`regions must include ${region}, the region the keyspace is created in; got ${props.regions.join(', ')}`);
  }
  if (props.tables.length === 0) fail('tables must list at least one feature table');
  const names = new Set<string>();
  for (const table of props.tables) {
    if (!NAME_PATTERN.test(table.name)) {
      fail(`table name "${table.name}" is invalid: expected a letter, then up to 47 letters, digits or underscores`);
    }
    if (names.has(table.name)) fail(`table ${table.name} is listed twice`);
    names.add(table.name);
    if (!Number.isInteger(table.ttlSeconds) || table.ttlSeconds < 1 || table.ttlSeconds > MAX_TTL_SECONDS) {
      fail(`table ${table.name}: ttlSeconds must be an integer from 1 to ${MAX_TTL_SECONDS}, got ${table.ttlSeconds}`);
    }
  }
  if (props.capacity.mode === 'PROVISIONED') {
    const c = props.capacity;
    for (const [what, min, max] of [
      ['read', c.minReadCapacityUnits, c.maxReadCapacityUnits],
      ['write', c.minWriteCapacityUnits, c.maxWriteCapacityUnits],
    ] as const) {
      if (!(min >= 1 && max >= min)) {
        fail(`provisioned ${what} capacity must have 1 <= min <= max, got min ${min}, max ${max}`);
      }
    }
    if (!(c.targetUtilizationPercent >= 20 && c.targetUtilizationPercent <= 90)) {
      fail(`targetUtilizationPercent must be 20 to 90 (Keyspaces' range), got ${c.targetUtilizationPercent}`);
    }
  }
}
