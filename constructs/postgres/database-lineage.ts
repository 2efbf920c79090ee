import { Annotations, Arn, ArnFormat, Duration, type Stack, Tags } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import {
  DATABASE_TAG,
  type DatabaseGeneration,
  type PostgresSizing,
  postgresReadReplicaId,
  type RegionDatabases,
  type RunbookParameters,
} from '../../lib/config';
import { acknowledgeNist } from '../private/nag';
import { CrossRegionReadReplica } from './cross-region-read-replica';
import { DatabaseBootstrap } from './database-bootstrap';
import { instanceLogGroups } from './instance-support';
import { PostgresDatabase } from './postgres-database';
import { type PostgresReadReplicaSpec, PrimaryReadScaling } from './primary-read-scaling';
import type { IDatabaseRegion, IRegionalDatabase } from './regional-database';

const POSTGRES_VERSIONS = {
  '16': rds.PostgresEngineVersion.VER_16,
  '17': rds.PostgresEngineVersion.VER_17,
} as const;

export interface RdsDatabaseLineageProps {
  /** The region's generations (see `resolveDatabaseTopology`): the current one and those retained until retired. */
  readonly lineage: RegionDatabases;
  readonly sizing: PostgresSizing;
  /** The region holding the platform's primary now, named in the replicas' acknowledgements. */
  readonly primaryRegionName: string;
  readonly encryptionKey: kms.IKey;
  readonly vpc: ec2.IVpc;
  readonly clientCidrs: string[];
  readonly logRetention: logs.RetentionDays;
}

/**
 * A region's RDS database lineage: every generation of its database (the current one and those
 * retained until retired), the in-region read replicas and pooler beside the primary, and the
 * primary's bootstrap. Not a construct: the generations are created directly in `stack`, under the
 * ids they have always had (`Metadata`, `MetadataG<n>`, `MetadataReadScaling`, `MetadataBootstrap`).
 */
export class RdsDatabaseLineage implements IDatabaseRegion {
  /** The region's current database. */
  public readonly current: IRegionalDatabase;
  /** Older generations, retained until retired. */
  public readonly retained: readonly IRegionalDatabase[];
  /** In-region read replicas and pooler, only beside the primary. */
  public readonly readScaling?: PrimaryReadScaling;
  /** The platform's roles and databases, beside a primary with an RDS-managed master secret. */
  public readonly bootstrap?: DatabaseBootstrap;
  /** The current database's RDS-managed master secret, when it has one (it was created as the primary). */
  public readonly masterSecretArn?: string;
  public readonly runbookParameters: RunbookParameters<'postgres'>;

  constructor(
    private readonly stack: Stack,
    private readonly props: RdsDatabaseLineageProps,
  ) {
    const { lineage } = props;
    const current = lineage.current;
    this.current = this.addGeneration(current);
    this.retained = lineage.retained.map((g) => this.addGeneration(g));
    // Former primaries keep their replicas' log groups until they are retired.
    for (const [index, g] of lineage.retained.entries()) this.readReplicaSpecs(g, this.retained[index] as IRegionalDatabase);
    if (current.role === 'former-primary') this.readReplicaSpecs(current, this.current);
    if (current.role === 'primary') {
      this.readScaling = new PrimaryReadScaling(stack, 'MetadataReadScaling', {
        database: this.current,
        instanceClass: props.sizing.instanceClass,
        encryptionKey: props.encryptionKey,
        vpc: props.vpc,
        clientCidrs: props.clientCidrs,
        readReplicas: this.readReplicaSpecs(current, this.current),
        connectionPooler: props.sizing.connectionPooler,
        logRetention: props.logRetention,
      });
      this.bootstrap = this.addBootstrap(this.current);
    }
    if (this.current instanceof PostgresDatabase) this.masterSecretArn = this.current.masterSecretArn;
    this.runbookParameters = this.describe();
  }

  /** Allow `grantee` to connect to the current database as `databaseUser`, directly and through the pooler when there is one. */
  public grantClientConnect(grantee: iam.IGrantable, databaseUser: string): iam.Grant {
    const grant = this.current.grantConnect(grantee, databaseUser);
    const proxy = this.readScaling?.grantConnectThroughProxy(grantee, databaseUser);
    return proxy ? grant.combine(proxy) : grant;
  }

  /** The `postgres` runbook parameters of the lineage: the current generation, those retained, and what stands beside the primary. */
  private describe(): RunbookParameters<'postgres'> {
    const { current, retained } = this.props.lineage;
    const database = this.current;
    const readScaling = this.readScaling;
    return {
      'instance-id': current.instanceIdentifier,
      'instance-arn': database.instanceArn,
      endpoint: database.endpoint,
      role: current.role,
      generation: String(current.generation),
      'source-arn': current.createdFrom ? this.databaseArn(current.createdFrom) : 'none',
      'retained-instance-ids': retained.map((g) => g.instanceIdentifier).join(',') || 'none',
      ...(this.masterSecretArn ? { 'master-secret-arn': this.masterSecretArn } : {}),
      ...(readScaling ? { 'read-replica-ids': readScaling.readReplicas.map((r) => r.instanceIdentifier).join(',') || 'none' } : {}),
      ...(readScaling?.proxy ? { 'proxy-endpoint': readScaling.proxy.endpoint } : {}),
    };
  }

  /** ARN of an instance in another region, from its name: stacks in other regions hold no references. */
  public databaseArn(instance: { region: string; instanceIdentifier: string }): string {
    return Arn.format(
      {
        service: 'rds',
        region: instance.region,
        resource: 'db',
        resourceName: instance.instanceIdentifier,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        partition: 'aws', // every supported region is in the commercial partition; the replica parses this ARN
      },
      this.stack,
    );
  }

  /**
   * One generation of the region's database. The first generation of the home region was created
   * as the primary; every other one as a cross-region replica, and stays one in its template.
   */
  private addGeneration(g: DatabaseGeneration): IRegionalDatabase {
    const pg = this.props.sizing;
    const id = g.generation === 1 ? 'Metadata' : `MetadataG${g.generation}`;
    const common = {
      instanceIdentifier: g.instanceIdentifier,
      engineVersion: POSTGRES_VERSIONS[pg.engineMajorVersion],
      instanceClass: pg.instanceClass,
      maxConnections: pg.maxConnections,
      backupRetention: Duration.days(pg.backupRetentionDays),
      encryptionKey: this.props.encryptionKey,
      vpc: this.props.vpc,
      clientCidrs: this.props.clientCidrs,
      logRetention: this.props.logRetention,
    };
    const database = g.createdFrom
      ? new CrossRegionReadReplica(this.stack, id, {
          ...common,
          sourceDbInstanceArn: this.databaseArn(g.createdFrom),
          multiAz: pg.crossRegionReplicaMultiAz,
        })
      : new PostgresDatabase(this.stack, id, {
          ...common,
          allocatedStorageGiB: pg.allocatedStorageGiB,
          maxAllocatedStorageGiB: pg.maxAllocatedStorageGiB,
        });
    // Every resource of a generation names it, so retiring it is recognisable in a template diff.
    Tags.of(database).add(DATABASE_TAG, g.instanceIdentifier);
    if (g.role !== 'primary') {
      acknowledgeNist(
        database,
        'RDSInBackupPlan',
        `Not the primary (${g.role}): the platform writes to the primary of ${this.props.primaryRegionName}, which its region's backup plan covers; this generation keeps its own automated backups until it is promoted or retired.`,
      );
    }
    return database;
  }

  /**
   * The deploy-time bootstrap of the platform's roles and databases, on the primary. Replicas receive
   * them by replication. A primary without an RDS-managed master secret (a promoted cross-region
   * replica) gets none, and synthesis says so: it holds what its source had when it was promoted.
   */
  private addBootstrap(database: IRegionalDatabase): DatabaseBootstrap | undefined {
    if (!(database instanceof PostgresDatabase)) {
      // Info, not a warning: a failed-over layout is a supported state, and the gates fail on any warning.
      Annotations.of(this.stack).addInfo(
        `The deploy does not run the database bootstrap in ${this.stack.region}: the primary ${database.instanceIdentifier} is a promoted ` +
          'replica with no RDS-managed master secret. It holds the roles and databases its source had when promoted; a bootstrap ' +
          'plan changed since is not applied to it.',
      );
      return undefined;
    }
    return new DatabaseBootstrap(this.stack, 'MetadataBootstrap', {
      database,
      masterSecret: database.masterSecret,
      vpc: this.props.vpc,
      logEncryptionKey: this.props.encryptionKey,
      logRetention: this.props.logRetention,
    });
  }

  /**
   * The in-region read replicas of a generation that is (or was) the primary. Their log groups
   * belong to the generation, not to the replicas: they stay, retained, while the generation does,
   * after a failover removes the replicas, and leave with it when it is retired.
   */
  private readReplicaSpecs(g: DatabaseGeneration, database: IRegionalDatabase): PostgresReadReplicaSpec[] {
    if (g.role !== 'primary' && g.role !== 'former-primary') return [];
    const roleCounts = new Map<string, number>();
    return this.props.sizing.readReplicaRoles.map((role, position) => {
      const index = (roleCounts.get(role) ?? 0) + 1;
      roleCounts.set(role, index);
      const instanceIdentifier = postgresReadReplicaId(g.instanceIdentifier, role, index);
      const logGroups = instanceLogGroups(
        new Construct(database, `ReadReplica${position + 1}`),
        instanceIdentifier,
        this.props.logRetention,
        this.props.encryptionKey,
      );
      return { role, instanceIdentifier, logGroups };
    });
  }
}
