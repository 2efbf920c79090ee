import { describe, expect, test } from 'vitest';
import { INSTANCE_SIZES, nodePoolPlans, SUPPORTED_REGIONS, TIER_PRESETS } from '../../lib/config';
import { LayoutAssembly } from '../support/assembly';
import { manifestObjectsIn } from '../support/k8s-manifests';
import { LAYOUTS } from '../support/layouts';

interface KeyPolicyStatement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Whether an action pattern of a policy (`kms:*`, `kms:Create*`, ...) matches `action`. */
function matches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
  return regex.test(action);
}

function allowsCreateGrant(statement: KeyPolicyStatement): boolean {
  if (statement.Effect !== 'Allow') return false;
  if (statement.NotAction !== undefined) return !list(statement.NotAction).some((p) => matches(p, 'kms:CreateGrant'));
  return list(statement.Action).some((p) => matches(p, 'kms:CreateGrant'));
}

function limitedToAwsResources(statement: KeyPolicyStatement): boolean {
  const value = statement.Condition?.Bool?.['kms:GrantIsForAWSResource'];
  return value === true || value === 'true';
}

interface KubernetesObject {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

describe.each(LAYOUTS)('hardening: $id', ({ id, tier }) => {
  const assembly = LayoutAssembly.of(id);
  const resources = (type: string) =>
    assembly.stackNames.flatMap((stack) =>
      Object.entries(assembly.resourcesOfType(stack, type)).map(([logicalId, resource]) => ({ at: `${stack}/${logicalId}`, resource })),
    );

  test('every log group is encrypted with a KMS key and has a retention', () => {
    const logGroups = resources('AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThan(0);
    const unencrypted = logGroups.filter(({ resource }) => resource.Properties?.KmsKeyId === undefined).map(({ at }) => at);
    const unlimited = logGroups.filter(({ resource }) => resource.Properties?.RetentionInDays === undefined).map(({ at }) => at);
    expect(unencrypted).toEqual([]);
    expect(unlimited).toEqual([]);
  });

  test('every load balancer is associated with a web ACL', () => {
    const unprotected = assembly.stackNames.flatMap((stack) => {
      const associated = new Set(
        Object.values(assembly.resourcesOfType(stack, 'AWS::WAFv2::WebACLAssociation')).map(
          (association) => (association.Properties?.ResourceArn as { Ref?: string } | undefined)?.Ref,
        ),
      );
      return Object.keys(assembly.resourcesOfType(stack, 'AWS::ElasticLoadBalancingV2::LoadBalancer'))
        .filter((logicalId) => !associated.has(logicalId))
        .map((logicalId) => `${stack}/${logicalId}`);
    });
    expect(unprotected).toEqual([]);
  });

  test('no launch template lets a pod reach the instance metadata service (IMDSv2, hop limit 1)', () => {
    const templates = resources('AWS::EC2::LaunchTemplate');
    const open = templates
      .filter(({ resource }) => {
        const options = (resource.Properties?.LaunchTemplateData as { MetadataOptions?: Record<string, unknown> } | undefined)
          ?.MetadataOptions;
        return options?.HttpTokens !== 'required' || ((options.HttpPutResponseHopLimit as number | undefined) ?? 1) > 1;
      })
      .map(({ at }) => at);
    expect(open).toEqual([]);
  });

  test('ClickHouse Keeper runs on the general pool, the servers on the memory pool', () => {
    const computeStacks = assembly.stackNames.filter((name) => name.endsWith('-compute'));
    expect(computeStacks.length).toBeGreaterThan(0);
    for (const stack of computeStacks) {
      const statefulSets = manifestObjectsIn(assembly.template(stack))
        .map(
          ({ object }) => object as { kind: string; metadata: { name: string }; spec: { template: { spec: { nodeSelector?: unknown } } } },
        )
        .filter((object) => object.kind === 'StatefulSet');
      const poolOf = (name: string) => statefulSets.find((s) => s.metadata.name === name)?.spec.template.spec.nodeSelector;
      expect(poolOf('clickhouse-keeper'), stack).toEqual({ 'mlp.platform/pool': 'general' });
      const servers = statefulSets.filter((s) => s.metadata.name.startsWith('clickhouse') && s.metadata.name !== 'clickhouse-keeper');
      expect(servers.length, stack).toBeGreaterThan(0);
      for (const server of servers) expect(server.spec.template.spec.nodeSelector, stack).toEqual({ 'mlp.platform/pool': 'memory' });
    }
  });

  test('every pool has a Karpenter NodePool whose limits are those the tier preset gives, on IMDSv2 with hop limit 1', () => {
    for (const stack of assembly.stackNames.filter((name) => name.endsWith('-compute'))) {
      const objects = manifestObjectsIn(assembly.template(stack)).map(({ object }) => object as unknown as KubernetesObject);
      const region = SUPPORTED_REGIONS.find((r) => stack.includes(`-${r.code}-`));
      expect(region, stack).toBeDefined();
      const expected = nodePoolPlans(TIER_PRESETS[tier], region?.availabilityZones ?? []);
      const nodePools = objects.filter((o) => o.kind === 'NodePool');
      expect(nodePools.map((p) => p.metadata.name).sort(), stack).toEqual(expected.map((p) => p.name).sort());
      for (const plan of expected) {
        const pool = nodePools.find((p) => p.metadata.name === plan.name);
        expect(pool?.spec.limits, `${stack} ${plan.name}`).toEqual({ cpu: String(plan.limits.cpu), memory: `${plan.limits.memoryGiB}Gi` });
        const template = pool?.spec.template as { metadata: { labels: Record<string, string> } };
        expect(template.metadata.labels, `${stack} ${plan.name}`).toEqual({ 'mlp.platform/pool': plan.pool });
      }
      const nodeClasses = objects.filter((o) => o.kind === 'EC2NodeClass');
      expect(nodeClasses.length, stack).toBeGreaterThan(0);
      for (const nodeClass of nodeClasses) {
        expect(nodeClass.spec.metadataOptions, stack).toMatchObject({ httpTokens: 'required', httpPutResponseHopLimit: 1 });
      }
    }
  });

  test('the general pool can hold every platform service at its maximum replicas', () => {
    const preset = TIER_PRESETS[tier];
    const { workloads, eks } = preset;
    const cores =
      Object.entries(workloads.services).reduce(
        (sum, [name, scaling]) => sum + scaling.maxReplicas * workloads.resources[name as keyof typeof workloads.resources].cpuMillicores,
        0,
      ) / 1000;
    const general = nodePoolPlans(preset, ['a', 'b', 'c']).find((p) => p.name === 'general');
    const size = INSTANCE_SIZES[eks.general.instanceTypes[0] as string];
    const nodes = eks.general.minSize + (general?.limits.cpu ?? 0) / (size?.vcpus ?? 1);
    expect(nodes * (size?.vcpus ?? 0)).toBeGreaterThanOrEqual(cores);
  });

  test('no key policy lets a principal create grants other than for AWS resources', () => {
    const keys = resources('AWS::KMS::Key');
    expect(keys.length).toBeGreaterThan(0);
    const open = keys.flatMap(({ at, resource }) =>
      ((resource.Properties?.KeyPolicy as { Statement?: KeyPolicyStatement[] } | undefined)?.Statement ?? [])
        .filter((statement) => allowsCreateGrant(statement) && !limitedToAwsResources(statement))
        .map((statement) => `${at} ${statement.Sid ?? JSON.stringify(statement)}`),
    );
    expect(open).toEqual([]);
  });
});

describe('the key policy check reads policies as IAM does', () => {
  test.each<[string, KeyPolicyStatement, boolean]>([
    ['kms:* grants CreateGrant', { Effect: 'Allow', Action: 'kms:*' }, true],
    ['kms:Create* grants CreateGrant', { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Create*'] }, true],
    ['NotAction without CreateGrant grants it', { Effect: 'Allow', NotAction: 'kms:Decrypt' }, true],
    ['NotAction of CreateGrant does not', { Effect: 'Allow', NotAction: 'kms:CreateGrant' }, false],
    ['use actions do not', { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }, false],
    ['a Deny does not', { Effect: 'Deny', Action: 'kms:*' }, false],
  ])('%s', (_, statement, expected) => {
    expect(allowsCreateGrant(statement)).toBe(expected);
  });
});
