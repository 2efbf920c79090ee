import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Duration, Size } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as cdk8s from 'cdk8s';
import type { Construct } from 'constructs';
import { ArtifactBucket, type IArtifactBucket } from '../../constructs/artifacts';
import { BatchCompute, TrainingJobDefinition } from '../../constructs/batch';
import {
  HTTPS_PORT as CLICKHOUSE_HTTPS_PORT,
  NATIVE_SECURE_PORT as CLICKHOUSE_NATIVE_PORT,
  CLIENT_TLS_DIR,
  CLUSTER_DOMAIN,
  type ClickHouseAccess,
  ClickHouseCharts,
  clickHouseUser,
  clientSecretName,
  QUERY_SERVICE_NAME,
  TLS_CA_FILE,
  TLS_CERT_FILE,
  TLS_KEY_FILE,
} from '../../constructs/clickhouse';
import { GPU_TAINT_KEY, INTERNAL_CA_ISSUER, NODE_POOL_LABEL, PlatformCluster } from '../../constructs/eks';
import { FeatureKeyspace } from '../../constructs/feature-store';
import { ServiceRepositories } from '../../constructs/images';
import { RegionalApiEndpoint, RegionalWebAcl } from '../../constructs/ingress';
import {
  CrossRegionVpcPeering,
  grantKafkaClient,
  grantMirrorMaker2,
  KAFKA_ADMIN_NAMESPACE,
  type KafkaClientAccess,
  KafkaTopicsJobChart,
  MIRROR_MAKER_NAMESPACE,
  MirrorMaker2Chart,
} from '../../constructs/kafka';
import { RemoteParameter } from '../../constructs/lookup';
import { ApiOperations } from '../../constructs/operations';
import { pascalCase } from '../../constructs/private/ids';
import { regionalApiDomainName } from '../../constructs/routing';
import { PlatformCharts, type PlatformServiceProps } from '../../constructs/workloads';
import { applicationRole } from '../../runbooks/core/database-bootstrap';
import {
  artifactBucketName,
  clusterName,
  featureKeyspaceName,
  kafkaClusterName,
  nodePoolPlans,
  PLATFORM_NAMESPACE,
  runbookParameterName,
  SERVICE_HOSTS,
  type ServiceName,
} from '../config';
import type { DataStack } from './data-stack';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

/** [ours] Karpenter chart: 1.13 is the first to support Kubernetes 1.36 (karpenter.sh compatibility matrix). */
const KARPENTER_VERSION = '1.14.1';

export interface ComputeStackProps extends RegionalStackProps {
  readonly vpc: ec2.IVpc;
  /** The region's data stack: the stores the services are granted access to. */
  readonly data: DataStack;
}

/** ECR repository of the training-step image that Batch jobs run. */
const TRAINING_IMAGE = 'training-step';

/** ECR repositories of the third-party images the region runs, mirrored by an operator. */
const MIRRORED_IMAGES = {
  clickhouse: 'clickhouse-server',
  clickhouseKeeper: 'clickhouse-keeper',
  clickhouseBackup: 'clickhouse-backup',
  kafkaTools: 'kafka-tools',
} as const;

/** Where each region's ClickHouse keeps its backups, inside the region's artifact bucket. */
const CLICKHOUSE_BACKUP_PREFIX = 'clickhouse-backups';
const CLICKHOUSE_NAMESPACE = 'clickhouse';
const CLICKHOUSE_DATABASE = 'mlp';
/** The query Service, as clients and runbooks reach it. */
const CLICKHOUSE_SERVICE_HOST = `${QUERY_SERVICE_NAME}.${CLICKHOUSE_NAMESPACE}.svc.${CLUSTER_DOMAIN}`;

/**
 * Services that query ClickHouse, and what they may do there: the tracking server writes run
 * metrics ([000] metric store), the query API and the evaluation workers read traces ([004]).
 * Each authenticates with the client certificate of its access, mounted at `CLIENT_TLS_DIR`.
 */
const CLICKHOUSE_CLIENTS: Partial<Record<ServiceName, ClickHouseAccess>> = {
  'tracking-server': 'write',
  'query-api': 'read',
  'evaluation-worker': 'read',
};

/** Port every platform container listens on. */
export const SERVICE_PORT = 8080;

/** What each service reaches in AWS; services not listed need no AWS access yet. */
const SERVICE_ACCESS: Partial<Record<ServiceName | 'scheduler', readonly ('artifacts' | 'postgres' | 'features' | 'cache')[]>> = {
  'tracking-server': ['artifacts', 'postgres'],
  'registry-api': ['artifacts', 'postgres'],
  'metadata-service': ['artifacts', 'postgres'],
  'metaflow-worker': ['artifacts', 'postgres'],
  'prediction-service': ['artifacts', 'features', 'cache'],
  scheduler: ['postgres'],
};

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
      albControllerVersion: eks.AlbControllerVersion.V2_17_1,
      kedaVersion: '2.17.2',
      certManagerVersion: 'v1.19.1',
      karpenter: {
        version: KARPENTER_VERSION,
        nodePools: nodePoolPlans(tier, this.regionPlan.availabilityZones).map((plan) => ({
          name: plan.name,
          labels: { [NODE_POOL_LABEL]: plan.pool },
          instanceTypes: plan.instanceTypes,
          zones: plan.zone ? [plan.zone] : this.regionPlan.availabilityZones,
          taints: plan.pool === 'gpu' ? [{ key: GPU_TAINT_KEY, value: 'true', effect: 'NoSchedule' as const }] : undefined,
          cpuLimit: plan.limits.cpu,
          memoryLimitGiB: plan.limits.memoryGiB,
          // ClickHouse servers hold their data on zonal volumes: only empty memory nodes are removed.
          consolidateUnderutilized: plan.pool !== 'memory',
        })),
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
      services: Object.fromEntries(
        Object.entries(SERVICE_HOSTS).map(([host, service]) => [
          service,
          { host: `${host}.${this.config.domain}`, port: SERVICE_PORT, healthCheckPath: tier.workloads.probe.path },
        ]),
      ),
    });
    this.webAcl = new RegionalWebAcl(this, 'ApiFirewall', {
      webAclName: `mlp-${tier.name}-${code}-api`,
      loadBalancers: [this.endpoint.loadBalancer],
      requestsPerIpPer5Minutes: tier.ingress.requestsPerIpPer5Minutes,
      logEncryptionKey: props.data.dataKey,
    });

    this.artifacts = ArtifactBucket.fromBucketName(
      this,
      'ArtifactBucket',
      artifactBucketName(tier.name, this.account, this.region),
      props.data.dataKey.keyArn,
    );
    const features = FeatureKeyspace.fromKeyspaceName(this, featureKeyspaceName(tier.name));
    for (const service of services) {
      const access = SERVICE_ACCESS[service];
      if (!access) continue;
      const role = this.cluster.addPodRole(pascalCase(service), PLATFORM_NAMESPACE, service);
      this.serviceRoles[service] = role;
      if (access.includes('artifacts')) this.artifacts.grantReadWriteObjects(role);
      if (access.includes('postgres')) props.data.postgresClients.grantClientConnect(role, applicationRole(service));
      if (access.includes('features')) features.grantReadData(role);
      if (access.includes('cache')) props.data.cache.grantConnect(role);
    }

    const platformNamespace = this.addWorkloads(services);
    this.addStreaming(props.data, platformNamespace);
    this.batch = this.addBatch(props.vpc, props.data.dataKey);

    this.publishRunbookParameter('compute', 'cluster-name', this.cluster.cluster.clusterName);
    this.publishRunbookParameter('compute', 'api-host', apiHost);
    this.publishRunbookParameter('compute', 'load-balancer-arn', this.endpoint.loadBalancer.loadBalancerArn);
    this.publishRunbookParameter('compute', 'batch-queues', this.batch.queueNames.join(','));
  }

  /**
   * The platform charts, each deployed as one manifest after the namespace and the CRDs they use.
   * Returns the namespace's manifest.
   */
  private addWorkloads(services: readonly (ServiceName | 'scheduler')[]): eks.KubernetesManifest {
    const tier = this.config.tier;
    const workloads = tier.workloads;
    const loadBalancer = this.endpoint.loadBalancer;
    const routed = (name: string) => {
      const group = this.endpoint.targetGroups[name];
      return group
        ? { targetGroupArn: group.targetGroupArn, loadBalancerSecurityGroupId: this.endpoint.securityGroup.securityGroupId }
        : {};
    };
    const image = (name: string) => this.repositories.imageUri(name, workloads.imageTag);
    const serviceSpecs: Record<string, PlatformServiceProps> = {};
    for (const name of services) {
      if (name === 'scheduler') continue;
      const autoscaling = workloads.services[name];
      const group = this.endpoint.targetGroups[name];
      serviceSpecs[name] = {
        name,
        image: image(name),
        port: SERVICE_PORT,
        resources: workloads.resources[name],
        autoscaling,
        probe: workloads.probe,
        serviceAccountName: name,
        ...routed(name),
        ...clickHouseClient(CLICKHOUSE_CLIENTS[name]),
        requestsMetric:
          autoscaling.requestsPerSecondPerPod !== undefined && group
            ? {
                loadBalancerFullName: loadBalancer.loadBalancerFullName,
                targetGroupFullName: group.targetGroupFullName,
                region: this.region,
              }
            : undefined,
      };
    }
    const charts = new PlatformCharts(new cdk8s.App(), 'Platform', {
      namespace: PLATFORM_NAMESPACE,
      region: this.region,
      services: serviceSpecs,
      scheduler: {
        name: 'scheduler',
        image: image('scheduler'),
        port: SERVICE_PORT,
        resources: workloads.resources.scheduler,
        replicas: workloads.scheduler.replicas,
        leaseDurationSeconds: workloads.scheduler.leaseDurationSeconds,
        probe: workloads.probe,
        serviceAccountName: 'scheduler',
        ...routed('scheduler'),
      },
    });

    const cluster = this.cluster.cluster;
    const namespace = cluster.addCdk8sChart('PlatformNamespace', charts.namespace);
    namespace.node.addDependency(this.cluster.kedaChart); // its TriggerAuthentication is a KEDA resource
    for (const [family, chart] of Object.entries(charts.families)) {
      const manifest = cluster.addCdk8sChart(`Platform${pascalCase(family)}`, chart);
      // TargetGroupBinding is the load balancer controller's custom resource: its CRD comes first.
      manifest.node.addDependency(namespace);
      if (cluster.albController) manifest.node.addDependency(cluster.albController);
    }
    return namespace;
  }

  /**
   * The streaming and analytics path of the region: Kafka topics (created by a job in the primary;
   * secondaries receive them, configs included, from replication), ClickHouse fed from the local
   * (replicated) topics, MirrorMaker 2 in `mirrormaker2` mode, and the Kafka grants of the services.
   */
  private addStreaming(data: DataStack, platformNamespace: eks.KubernetesManifest): void {
    const tier = this.config.tier;
    const kafka = data.kafka;
    const cluster = this.cluster.cluster;
    const mirrored = (name: keyof typeof MIRRORED_IMAGES) => this.repositories.imageUri(MIRRORED_IMAGES[name], tier.images[name]);
    const topic = (name: string) => {
      const found = tier.kafka.topics.find((t) => t.name === name);
      if (!found) throw new Error(`unreachable: topic ${name} is in every preset`);
      return found.name;
    };
    const [spans, evaluations, jobTasks] = [topic('llm-spans'), topic('llm-evaluation-results'), topic('job-tasks')];

    // Grants name the cluster by its name with any uuid: the name is unique in the account and region,
    // and a literal ARN keeps the policy free of references to the data stack.
    const clusterPattern = `arn:aws:kafka:${this.region}:${this.account}:cluster/${kafkaClusterName(tier.name, this.regionPlan.code)}/*`;
    const grant = (role: iam.Role, access: KafkaClientAccess) => grantKafkaClient(role, clusterPattern, access);
    const collector = this.cluster.addPodRole('Collector', PLATFORM_NAMESPACE, 'collector');
    this.serviceRoles.collector = collector;
    grant(collector, { topics: [spans, evaluations], write: true });
    grant(this.serviceRoles.scheduler as iam.Role, { topics: [jobTasks], read: true, write: true, groups: ['scheduler*'] });

    if (this.regionPlan.isPrimary) {
      const admin = this.cluster.addPodRole('KafkaAdmin', KAFKA_ADMIN_NAMESPACE, 'kafka-topics');
      grant(admin, { topics: tier.kafka.topics.map((t) => t.name), manageTopics: true });
      const topics = cluster.addCdk8sChart(
        'KafkaTopics',
        new KafkaTopicsJobChart(new cdk8s.App(), 'kafka-topics', {
          image: mirrored('kafkaTools'),
          serviceAccountName: 'kafka-topics',
          resources: { cpuMillicores: 250, memoryMiB: 512 },
          bootstrapServers: kafka.bootstrapBrokersSaslIam,
          brokers: tier.kafka.brokers,
          topics: tier.kafka.topics,
          revision: tier.images.kafkaTools,
        }),
      );
      topics.node.addDependency(this.cluster.nodegroups.General as eks.Nodegroup);
    }

    const clickhouse = this.cluster.addPodRole('ClickHouse', CLICKHOUSE_NAMESPACE, 'clickhouse');
    grant(clickhouse, { topics: [spans, evaluations], read: true, groups: ['clickhouse*'] });
    this.artifacts.grantReadWriteObjects(clickhouse, { keys: `${CLICKHOUSE_BACKUP_PREFIX}/*`, withDelete: true });
    const topology = tier.clickhouse;
    const bucketName = artifactBucketName(tier.name, this.account, this.region);
    const charts = new ClickHouseCharts(new cdk8s.App(), 'ClickHouse', {
      namespace: CLICKHOUSE_NAMESPACE,
      clusterName: 'mlp',
      database: CLICKHOUSE_DATABASE,
      region: this.region,
      shards: topology.shards,
      replicasPerShard: topology.replicasPerShard,
      nodeVcpus: topology.nodeVcpus,
      nodeMemoryGiB: topology.nodeMemoryGiB,
      storageGiB: topology.nodeStorageGiB,
      storageClass: topology.storageVolumeType,
      keeperNodes: topology.keeperNodes,
      image: mirrored('clickhouse'),
      keeperImage: mirrored('clickhouseKeeper'),
      serviceAccountName: 'clickhouse',
      backup: {
        bucketName,
        prefix: `${CLICKHOUSE_BACKUP_PREFIX}/${this.region}`,
        retentionDays: topology.backupRetentionDays,
        schedule: topology.backupSchedule,
        image: mirrored('clickhouseBackup'),
      },
      kafka: {
        bootstrapServers: kafka.bootstrapBrokersSaslIam,
        topics: { spans, evaluations },
        consumerGroup: 'clickhouse',
      },
      zones: [...this.regionPlan.availabilityZones],
      clients: [...new Set(Object.values(CLICKHOUSE_CLIENTS))].map((access) => ({ namespace: PLATFORM_NAMESPACE, access })),
      tls: { issuer: { kind: 'ClusterIssuer', name: INTERNAL_CA_ISSUER } },
    });
    const clickhouseCluster = cluster.addCdk8sChart('ClickHouse', charts.cluster);
    // Its Certificates need cert-manager and the CA; its client certificates go into the platform namespace.
    clickhouseCluster.node.addDependency(this.cluster.internalCa, platformNamespace, this.cluster.nodegroups.Memory1 as eks.Nodegroup);
    const clickhouseShards = cluster.addCdk8sChart('ClickHouseShards', charts.shards);
    clickhouseShards.node.addDependency(clickhouseCluster, this.cluster.nodegroups.Memory1 as eks.Nodegroup);
    this.publishRunbookParameter('clickhouse', 'namespace', CLICKHOUSE_NAMESPACE);
    this.publishRunbookParameter('clickhouse', 'service', CLICKHOUSE_SERVICE_HOST);
    this.publishRunbookParameter('clickhouse', 'cluster', 'mlp');
    this.publishRunbookParameter('clickhouse', 'backup-location', `s3://${bucketName}/${CLICKHOUSE_BACKUP_PREFIX}/${this.region}`);

    if (this.config.kafkaReplicationMode === 'mirrormaker2' && this.config.kafkaReplication && !this.regionPlan.isPrimary) {
      this.addMirrorMaker(data, mirrored('kafkaTools'), clusterPattern);
    }
  }

  /**
   * MirrorMaker 2 on this secondary's EKS, pulling the primary's topics over a VPC peering. The
   * primary's VPC id, route tables and bootstrap brokers are read from its SSM parameters.
   */
  private addMirrorMaker(data: DataStack, image: string, targetClusterPattern: string): void {
    const tier = this.config.tier;
    const primary = this.primaryRegion;
    new CrossRegionVpcPeering(this, 'PrimaryPeering', {
      vpc: data.kafka.vpc,
      peerRegion: primary.name,
      peerCidr: primary.vpcCidr,
      peerVpcIdParameterName: runbookParameterName(tier.name, 'network', 'vpc-id'),
      peerRouteTableIdsParameterName: runbookParameterName(tier.name, 'network', 'route-table-ids'),
      peerRouteTableCount: 2 * primary.availabilityZones.length,
      logEncryptionKey: data.dataKey,
    });
    const remote = (key: 'cluster-arn' | 'bootstrap-brokers', id: string) =>
      new RemoteParameter(this, id, {
        parameterName: runbookParameterName(tier.name, 'kafka', key),
        region: primary.name,
        logEncryptionKey: data.dataKey,
      }).value;
    const sourceArn = remote('cluster-arn', 'PrimaryKafkaArn');
    const role = this.cluster.addPodRole('MirrorMaker', MIRROR_MAKER_NAMESPACE, 'mirror-maker');
    grantMirrorMaker2(role, { sourceClusterArn: sourceArn, targetClusterArn: targetClusterPattern });
    const mirrorMaker = this.cluster.cluster.addCdk8sChart(
      'MirrorMaker',
      new MirrorMaker2Chart(new cdk8s.App(), 'mirror-maker-2', {
        source: { alias: primary.code, bootstrapServers: remote('bootstrap-brokers', 'PrimaryKafkaBootstrap') },
        target: { alias: this.regionPlan.code, bootstrapServers: data.kafka.bootstrapBrokersSaslIam },
        tasks: tier.kafka.mirrorMakerTasks,
        image,
        replicas: 2, // [ours] two workers share the tasks, so one can be drained or lost
        serviceAccountName: 'mirror-maker',
        resources: { cpuMillicores: 1000, memoryMiB: 2048 },
        tls: { issuer: { kind: 'ClusterIssuer', name: INTERNAL_CA_ISSUER } },
      }),
    );
    // Its REST certificate comes from the internal CA.
    mirrorMaker.node.addDependency(this.cluster.internalCa);
  }

  /** Batch for pipeline steps and scheduler jobs, and the training-step job definition template. */
  private addBatch(vpc: ec2.IVpc, logEncryptionKey: kms.IKey): BatchCompute {
    const sizing = this.config.tier.batch;
    const types = (names: readonly string[]) => names.map((name) => new ec2.InstanceType(name));
    const compute = new BatchCompute(this, 'Batch', {
      vpc,
      cpu: { instanceTypes: types(sizing.cpuInstanceTypes), maxvCpus: sizing.cpuMaxVcpus },
      gpu: { instanceTypes: types(sizing.gpuInstanceTypes), maxvCpus: sizing.gpuMaxVcpus },
      spot: { instanceTypes: types(sizing.cpuInstanceTypes), maxvCpus: sizing.spotMaxVcpus },
      queues: sizing.queues,
      volumeEncryptionKey: this.cluster.key,
      rootVolumeSizeGiB: sizing.rootVolumeGiB,
      queueNamePrefix: `mlp-${this.config.tier.name}-`,
    });
    const training = new TrainingJobDefinition(this, 'TrainingStep', {
      image: ecs.ContainerImage.fromEcrRepository(
        this.repositories.repositories[TRAINING_IMAGE] as ecr.Repository,
        this.config.tier.workloads.imageTag,
      ),
      vcpus: sizing.trainingJob.vcpus,
      memory: Size.mebibytes(sizing.trainingJob.memoryMiB),
      gpus: sizing.trainingJob.gpus,
      retries: sizing.retries,
      logEncryptionKey,
      timeout: Duration.hours(sizing.trainingJob.timeoutHours),
    });
    this.artifacts.grantReadWriteObjects(training.jobRole);
    return compute;
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

/** A ClickHouse client's certificate mount and connection settings; nothing for other services. */
function clickHouseClient(access: ClickHouseAccess | undefined): Pick<PlatformServiceProps, 'secretMounts' | 'env'> {
  if (access === undefined) return {};
  return {
    secretMounts: [{ secretName: clientSecretName(access), mountPath: CLIENT_TLS_DIR }],
    env: {
      CLICKHOUSE_HOST: CLICKHOUSE_SERVICE_HOST,
      CLICKHOUSE_HTTPS_PORT: String(CLICKHOUSE_HTTPS_PORT),
      CLICKHOUSE_NATIVE_PORT: String(CLICKHOUSE_NATIVE_PORT),
      CLICKHOUSE_DATABASE,
      CLICKHOUSE_USER: clickHouseUser(access),
      CLICKHOUSE_TLS_CERT: `${CLIENT_TLS_DIR}/${TLS_CERT_FILE}`,
      CLICKHOUSE_TLS_KEY: `${CLIENT_TLS_DIR}/${TLS_KEY_FILE}`,
      CLICKHOUSE_TLS_CA: `${CLIENT_TLS_DIR}/${TLS_CA_FILE}`,
    },
  };
}
