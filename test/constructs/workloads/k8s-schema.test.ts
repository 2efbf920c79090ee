import { Token } from 'aws-cdk-lib';
import { App, Chart } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { LeaderElectedScheduler, PlatformService, type PlatformServiceProps } from '../../../constructs/workloads';
import { assertValidKubernetesObjects, validateKubernetesObject } from '../../support/k8s-schema';

const PROBE = { path: '/health', periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 2 };
const RESOURCES = { cpuMillicores: 500, memoryMiB: 1024 };
const SERVICE: PlatformServiceProps = {
  name: 'query-api',
  image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/query-api:1.0.0',
  port: 8080,
  resources: RESOURCES,
  autoscaling: { minReplicas: 2, maxReplicas: 10, cpuTargetPercent: 70, requestsPerSecondPerPod: 100 },
  probe: PROBE,
  serviceAccountName: 'query-api',
  targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/query-api/0123456789abcdef',
  loadBalancerSecurityGroupId: 'sg-0123456789abcdef0',
  requestsMetric: { loadBalancerFullName: 'app/platform/0123', targetGroupFullName: 'targetgroup/query-api/4567', region: 'us-east-1' },
};

/** One of each kind the charts emit. */
function manifests(): Record<string, any>[] {
  const chart = new Chart(new App(), 'Test', { namespace: 'ml-platform' });
  new PlatformService(chart, 'QueryApi', SERVICE);
  new PlatformService(chart, 'Worker', {
    ...SERVICE,
    name: 'worker',
    serviceAccountName: 'worker',
    autoscaling: { minReplicas: 2, maxReplicas: 10, cpuTargetPercent: 70 },
    targetGroupArn: undefined,
  });
  new LeaderElectedScheduler(chart, 'Scheduler', {
    name: 'scheduler',
    image: 'scheduler:1.0.0',
    port: 8080,
    resources: RESOURCES,
    replicas: 3,
    leaseDurationSeconds: 30,
    probe: PROBE,
    serviceAccountName: 'scheduler',
  });
  return chart.toJson();
}

function one(kind: string): Record<string, any> {
  const found = manifests().find((m) => m.kind === kind);
  if (found === undefined) throw new Error(`no ${kind}`);
  return structuredClone(found);
}

describe('validateKubernetesObject', () => {
  test('accepts every kind the workload charts emit', () => {
    const all = manifests();
    expect(new Set(all.map((m) => `${m.apiVersion} ${m.kind}`))).toEqual(
      new Set([
        'v1 ServiceAccount',
        'apps/v1 Deployment',
        'v1 Service',
        'policy/v1 PodDisruptionBudget',
        'autoscaling/v2 HorizontalPodAutoscaler',
        'keda.sh/v1alpha1 ScaledObject',
        'elbv2.k8s.aws/v1beta1 TargetGroupBinding',
        'rbac.authorization.k8s.io/v1 Role',
        'rbac.authorization.k8s.io/v1 RoleBinding',
      ]),
    );
    for (const m of all) expect(validateKubernetesObject(m), `${m.kind} ${m.metadata.name}`).toEqual([]);
    expect(() => assertValidKubernetesObjects(all)).not.toThrow();
  });

  test('accepts token strings where a value is opaque', () => {
    const binding = one('TargetGroupBinding');
    binding.spec.targetGroupARN = Token.asString({ Ref: 'TargetGroup' });
    binding.spec.networking.ingress[0].from[0].securityGroup.groupID = Token.asString({ 'Fn::GetAtt': ['Alb', 'GroupId'] });
    expect(validateKubernetesObject(binding)).toEqual([]);
  });

  test.each<[string, () => unknown, string]>([
    [
      'a Deployment whose replicas is a string',
      () => {
        const d = one('Deployment');
        d.spec.replicas = '3';
        return d;
      },
      'data/spec/replicas must be integer',
    ],
    [
      'an HPA without scaleTargetRef',
      () => {
        const hpa = one('HorizontalPodAutoscaler');
        delete hpa.spec.scaleTargetRef;
        return hpa;
      },
      'data/spec must have required property scaleTargetRef',
    ],
    [
      'a ScaledObject without scaleTargetRef',
      () => {
        const so = one('ScaledObject');
        delete so.spec.scaleTargetRef;
        return so;
      },
      'data/spec must have required property scaleTargetRef',
    ],
    [
      'KEDA trigger metadata that is not a string',
      () => {
        const so = one('ScaledObject');
        so.spec.triggers[0].metadata.value = 70;
        return so;
      },
      'data/spec/triggers/0/metadata/value must be string',
    ],
    [
      'a TargetGroupBinding with targetType pod',
      () => {
        const tgb = one('TargetGroupBinding');
        tgb.spec.targetType = 'pod';
        return tgb;
      },
      'data/spec/targetType must be equal to one of the allowed values',
    ],
    [
      'a TargetGroupBinding without targetGroupARN',
      () => {
        const tgb = one('TargetGroupBinding');
        delete tgb.spec.targetGroupARN;
        return tgb;
      },
      "data/spec must have required property 'targetGroupARN'",
    ],
    [
      'a TargetGroupBinding without a service port',
      () => {
        const tgb = one('TargetGroupBinding');
        delete tgb.spec.serviceRef.port;
        return tgb;
      },
      "data/spec/serviceRef must have required property 'port'",
    ],
    [
      'a TargetGroupBinding port with a protocol other than TCP or UDP',
      () => {
        const tgb = one('TargetGroupBinding');
        tgb.spec.networking.ingress[0].ports[0].protocol = 'HTTP';
        return tgb;
      },
      'data/spec/networking/ingress/0/ports/0/protocol must be equal to one of the allowed values',
    ],
    [
      'a TargetGroupBinding with a misspelt field',
      () => {
        const tgb = one('TargetGroupBinding');
        tgb.spec.targetGroupArn = tgb.spec.targetGroupARN;
        return tgb;
      },
      'data/spec must NOT have additional properties',
    ],
    [
      'a Role rule without verbs',
      () => {
        const role = one('Role');
        delete role.rules[0].verbs;
        return role;
      },
      'data/rules/0 must have required property verbs',
    ],
    [
      'an unknown kind',
      () => ({ apiVersion: 'apps/v1', kind: 'Deployments', metadata: { name: 'x' } }),
      'no schema for apps/v1 Deployments',
    ],
    [
      'an unknown apiVersion',
      () => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' }, spec: {} }),
      'no schema for example.com/v1 Widget',
    ],
    [
      'an object without a name',
      () => {
        const sa = one('ServiceAccount');
        delete sa.metadata.name;
        return sa;
      },
      'metadata.name is required',
    ],
    ['something that is not an object', () => ['Deployment'], 'not an object'],
    ['an object without apiVersion', () => ({ kind: 'Deployment', metadata: { name: 'x' } }), 'apiVersion and kind must be strings'],
  ])('rejects %s', (_, broken, message) => {
    const obj = broken();
    expect(validateKubernetesObject(obj).join('\n')).toContain(message);
    expect(() => assertValidKubernetesObjects([...manifests(), obj])).toThrow(message);
  });
});
