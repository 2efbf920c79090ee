import { Duration, RemovalPolicy, Tags, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { DATA_SUBNETS, type DataStoreNetworkProps } from '../network/data-store-network';
import { markDerivedCopy } from '../private/derived-copy';
import { acknowledgeNist } from '../private/nag';
import { ValidationError } from '../private/validation-error';
import { addIamAuthProxy, type IamAuthProxy } from './iam-auth-proxy';
import { acknowledgeReplicaFindings, instanceDefaults, instanceLogGroups } from './instance-support';
import { validateInstanceIdentifier } from './postgres-database';
import type { IRegionalDatabase } from './regional-database';

/** RDS allows at most 15 read replicas of one PostgreSQL instance. */
export const MAX_READ_REPLICAS = 15;

/** An in-region read replica and the traffic it serves. */
export interface PostgresReadReplicaSpec {
  /** Physical instance identifier. */
  readonly instanceIdentifier: string;
  /** What the replica serves, e.g. `status-api`; tagged as `mlp:replica-role`. */
  readonly role: string;
  /**
   * The log groups RDS exports the replica's logs to, created by the caller so they can outlive the
   * replica (they hold its query logs, which the replica's removal must not take with it).
   * @default - created with the replica, and retained
   */
  readonly logGroups?: readonly logs.ILogGroup[];
}

export interface PrimaryReadScalingProps extends DataStoreNetworkProps {
  /** The writable primary the replicas and the pooler serve. */
  readonly database: IRegionalDatabase;
  /** Instance class of the replicas without the `db.` prefix; the primary's, so they keep up. */
  readonly instanceClass: string;
  /**
   * Encrypts Performance Insights data and log groups of the replicas. Its policy must admit
   * CloudWatch Logs of the region (`cloudWatchLogsKeyStatement`).
   */
  readonly encryptionKey: kms.IKey;
  /**
   * In-region read replicas.
   * @default - none
   */
  readonly readReplicas?: readonly PostgresReadReplicaSpec[];
  /**
   * Put an RDS Proxy in front of the primary, named like it.
   * @default false
   */
  readonly connectionPooler?: boolean;
  /**
   * Retention of the replicas' exported PostgreSQL logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Enhanced Monitoring interval of the replicas.
   * @default Duration.seconds(60)
   */
  readonly monitoringInterval?: Duration;
}

/**
 * The read capacity beside the writable primary: in-region read replicas named by the traffic they
 * serve, and optionally RDS Proxy as the connection pooler (the seeds' PgBouncer). It follows the
 * primary: after a failover it is built beside the promoted instance and removed from the former
 * primary's region.
 *
 * The replicas are derived copies: each holds only what its source, in the same region, holds. They
 * are deleted with the stack or when the primary moves (a replica of a fenced instance would serve
 * stale reads), so they carry no deletion protection; the proxy holds no data at all.
 */
export class PrimaryReadScaling extends Construct {
  public readonly readReplicas: rds.DatabaseInstanceReadReplica[] = [];
  public readonly proxy?: rds.DatabaseProxy;
  private readonly pooler?: IamAuthProxy;

  constructor(scope: Construct, id: string, props: PrimaryReadScalingProps) {
    super(scope, id);
    const specs = props.readReplicas ?? [];
    if (specs.length > MAX_READ_REPLICAS) {
      throw new ValidationError(
        `readReplicas: RDS allows at most ${MAX_READ_REPLICAS} read replicas of one instance, got ${specs.length}`,
        this,
      );
    }
    const identifiers = [props.database.instanceIdentifier, ...specs.map((r) => r.instanceIdentifier)];
    for (const identifier of identifiers) validateInstanceIdentifier(this, identifier);
    if (new Set(identifiers).size !== identifiers.length) {
      throw new ValidationError(`instance identifiers must be unique, got ${identifiers.join(', ')}`, this);
    }
    const vpcSubnets = props.vpcSubnets ?? DATA_SUBNETS;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const zones = props.vpc.availabilityZones;

    for (const [index, spec] of specs.entries()) {
      const replicaScope = new Construct(this, `ReadReplica${index + 1}`);
      const replicaLogs = spec.logGroups ?? instanceLogGroups(replicaScope, spec.instanceIdentifier, logRetention, props.encryptionKey);
      const replica = new rds.DatabaseInstanceReadReplica(replicaScope, 'Instance', {
        ...instanceDefaults(props.encryptionKey),
        instanceIdentifier: spec.instanceIdentifier,
        sourceDatabaseInstance: props.database.instance,
        instanceType: new ec2.InstanceType(props.instanceClass),
        vpc: props.vpc,
        vpcSubnets,
        subnetGroup: props.database.subnetGroup,
        securityGroups: [props.database.securityGroup],
        parameterGroup: props.database.parameterGroup,
        monitoringInterval: props.monitoringInterval ?? Duration.seconds(60),
        monitoringRole: props.database.monitoringRole,
        // Read capacity, not durability: the replicas are spread over the zones instead.
        multiAz: false,
        availabilityZone: zones[index % zones.length],
        deletionProtection: false,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      replica.node.addDependency(...replicaLogs);
      markDerivedCopy(
        replica.node.defaultChild as rds.CfnDBInstance,
        `in-region read replica of ${props.database.instanceIdentifier}: a copy of an instance in the same region, rebuilt from it in minutes`,
      );
      Tags.of(replica).add('mlp:replica-role', spec.role);
      acknowledgeReplicaFindings(replica);
      acknowledgeNist(
        replica,
        'RDSMultiAZSupport',
        'An in-region read replica adds read capacity only; the replicas are spread over the three zones and a lost one is rebuilt from the Multi-AZ primary.',
      );
      acknowledgeNist(
        replica,
        'RDSInstanceDeletionProtectionEnabled',
        'A derived copy of the Multi-AZ primary in the same region (the stateful-resource guard exempts it): removing it from the code must delete it, and it is rebuilt from the primary in minutes.',
      );
      Validations.of(replica).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason: 'The zone comes from the VPC, whose zones are fixed in config; pinning each replica to one spreads them across all three.',
      });
      Validations.of(replica).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason:
          'An in-region read replica adds read capacity only; the replicas are spread over the three zones and a lost one is rebuilt from the Multi-AZ primary.',
      });
      Validations.of(replica).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'A derived copy of the primary in the same region: deleting it loses no data, and it must go when the primary moves to another region, so it is not deletion-protected.',
      });
      this.readReplicas.push(replica);
    }

    if (props.connectionPooler) {
      this.pooler = addIamAuthProxy(this, {
        ...props,
        vpcSubnets,
        name: props.database.instanceIdentifier,
        target: rds.ProxyTarget.fromInstance(props.database.instance),
        targetResourceId: props.database.dbiResourceId,
      });
      this.proxy = this.pooler.proxy;
      // DatabaseProxy opens the database's security group to the proxy's on the instance's port. The
      // rules fail on that ingress rule only when the port is a token (an instance created in this
      // stack, whose port CloudFormation gives); a literal port (an instance described by L1) passes.
      const proxyPort: unknown = props.database.instance.connections.defaultPort?.toRuleJson().fromPort;
      if (Token.isUnresolved(proxyPort)) {
        for (const rule of ['EC2RestrictedSSH', 'EC2RestrictedCommonPorts']) {
          acknowledgeNist(
            props.database.securityGroup,
            rule,
            "The database's ingress rules name a source security group (the proxy's) or the VPC's client subnets, never 0.0.0.0/0; the proxy's rule carries the instance port as a token, which this rule cannot resolve and reports as an error.",
          );
        }
      }
    }
  }

  /**
   * Allow `grantee` to connect as `databaseUser` through the pooler, when there is one (the
   * database's own `grantConnect` covers direct connections).
   */
  public grantConnectThroughProxy(grantee: iam.IGrantable, databaseUser: string): iam.Grant | undefined {
    return this.pooler?.grantConnect(grantee, databaseUser);
  }
}
