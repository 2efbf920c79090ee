import { Token } from 'aws-cdk-lib';
import { App, Chart } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { SECRET_FILE_MODE } from '../../../constructs/private/certificates';
import {
  FAMILY_SERVICES,
  type FamilyName,
  PlatformCharts,
  type PlatformChartsProps,
  PlatformService,
  type PlatformServiceProps,
  RUN_AS_USER,
  type ScalingRules,
  type SecretMount,
  STARTUP_GRACE_SECONDS,
} from '../../../constructs/workloads';
import { assertValidKubernetesObjects, validateKubernetesObject } from '../../support/k8s-schema';

const NAMESPACE = 'ml-platform';
const REGION = 'us-east-1';
const PROBE = { path: '/health', periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 2 };
// CloudFormation tokens, as the compute stack passes them: the charts must carry them untouched.
const ALB_FULL_NAME = Token.asString({ 'Fn::GetAtt': ['Alb', 'LoadBalancerFullName'] });
const ALB_SECURITY_GROUP = Token.asString({ 'Fn::GetAtt': ['AlbSecurityGroup', 'GroupId'] });
const tokens = new Map<string, string>();
/** One token per CloudFormation expression, so a test can compare what it passed with what it got. */
function token(key: string, expression: object): string {
  const existing = tokens.get(key) ?? Token.asString(expression);
  tokens.set(key, existing);
  return existing;
}
const targetGroupArn = (name: string) => token(`${name}.arn`, { Ref: `${name}TargetGroup` });
const targetGroupFullName = (name: string) => token(`${name}.fullName`, { 'Fn::GetAtt': [`${name}TargetGroup`, 'TargetGroupFullName'] });
const imageUri = (name: string) =>
  token(`${name}.image`, { 'Fn::Sub': `111122223333.dkr.ecr.\${AWS::Region}.amazonaws.com/${name}:1.0.0` });

const TRACKING_UP: ScalingRules = { stabilizationWindowSeconds: 60, policies: [{ type: 'Percent', value: 100, periodSeconds: 60 }] };
const TEN_PERCENT_DOWN: ScalingRules = {
  stabilizationWindowSeconds: 300,
  policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }],
};
const QUERY_UP: ScalingRules = { stabilizationWindowSeconds: 60, policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }] };
const PREDICTION_UP: ScalingRules = { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 50, periodSeconds: 120 }] };
const PREDICTION_DOWN: ScalingRules = {
  stabilizationWindowSeconds: 300,
  policies: [{ type: 'Percent', value: 20, periodSeconds: 600 }],
};

/** Services behind the ALB; the others are internal. */
const PUBLIC = new Set(['tracking-server', 'registry-api', 'query-api', 'collector', 'prediction-service']);

function service(name: string, autoscaling: PlatformServiceProps['autoscaling'], cpuMillicores = 1000): PlatformServiceProps {
  return {
    name,
    image: imageUri(name),
    port: 8080,
    resources: { cpuMillicores, memoryMiB: (cpuMillicores / 1000) * 2048 },
    autoscaling,
    probe: PROBE,
    serviceAccountName: `${name}-sa`,
    env: { SERVICE_NAME: name, AWS_REGION: REGION },
    ...(PUBLIC.has(name) ? { targetGroupArn: targetGroupArn(name), loadBalancerSecurityGroupId: ALB_SECURITY_GROUP } : {}),
    ...(autoscaling.requestsPerSecondPerPod === undefined
      ? {}
      : { requestsMetric: { loadBalancerFullName: ALB_FULL_NAME, targetGroupFullName: targetGroupFullName(name), region: REGION } }),
  };
}

/** The tier2 shape: seed numbers (000, 001, 002, 003, 004). */
function tier2Spec(): PlatformChartsProps {
  const services: PlatformServiceProps[] = [
    service(
      'tracking-server',
      {
        minReplicas: 3,
        maxReplicas: 50,
        cpuTargetPercent: 70,
        requestsPerSecondPerPod: 10_000,
        scaleUp: TRACKING_UP,
        scaleDown: TEN_PERCENT_DOWN,
      },
      2000,
    ),
    service('registry-api', { minReplicas: 2, maxReplicas: 20, cpuTargetPercent: 70 }),
    service('metadata-service', { minReplicas: 3, maxReplicas: 30, cpuTargetPercent: 70 }),
    service('metaflow-worker', { minReplicas: 5, maxReplicas: 500, cpuTargetPercent: 70 }),
    service(
      'query-api',
      {
        minReplicas: 5,
        maxReplicas: 50,
        cpuTargetPercent: 70,
        requestsPerSecondPerPod: 5000,
        scaleUp: QUERY_UP,
        scaleDown: TEN_PERCENT_DOWN,
      },
      2000,
    ),
    service('collector', { minReplicas: 6, maxReplicas: 40, cpuTargetPercent: 70, requestsPerSecondPerPod: 10_000 }, 2000),
    service(
      'prediction-service',
      {
        minReplicas: 10,
        maxReplicas: 1000,
        cpuTargetPercent: 70,
        requestsPerSecondPerPod: 40_000,
        scaleUp: PREDICTION_UP,
        scaleDown: PREDICTION_DOWN,
      },
      2000,
    ),
    service('evaluation-worker', { minReplicas: 2, maxReplicas: 100, cpuTargetPercent: 70 }),
  ];
  return {
    namespace: NAMESPACE,
    region: REGION,
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    scheduler: {
      name: 'scheduler',
      image: imageUri('scheduler'),
      port: 8080,
      resources: { cpuMillicores: 1000, memoryMiB: 2048 },
      replicas: 3,
      leaseDurationSeconds: 30,
      probe: PROBE,
      serviceAccountName: 'scheduler-sa',
      targetGroupArn: targetGroupArn('scheduler'),
      loadBalancerSecurityGroupId: ALB_SECURITY_GROUP,
      env: { AWS_REGION: REGION },
    },
  };
}

/** tier3: seed 001's most critical prediction tier (min 50, 30 000 rps, 3 min cooldown). */
function tier3Spec(): PlatformChartsProps {
  const spec = tier2Spec();
  const prediction = spec.services['prediction-service'] as PlatformServiceProps;
  return {
    ...spec,
    services: {
      ...spec.services,
      'prediction-service': {
        ...prediction,
        autoscaling: {
          ...prediction.autoscaling,
          minReplicas: 50,
          requestsPerSecondPerPod: 30_000,
          scaleDown: { ...PREDICTION_DOWN, stabilizationWindowSeconds: 180 },
        },
      },
    },
  };
}

type Manifest = Record<string, any>;

function build(spec: PlatformChartsProps = tier2Spec()) {
  return new PlatformCharts(new App(), 'Platform', spec);
}

function manifests(chart: Chart): Manifest[] {
  return chart.toJson() as Manifest[];
}

function find(chart: Chart, kind: string, name: string): Manifest {
  const found = manifests(chart).filter((m) => m.kind === kind && m.metadata.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0] as Manifest;
}

function familyOf(name: string): FamilyName {
  const entry = Object.entries(FAMILY_SERVICES).find(([, names]) => (names as readonly string[]).includes(name));
  return (entry?.[0] ?? 'scheduler') as FamilyName;
}

function container(deployment: Manifest): Manifest {
  return deployment.spec.template.spec.containers[0];
}

const SERVICE_NAMES = Object.values(FAMILY_SERVICES).flat();

describe('PlatformCharts', () => {
  const charts = build();
  const all = [charts.namespace, ...Object.values(charts.families)];
  const of = (name: string) => charts.families[familyOf(name)];

  test('creates the namespace with Pod Security Admission enforcing restricted, and KEDA’s AWS identity', () => {
    expect(manifests(charts.namespace)).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: NAMESPACE,
          labels: { 'app.kubernetes.io/part-of': 'ml-platform', 'pod-security.kubernetes.io/enforce': 'restricted' },
        },
        spec: {},
      },
      {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'TriggerAuthentication',
        metadata: { name: 'keda-operator-aws', namespace: NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'ml-platform' } },
        // The operator's own Pod Identity role reads CloudWatch; `identityOwner: operator` in trigger
        // metadata is deprecated.
        spec: { podIdentity: { provider: 'aws', identityOwner: 'keda' } },
      },
    ]);
  });

  test('groups the services into families, each depending on the namespace chart', () => {
    const deployments = (family: FamilyName) =>
      manifests(charts.families[family])
        .filter((m) => m.kind === 'Deployment')
        .map((m) => m.metadata.name);
    expect(deployments('tracking')).toEqual(['tracking-server', 'registry-api']);
    expect(deployments('pipelines')).toEqual(['metadata-service', 'metaflow-worker']);
    expect(deployments('observability')).toEqual(['query-api', 'collector', 'evaluation-worker']);
    expect(deployments('serving')).toEqual(['prediction-service']);
    expect(deployments('scheduler')).toEqual(['scheduler']);
    for (const chart of Object.values(charts.families)) {
      expect(chart.node.dependencies).toContain(charts.namespace);
    }
  });

  test('puts every object in the platform namespace and passes the Kubernetes schemas', () => {
    for (const chart of Object.values(charts.families)) {
      for (const m of manifests(chart)) expect(m.metadata.namespace, `${m.kind} ${m.metadata.name}`).toBe(NAMESPACE);
    }
    for (const chart of all) assertValidKubernetesObjects(manifests(chart));
  });

  test('labels objects only for selection and ownership', () => {
    for (const chart of Object.values(charts.families)) {
      for (const m of manifests(chart)) {
        expect(Object.keys(m.metadata.labels).sort()).toEqual(['app.kubernetes.io/name', 'app.kubernetes.io/part-of']);
        expect(m.metadata).not.toHaveProperty('annotations');
      }
    }
    const deployment = find(of('collector'), 'Deployment', 'collector');
    expect(deployment.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'collector' } });
    expect(deployment.spec.template.metadata).toEqual({
      labels: { 'app.kubernetes.io/name': 'collector', 'app.kubernetes.io/part-of': 'ml-platform' },
    });
  });

  describe('autoscaling', () => {
    test.each([
      ['registry-api', 2, 20],
      ['metadata-service', 3, 30],
      ['metaflow-worker', 5, 500],
      ['evaluation-worker', 2, 100],
    ])('%s scales on CPU with a native HorizontalPodAutoscaler, %i-%i replicas', (name, min, max) => {
      expect(find(of(name), 'HorizontalPodAutoscaler', name).spec).toEqual({
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: min,
        maxReplicas: max,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      });
      expect(manifests(of(name)).filter((m) => m.kind === 'ScaledObject' && m.metadata.name === name)).toEqual([]);
    });

    test.each([
      ['tracking-server', 3, 50, '600000', { scaleUp: TRACKING_UP, scaleDown: TEN_PERCENT_DOWN }],
      ['query-api', 5, 50, '300000', { scaleUp: QUERY_UP, scaleDown: TEN_PERCENT_DOWN }],
      ['collector', 6, 40, '600000', undefined],
      ['prediction-service', 10, 1000, '2400000', { scaleUp: PREDICTION_UP, scaleDown: PREDICTION_DOWN }],
    ])(
      '%s scales with KEDA on CPU and on ALB requests per pod, %i-%i replicas, %s requests/minute',
      (name, min, max, perMinute, behavior) => {
        const spec = find(of(name), 'ScaledObject', name).spec;
        expect(spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
        expect([spec.minReplicaCount, spec.maxReplicaCount]).toEqual([min, max]);
        expect(spec.advanced).toEqual({ horizontalPodAutoscalerConfig: { name, ...(behavior ? { behavior } : {}) } });
        expect(spec.triggers).toEqual([
          { type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } },
          {
            type: 'aws-cloudwatch',
            metricType: 'Value',
            authenticationRef: { name: 'keda-operator-aws' },
            metadata: {
              namespace: 'AWS/ApplicationELB',
              metricName: 'RequestCountPerTarget',
              dimensionName: 'LoadBalancer;TargetGroup',
              dimensionValue: `${ALB_FULL_NAME};${targetGroupFullName(name)}`,
              metricStat: 'Sum',
              metricStatPeriod: '60',
              targetMetricValue: perMinute,
              awsRegion: REGION,
            },
          },
        ]);
        // KEDA owns the HPA; a second one would fight it.
        expect(manifests(of(name)).filter((m) => m.kind === 'HorizontalPodAutoscaler' && m.metadata.name === name)).toEqual([]);
      },
    );

    test('KEDA trigger metadata values are all strings', () => {
      for (const name of ['tracking-server', 'query-api', 'collector', 'prediction-service']) {
        for (const trigger of find(of(name), 'ScaledObject', name).spec.triggers) {
          for (const value of Object.values(trigger.metadata)) expect(typeof value).toBe('string');
        }
      }
    });

    test('leaves the replica count of every service Deployment to the autoscaler', () => {
      for (const name of SERVICE_NAMES) {
        expect(find(of(name), 'Deployment', name).spec, name).not.toHaveProperty('replicas');
      }
    });
  });

  describe('pods', () => {
    test('probe readiness with the seed health check and liveness with one success', () => {
      for (const name of [...SERVICE_NAMES, 'scheduler']) {
        const c = container(find(of(name), 'Deployment', name));
        const httpGet = { path: '/health', port: 8080, scheme: 'HTTP' };
        expect(c.readinessProbe).toEqual({ httpGet, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 2 });
        expect(c.livenessProbe).toEqual({ httpGet, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 });
        expect(c.startupProbe).toEqual({
          httpGet,
          periodSeconds: 5,
          timeoutSeconds: 2,
          failureThreshold: STARTUP_GRACE_SECONDS / 5,
          successThreshold: 1,
        });
      }
    });

    test('run as a fixed non-root user without privileges, with a writable /tmp only', () => {
      for (const name of [...SERVICE_NAMES, 'scheduler']) {
        const pod = find(of(name), 'Deployment', name).spec.template.spec;
        const c = pod.containers[0];
        expect(c.securityContext).toEqual({
          runAsNonRoot: true,
          runAsUser: RUN_AS_USER,
          runAsGroup: RUN_AS_USER,
          privileged: false,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: RUN_AS_USER, fsGroup: RUN_AS_USER });
        expect(pod.hostNetwork).toBe(false);
        expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
        expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      }
    });

    test('request the given resources, with memory limit = request and CPU limit = 2x request', () => {
      expect(container(find(of('tracking-server'), 'Deployment', 'tracking-server')).resources).toEqual({
        requests: { cpu: '2000m', memory: '4096Mi' },
        limits: { cpu: '4000m', memory: '4096Mi' },
      });
      expect(container(find(of('registry-api'), 'Deployment', 'registry-api')).resources).toEqual({
        requests: { cpu: '1000m', memory: '2048Mi' },
        limits: { cpu: '2000m', memory: '2048Mi' },
      });
    });

    test('run the given image and environment under their own ServiceAccount', () => {
      const spec = tier2Spec().services['query-api'] as PlatformServiceProps;
      const deployment = find(of('query-api'), 'Deployment', 'query-api');
      const c = container(deployment);
      expect(c.image).toBe(spec.image);
      expect(c.ports).toEqual([{ containerPort: 8080 }]);
      expect(c.env).toEqual([
        { name: 'SERVICE_NAME', value: 'query-api' },
        { name: 'AWS_REGION', value: REGION },
      ]);
      expect(deployment.spec.template.spec.serviceAccountName).toBe('query-api-sa');
      expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(false);
      expect(find(of('query-api'), 'ServiceAccount', 'query-api-sa')).toMatchObject({ metadata: { namespace: NAMESPACE } });
    });

    test('services spread over zones and nodes as evenly as possible on the general pool; the scheduler strictly', () => {
      for (const [name, whenUnsatisfiable] of [
        ['prediction-service', 'ScheduleAnyway'],
        ['metaflow-worker', 'ScheduleAnyway'],
        ['scheduler', 'DoNotSchedule'],
      ] as const) {
        const pod = find(of(name), 'Deployment', name).spec.template.spec;
        const labelSelector = { matchLabels: { 'app.kubernetes.io/name': name } };
        expect(pod.topologySpreadConstraints).toEqual([
          { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable, labelSelector },
          { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable, labelSelector },
        ]);
        expect(pod.nodeSelector).toEqual({ 'mlp.platform/pool': 'general' });
      }
    });
  });

  test('exposes each service on a ClusterIP Service, port 80 to the container port', () => {
    for (const name of [...SERVICE_NAMES, 'scheduler']) {
      expect(find(of(name), 'Service', name).spec).toMatchObject({
        type: 'ClusterIP',
        ports: [{ port: 80, targetPort: 8080 }],
        selector: { 'app.kubernetes.io/name': name },
      });
    }
  });

  test('keeps nine tenths of each service through node drains', () => {
    for (const name of SERVICE_NAMES) {
      expect(find(of(name), 'PodDisruptionBudget', name).spec).toEqual({
        maxUnavailable: '10%',
        selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      });
    }
  });

  test('binds the services behind the ALB to their target groups, reachable from the ALB security group only', () => {
    for (const name of [...PUBLIC, 'scheduler']) {
      expect(find(of(name), 'TargetGroupBinding', name).spec).toEqual({
        serviceRef: { name, port: 80 },
        targetGroupARN: targetGroupArn(name),
        targetType: 'ip',
        networking: { ingress: [{ from: [{ securityGroup: { groupID: ALB_SECURITY_GROUP } }], ports: [{ protocol: 'TCP', port: 8080 }] }] },
      });
    }
    for (const name of ['metadata-service', 'metaflow-worker', 'evaluation-worker']) {
      expect(manifests(of(name)).filter((m) => m.kind === 'TargetGroupBinding' && m.metadata.name === name)).toEqual([]);
    }
  });

  describe('scheduler', () => {
    const chart = charts.families.scheduler;
    const deployment = find(chart, 'Deployment', 'scheduler');

    test('runs exactly one leader and two standbys, without an autoscaler', () => {
      expect(deployment.spec.replicas).toBe(3);
      expect(manifests(chart).map((m) => m.kind)).not.toContain('HorizontalPodAutoscaler');
      expect(manifests(chart).map((m) => m.kind)).not.toContain('ScaledObject');
    });

    test('elects its leader through a Lease it may create and renew, and nothing else', () => {
      expect(container(deployment).env).toEqual([
        { name: 'AWS_REGION', value: REGION },
        { name: 'LEASE_NAME', value: 'scheduler-leader' },
        { name: 'LEASE_DURATION_SECONDS', value: '30' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ]);
      expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(true);
      const role = find(chart, 'Role', 'scheduler-leader-election');
      expect(role.rules).toEqual([
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'list', 'watch'] },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: ['scheduler-leader'],
          verbs: ['get', 'update', 'patch'],
        },
      ]);
      expect(role.rules.flatMap((r: Manifest) => r.verbs).sort()).toEqual(['create', 'get', 'list', 'patch', 'update', 'watch']);
      expect(find(chart, 'RoleBinding', 'scheduler-leader-election')).toMatchObject({
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'scheduler-leader-election' },
        subjects: [{ kind: 'ServiceAccount', name: 'scheduler-sa', namespace: NAMESPACE }],
      });
    });

    test('lets a drain evict only one elector at a time', () => {
      expect(find(chart, 'PodDisruptionBudget', 'scheduler').spec).toEqual({
        minAvailable: 2,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'scheduler' } },
      });
    });
  });

  test('keeps every chart under 64 KB for the tier3 shape', () => {
    const tier3 = build(tier3Spec());
    expect(find(tier3.families.serving, 'ScaledObject', 'prediction-service').spec).toMatchObject({
      minReplicaCount: 50,
      maxReplicaCount: 1000,
    });
    for (const chart of [tier3.namespace, ...Object.values(tier3.families)]) {
      expect(JSON.stringify(chart.toJson()).length, chart.node.id).toBeLessThan(64 * 1024);
    }
  });
});

describe('PlatformCharts rejects invalid specs', () => {
  type Mutation = (spec: PlatformChartsProps) => PlatformChartsProps;
  const withService =
    (name: string, change: (s: PlatformServiceProps) => PlatformServiceProps): Mutation =>
    (spec) => ({ ...spec, services: { ...spec.services, [name]: change(spec.services[name] as PlatformServiceProps) } });
  const withAutoscaling = (name: string, change: Partial<PlatformServiceProps['autoscaling']>): Mutation =>
    withService(name, (s) => ({ ...s, autoscaling: { ...s.autoscaling, ...change } }));
  const withoutService =
    (name: string): Mutation =>
    (spec) => ({ ...spec, services: Object.fromEntries(Object.entries(spec.services).filter(([key]) => key !== name)) });

  test.each<[string, Mutation, string]>([
    ['a missing service', withoutService('collector'), "platform-observability: service 'collector' is missing from spec.services"],
    [
      'a service no family runs',
      (spec) => ({
        ...spec,
        services: { ...spec.services, 'feature-api': service('feature-api', { minReplicas: 1, maxReplicas: 2, cpuTargetPercent: 70 }) },
      }),
      "spec.services has 'feature-api', which no family runs",
    ],
    [
      'minReplicas below 1',
      withAutoscaling('registry-api', { minReplicas: 0 }),
      'autoscaling.minReplicas must be an integer of at least 1, got 0',
    ],
    [
      'minReplicas above maxReplicas',
      withAutoscaling('registry-api', { minReplicas: 21 }),
      'autoscaling.minReplicas (21) must not exceed autoscaling.maxReplicas (20)',
    ],
    [
      'a CPU target of 0 %',
      withAutoscaling('registry-api', { cpuTargetPercent: 0 }),
      'autoscaling.cpuTargetPercent must be an integer from 1 to 100, got 0',
    ],
    [
      'a CPU target above 100 %',
      withAutoscaling('registry-api', { cpuTargetPercent: 101 }),
      'autoscaling.cpuTargetPercent must be an integer from 1 to 100, got 101',
    ],
    [
      'a scaling policy without a positive value',
      withAutoscaling('query-api', {
        scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: 'Pods', value: 0, periodSeconds: 60 }] },
      }),
      'autoscaling.scaleUp.policies[0].value must be an integer of at least 1, got 0',
    ],
    [
      'a scaling period above 30 minutes',
      withAutoscaling('query-api', {
        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 10, periodSeconds: 1801 }] },
      }),
      'autoscaling.scaleDown.policies[0].periodSeconds must be an integer from 1 to 1800, got 1801',
    ],
    [
      'a scaling period of 0',
      withAutoscaling('query-api', {
        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 10, periodSeconds: 0 }] },
      }),
      'autoscaling.scaleDown.policies[0].periodSeconds must be an integer from 1 to 1800, got 0',
    ],
    [
      'a stabilisation window above an hour',
      withAutoscaling('query-api', { scaleDown: { ...TEN_PERCENT_DOWN, stabilizationWindowSeconds: 3601 } }),
      'autoscaling.scaleDown.stabilizationWindowSeconds must be an integer from 0 to 3600, got 3601',
    ],
    [
      'a negative stabilisation window',
      withAutoscaling('query-api', { scaleUp: { ...QUERY_UP, stabilizationWindowSeconds: -1 } }),
      'autoscaling.scaleUp.stabilizationWindowSeconds must be an integer from 0 to 3600, got -1',
    ],
    [
      'scaling rules without a policy',
      withAutoscaling('query-api', { scaleUp: { stabilizationWindowSeconds: 60, policies: [] } }),
      'autoscaling.scaleUp.policies must hold at least one policy',
    ],
    [
      'a request rate target without its metric',
      withService('collector', ({ requestsMetric: _, ...s }) => s),
      'collector scales on requestsPerSecondPerPod but has no requestsMetric',
    ],
    [
      'a service keyed under another name',
      withService('registry-api', (s) => ({ ...s, name: 'registry' })),
      "spec.services['registry-api'] is named 'registry'; the key and the name must match",
    ],
    [
      'port 0',
      withService('registry-api', (s) => ({ ...s, port: 0 })),
      'platform-tracking/registry-api/Workload: port must be an integer from 1 to 65535, got 0',
    ],
    ['port 65536', withService('registry-api', (s) => ({ ...s, port: 65536 })), 'port must be an integer from 1 to 65535, got 65536'],
    [
      'a target group without the load balancer security group',
      withService('registry-api', ({ loadBalancerSecurityGroupId: _, ...s }) => s),
      'registry-api has a targetGroupArn but no loadBalancerSecurityGroupId',
    ],
    [
      'a request metric in another region',
      withService('collector', (s) => ({ ...s, requestsMetric: { ...(s.requestsMetric as any), region: 'us-west-2' } })),
      'collector reads its request metric in us-west-2, but the platform is in us-east-1',
    ],
    ['a namespace that is not a DNS label', (spec) => ({ ...spec, namespace: 'ML.Platform' }), 'namespace must be a DNS-1123 label'],
    [
      'a scheduler without replicas',
      (spec) => ({ ...spec, scheduler: { ...spec.scheduler, replicas: 0 } }),
      'replicas must be an integer of at least 1, got 0',
    ],
    [
      'a scheduler lease of 0 seconds',
      (spec) => ({ ...spec, scheduler: { ...spec.scheduler, leaseDurationSeconds: 0 } }),
      'leaseDurationSeconds must be an integer of at least 1, got 0',
    ],
  ])('%s', (_, mutate, message) => {
    expect(() => build(mutate(tier2Spec()))).toThrow(message);
  });

  test('a service name that is not a DNS label', () => {
    const chart = new Chart(new App(), 'Test', { namespace: NAMESPACE });
    const spec = { ...(tier2Spec().services['registry-api'] as PlatformServiceProps), name: 'Registry_API' };
    expect(() => new PlatformService(chart, 'Registry', spec)).toThrow(
      "Test/Registry/Workload: name must be a DNS-1123 label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit), got 'Registry_API'",
    );
  });
});

describe('secret mounts', () => {
  const CLICKHOUSE_CLIENT: SecretMount = { secretName: 'query-api-clickhouse-client', mountPath: '/etc/clickhouse/client' };
  const KAFKA_CLIENT: SecretMount = { secretName: 'query-api.kafka-client', mountPath: '/etc/kafka/client' };
  const withMounts = (name: string, secretMounts: readonly SecretMount[], spec = tier2Spec()): PlatformChartsProps => ({
    ...spec,
    services: { ...spec.services, [name]: { ...(spec.services[name] as PlatformServiceProps), secretMounts } },
  });
  const podOf = (spec: PlatformChartsProps, name: string) =>
    find(build(spec).families[familyOf(name)], 'Deployment', name).spec.template.spec as Manifest;

  test('mount each Secret read-only at its path, files readable by owner and group only', () => {
    const charts = build(withMounts('query-api', [CLICKHOUSE_CLIENT, KAFKA_CLIENT]));
    const deployment = find(charts.families.observability, 'Deployment', 'query-api');
    const pod = deployment.spec.template.spec;
    expect(SECRET_FILE_MODE).toBe(0o440);
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'secret-query-api-clickhouse-client', secret: { secretName: 'query-api-clickhouse-client', defaultMode: 288 } },
      // A dotted Secret name is not a volume name: dots become dashes, and a hash keeps it unique.
      {
        name: expect.stringMatching(/^secret-query-api-kafka-client-[0-9a-f]{8}$/),
        secret: { secretName: 'query-api.kafka-client', defaultMode: 288 },
      },
    ]);
    expect(container(deployment).volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'secret-query-api-clickhouse-client', mountPath: '/etc/clickhouse/client', readOnly: true },
      { name: pod.volumes[2].name, mountPath: '/etc/kafka/client', readOnly: true },
    ]);
  });

  test('give the pod the containers’ group as fsGroup, so they can read the 0440 files', () => {
    expect(podOf(withMounts('query-api', [CLICKHOUSE_CLIENT]), 'query-api').securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      fsGroupChangePolicy: 'Always',
    });
  });

  test('leave the other services with /tmp only', () => {
    const charts = build(withMounts('query-api', [CLICKHOUSE_CLIENT]));
    for (const name of ['collector', 'evaluation-worker']) {
      const pod = find(charts.families.observability, 'Deployment', name).spec.template.spec;
      expect(pod.volumes, name).toEqual([{ name: 'tmp', emptyDir: {} }]);
      expect(pod.containers[0].volumeMounts, name).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    }
  });

  test('pass the Kubernetes schemas', () => {
    const charts = build(withMounts('query-api', [CLICKHOUSE_CLIENT, KAFKA_CLIENT]));
    const deployment = find(charts.families.observability, 'Deployment', 'query-api');
    expect(validateKubernetesObject(deployment)).toEqual([]);
    assertValidKubernetesObjects(manifests(charts.families.observability));
  });

  test('keep volume names deterministic DNS-1123 labels, also for long and token Secret names', () => {
    const long = { secretName: `${'a'.repeat(60)}.${'b'.repeat(60)}`, mountPath: '/etc/long' };
    const fromToken = { secretName: Token.asString({ Ref: 'ClientSecretName' }), mountPath: '/etc/token' };
    const volumes = (spec: PlatformChartsProps) =>
      (podOf(spec, 'query-api').volumes as Manifest[]).slice(1).map((v) => [v.name, v.secret.secretName]);
    const first = volumes(withMounts('query-api', [long, fromToken]));
    expect(first).toEqual([
      [expect.stringMatching(/^secret-a{47}-[0-9a-f]{8}$/), long.secretName],
      [expect.stringMatching(/^secret-[0-9a-f]{8}$/), fromToken.secretName],
    ]);
    for (const [name] of first) expect((name as string).length).toBeLessThanOrEqual(63);
    expect(volumes(withMounts('query-api', [long, fromToken]))).toEqual(first);
  });

  test.each<[string, readonly SecretMount[], string]>([
    [
      'a Secret name that is not a DNS-1123 subdomain',
      [{ secretName: 'Query_API_Client', mountPath: '/etc/client' }],
      "platform-observability/query-api/Workload: query-api secretMounts[0].secretName must be a DNS-1123 subdomain, got 'Query_API_Client'",
    ],
    [
      'a relative mount path',
      [{ ...CLICKHOUSE_CLIENT, mountPath: 'etc/client' }],
      "query-api secretMounts[0].mountPath must be an absolute, normalized directory (starting with '/', without '.', '..', '//', ':' or a trailing '/'), got 'etc/client'",
    ],
    [
      'a mount path with ..',
      [{ ...CLICKHOUSE_CLIENT, mountPath: '/etc/../client' }],
      "query-api secretMounts[0].mountPath must be an absolute, normalized directory (starting with '/', without '.', '..', '//', ':' or a trailing '/'), got '/etc/../client'",
    ],
    [
      'a mount path with .',
      [{ ...CLICKHOUSE_CLIENT, mountPath: '/etc/./client' }],
      "query-api secretMounts[0].mountPath must be an absolute, normalized directory (starting with '/', without '.', '..', '//', ':' or a trailing '/'), got '/etc/./client'",
    ],
    [
      'a mount path with //',
      [{ ...CLICKHOUSE_CLIENT, mountPath: '/etc//client' }],
      "query-api secretMounts[0].mountPath must be an absolute, normalized directory (starting with '/', without '.', '..', '//', ':' or a trailing '/'), got '/etc//client'",
    ],
    [
      'a mount path with a trailing /',
      [{ ...CLICKHOUSE_CLIENT, mountPath: '/etc/client/' }],
      "query-api secretMounts[0].mountPath must be an absolute, normalized directory (starting with '/', without '.', '..', '//', ':' or a trailing '/'), got '/etc/client/'",
    ],
    [
      'a mount path with :',
      [{ ...CLICKHOUSE_CLIENT, mountPath: '/etc/client:ro' }],
      "query-api secretMounts[0].mountPath must be an absolute, normalized directory (starting with '/', without '.', '..', '//', ':' or a trailing '/'), got '/etc/client:ro'",
    ],
    [
      'a token mount path',
      [{ ...CLICKHOUSE_CLIENT, mountPath: Token.asString({ Ref: 'MountPath' }) }],
      'query-api secretMounts[0].mountPath must be a literal path, not a token',
    ],
    [
      'the root directory',
      [{ ...CLICKHOUSE_CLIENT, mountPath: '/' }],
      "query-api secretMounts[0].mountPath must not be '/', which would hide the container's whole file system",
    ],
    [
      '/tmp',
      [{ ...CLICKHOUSE_CLIENT, mountPath: '/tmp' }],
      "query-api secretMounts[0].mountPath must not be /tmp or inside it (the writable scratch directory is mounted there), got '/tmp'",
    ],
    [
      'a directory inside /tmp',
      [{ ...CLICKHOUSE_CLIENT, mountPath: '/tmp/client' }],
      "query-api secretMounts[0].mountPath must not be /tmp or inside it (the writable scratch directory is mounted there), got '/tmp/client'",
    ],
    [
      'two mounts at one path',
      [CLICKHOUSE_CLIENT, { ...KAFKA_CLIENT, mountPath: CLICKHOUSE_CLIENT.mountPath }],
      "query-api secretMounts[1].mountPath '/etc/clickhouse/client' is already used by secretMounts[0]; each Secret needs its own directory",
    ],
    [
      'a mount inside another',
      [CLICKHOUSE_CLIENT, { ...KAFKA_CLIENT, mountPath: '/etc/clickhouse' }],
      "query-api secretMounts[0].mountPath '/etc/clickhouse/client' and secretMounts[1].mountPath '/etc/clickhouse' nest; secret mounts must be separate directories",
    ],
    [
      'one Secret mounted twice',
      [CLICKHOUSE_CLIENT, { ...CLICKHOUSE_CLIENT, mountPath: '/etc/other' }],
      "query-api secretMounts[1].secretName 'query-api-clickhouse-client' is already mounted by secretMounts[0]; mount each Secret once",
    ],
  ])('reject %s', (_, mounts, message) => {
    expect(() => build(withMounts('query-api', mounts))).toThrow(message);
  });

  test('accept a token Secret name and a path that merely starts like /tmp', () => {
    const mounts = [
      { secretName: Token.asString({ Ref: 'ClientSecretName' }), mountPath: '/tmpfs-client' },
      { secretName: 'query-api-clickhouse-client', mountPath: '/etc/clickhouse-client' },
      { secretName: 'query-api-kafka-client', mountPath: '/etc/clickhouse-client-2' },
    ];
    expect(() => build(withMounts('query-api', mounts))).not.toThrow();
  });
});
