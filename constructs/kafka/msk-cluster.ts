import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import { clientSecurityGroup, DATA_SUBNETS, type DataStoreNetworkProps } from '../network/data-store-network';
import { sdkCallResource } from '../private/sdk-call';
import { ValidationError } from '../private/validation-error';
import { grantKafkaClient, grantMirrorMaker2, KAFKA_IAM_PORT, type KafkaClientAccess } from './access';
import { type KafkaTopicSpec, validateDurability, validateTopics } from './topics';

/** The platform spreads brokers evenly over exactly this many AZs (one client subnet each). */
export const KAFKA_AZS = 3;
/** MSK's limits on a broker's EBS volume, GiB. */
export const MIN_BROKER_STORAGE_GIB = 1;
export const MAX_BROKER_STORAGE_GIB = 16_384;

const CLUSTER_NAME = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
const INSTANCE_TYPE = /^kafka\.[a-z0-9]+\.[a-z0-9]+$/;
const KAFKA_VERSION = /^\d+\.\d+\.[0-9x][0-9a-z.]*$/;

export interface MskClusterProps extends DataStoreNetworkProps {
  /** Physical name, unique in the region: 1-64 letters, digits and hyphens, starting with a letter. */
  readonly clusterName: string;
  /** Apache Kafka version as MSK names it, e.g. `3.8.x`. */
  readonly kafkaVersion: string;
  /** Broker count: a positive multiple of 3, so every AZ holds the same number of brokers. */
  readonly brokers: number;
  /** Broker instance type, e.g. `kafka.m7g.xlarge`. */
  readonly brokerInstanceType: string;
  /** EBS storage each broker starts with, GiB. */
  readonly storageGiB: number;
  /**
   * Ceiling, GiB per broker, up to which Application Auto Scaling grows the volumes. MSK never
   * shrinks a volume, and CloudFormation cannot lower `storageGiB` below what autoscaling reached:
   * raise `storageGiB` to the current size before changing the cluster's storage in code.
   */
  readonly maxStorageGiB: number;
  /**
   * Disk utilization that storage autoscaling keeps the brokers at, percent.
   * @default 60
   */
  readonly storageUtilizationTargetPercent?: number;
  /** `default.replication.factor`: replicas of a topic created without one. */
  readonly defaultReplicationFactor: number;
  /** `min.insync.replicas` of topics that set none; below `defaultReplicationFactor`. */
  readonly minInsyncReplicas: number;
  /** `log.retention.hours` of topics that set no retention. */
  readonly retentionHours: number;
  /**
   * `num.partitions` of a topic created without a count.
   * @default - one per broker
   */
  readonly defaultPartitions?: number;
  /**
   * Topics the platform creates on this cluster (by the topics Job); checked here against the broker
   * count, so a replication factor the cluster cannot place fails at synth time.
   */
  readonly topics: readonly KafkaTopicSpec[];
  /**
   * Customer key that encrypts the broker volumes and the broker and lookup logs. Its policy must
   * admit CloudWatch Logs of the region (`cloudWatchLogsKeyStatement`).
   */
  readonly encryptionKey: kms.IKey;
  /**
   * Retention of the broker logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Turn on multi-VPC private connectivity for IAM clients and let MSK Replicator (the
   * `kafka.amazonaws.com` service principal of this account) connect through it: what a
   * cross-region MSK Replicator needs of its source cluster.
   *
   * MSK rejects this when the cluster is created ("all vpcConnectivity auth schemes must be
   * disabled"): deploy the cluster first, then turn it on in a later deployment.
   * @default false
   */
  readonly replicationSource?: boolean;
}

/** A region's MSK cluster, created here or named by another stack, and what may be granted on it. */
export interface IKafkaCluster {
  /** The cluster's ARN; of a cluster named by `fromClusterName`, a pattern matching it whatever its uuid. */
  readonly clusterArn: string;
  /** Give `grantee` least-privilege Kafka access (topics, groups, produce/consume) on this cluster. */
  grantClient(grantee: iam.IGrantable, access: KafkaClientAccess): iam.Grant;
  /** Let MirrorMaker 2 (as `grantee`) copy the topics of `sourceClusterArn` into this cluster. */
  grantMirrorMaker2From(grantee: iam.IGrantable & IConstruct, sourceClusterArn: string): iam.Grant;
}

/**
 * An Amazon MSK provisioned cluster: brokers spread evenly over three AZs in the data subnets, TLS
 * only between clients and brokers and inside the cluster, encrypted at rest with a customer key,
 * IAM access control only (no unauthenticated or plaintext listener), broker logs in CloudWatch,
 * per-partition enhanced monitoring, storage that grows by itself, and a configuration that never
 * creates topics on the fly or elects an out-of-sync leader. Retained on delete.
 */
export class MskCluster extends Construct implements IKafkaCluster {
  /**
   * The cluster named `clusterName` in the scope's account and region, whatever its uuid: the name is
   * unique there, and a literal ARN keeps the grantee's policy free of references to the cluster's stack.
   */
  public static fromClusterName(scope: IConstruct, clusterName: string): IKafkaCluster {
    const stack = Stack.of(scope);
    // Every supported region is in the commercial partition (lib/config/regions.ts).
    const clusterArn = `arn:aws:kafka:${stack.region}:${stack.account}:cluster/${clusterName}/*`;
    return {
      clusterArn,
      grantClient: (grantee, access) => grantKafkaClient(grantee, clusterArn, access),
      grantMirrorMaker2From: (grantee, sourceClusterArn) => grantMirrorMaker2(grantee, { sourceClusterArn, targetClusterArn: clusterArn }),
    };
  }

  public readonly cluster: msk.CfnCluster;
  public readonly configuration: msk.CfnConfiguration;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly brokerLogs: logs.LogGroup;
  public readonly clusterName: string;
  public readonly brokers: number;
  /** Subnets of the brokers' client ENIs, one per AZ. */
  public readonly clientSubnetIds: string[];
  public readonly vpc: ec2.IVpc;
  /** Set when `replicationSource` is on. */
  public readonly clusterPolicy?: msk.CfnClusterPolicy;
  /** `host:port,...` of the SASL/IAM (port 9098) listener, read from MSK at deploy time. */
  public readonly bootstrapBrokersSaslIam: string;

  constructor(scope: Construct, id: string, props: MskClusterProps) {
    super(scope, id);
    this.vpc = props.vpc;
    this.clusterName = props.clusterName;
    this.brokers = props.brokers;
    this.clientSubnetIds = props.vpc.selectSubnets(props.vpcSubnets ?? DATA_SUBNETS).subnetIds;
    validate(this, props, this.clientSubnetIds.length);

    this.securityGroup = clientSecurityGroup(this, 'SecurityGroup', {
      ...props,
      description: `Kafka brokers of ${props.clusterName} (IAM over TLS)`,
      port: KAFKA_IAM_PORT,
      protocol: 'Kafka SASL/IAM',
    });

    this.configuration = new msk.CfnConfiguration(this, 'Configuration', {
      name: props.clusterName,
      description: `Broker configuration of ${props.clusterName}`,
      serverProperties: serverProperties({
        'auto.create.topics.enable': 'false',
        'default.replication.factor': String(props.defaultReplicationFactor),
        'min.insync.replicas': String(props.minInsyncReplicas),
        'num.partitions': String(props.defaultPartitions ?? props.brokers),
        'log.retention.hours': String(props.retentionHours),
        'unclean.leader.election.enable': 'false',
      }),
    });

    this.brokerLogs = new logs.LogGroup(this, 'BrokerLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const iamOnly = { sasl: { iam: { enabled: true } }, unauthenticated: { enabled: false } };
    this.cluster = new msk.CfnCluster(this, 'Resource', {
      clusterName: props.clusterName,
      kafkaVersion: props.kafkaVersion,
      numberOfBrokerNodes: props.brokers,
      brokerNodeGroupInfo: {
        instanceType: props.brokerInstanceType,
        clientSubnets: this.clientSubnetIds,
        securityGroups: [this.securityGroup.securityGroupId],
        brokerAzDistribution: 'DEFAULT',
        storageInfo: { ebsStorageInfo: { volumeSize: props.storageGiB } },
        ...(props.replicationSource
          ? { connectivityInfo: { vpcConnectivity: { clientAuthentication: { sasl: { iam: { enabled: true } } } } } }
          : {}),
      },
      clientAuthentication: iamOnly,
      encryptionInfo: {
        encryptionAtRest: { dataVolumeKmsKeyId: props.encryptionKey.keyArn },
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      configurationInfo: { arn: this.configuration.attrArn, revision: this.configuration.attrLatestRevisionRevision },
      enhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
      loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: this.brokerLogs.logGroupName } } },
    });
    this.cluster.applyRemovalPolicy(RemovalPolicy.RETAIN);

    if (props.replicationSource) {
      const account = Stack.of(this).account;
      this.clusterPolicy = new msk.CfnClusterPolicy(this, 'ReplicatorAccess', {
        clusterArn: this.cluster.attrArn,
        policy: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'MskReplicatorOfThisAccount',
              principals: [new iam.ServicePrincipal('kafka.amazonaws.com')],
              actions: ['kafka:CreateVpcConnection', 'kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2'],
              resources: [this.cluster.attrArn],
              conditions: { StringEquals: { 'aws:SourceAccount': account } },
            }),
          ],
        }),
      });
    }

    this.addStorageAutoScaling(props);
    this.bootstrapBrokersSaslIam = this.lookUpBootstrapBrokers(props.encryptionKey);
  }

  public get clusterArn(): string {
    return this.cluster.attrArn;
  }

  public grantClient(grantee: iam.IGrantable, access: KafkaClientAccess): iam.Grant {
    return grantKafkaClient(grantee, this.clusterArn, access);
  }

  public grantMirrorMaker2From(grantee: iam.IGrantable & IConstruct, sourceClusterArn: string): iam.Grant {
    return grantMirrorMaker2(grantee, { sourceClusterArn, targetClusterArn: this.clusterArn });
  }

  private addStorageAutoScaling(props: MskClusterProps): void {
    const target = new appscaling.ScalableTarget(this, 'StorageScaling', {
      serviceNamespace: appscaling.ServiceNamespace.KAFKA,
      scalableDimension: 'kafka:broker-storage:VolumeSize',
      resourceId: this.cluster.attrArn,
      minCapacity: props.storageGiB,
      maxCapacity: props.maxStorageGiB,
      // MSK storage scaling acts through its service-linked role, which Application Auto Scaling
      // creates when the first Kafka target is registered.
      role: iam.Role.fromRoleArn(
        this,
        'StorageScalingRole',
        Stack.of(this).formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: 'aws-service-role/kafka.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_KafkaCluster',
        }),
      ),
    });
    target.scaleToTrackMetric('StorageUtilization', {
      predefinedMetric: appscaling.PredefinedMetric.KAFKA_BROKER_STORAGE_UTILIZATION,
      targetValue: props.storageUtilizationTargetPercent ?? 60,
      // A broker volume can only grow.
      disableScaleIn: true,
    });
  }

  /**
   * CloudFormation has no attribute for the bootstrap brokers, so a custom resource asks MSK once the
   * cluster exists. It asks again only when the cluster ARN changes: the brokers it lists stay valid
   * bootstrap servers when brokers are added.
   */
  private lookUpBootstrapBrokers(logEncryptionKey: kms.IKey): string {
    const lookup = new Construct(this, 'BootstrapBrokers');
    const call: cr.AwsSdkCall = {
      service: 'Kafka',
      action: 'getBootstrapBrokers',
      parameters: { ClusterArn: this.cluster.attrArn },
      physicalResourceId: cr.PhysicalResourceId.of(this.cluster.attrArn),
    };
    const resource = sdkCallResource(lookup, {
      resourceType: 'Custom::MskBootstrapBrokers',
      description: `Reads the bootstrap brokers of ${this.clusterName}`,
      onCreate: call,
      logEncryptionKey,
      statements: [new iam.PolicyStatement({ actions: ['kafka:GetBootstrapBrokers'], resources: [this.cluster.attrArn] })],
    });
    return resource.getResponseField('BootstrapBrokerStringSaslIam');
  }
}

/** `key=value` lines, in the order given, as MSK's `server.properties`. */
function serverProperties(properties: Readonly<Record<string, string>>): string {
  return Object.entries(properties)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
}

function validate(scope: Construct, props: MskClusterProps, subnets: number): void {
  const fail = (message: string): never => {
    throw new ValidationError(message, scope);
  };
  if (!Token.isUnresolved(props.clusterName) && !CLUSTER_NAME.test(props.clusterName)) {
    fail(`clusterName '${props.clusterName}' is invalid: use 1-64 letters, digits and hyphens, starting with a letter`);
  }
  if (!KAFKA_VERSION.test(props.kafkaVersion)) fail(`kafkaVersion must be an MSK version such as 3.8.x, got ${props.kafkaVersion}`);
  if (!Number.isInteger(props.brokers) || props.brokers < KAFKA_AZS || props.brokers % KAFKA_AZS !== 0) {
    fail(`brokers must be a positive multiple of ${KAFKA_AZS} (the same number in each AZ), got ${props.brokers}`);
  }
  if (subnets !== KAFKA_AZS) {
    fail(`the brokers need exactly ${KAFKA_AZS} client subnets, one per AZ; the subnet selection gives ${subnets}`);
  }
  if (!INSTANCE_TYPE.test(props.brokerInstanceType)) {
    fail(`brokerInstanceType must look like kafka.m7g.xlarge, got ${props.brokerInstanceType}`);
  }
  for (const [what, value] of [
    ['storageGiB', props.storageGiB],
    ['maxStorageGiB', props.maxStorageGiB],
  ] as const) {
    if (!Number.isInteger(value) || value < MIN_BROKER_STORAGE_GIB || value > MAX_BROKER_STORAGE_GIB) {
      fail(
        `${what} must be an integer from ${MIN_BROKER_STORAGE_GIB} to ${MAX_BROKER_STORAGE_GIB} GiB (MSK's broker volume limits), got ${value}`,
      );
    }
  }
  if (props.maxStorageGiB < props.storageGiB) {
    fail(`maxStorageGiB (${props.maxStorageGiB}) is below storageGiB (${props.storageGiB}); autoscaling can only grow the volumes`);
  }
  const targetPercent = props.storageUtilizationTargetPercent ?? 60;
  if (!Number.isInteger(targetPercent) || targetPercent < 10 || targetPercent > 90) {
    fail(`storageUtilizationTargetPercent must be an integer from 10 to 90, got ${targetPercent}`);
  }
  if (props.defaultPartitions !== undefined && (!Number.isInteger(props.defaultPartitions) || props.defaultPartitions < 1)) {
    fail(`defaultPartitions must be a positive integer, got ${props.defaultPartitions}`);
  }
  validateDurability(
    scope,
    'the cluster default',
    { replicationFactor: props.defaultReplicationFactor, minInsyncReplicas: props.minInsyncReplicas, retentionHours: props.retentionHours },
    props.brokers,
  );
  validateTopics(scope, props.topics, props.brokers);
}
