import type { Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as cdk8s from 'cdk8s';
import { type KafkaSizing, type RegionPlan, runbookParameterName, type TierName } from '../../lib/config';
import { INTERNAL_CA_ISSUER, type PlatformCluster } from '../eks';
import { RemoteParameter } from '../lookup';
import { MIRROR_MAKER_NAMESPACE, MirrorMaker2Chart } from './mirror-maker';
import type { IKafkaCluster } from './msk-cluster';
import { KAFKA_ADMIN_NAMESPACE, KafkaTopicsJobChart } from './topics-job';
import { CrossRegionVpcPeering } from './vpc-peering';

export interface KafkaRegionToolsProps {
  readonly tier: TierName;
  /** This region's code, MirrorMaker's alias for its own cluster. */
  readonly regionCode: string;
  /** The region's EKS cluster, where the tools run. */
  readonly cluster: PlatformCluster;
  /** The region's cluster, and its SASL/IAM bootstrap servers. */
  readonly kafka: IKafkaCluster;
  readonly bootstrapServers: string;
  /** Brokers, topics and MirrorMaker tasks. */
  readonly sizing: KafkaSizing;
  /** The Kafka tools image (Apache Kafka with the MSK IAM jar), and its tag. */
  readonly image: string;
  readonly imageTag: string;
  /** Create the topics: only in the primary; secondaries receive them, configs included, from replication. */
  readonly createTopics: boolean;
  /** Pull this primary's topics with MirrorMaker 2 (a secondary in `mirrormaker2` mode). @default - no MirrorMaker */
  readonly mirrorFrom?: RegionPlan;
  /** This region's VPC (the Kafka cluster's), peered with the primary's for MirrorMaker. */
  readonly vpc: ec2.IVpc;
  /** Encrypts the logs of the peering and the remote-parameter lookups. */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * The region's Kafka tooling on EKS: the job that creates the topics in the primary, and in a
 * secondary that replicates in `mirrormaker2` mode, MirrorMaker 2 pulling the primary's topics over
 * a VPC peering. The primary's VPC id, route tables, cluster ARN and bootstrap brokers are read from
 * its SSM parameters.
 *
 * Not a construct: its resources are created in `stack` and on the cluster, under the ids they have
 * always had (`KafkaTopics`, `PrimaryPeering`, `PrimaryKafkaArn`, `PrimaryKafkaBootstrap`, `MirrorMaker`).
 */
export class KafkaRegionTools {
  public readonly topicsJob?: eks.KubernetesManifest;
  public readonly mirrorMaker?: eks.KubernetesManifest;

  constructor(stack: Stack, props: KafkaRegionToolsProps) {
    const { cluster } = props;
    if (props.createTopics) {
      const admin = cluster.addPodRole('KafkaAdmin', KAFKA_ADMIN_NAMESPACE, 'kafka-topics');
      props.kafka.grantClient(admin, { topics: props.sizing.topics.map((t) => t.name), manageTopics: true });
      this.topicsJob = cluster.cluster.addCdk8sChart(
        'KafkaTopics',
        new KafkaTopicsJobChart(new cdk8s.App(), 'kafka-topics', {
          image: props.image,
          serviceAccountName: 'kafka-topics',
          resources: { cpuMillicores: 250, memoryMiB: 512 },
          bootstrapServers: props.bootstrapServers,
          brokers: props.sizing.brokers,
          topics: props.sizing.topics,
          revision: props.imageTag,
        }),
      );
      this.topicsJob.node.addDependency(cluster.nodegroups.General as eks.Nodegroup);
    }
    if (props.mirrorFrom) this.mirrorMaker = this.addMirrorMaker(stack, props, props.mirrorFrom);
  }

  private addMirrorMaker(stack: Stack, props: KafkaRegionToolsProps, primary: RegionPlan): eks.KubernetesManifest {
    new CrossRegionVpcPeering(stack, 'PrimaryPeering', {
      vpc: props.vpc,
      peerRegion: primary.name,
      peerCidr: primary.vpcCidr,
      peerVpcIdParameterName: runbookParameterName(props.tier, 'network', 'vpc-id'),
      peerRouteTableIdsParameterName: runbookParameterName(props.tier, 'network', 'route-table-ids'),
      peerRouteTableCount: 2 * primary.availabilityZones.length,
      logEncryptionKey: props.logEncryptionKey,
    });
    const remote = (key: 'cluster-arn' | 'bootstrap-brokers', id: string) =>
      new RemoteParameter(stack, id, {
        parameterName: runbookParameterName(props.tier, 'kafka', key),
        region: primary.name,
        logEncryptionKey: props.logEncryptionKey,
      }).value;
    const sourceArn = remote('cluster-arn', 'PrimaryKafkaArn');
    const role = props.cluster.addPodRole('MirrorMaker', MIRROR_MAKER_NAMESPACE, 'mirror-maker');
    props.kafka.grantMirrorMaker2From(role, sourceArn);
    const mirrorMaker = props.cluster.cluster.addCdk8sChart(
      'MirrorMaker',
      new MirrorMaker2Chart(new cdk8s.App(), 'mirror-maker-2', {
        source: { alias: primary.code, bootstrapServers: remote('bootstrap-brokers', 'PrimaryKafkaBootstrap') },
        target: { alias: props.regionCode, bootstrapServers: props.bootstrapServers },
        tasks: props.sizing.mirrorMakerTasks,
        image: props.image,
        replicas: 2, // [ours] two workers share the tasks, so one can be drained or lost
        serviceAccountName: 'mirror-maker',
        resources: { cpuMillicores: 1000, memoryMiB: 2048 },
        tls: { issuer: { kind: 'ClusterIssuer', name: INTERNAL_CA_ISSUER } },
      }),
    );
    // Its REST certificate comes from the internal CA.
    mirrorMaker.node.addDependency(props.cluster.internalCa);
    return mirrorMaker;
  }
}
