import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { NodePoolPlan } from '../../lib/config';
import { pascalCase } from '../private/ids';
import { accountKeyPolicy, autoScalingEbsKeyStatements, cloudWatchLogsKeyStatement } from '../private/kms';
import { acknowledgeModuleIam, acknowledgeWildcardResource } from '../private/nag';
import { ValidationError } from '../private/validation-error';
import {
  KARPENTER_DISCOVERY_TAG,
  KARPENTER_NAMESPACE,
  KARPENTER_SERVICE_ACCOUNT,
  Karpenter,
  type KarpenterNodePoolSpec,
} from './karpenter';

/** Label every node carries, naming its pool; workloads select pools by it. */
export const NODE_POOL_LABEL = 'mlp.platform/pool';
/** Root volume of every node, in GiB. */
const NODE_ROOT_VOLUME_GIB = 100;
/** Taint of GPU nodes; only pods that tolerate it (and ask for GPUs) land there. */
export const GPU_TAINT_KEY = 'nvidia.com/gpu';

export type NodePool = 'system' | 'general' | 'memory' | 'gpu';

/** The add-on versions a cluster gets unless its props name others. */
export const DEFAULT_VERSIONS = {
  albController: eks.AlbControllerVersion.V2_17_1,
  keda: '2.17.2',
  certManager: 'v1.19.1',
  /** [ours] 1.13 is the first Karpenter to support Kubernetes 1.36 (karpenter.sh compatibility matrix). */
  karpenter: '1.14.1',
} as const;

/** A managed node group, spread over the three AZs. */
export interface NodeGroupSpec {
  readonly instanceTypes: readonly string[];
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
}

export interface PlatformClusterProps {
  readonly clusterName: string;
  readonly version: eks.KubernetesVersion;
  /** kubectl layer matching `version`. */
  readonly kubectlLayer: lambda.ILayerVersion;
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the nodes and the control plane's network interfaces.
   * @default - the VPC's private subnets (egress through NAT)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly nodeGroups: {
    /** Add-ons and controllers; one node per zone at least. */
    readonly system: NodeGroupSpec;
    readonly general: NodeGroupSpec;
    /** Memory-bound stores; split into one node group per zone (EBS volumes are zonal). */
    readonly memory: NodeGroupSpec;
    /** Tainted GPU nodes. @default - none */
    readonly gpu?: NodeGroupSpec;
  };
  /**
   * IAM principals granted cluster-admin through an access entry (there is no aws-auth ConfigMap).
   * @default - none: only the kubectl provider can reach the API
   */
  readonly adminPrincipalArns?: readonly string[];
  /**
   * AWS Load Balancer Controller version.
   * @default DEFAULT_VERSIONS.albController
   */
  readonly albControllerVersion?: eks.AlbControllerVersion;
  /**
   * KEDA Helm chart version. KEDA serves the request-rate triggers of the platform's autoscalers
   * (from CloudWatch), which the metrics-server cannot.
   * @default DEFAULT_VERSIONS.keda
   */
  readonly kedaVersion?: string;
  /**
   * cert-manager Helm chart version, e.g. 'v1.19.1'. cert-manager issues and renews the platform's
   * internal TLS certificates from the cluster's internal CA.
   * @default DEFAULT_VERSIONS.certManager
   */
  readonly certManagerVersion?: string;
  /**
   * Node autoscaling with Karpenter: the node groups stay as each pool's floor, and Karpenter adds
   * nodes to a pool (up to its NodePool's limits) when pods are pending. Nodes are launched in the
   * subnets tagged `KARPENTER_DISCOVERY_TAG` = the cluster name (the VPC's owner tags them).
   * @default - no node autoscaling: the node groups keep their desired size
   */
  readonly karpenter?: {
    /**
     * Karpenter Helm chart version; 1.13 or later for Kubernetes 1.36.
     * @default DEFAULT_VERSIONS.karpenter
     */
    readonly version?: string;
    /** One NodePool per pool (or per zone of a zonal pool). */
    readonly nodePools: readonly KarpenterNodePoolSpec[];
  };
}

/** Namespace and service account of the KEDA operator. */
export const KEDA_NAMESPACE = 'keda';
/** Namespace of cert-manager; the internal CA's key pair lives there. */
export const CERT_MANAGER_NAMESPACE = 'cert-manager';
/**
 * ClusterIssuer that signs the platform's internal certificates; charts refer to it with
 * `issuerRef: { kind: 'ClusterIssuer', name: INTERNAL_CA_ISSUER }`.
 */
export const INTERNAL_CA_ISSUER = 'mlp-internal-ca';

/** Self-signed ClusterIssuer; it signs only the internal CA's root certificate. */
const SELF_SIGNED_ISSUER = 'mlp-selfsigned';
/** Secret (in cert-manager's namespace) holding the root's key pair; also the root Certificate's name. */
const INTERNAL_CA_SECRET = 'mlp-internal-ca';
// [ours] A 10-year root avoids a trust rotation during the platform's life.
const INTERNAL_CA_DURATION = '87600h';
// [ours] Renew the root one year before it expires.
const INTERNAL_CA_RENEW_BEFORE = '8760h';

/**
 * An EKS cluster for the platform: private API endpoint only, secrets envelope-encrypted with a KMS
 * key, every control-plane log type, access entries instead of aws-auth, managed node groups on
 * AL2023 with IMDSv2 and encrypted volumes spread over the three zones, and the add-ons the workloads
 * need: VPC CNI, CoreDNS, kube-proxy, Pod Identity agent, EBS CSI driver with an encrypted gp3
 * StorageClass, metrics-server, the AWS Load Balancer Controller, KEDA and cert-manager.
 *
 * cert-manager issues the platform's internal TLS certificates (servers, and client certificates
 * for mutual TLS) from an internal CA: a self-signed ECDSA P-256 root certificate kept in the
 * `cert-manager` namespace, served by the `INTERNAL_CA_ISSUER` ClusterIssuer. The root is valid for
 * 10 years and keeps its key when renewed, so leaves stay valid across renewals; rotating the root
 * key means re-issuing every leaf certificate (and updating every trust store that holds the root).
 */
export class PlatformCluster extends Construct {
  public readonly cluster: eks.Cluster;
  /** Role of every node: the managed node groups' and Karpenter's. */
  public readonly nodeRole: iam.Role;
  /** Node autoscaling, when `karpenter` is given. */
  public readonly karpenter?: Karpenter;
  /** Encrypts Kubernetes secrets and every node and persistent volume. */
  public readonly key: kms.Key;
  public readonly nodegroups: Record<string, eks.Nodegroup> = {};
  /** KEDA's Helm release; manifests with ScaledObjects must depend on it (it installs the CRDs). */
  public readonly kedaChart: eks.HelmChart;
  /** cert-manager's Helm release (it installs the CRDs and waits for the webhook to answer). */
  public readonly certManagerChart: eks.HelmChart;
  /**
   * The internal CA and its ClusterIssuer; manifests and charts with Certificates issued by
   * `INTERNAL_CA_ISSUER` must depend on it.
   */
  public readonly internalCa: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: PlatformClusterProps) {
    super(scope, id);
    validate(this, props);
    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    this.key = new kms.Key(this, 'Key', {
      description: `Secrets and volumes of EKS cluster ${props.clusterName}`,
      enableKeyRotation: true,
      policy: accountKeyPolicy(),
    });
    // Managed node groups launch through Auto Scaling, whose service-linked role must use the key for
    // encrypted root volumes.
    for (const statement of autoScalingEbsKeyStatements(this)) this.key.addToResourcePolicy(statement);

    this.cluster = new eks.Cluster(this, 'Cluster', {
      clusterName: props.clusterName,
      version: props.version,
      vpc: props.vpc,
      vpcSubnets: [vpcSubnets],
      endpointAccess: eks.EndpointAccess.PRIVATE,
      secretsEncryptionKey: this.key,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      defaultCapacity: 0,
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      kubectlProviderOptions: { kubectlLayer: props.kubectlLayer },
      albController: { version: props.albControllerVersion ?? DEFAULT_VERSIONS.albController },
    });
    for (const [index, principal] of (props.adminPrincipalArns ?? []).entries()) {
      this.cluster.grantAccess(`Admin${index + 1}`, principal, [
        eks.AccessPolicy.fromAccessPolicyName('AmazonEKSClusterAdminPolicy', {
          accessScopeType: eks.AccessScopeType.CLUSTER,
        }),
      ]);
    }

    this.nodeRole = this.addNodegroups(props, vpcSubnets);
    this.addAddons();
    if (props.karpenter) {
      this.karpenter = new Karpenter(this, 'Karpenter', {
        cluster: this.cluster,
        version: props.karpenter.version ?? DEFAULT_VERSIONS.karpenter,
        controllerRole: this.addPodRole('Karpenter', KARPENTER_NAMESPACE, KARPENTER_SERVICE_ACCOUNT),
        nodeRole: this.nodeRole,
        clusterName: props.clusterName,
        subnetTags: { [KARPENTER_DISCOVERY_TAG]: props.clusterName },
        volumeEncryptionKey: this.key,
        rootVolumeSizeGiB: NODE_ROOT_VOLUME_GIB,
        controllerNodeSelector: { [NODE_POOL_LABEL]: 'system' },
        nodePools: props.karpenter.nodePools,
      });
      this.karpenter.chart.node.addDependency(this.nodegroups.System as eks.Nodegroup);
    }
    this.kedaChart = this.addKeda(props.kedaVersion ?? DEFAULT_VERSIONS.keda);
    this.certManagerChart = this.addCertManager(props.certManagerVersion ?? DEFAULT_VERSIONS.certManager);
    this.internalCa = this.addInternalCa(props.clusterName);
    acknowledgeClusterInternals(this.cluster);
    encryptKubectlProviderLogs(this.cluster, this.key);
  }

  private addNodegroups(props: PlatformClusterProps, vpcSubnets: ec2.SubnetSelection): iam.Role {
    const launchTemplate = new ec2.LaunchTemplate(this, 'NodeLaunchTemplate', {
      requireImdsv2: true,
      // IMDS answers the node itself only: a pod (one hop further) cannot take the node role's
      // credentials. Pods get their AWS identity from EKS Pod Identity; host-network add-ons (VPC CNI,
      // kube-proxy, the Pod Identity agent) are on the node's hop; the load balancer controller and
      // KEDA are given their region (and VPC) in their values instead of asking IMDS.
      httpPutResponseHopLimit: 1,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(NODE_ROOT_VOLUME_GIB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            kmsKey: this.key,
          }),
        },
      ],
    });
    const launchTemplateSpec = {
      id: launchTemplate.launchTemplateId as string,
      version: launchTemplate.latestVersionNumber,
    };
    const nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: NODE_POLICIES.map((name) => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
    });
    for (const name of NODE_POLICIES) {
      Validations.of(nodeRole).acknowledge({
        id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`,
        reason:
          'AWS-maintained policy EKS documents for every managed node role; workloads get their own permissions through Pod Identity, not the node role.',
      });
    }

    const add = (id: string, pool: NodePool, spec: NodeGroupSpec, subnets: ec2.SubnetSelection, gpu = false) => {
      this.nodegroups[id] = this.cluster.addNodegroupCapacity(id, {
        instanceTypes: spec.instanceTypes.map((t) => new ec2.InstanceType(t)),
        minSize: spec.minSize,
        desiredSize: spec.desiredSize,
        maxSize: spec.maxSize,
        subnets,
        nodeRole,
        launchTemplateSpec,
        amiType: gpu ? eks.NodegroupAmiType.AL2023_X86_64_NVIDIA : eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
        labels: { [NODE_POOL_LABEL]: pool },
        taints: gpu ? [{ key: GPU_TAINT_KEY, value: 'true', effect: eks.TaintEffect.NO_SCHEDULE }] : undefined,
        maxUnavailable: 1,
      });
    };
    add('System', 'system', props.nodeGroups.system, vpcSubnets);
    add('General', 'general', props.nodeGroups.general, vpcSubnets);
    // One group per zone: a pod bound to a zonal EBS volume must find capacity in that zone.
    const zones = props.vpc.availabilityZones;
    for (const [index, zone] of zones.entries()) {
      add(`Memory${index + 1}`, 'memory', perZone(props.nodeGroups.memory, zones.length, index), {
        ...vpcSubnets,
        availabilityZones: [zone],
      });
    }
    if (props.nodeGroups.gpu) add('Gpu', 'gpu', props.nodeGroups.gpu, vpcSubnets, true);
    return nodeRole;
  }

  private addAddons(): void {
    const cluster = this.cluster;
    // The VPC CNI also enforces Kubernetes NetworkPolicies (its network policy agent).
    new eks.Addon(this, 'VpcCni', {
      cluster,
      addonName: 'vpc-cni',
      preserveOnDelete: false,
      configurationValues: { enableNetworkPolicy: 'true' },
    });
    for (const name of ['coredns', 'kube-proxy', 'metrics-server']) {
      new eks.Addon(this, pascalCase(name), { cluster, addonName: name, preserveOnDelete: false });
    }

    // The EBS CSI driver gets its role through Pod Identity, and may use the cluster key for volumes.
    const ebsCsiRole = new iam.Role(this, 'EbsCsiRole', {
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEBSCSIDriverPolicy')],
    });
    ebsCsiRole.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('pods.eks.amazonaws.com')],
        actions: ['sts:TagSession'],
      }),
    );
    Validations.of(ebsCsiRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]',
      reason: 'AWS-maintained policy of the EBS CSI driver; it scopes volume and snapshot actions to resources tagged by the driver.',
    });
    this.key.grant(
      ebsCsiRole,
      'kms:Encrypt',
      'kms:Decrypt',
      'kms:ReEncryptFrom',
      'kms:ReEncryptTo',
      'kms:GenerateDataKey',
      'kms:GenerateDataKeyWithoutPlaintext',
      'kms:DescribeKey',
      'kms:CreateGrant',
    );
    const ebsCsi = new eks.Addon(this, 'EbsCsiDriver', {
      cluster,
      addonName: 'aws-ebs-csi-driver',
      preserveOnDelete: false,
    });
    (ebsCsi.node.defaultChild as eks.CfnAddon).podIdentityAssociations = [
      { serviceAccount: 'ebs-csi-controller-sa', roleArn: ebsCsiRole.roleArn },
    ];

    // Both classes bind where the pod lands (volumes are zonal) and keep the volume when its claim
    // is deleted. gp3 is the default; io2 serves the heaviest ClickHouse tier.
    const storageClass = (name: string, parameters: Record<string, string>, isDefault: boolean) =>
      cluster
        .addManifest(`${pascalCase(name)}StorageClass`, {
          apiVersion: 'storage.k8s.io/v1',
          kind: 'StorageClass',
          metadata: { name, annotations: { 'storageclass.kubernetes.io/is-default-class': String(isDefault) } },
          provisioner: 'ebs.csi.aws.com',
          parameters: { ...parameters, encrypted: 'true', kmsKeyId: this.key.keyArn, 'csi.storage.k8s.io/fstype': 'ext4' },
          volumeBindingMode: 'WaitForFirstConsumer',
          reclaimPolicy: 'Retain',
          allowVolumeExpansion: true,
        })
        .node.addDependency(ebsCsi);
    storageClass('gp3', { type: 'gp3' }, true);
    // [ours] 50 IOPS per GiB, raised to the type's minimum for small volumes.
    storageClass('io2', { type: 'io2', iopsPerGB: '50', allowAutoIOPSPerGBIncrease: 'true' }, false);
  }

  private addKeda(version: string): eks.HelmChart {
    const operatorRole = this.addPodRole('KedaOperator', KEDA_NAMESPACE, 'keda-operator');
    operatorRole.addToPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    acknowledgeWildcardResource(
      operatorRole,
      '*',
      'cloudwatch:GetMetricData supports no resource-level permissions; the role holds that one read-only action.',
    );
    const chart = this.cluster.addHelmChart('Keda', {
      chart: 'keda',
      repository: 'https://kedacore.github.io/charts',
      version,
      namespace: KEDA_NAMESPACE,
      createNamespace: true,
      values: {
        nodeSelector: { [NODE_POOL_LABEL]: 'system' },
        // The AWS SDK of the operator and metrics server would otherwise ask IMDS, out of a pod's reach.
        env: [{ name: 'AWS_REGION', value: Stack.of(this).region }],
      },
    });
    chart.node.addDependency(this.nodegroups.System as eks.Nodegroup);
    return chart;
  }

  private addCertManager(version: string): eks.HelmChart {
    const onSystemNodes = { nodeSelector: { [NODE_POOL_LABEL]: 'system' } };
    const chart = this.cluster.addHelmChart('CertManager', {
      chart: 'cert-manager',
      repository: 'https://charts.jetstack.io',
      version,
      namespace: CERT_MANAGER_NAMESPACE,
      createNamespace: true,
      // Issuers and Certificates are rejected until the webhook answers; the release waits for it.
      wait: true,
      values: {
        // keep: uninstalling the release must not delete the CRDs, which would delete every Certificate.
        crds: { enabled: true, keep: true },
        ...onSystemNodes,
        webhook: onSystemNodes,
        cainjector: onSystemNodes,
        startupapicheck: onSystemNodes,
      },
    });
    chart.node.addDependency(this.nodegroups.System as eks.Nodegroup);
    return chart;
  }

  private addInternalCa(clusterName: string): eks.KubernetesManifest {
    const manifest = this.cluster.addManifest(
      'InternalCa',
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'ClusterIssuer',
        metadata: { name: SELF_SIGNED_ISSUER },
        spec: { selfSigned: {} },
      },
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: INTERNAL_CA_SECRET, namespace: CERT_MANAGER_NAMESPACE },
        spec: {
          isCA: true,
          commonName: `mlp internal CA ${clusterName}`,
          secretName: INTERNAL_CA_SECRET,
          // Never: a renewed root keeps its key, so leaves signed before the renewal still verify.
          privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Never' },
          duration: INTERNAL_CA_DURATION,
          renewBefore: INTERNAL_CA_RENEW_BEFORE,
          issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: SELF_SIGNED_ISSUER },
        },
      },
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'ClusterIssuer',
        metadata: { name: INTERNAL_CA_ISSUER },
        // A ClusterIssuer reads its secret from cert-manager's own namespace.
        spec: { ca: { secretName: INTERNAL_CA_SECRET } },
      },
    );
    manifest.node.addDependency(this.certManagerChart);
    return manifest;
  }

  /**
   * Give `serviceAccount` in `namespace` an IAM role through EKS Pod Identity, and return the role.
   */
  addPodRole(id: string, namespace: string, serviceAccount: string): iam.Role {
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com'),
      description: `Pod Identity role of ${namespace}/${serviceAccount}`,
    });
    role.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('pods.eks.amazonaws.com')],
        actions: ['sts:TagSession'],
      }),
    );
    new eks.CfnPodIdentityAssociation(this, `${id}Association`, {
      clusterName: this.cluster.clusterName,
      namespace,
      serviceAccount,
      roleArn: role.roleArn,
    });
    return role;
  }
}

/**
 * aws-eks-v2's kubectl provider creates the log groups of its handler and of the provider framework
 * without a way to pass a key; the cluster's key encrypts them (the escape hatch is the only way).
 */
function encryptKubectlProviderLogs(cluster: eks.Cluster, key: kms.Key): void {
  key.addToResourcePolicy(cloudWatchLogsKeyStatement(cluster));
  const kubectl = cluster.node.findChild('KubectlProvider');
  for (const child of kubectl.node.findAll()) {
    if (CfnResource.isCfnResource(child) && child instanceof logs.CfnLogGroup) child.kmsKeyId = key.keyArn;
  }
}

/**
 * Findings in the resources aws-eks-v2 creates for the cluster itself; each reason says why the
 * construct's choice is acceptable.
 */
function acknowledgeClusterInternals(cluster: eks.Cluster): void {
  const kubectl = cluster.node.findChild('KubectlProvider');
  Validations.of(cluster.role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSClusterPolicy]',
    reason: 'The AWS-maintained policy EKS requires on every cluster role; it changes with the service.',
  });
  acknowledgeModuleIam(
    kubectl,
    "IAM of aws-eks-v2's kubectl provider: AWS-maintained Lambda execution and ECR read-only policies, and the provider framework invoking any version of the module's own handler function.",
  );
  Validations.of(kubectl).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'The kubectl handler runtime is chosen by aws-eks-v2 to match its kubectl layer; it is not configurable.',
  });
  Validations.of(cluster.node.defaultChild as eks.CfnCluster).acknowledge({
    id: 'CloudFormation-Validate::W9009',
    reason:
      'aws-eks-v2 writes EncryptionConfig.Resources ["secrets"], the only value EKS accepts; the deprecation is of the property name in the schema.',
  });
  if (cluster.albController) {
    acknowledgeModuleIam(
      cluster.albController,
      'The AWS Load Balancer Controller policy published with the controller: it creates and tags load balancers, target groups and security groups whose ids are not known in advance, scoped by elbv2.k8s.aws/cluster tag conditions.',
    );
  }
}

const NODE_POLICIES = [
  'AmazonEKSWorkerNodePolicy',
  'AmazonEC2ContainerRegistryReadOnly',
  'AmazonEKS_CNI_Policy',
  'AmazonSSMManagedInstanceCore',
];

function perZone(spec: NodeGroupSpec, zones: number, index: number): NodeGroupSpec {
  const share = (total: number) => Math.floor(total / zones) + (index < total % zones ? 1 : 0);
  return {
    instanceTypes: spec.instanceTypes,
    minSize: share(spec.minSize),
    desiredSize: share(spec.desiredSize),
    maxSize: Math.max(1, share(spec.maxSize)),
  };
}

function validate(scope: Construct, props: PlatformClusterProps): void {
  const groups: [string, NodeGroupSpec | undefined][] = Object.entries(props.nodeGroups);
  for (const [name, spec] of groups) {
    if (!spec) continue;
    if (spec.instanceTypes.length === 0) {
      throw new ValidationError(`nodeGroups.${name}: instanceTypes must list at least one type`, scope);
    }
    if (!(spec.minSize >= 0 && spec.minSize <= spec.desiredSize && spec.desiredSize <= spec.maxSize && spec.maxSize >= 1)) {
      throw new ValidationError(
        `nodeGroups.${name}: sizes must satisfy 0 <= min <= desired <= max, max >= 1; got ${spec.minSize}/${spec.desiredSize}/${spec.maxSize}`,
        scope,
      );
    }
  }
  if (props.nodeGroups.system.minSize < 3) {
    throw new ValidationError(
      `nodeGroups.system.minSize must be at least 3 (one node per zone), got ${props.nodeGroups.system.minSize}`,
      scope,
    );
  }
  const gpu = props.nodeGroups.gpu;
  const nonGpu = gpu?.instanceTypes.filter((t) => !/^(p|g)\d/.test(t)) ?? [];
  if (gpu && nonGpu.length > 0) {
    throw new ValidationError(`nodeGroups.gpu: instance types must be GPU families (p*, g*), got ${gpu.instanceTypes.join(', ')}`, scope);
  }
  if (props.certManagerVersion !== undefined && !/^v\d+\.\d+\.\d+$/.test(props.certManagerVersion)) {
    throw new ValidationError(
      `certManagerVersion "${props.certManagerVersion}" is invalid: expected v<major>.<minor>.<patch>, e.g. v1.19.1`,
      scope,
    );
  }
  if (!/^[a-zA-Z][a-zA-Z0-9-]{0,99}$/.test(props.clusterName)) {
    throw new ValidationError(`clusterName "${props.clusterName}" is invalid: letters, digits and hyphens, starting with a letter`, scope);
  }
}

/**
 * Karpenter's node pools for the tier's node-pool plans: each carries its pool's label, GPU nodes
 * their taint, and the memory pools (ClickHouse servers holding their data on zonal volumes) remove
 * only empty nodes.
 */
export function karpenterNodePools(plans: readonly NodePoolPlan[], zones: readonly string[]): KarpenterNodePoolSpec[] {
  return plans.map((plan) => ({
    name: plan.name,
    labels: { [NODE_POOL_LABEL]: plan.pool },
    instanceTypes: plan.instanceTypes,
    zones: plan.zone ? [plan.zone] : zones,
    taints: plan.pool === 'gpu' ? [{ key: GPU_TAINT_KEY, value: 'true', effect: 'NoSchedule' as const }] : undefined,
    cpuLimit: plan.limits.cpu,
    memoryLimitGiB: plan.limits.memoryGiB,
    consolidateUnderutilized: plan.pool !== 'memory',
  }));
}
