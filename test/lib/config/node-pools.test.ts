import { describe, expect, test } from 'vitest';
import { ALLOCATABLE_SHARE, INSTANCE_SIZES, nodePoolPlans, TIER_NAMES, TIER_PRESETS, type TierPreset } from '../../../lib/config';

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

describe.each(TIER_NAMES)('node pools of %s', (tierName) => {
  const preset = TIER_PRESETS[tierName];
  const plans = nodePoolPlans(preset, ZONES);
  const byName = (name: string) => {
    const plan = plans.find((p) => p.name === name);
    if (!plan) throw new Error(`no plan ${name}`);
    return plan;
  };

  test('one pool each for system and general, one memory pool per zone, a gpu pool where the tier has GPUs', () => {
    expect(plans.map((p) => p.name)).toEqual([
      'system',
      'general',
      ...ZONES.map((zone) => `memory-${zone}`),
      ...(preset.eks.gpu ? ['gpu'] : []),
    ]);
  });

  test("general: floor plus Karpenter's limit holds every service at its maximum replicas, the scheduler and Keeper", () => {
    const { workloads } = preset;
    const requested = (field: 'cpuMillicores' | 'memoryMiB') =>
      Object.entries(workloads.services).reduce(
        (sum, [name, scaling]) => sum + scaling.maxReplicas * workloads.resources[name as keyof typeof workloads.resources][field],
        workloads.scheduler.replicas * workloads.resources.scheduler[field],
      );
    const size = INSTANCE_SIZES[preset.eks.general.instanceTypes[0] as string] ?? { vcpus: 0, memoryGiB: 0 };
    const general = byName('general');
    const nodes = preset.eks.general.minSize + general.limits.cpu / size.vcpus;
    expect(general.limits.memoryGiB / size.memoryGiB).toBe(general.limits.cpu / size.vcpus);
    expect(nodes * size.vcpus * ALLOCATABLE_SHARE).toBeGreaterThanOrEqual(requested('cpuMillicores') / 1000);
    expect(nodes * size.memoryGiB * ALLOCATABLE_SHARE).toBeGreaterThanOrEqual(requested('memoryMiB') / 1024);
  });

  test('memory: one node more per zone than the ClickHouse servers placed there (Keeper is not counted)', () => {
    const servers = preset.clickhouse.shards * preset.clickhouse.replicasPerShard;
    const size = INSTANCE_SIZES[preset.eks.memoryOptimized.instanceTypes[0] as string] ?? { vcpus: 0, memoryGiB: 0 };
    const memory = ZONES.map((zone) => byName(`memory-${zone}`));
    expect(memory.reduce((sum, p) => sum + p.nodesForDemand, 0)).toBe(servers + ZONES.length);
    for (const plan of memory) {
      expect(plan.zone).toBe(plan.name.replace('memory-', ''));
      expect(plan.baselineNodes + plan.limits.cpu / size.vcpus).toBe(plan.nodesForDemand);
    }
  });

  test('system and gpu grow to their node group maximum', () => {
    const systemSize = INSTANCE_SIZES[preset.eks.system.instanceTypes[0] as string] ?? { vcpus: 0, memoryGiB: 0 };
    expect(byName('system').limits.cpu).toBe((preset.eks.system.maxSize - preset.eks.system.minSize) * systemSize.vcpus);
    if (preset.eks.gpu) {
      const gpuSize = INSTANCE_SIZES[preset.eks.gpu.instanceTypes[0] as string] ?? { vcpus: 0, memoryGiB: 0 };
      expect(byName('gpu').limits.cpu).toBe((preset.eks.gpu.maxSize - preset.eks.gpu.minSize) * gpuSize.vcpus);
    }
  });
});

test('an instance type without a known size is one clear error', () => {
  const preset: TierPreset = {
    ...TIER_PRESETS.tier1,
    eks: { ...TIER_PRESETS.tier1.eks, general: { ...TIER_PRESETS.tier1.eks.general, instanceTypes: ['x9.huge'] } },
  };
  expect(() => nodePoolPlans(preset, ZONES)).toThrow('no size known for instance type x9.huge; add it to INSTANCE_SIZES');
});
