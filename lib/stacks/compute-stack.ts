import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { ArtifactBucket, type IArtifactBucket } from '../../constructs/artifacts';
import { type BatchCompute, PipelineBatch } from '../../constructs/batch';
import { ClickHouseRegion } from '../../constructs/clickhouse';
import { karpenterNodePools, PlatformCluster } from '../../constructs/eks';
import { FeatureKeyspace } from '../../constructs/feature-store';
import { ServiceRepositories } from '../../constructs/images';
import { RegionalApiEndpoint, RegionalWebAcl } from '../../constructs/ingress';
import { KafkaRegionTools, MskCluster } from '../../constructs/kafka';
import { ApiOperations } from '../../constructs/operations';
import { pascalCase } from '../../constructs/private/ids';
import { regionalApiDomainName } from '../../constructs/routing';
import { WorkloadsRegion } from '../../constructs/workloads';
import { applicationRole } from '../../runbooks/core/database-bootstrap';
import {
  artifactBucketName,
  CLICKHOUSE_CLIENTS,
  clusterName,
  featureKeyspaceName,
  kafkaClusterName,
  MIRRORED_IMAGES,
  nodePoolPlans,
  PLATFORM_NAMESPACE,
  platformTopics,
  SERVICE_ACCESS,
  SERVICE_HOSTS,
  SERVICE_PORT,
  type ServiceName,
  serviceEndpoints,
  servicesReaching,
  TRAINING_IMAGE,
} from '../config';
import type { DataStack } from './data-stack';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

export interface ComputeStackProps extends RegionalStackProps {
  readonly vpc: ec2.IVpc;
  /** The region's data stack: the stores the services are granted access to. */
  readonly data: DataStack;
}

/**
 * Where the region's services run and where user traffic enters: the EKS cluster with the platform
 * charts, the ECR repositories, the regional API endpoint `api.<code>.<domain>`, and AWS Batch.
 */
export class ComputeStack extends RegionalStack {
  public readonly cluster: PlatformCluster;
  public readonly endpoint: RegionalApiEndpoint;
  /** The API's paging alarms and the services' dashboard, once `addApiOperations` ran. */
  public apiOperations?: ApiOperations;
  /** The web ACL in front of the endpoint's load balancer. */
  public readonly webAcl: RegionalWebAcl;
  public readonly repositories: ServiceRepositories;
  public readonly batch: BatchCompute;
  /** The region's artifact bucket, by name: the services' grants need no reference to the data stack but its key. */
  private readonly artifacts: IArtifactBucket;
  /** Pod Identity roles by service account name. */
  public readonly serviceRoles: Record<string, iam.Role> = {};

  constructor(scope: Construct, props: ComputeStackProps) {
    super(scope, 'compute', props);
    const tier = this.config.tier;
    const code = this.regionPlan.code;
    const apiHost = regionalApiDomainName(code, this.config.domain);

    this.cluster = new PlatformCluster(this, 'Eks', {
      clusterName: clusterName(tier.name, code),
      version: eks.KubernetesVersion.of(tier.eks.kubernetesVersion),
      kubectlLayer: new KubectlV36Layer(this, 'KubectlLayer'),
      vpc: props.vpc,
      nodeGroups: {
        system: tier.eks.system,
        general: tier.eks.general,
        memory: tier.eks.memoryOptimized,
        gpu: tier.eks.gpu,
      },
      adminPrincipalArns: this.config.eksAdminRoleArns,
      karpenter: {
        nodePools: karpenterNodePools(nodePoolPlans(tier, this.regionPlan.availabilityZones), this.regionPlan.availabilityZones),
      },
    });

    const services = [...(Object.keys(tier.workloads.services) as ServiceName[]), 'scheduler'] as const;
    this.repositories = new ServiceRepositories(this, 'Images', {
      prefix: `mlp/${tier.name}`,
      services: [...services, TRAINING_IMAGE, ...Object.values(MIRRORED_IMAGES)],
      encryptionKey: this.cluster.key,
    });

    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: this.config.hostedZoneId,
      zoneName: this.config.domain,
    });
    this.endpoint = new RegionalApiEndpoint(this, 'Api', {
      vpc: props.vpc,
      hostedZone,
      apiHost,
      healthService: SERVICE_HOSTS.tracking,
      services: serviceEndpoints(this.config.domain, tier.workloads.probe.path),
    });
    this.webAcl = new RegionalWebAcl(this, 'ApiFirewall', {
      webAclName: `mlp-${tier.name}-${code}-api`,
      loadBalancers: [this.endpoint.loadBalancer],
      requestsPerIpPer5Minutes: tier.ingress.requestsPerIpPer5Minutes,
      logEncryptionKey: props.data.dataKey,
    });

    const artifactBucket = artifactBucketName(tier.name, this.account, this.region);
    this.artifacts = ArtifactBucket.fromBucketName(this, 'ArtifactBucket', artifactBucket, props.data.dataKey.keyArn);
    const features = FeatureKeyspace.fromKeyspaceName(this, featureKeyspaceName(tier.name));
    for (const service of services) {
      const access = SERVICE_ACCESS[service];
      if (!access) continue;
      const role = this.cluster.addPodRole(pascalCase(service), PLATFORM_NAMESPACE, service);
      this.serviceRoles[service] = role;
      if (access.includes('artifacts')) this.artifacts.grantReadWriteObjects(role);
      if (access.includes('postgres')) props.data.database.grantClientConnect(role, applicationRole(service));
      if (access.includes('features')) features.grantReadData(role);
      if (access.includes('cache')) props.data.cache.grantConnect(role);
    }

    const image = (name: string) => this.repositories.imageUri(name, tier.workloads.imageTag);
    const mirrored = (name: keyof typeof MIRRORED_IMAGES) => this.repositories.imageUri(MIRRORED_IMAGES[name], tier.images[name]);
    const workloads = new WorkloadsRegion({
      cluster: this.cluster,
      endpoint: this.endpoint,
      region: this.region,
      namespace: PLATFORM_NAMESPACE,
      workloads: tier.workloads,
      port: SERVICE_PORT,
      image,
      clickHouseClients: CLICKHOUSE_CLIENTS,
      cache: { clients: servicesReaching('cache'), ttlSeconds: tier.redis.cacheTtlSeconds }, // [001] L2 TTL
    });

    // Streaming and analytics: services produce to and consume the region's (replicated) topics, and
    // ClickHouse is fed from them. Grants name the cluster by its name: no reference to the data stack.
    const kafka = MskCluster.fromClusterName(this, kafkaClusterName(tier.name, code));
    const topics = platformTopics(tier.kafka.topics);
    this.serviceRoles.collector = this.cluster.addPodRole('Collector', PLATFORM_NAMESPACE, 'collector');
    kafka.grantClient(this.serviceRoles.collector, { topics: [topics.spans, topics.evaluations], write: true });
    kafka.grantClient(this.serviceRoles.scheduler as iam.Role, {
      topics: [topics.jobTasks],
      read: true,
      write: true,
      groups: ['scheduler*'],
    });
    const mirrorMaker2 = this.config.kafkaReplicationMode === 'mirrormaker2' && this.config.kafkaReplication && !this.regionPlan.isPrimary;
    new KafkaRegionTools(this, {
      tier: tier.name,
      regionCode: code,
      cluster: this.cluster,
      kafka,
      bootstrapServers: props.data.kafka.bootstrapBrokersSaslIam,
      sizing: tier.kafka,
      image: mirrored('kafkaTools'),
      imageTag: tier.images.kafkaTools,
      createTopics: this.regionPlan.isPrimary,
      mirrorFrom: mirrorMaker2 ? this.primaryRegion : undefined,
      vpc: props.data.kafka.vpc,
      logEncryptionKey: props.data.dataKey,
    });
    const clickhouse = new ClickHouseRegion({
      cluster: this.cluster,
      region: this.region,
      zones: this.regionPlan.availabilityZones,
      topology: tier.clickhouse,
      images: { server: mirrored('clickhouse'), keeper: mirrored('clickhouseKeeper'), backup: mirrored('clickhouseBackup') },
      kafka,
      kafkaBootstrapServers: props.data.kafka.bootstrapBrokersSaslIam,
      kafkaTopics: topics,
      artifacts: this.artifacts,
      artifactBucketName: artifactBucket,
      clients: { namespace: PLATFORM_NAMESPACE, accesses: [...new Set(Object.values(CLICKHOUSE_CLIENTS))] },
      clientNamespace: workloads.namespace,
    });
    this.publishRunbookParameters('clickhouse', clickhouse.runbookParameters);
    const batch = new PipelineBatch(this, {
      tier: tier.name,
      sizing: tier.batch,
      vpc: props.vpc,
      volumeEncryptionKey: this.cluster.key,
      logEncryptionKey: props.data.dataKey,
      trainingImage: ecs.ContainerImage.fromEcrRepository(
        this.repositories.repositories[TRAINING_IMAGE] as ecr.Repository,
        tier.workloads.imageTag,
      ),
    });
    this.artifacts.grantReadWriteObjects(batch.trainingStep.jobRole);
    this.batch = batch.compute;

    this.publishRunbookParameter('compute', 'cluster-name', this.cluster.cluster.clusterName);
    this.publishRunbookParameter('compute', 'api-host', apiHost);
    this.publishRunbookParameter('compute', 'load-balancer-arn', this.endpoint.loadBalancer.loadBalancerArn);
    this.publishRunbookParameter('compute', 'batch-queues', this.batch.queueNames.join(','));
  }

  /**
   * The API's paging alarms and the services' dashboard, acting on the region's paging topic (from its
   * resilience stack, which this stack already follows for the write-gate function).
   */
  public addApiOperations(paging: cloudwatch.IAlarmAction): ApiOperations {
    const { alarms } = this.config.tier;
    this.apiOperations = new ApiOperations(this, 'ApiOperations', {
      tier: this.config.tier.name,
      regionCode: this.regionPlan.code,
      loadBalancer: this.endpoint.loadBalancer,
      services: this.endpoint.targetGroups,
      paging,
      errorRatePercent: alarms.apiErrorRatePercent, // [001] error rate > 5 % for 3 minutes
      errorMinutes: alarms.apiErrorMinutes,
      latencyP99: Duration.seconds(alarms.apiLatencyP99Seconds), // [000] p99 < 2 s; [001] for 5 minutes
      latencyMinutes: alarms.apiLatencyMinutes,
    });
    return this.apiOperations;
  }
}
