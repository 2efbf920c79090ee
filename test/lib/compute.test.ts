import { describe, expect, test } from 'vitest';
import { resolvePlatformConfig, type ServiceName } from '../../lib/config';
import { LayoutAssembly } from '../support/assembly';
import { manifestObjectsIn, TOKEN_PLACEHOLDER } from '../support/k8s-manifests';
import { validateKubernetesObject } from '../support/k8s-schema';
import { LAYOUTS, layoutContext } from '../support/layouts';

type K8sObject = Record<string, any>;

/** CloudFormation's limit on a custom resource's properties, which carry the inlined manifest. */
const CUSTOM_RESOURCE_PAYLOAD_LIMIT = 256 * 1024;

describe.each(LAYOUTS)('compute of layout $id', (layout) => {
  const assembly = LayoutAssembly.of(layout.id);
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const tier = config.tier;
  const compute = (code: string) => `Mlp-${tier.name}-${code}-compute`;

  test.each(config.regions.map((r) => [r.name, r.code]))(
    'every Kubernetes object deployed in %s passes schema validation',
    (_name, code) => {
      const objects = manifestObjectsIn(assembly.template(compute(code)));
      expect(objects.length).toBeGreaterThan(20);
      const errors = objects.flatMap(({ logicalId, object }) =>
        validateKubernetesObject(object).map(
          (e) => `${logicalId} ${String(object.kind)}/${String((object.metadata as { name?: string } | undefined)?.name)}: ${e}`,
        ),
      );
      expect(errors).toEqual([]);
    },
  );

  test('every manifest stays well below the custom resource payload limit (at most 60 % of it)', () => {
    for (const region of config.regions) {
      for (const resource of Object.values(assembly.template(compute(region.code)).Resources)) {
        if (resource.Type !== 'Custom::AWSCDK-EKS-KubernetesResource') continue;
        expect(JSON.stringify(resource.Properties).length).toBeLessThan(CUSTOM_RESOURCE_PAYLOAD_LIMIT * 0.6);
      }
    }
  });

  describe('autoscaling matches the tier preset', () => {
    const primary = config.regions[0];
    if (!primary) throw new Error('no primary');
    const objects = manifestObjectsIn(assembly.template(compute(primary.code))).map((o) => o.object as K8sObject);
    const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

    test.each(Object.entries(tier.workloads.services) as [ServiceName, (typeof tier.workloads.services)[ServiceName]][])(
      '%s',
      (name, spec) => {
        const deployment = find('Deployment', name);
        expect(deployment?.spec.replicas).toBeUndefined();
        if (spec.requestsPerSecondPerPod === undefined) {
          const hpa = find('HorizontalPodAutoscaler', name);
          expect(hpa?.spec).toMatchObject({
            minReplicas: spec.minReplicas,
            maxReplicas: spec.maxReplicas,
            scaleTargetRef: { kind: 'Deployment', name },
            metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { averageUtilization: spec.cpuTargetPercent } } }],
          });
        } else {
          const scaled = find('ScaledObject', name);
          expect(scaled?.spec).toMatchObject({
            minReplicaCount: spec.minReplicas,
            maxReplicaCount: spec.maxReplicas,
            scaleTargetRef: { name },
          });
          const triggers = scaled?.spec.triggers as K8sObject[];
          expect(triggers.find((t) => t.type === 'cpu')?.metadata.value).toBe(String(spec.cpuTargetPercent));
          expect(triggers.find((t) => t.type === 'aws-cloudwatch')?.metadata).toMatchObject({
            metricName: 'RequestCountPerTarget',
            targetMetricValue: String(spec.requestsPerSecondPerPod * 60),
            dimensionValue: `${TOKEN_PLACEHOLDER};${TOKEN_PLACEHOLDER}`,
            awsRegion: primary.name,
          });
          const behavior = scaled?.spec.advanced.horizontalPodAutoscalerConfig.behavior;
          if (spec.scaleUp) expect(behavior.scaleUp).toEqual(spec.scaleUp);
          if (spec.scaleDown) expect(behavior.scaleDown).toEqual(spec.scaleDown);
        }
      },
    );

    test('the scheduler runs a leader and its standbys, electing through a Lease', () => {
      expect(find('Deployment', 'scheduler')?.spec.replicas).toBe(tier.workloads.scheduler.replicas);
      const role = objects.find((o) => o.kind === 'Role');
      expect(JSON.stringify(role?.rules)).toContain('leases');
    });

    test('routed services are bound to their load balancer target groups', () => {
      const bindings = objects.filter((o) => o.kind === 'TargetGroupBinding').map((o) => o.spec.serviceRef.name);
      expect(bindings.sort()).toEqual(
        ['collector', 'metadata-service', 'prediction-service', 'query-api', 'registry-api', 'scheduler', 'tracking-server'].sort(),
      );
    });
  });
});

describe('a broken manifest in a template is caught', () => {
  test('a Deployment with a string replica count fails validation', () => {
    const assembly = LayoutAssembly.of('dev');
    const objects = manifestObjectsIn(assembly.template('Mlp-dev-use1-compute')).map((o) => o.object as K8sObject);
    const scheduler = structuredClone(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'scheduler'));
    expect(validateKubernetesObject(scheduler)).toEqual([]);
    (scheduler as K8sObject).spec.replicas = 'three';
    expect(validateKubernetesObject(scheduler).join('\n')).toMatch(/replicas/);
  });
});

describe.each(LAYOUTS)('Batch of layout $id', (layout) => {
  const assembly = LayoutAssembly.of(layout.id);
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const batch = config.tier.batch;

  test.each(config.regions.map((r) => [r.name, r.code]))('%s runs the tier’s environments and queues', (_name, code) => {
    const stack = `Mlp-${config.tier.name}-${code}-compute`;
    const environments = Object.entries(assembly.resourcesOfType(stack, 'AWS::Batch::ComputeEnvironment')).map(
      ([id, r]) => [id, r.Properties?.ComputeResources as Record<string, any>] as const,
    );
    const byType = (type: string, strategy: string) =>
      environments
        .filter(([, c]) => c.Type === type && c.AllocationStrategy === strategy)
        .map(([id, c]) => ({ ...c, id }) as Record<string, any>);
    const [cpu] = byType('EC2', 'BEST_FIT_PROGRESSIVE').filter((c) => c.InstanceTypes.includes('c6i.xlarge'));
    const [gpu] = byType('EC2', 'BEST_FIT_PROGRESSIVE').filter((c) => !c.InstanceTypes.includes('c6i.xlarge'));
    const [spot] = byType('SPOT', 'SPOT_PRICE_CAPACITY_OPTIMIZED');
    expect(cpu).toMatchObject({ MinvCpus: 0, MaxvCpus: batch.cpuMaxVcpus, InstanceTypes: [...batch.cpuInstanceTypes] });
    expect(gpu).toMatchObject({
      MinvCpus: 0,
      MaxvCpus: batch.gpuMaxVcpus,
      InstanceTypes: [...batch.gpuInstanceTypes],
      Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
    });
    expect(spot).toMatchObject({ MinvCpus: 0, MaxvCpus: batch.spotMaxVcpus });

    const keyOf: Record<string, string | undefined> = { cpu: cpu?.id, gpu: gpu?.id, spot: spot?.id };
    const queues = Object.values(assembly.resourcesOfType(stack, 'AWS::Batch::JobQueue')).map((q) => q.Properties ?? {});
    expect(queues).toHaveLength(batch.queues.length);
    for (const spec of batch.queues) {
      const queue = queues.find((q) => q.JobQueueName === `mlp-${config.tier.name}-${spec.name}`);
      expect(queue?.Priority, spec.name).toBe(spec.priority);
      const order = (queue?.ComputeEnvironmentOrder as { ComputeEnvironment: { 'Fn::GetAtt': string[] } }[]) ?? [];
      expect(
        order.map((o) => o.ComputeEnvironment['Fn::GetAtt'][0]),
        spec.name,
      ).toEqual(spec.computeEnvironments.map((k) => keyOf[k]));
    }
    const high = queues.find((q) => q.JobQueueName === `mlp-${config.tier.name}-priority-high`);
    expect(JSON.stringify(high)).not.toContain(spot?.id);
  });
});
