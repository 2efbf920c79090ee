import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { describe, expect, test } from 'vitest';
import { CERT_MANAGER_NAMESPACE, INTERNAL_CA_ISSUER, PlatformCluster, type PlatformClusterProps } from '../../../constructs/eks';
import { addQualityGates } from '../../../lib/quality-gates';
import type { CfnTemplate } from '../../support/assembly';
import { stackWithVpc } from '../../support/fixtures';
import { manifestObjectsIn } from '../../support/k8s-manifests';
import { validateKubernetesObject } from '../../support/k8s-schema';
import { testApp } from '../../support/synth';

function buildCluster(overrides: Partial<PlatformClusterProps> = {}, withGates = false) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Compute');
  const cluster = new PlatformCluster(stack, 'Eks', {
    clusterName: 'mlp-tier2-use1',
    version: eks.KubernetesVersion.V1_36,
    kubectlLayer: new KubectlV36Layer(stack, 'Kubectl'),
    vpc,
    albControllerVersion: eks.AlbControllerVersion.V2_17_1,
    kedaVersion: '2.17.2',
    certManagerVersion: 'v1.19.1',
    nodeGroups: {
      system: { instanceTypes: ['m7i.large'], minSize: 3, desiredSize: 3, maxSize: 6 },
      general: { instanceTypes: ['m7i.4xlarge'], minSize: 9, desiredSize: 9, maxSize: 80 },
      memory: { instanceTypes: ['r7i.8xlarge'], minSize: 19, desiredSize: 19, maxSize: 22 },
      gpu: { instanceTypes: ['g5.2xlarge'], minSize: 0, desiredSize: 0, maxSize: 10 },
    },
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, cluster };
}

describe('PlatformCluster', () => {
  const { stack } = buildCluster();
  const template = Template.fromStack(stack);
  const nodegroups = Object.values(template.findResources('AWS::EKS::Nodegroup')).map((r) => r.Properties);
  const byPool = (pool: string) => nodegroups.filter((n) => n.Labels['mlp.platform/pool'] === pool);

  test('the API endpoint is private, secrets are KMS-encrypted and every control-plane log is on', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      Name: 'mlp-tier2-use1',
      Version: '1.36',
      AccessConfig: { AuthenticationMode: 'API' },
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false }),
      EncryptionConfig: [{ Provider: { KeyArn: Match.anyValue() }, Resources: ['secrets'] }],
      Logging: {
        ClusterLogging: {
          EnabledTypes: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'].map((Type) => ({ Type })),
        },
      },
    });
  });

  test('node groups: system, general, one memory group per zone, and tainted GPU nodes', () => {
    expect(byPool('system')).toHaveLength(1);
    expect(byPool('general')).toHaveLength(1);
    expect(byPool('memory')).toHaveLength(3);
    expect(byPool('gpu')).toHaveLength(1);
    expect(byPool('general')[0]).toMatchObject({
      InstanceTypes: ['m7i.4xlarge'],
      ScalingConfig: { MinSize: 9, DesiredSize: 9, MaxSize: 80 },
      AmiType: 'AL2023_x86_64_STANDARD',
    });
    // 19 memory nodes over 3 zones: 7 + 6 + 6, each group in one zone's subnet.
    expect(byPool('memory').map((n) => n.ScalingConfig.DesiredSize)).toEqual([7, 6, 6]);
    for (const group of byPool('memory')) expect(group.Subnets).toHaveLength(1);
    expect(byPool('gpu')[0]).toMatchObject({
      InstanceTypes: ['g5.2xlarge'],
      AmiType: 'AL2023_x86_64_NVIDIA',
      Taints: [{ Key: 'nvidia.com/gpu', Value: 'true', Effect: 'NO_SCHEDULE' }],
      ScalingConfig: { MinSize: 0, DesiredSize: 0, MaxSize: 10 },
    });
    for (const group of nodegroups) expect(group.LaunchTemplate).toBeDefined();
  });

  test('nodes require IMDSv2 with a hop limit of 1 (no pod reaches IMDS) and boot from encrypted gp3 volumes', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3', KmsKeyId: Match.anyValue() }) },
        ],
      }),
    });
  });

  test('add-ons: VPC CNI, CoreDNS, kube-proxy, metrics-server, and the EBS CSI driver with a Pod Identity role', () => {
    const addons = Object.values(template.findResources('AWS::EKS::Addon')).map((r) => r.Properties.AddonName);
    expect(addons.sort()).toEqual(['aws-ebs-csi-driver', 'coredns', 'kube-proxy', 'metrics-server', 'vpc-cni']);
    template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'vpc-cni',
      ConfigurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }),
    });
    template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'aws-ebs-csi-driver',
      PodIdentityAssociations: [{ ServiceAccount: 'ebs-csi-controller-sa', RoleArn: Match.anyValue() }],
    });
  });

  test('the default StorageClass is encrypted gp3, bound where the pod lands, and keeps its volumes', () => {
    const manifests = Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'));
    const storageClass = manifests.find((m) => JSON.stringify(m.Properties.Manifest).includes('StorageClass'));
    const text = JSON.stringify(storageClass?.Properties.Manifest);
    for (const fragment of [
      '\\"provisioner\\":\\"ebs.csi.aws.com\\"',
      '\\"type\\":\\"gp3\\"',
      '\\"encrypted\\":\\"true\\"',
      '\\"volumeBindingMode\\":\\"WaitForFirstConsumer\\"',
      '\\"reclaimPolicy\\":\\"Retain\\"',
    ]) {
      expect(text).toContain(fragment);
    }
  });

  test('KEDA runs on the system nodes with a role that may only read CloudWatch metrics', () => {
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Chart: 'keda',
      Repository: 'https://kedacore.github.io/charts',
      Namespace: 'keda',
      Values: JSON.stringify({
        nodeSelector: { 'mlp.platform/pool': 'system' },
        env: [{ name: 'AWS_REGION', value: 'us-east-1' }],
      }),
    });
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'keda', ServiceAccount: 'keda-operator' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'cloudwatch:GetMetricData', Effect: 'Allow', Resource: '*' }] },
    });
  });

  describe('cert-manager and the internal CA', () => {
    const charts = template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'cert-manager' } });
    const [chartId, chart] = Object.entries(charts)[0] ?? [];
    const manifests = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const [caId, ca] = Object.entries(manifests).find(([id]) => id.includes('InternalCa')) ?? [];
    const objects: Record<string, any>[] = typeof ca?.Properties.Manifest === 'string' ? JSON.parse(ca.Properties.Manifest) : [];
    const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

    test('cert-manager is installed once, from Jetstack, at the version of the props, and waits until ready', () => {
      expect(Object.keys(charts)).toHaveLength(1);
      expect(chart?.Properties).toMatchObject({
        Chart: 'cert-manager',
        Repository: 'https://charts.jetstack.io',
        Version: 'v1.19.1',
        Namespace: 'cert-manager',
        CreateNamespace: true,
        Wait: true,
      });
    });

    test('the chart installs and keeps its CRDs, and every component runs on the system nodes', () => {
      const values = JSON.parse(chart?.Properties.Values);
      const system = { 'mlp.platform/pool': 'system' };
      expect(values.crds).toEqual({ enabled: true, keep: true });
      expect(values.nodeSelector).toEqual(system);
      for (const component of ['webhook', 'cainjector', 'startupapicheck']) {
        expect(values[component]?.nodeSelector, component).toEqual(system);
      }
    });

    test('the chart waits for the system node group', () => {
      const systemGroup = Object.entries(template.findResources('AWS::EKS::Nodegroup')).find(
        ([, group]) => group.Properties.Labels['mlp.platform/pool'] === 'system',
      )?.[0];
      expect(chart?.DependsOn).toContain(systemGroup);
    });

    test('the internal CA is a self-signed issuer, a root certificate and the CA issuer, nothing else', () => {
      expect(typeof ca?.Properties.Manifest).toBe('string');
      expect(objects.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`)).toEqual([
        'cert-manager.io/v1 ClusterIssuer mlp-selfsigned',
        'cert-manager.io/v1 Certificate mlp-internal-ca',
        'cert-manager.io/v1 ClusterIssuer mlp-internal-ca',
      ]);
      expect(find('ClusterIssuer', 'mlp-selfsigned')?.spec).toEqual({ selfSigned: {} });
    });

    test('the root is a 10-year ECDSA P-256 CA certificate signed by the self-signed issuer', () => {
      const root = find('Certificate', 'mlp-internal-ca');
      expect(root?.metadata.namespace).toBe(CERT_MANAGER_NAMESPACE);
      expect(root?.spec).toEqual({
        isCA: true,
        commonName: 'mlp internal CA mlp-tier2-use1',
        secretName: 'mlp-internal-ca',
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Never' },
        duration: '87600h',
        renewBefore: '8760h',
        issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'mlp-selfsigned' },
      });
    });

    test("the exported CA issuer signs with the root certificate's secret", () => {
      const root = find('Certificate', 'mlp-internal-ca');
      expect(INTERNAL_CA_ISSUER).toBe('mlp-internal-ca');
      expect(find('ClusterIssuer', INTERNAL_CA_ISSUER)?.spec).toEqual({ ca: { secretName: root?.spec.secretName } });
    });

    test('every object of the internal CA passes the cert-manager schemas', () => {
      expect(objects).toHaveLength(3);
      for (const object of objects) expect(validateKubernetesObject(object)).toEqual([]);
    });

    test('the internal CA is applied after the cert-manager chart (its CRDs and webhook)', () => {
      expect(chartId).toBeDefined();
      expect(caId).toBeDefined();
      expect(ca?.DependsOn).toContain(chartId);
    });
  });

  test('admins get cluster-admin through access entries, not aws-auth', () => {
    const { stack: withAdmin } = buildCluster({ adminPrincipalArns: ['arn:aws:iam::111122223333:role/platform-admin'] });
    Template.fromStack(withAdmin).hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: 'arn:aws:iam::111122223333:role/platform-admin',
      AccessPolicies: [
        Match.objectLike({
          AccessScope: { Type: 'cluster' },
          PolicyArn: {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']],
          },
        }),
      ],
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('aws-auth');
  });

  test('the AWS Load Balancer Controller is installed, told its region and VPC (IMDS is out of its reach)', () => {
    const charts = Object.values(
      template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'aws-load-balancer-controller' } }),
    );
    expect(charts).toHaveLength(1);
    const values = JSON.stringify(charts[0]?.Properties.Values);
    expect(values).toContain('\\"region\\":\\"us-east-1\\"');
    expect(values).toMatch(/vpcId.*NetworkVpc/);
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = buildCluster({}, true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('PlatformCluster with Karpenter', () => {
  const KARPENTER = {
    version: '1.14.1',
    nodePools: [
      {
        name: 'general',
        labels: { 'mlp.platform/pool': 'general' },
        instanceTypes: ['m7i.4xlarge'],
        zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
        cpuLimit: 1024,
        memoryLimitGiB: 4096,
      },
      {
        name: 'memory-us-east-1a',
        labels: { 'mlp.platform/pool': 'memory' },
        instanceTypes: ['r7i.8xlarge'],
        zones: ['us-east-1a'],
        cpuLimit: 32,
        memoryLimitGiB: 256,
        consolidateUnderutilized: false,
      },
    ],
  };
  const { stack } = buildCluster({ karpenter: KARPENTER });
  const template = Template.fromStack(stack);
  const manifests = manifestObjectsIn(template.toJSON() as CfnTemplate).map(
    ({ object }) => object as unknown as { kind: string; metadata: { name: string }; spec: Record<string, any> },
  );

  test('an interruption queue (5-minute retention, SSE, TLS only) fed by the four EC2 and Health event types', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 300, SqsManagedSseEnabled: true });
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r) => r.Properties.EventPattern['detail-type'][0]);
    expect(rules.sort()).toEqual([
      'AWS Health Event',
      'EC2 Instance Rebalance Recommendation',
      'EC2 Instance State-change Notification',
      'EC2 Spot Instance Interruption Warning',
    ]);
  });

  test('every rule puts what it cannot deliver, or delivers stale, in an encrypted 14-day dead-letter queue', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const [interruption] = Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { MessageRetentionPeriod: 300 } }));
    const [deadLetter, ...others] = Object.keys(
      template.findResources('AWS::SQS::Queue', { Properties: { MessageRetentionPeriod: 14 * 24 * 3600 } }),
    );
    expect(others).toEqual([]);
    // Encrypted as the interruption queue is: SSE with SQS-owned keys.
    expect(queues[interruption as string]?.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queues[deadLetter as string]?.Properties).toEqual({ MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
    const rules = Object.entries(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(4);
    for (const [, rule] of rules) {
      expect(rule.Properties.Targets).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [interruption, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [deadLetter, 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 300 },
        }),
      ]);
    }
    // EventBridge may send to it for these rules only, over TLS only.
    const [policy] = Object.values(template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: deadLetter }] } }));
    const statements = policy?.Properties.PolicyDocument.Statement as { Effect: string; Principal?: unknown; Condition?: any }[];
    expect(statements.filter((st) => st.Effect === 'Deny').map((st) => st.Condition)).toEqual([
      { Bool: { 'aws:SecureTransport': 'false' } },
    ]);
    const senders = statements.filter((st) => st.Effect === 'Allow');
    expect(senders.map((st) => st.Principal)).toEqual(rules.map(() => ({ Service: 'events.amazonaws.com' })));
    expect(senders.map((st) => st.Condition.ArnEquals['aws:SourceArn']['Fn::GetAtt'][0]).sort()).toEqual(rules.map(([id]) => id).sort());
  });

  test('the controller: Helm chart on the system nodes, told its cluster, queue and region, with a Pod Identity role', () => {
    const [chart] = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'karpenter' } }));
    expect(chart?.Properties).toMatchObject({
      Repository: 'oci://public.ecr.aws/karpenter/karpenter',
      Version: '1.14.1',
      Namespace: 'kube-system',
    });
    const values = JSON.stringify(chart?.Properties.Values);
    for (const fragment of [
      '\\"nodeSelector\\":{\\"mlp.platform/pool\\":\\"system\\"}',
      'AWS_REGION',
      'interruptionQueue',
      'clusterName',
    ]) {
      expect(values).toContain(fragment);
    }
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'kube-system', ServiceAccount: 'karpenter' });
  });

  test('the controller may terminate only nodes it launched for this cluster, and grant the volume key only to EC2', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Condition?: unknown }[],
    );
    expect(statements.find((st) => st.Sid === 'RemoveOwnNodes')?.Condition).toMatchObject({
      StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
    });
    expect(statements.find((st) => st.Sid === 'GrantVolumeKeyToEc2')?.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': true } });
  });

  test('one EC2NodeClass (IMDSv2, hop limit 1, encrypted gp3) and a NodePool per spec with its limits, zones and consolidation', () => {
    const nodeClass = manifests.find((m) => m.kind === 'EC2NodeClass');
    expect(nodeClass?.spec.metadataOptions).toMatchObject({ httpTokens: 'required', httpPutResponseHopLimit: 1 });
    expect(nodeClass?.spec.blockDeviceMappings[0].ebs).toMatchObject({ volumeType: 'gp3', encrypted: true });
    const memory = manifests.find((m) => m.kind === 'NodePool' && m.metadata.name === 'memory-us-east-1a');
    expect(memory?.spec.limits).toEqual({ cpu: '32', memory: '256Gi' });
    expect(memory?.spec.disruption.consolidationPolicy).toBe('WhenEmpty');
    expect(memory?.spec.template.spec.requirements).toContainEqual({
      key: 'topology.kubernetes.io/zone',
      operator: 'In',
      values: ['us-east-1a'],
    });
    const general = manifests.find((m) => m.kind === 'NodePool' && m.metadata.name === 'general');
    expect(general?.spec.disruption.consolidationPolicy).toBe('WhenEmptyOrUnderutilized');
    for (const object of manifests.filter((m) => m.kind === 'NodePool' || m.kind === 'EC2NodeClass')) {
      expect(validateKubernetesObject(object)).toEqual([]);
    }
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = buildCluster({ karpenter: KARPENTER }, true);
    expect(() => app.synth()).not.toThrow();
  });

  test('two NodePools with one name', () => {
    expect(() =>
      buildCluster({ karpenter: { ...KARPENTER, nodePools: [KARPENTER.nodePools[0], KARPENTER.nodePools[0]] as never } }),
    ).toThrow('nodePools names must be unique, got general, general');
  });
});

describe('invalid cluster props fail with a clear ValidationError', () => {
  const group = { instanceTypes: ['m7i.large'], minSize: 3, desiredSize: 3, maxSize: 6 };
  test.each<[string, Partial<PlatformClusterProps>, string]>([
    [
      'two system nodes',
      { nodeGroups: { system: { ...group, minSize: 2, desiredSize: 2 }, general: group, memory: group } },
      'nodeGroups.system.minSize must be at least 3 (one node per zone), got 2',
    ],
    [
      'desired above max',
      { nodeGroups: { system: group, general: { ...group, desiredSize: 9 }, memory: group } },
      'nodeGroups.general: sizes must satisfy 0 <= min <= desired <= max, max >= 1; got 3/9/6',
    ],
    [
      'a CPU type in the GPU group',
      { nodeGroups: { system: group, general: group, memory: group, gpu: { ...group, instanceTypes: ['m7i.large'] } } },
      'nodeGroups.gpu: instance types must be GPU families (p*, g*), got m7i.large',
    ],
    [
      'no instance types',
      { nodeGroups: { system: group, general: { ...group, instanceTypes: [] }, memory: group } },
      'nodeGroups.general: instanceTypes must list at least one type',
    ],
    [
      'an empty cert-manager version',
      { certManagerVersion: '' },
      'certManagerVersion "" is invalid: expected v<major>.<minor>.<patch>, e.g. v1.19.1',
    ],
    [
      'a cert-manager version without the v',
      { certManagerVersion: '1.19.1' },
      'certManagerVersion "1.19.1" is invalid: expected v<major>.<minor>.<patch>, e.g. v1.19.1',
    ],
    [
      'a cert-manager version without a patch',
      { certManagerVersion: 'v1.19' },
      'certManagerVersion "v1.19" is invalid: expected v<major>.<minor>.<patch>, e.g. v1.19.1',
    ],
  ])('%s', (_what, overrides, message) => {
    expect(() => buildCluster(overrides)).toThrow(message);
  });
});
