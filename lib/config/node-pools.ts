import type { NodeGroupSpec } from '../../constructs/eks';
import type { TierPreset } from './types';

/** vCPUs and memory of the instance types the node pools use (EC2 instance type specifications). */
export const INSTANCE_SIZES: Readonly<Record<string, { readonly vcpus: number; readonly memoryGiB: number }>> = {
  'm7i.large': { vcpus: 2, memoryGiB: 8 },
  'm7i.xlarge': { vcpus: 4, memoryGiB: 16 },
  'm7i.2xlarge': { vcpus: 8, memoryGiB: 32 },
  'm7i.4xlarge': { vcpus: 16, memoryGiB: 64 },
  'r7i.xlarge': { vcpus: 4, memoryGiB: 32 },
  'r7i.4xlarge': { vcpus: 16, memoryGiB: 128 },
  'r7i.8xlarge': { vcpus: 32, memoryGiB: 256 },
  'r7i.16xlarge': { vcpus: 64, memoryGiB: 512 },
  'g5.2xlarge': { vcpus: 8, memoryGiB: 32 },
};

/**
 * [ours] Share of a node the pods may request: the rest is the kubelet's and the system's reservation
 * and the daemonsets (VPC CNI, kube-proxy, EBS CSI node, Pod Identity agent).
 */
export const ALLOCATABLE_SHARE = 0.85;

export type PoolName = 'system' | 'general' | 'memory' | 'gpu';

/** What one autoscaled pool may grow to, on top of its managed node group. */
export interface NodePoolPlan {
  /** Karpenter NodePool name: the pool, or `memory-<zone>` for the per-zone memory pools. */
  readonly name: string;
  readonly pool: PoolName;
  readonly instanceTypes: readonly string[];
  /** Only this zone (the memory pools: EBS volumes are zonal). @default - every zone */
  readonly zone?: string;
  /** Pod requests the pool must hold at the tier's maximum replicas. */
  readonly demand: { readonly cpu: number; readonly memoryGiB: number };
  /** Nodes the pool needs for that demand (whole nodes of its instance type). */
  readonly nodesForDemand: number;
  /** The managed node group's floor in this pool (its minimum size). */
  readonly baselineNodes: number;
  /** Karpenter's limits: the capacity of the nodes above the floor. */
  readonly limits: { readonly cpu: number; readonly memoryGiB: number };
}

function sizeOf(sizing: NodeGroupSpec): { vcpus: number; memoryGiB: number } {
  const type = sizing.instanceTypes[0] as string;
  const size = INSTANCE_SIZES[type];
  if (!size) throw new Error(`no size known for instance type ${type}; add it to INSTANCE_SIZES`);
  return size;
}

function plan(
  name: string,
  pool: PoolName,
  sizing: NodeGroupSpec,
  demand: { cpu: number; memoryGiB: number },
  baselineNodes: number,
  zone?: string,
): NodePoolPlan {
  const size = sizeOf(sizing);
  const nodesForDemand = Math.max(
    1,
    Math.ceil(Math.max(demand.cpu / (size.vcpus * ALLOCATABLE_SHARE), demand.memoryGiB / (size.memoryGiB * ALLOCATABLE_SHARE))),
  );
  // Karpenter may always add at least one node, so a pool can replace a node it lost.
  const extra = Math.max(1, nodesForDemand - baselineNodes);
  return {
    name,
    pool,
    instanceTypes: sizing.instanceTypes,
    zone,
    demand,
    nodesForDemand,
    baselineNodes,
    limits: { cpu: extra * size.vcpus, memoryGiB: extra * size.memoryGiB },
  };
}

/** Nodes of one zone when `total` are spread over `zones` zones, the first zones taking the remainder. */
export function zoneShare(total: number, zones: number, index: number): number {
  return Math.floor(total / zones) + (index < total % zones ? 1 : 0);
}

/** ClickHouse Keeper's requests (the chart's defaults): a fraction of a server node. */
const KEEPER_REQUESTS = { cpu: 0.25, memoryGiB: 1 };

/**
 * The autoscaled pools of a tier: what each must hold at the tier's maximum replicas, and the
 * Karpenter limits that let it grow there from its managed node group's floor.
 *
 * - general: every platform service at its HPA maximum, the scheduler's replicas and the Keeper
 *   members, at their requests;
 * - memory, one per zone: one node per ClickHouse server placed in the zone (servers take a node
 *   each), and one spare to replace a lost node;
 * - system and gpu: no autoscaled workload sizes them; they may grow to the node group's maximum.
 */
export function nodePoolPlans(tier: TierPreset, zones: readonly string[]): NodePoolPlan[] {
  const { eks, workloads, clickhouse } = tier;
  const perPod = (cpuMillicores: number, memoryMiB: number, count: number) => ({
    cpu: (cpuMillicores / 1000) * count,
    memoryGiB: (memoryMiB / 1024) * count,
  });
  const parts = [
    ...Object.entries(workloads.services).map(([name, scaling]) => {
      const requests = workloads.resources[name as keyof typeof workloads.resources];
      return perPod(requests.cpuMillicores, requests.memoryMiB, scaling.maxReplicas);
    }),
    perPod(workloads.resources.scheduler.cpuMillicores, workloads.resources.scheduler.memoryMiB, workloads.scheduler.replicas),
    { cpu: KEEPER_REQUESTS.cpu * clickhouse.keeperNodes, memoryGiB: KEEPER_REQUESTS.memoryGiB * clickhouse.keeperNodes },
  ];
  const general = parts.reduce((sum, p) => ({ cpu: sum.cpu + p.cpu, memoryGiB: sum.memoryGiB + p.memoryGiB }), { cpu: 0, memoryGiB: 0 });

  const plans: NodePoolPlan[] = [
    fixedPlan('system', 'system', eks.system),
    plan('general', 'general', eks.general, general, eks.general.minSize),
  ];
  const servers = clickhouse.shards * clickhouse.replicasPerShard;
  const memorySize = sizeOf(eks.memoryOptimized);
  zones.forEach((zone, index) => {
    const serversHere = zoneShare(servers, zones.length, index);
    const baseline = zoneShare(eks.memoryOptimized.minSize, zones.length, index);
    const nodes = serversHere + 1;
    const extra = Math.max(1, nodes - baseline);
    plans.push({
      name: `memory-${zone}`,
      pool: 'memory',
      instanceTypes: eks.memoryOptimized.instanceTypes,
      zone,
      demand: { cpu: serversHere * clickhouse.nodeVcpus, memoryGiB: serversHere * clickhouse.nodeMemoryGiB },
      nodesForDemand: nodes,
      baselineNodes: baseline,
      limits: { cpu: extra * memorySize.vcpus, memoryGiB: extra * memorySize.memoryGiB },
    });
  });
  if (eks.gpu) plans.push(fixedPlan('gpu', 'gpu', eks.gpu));
  return plans;
}

function fixedPlan(name: string, pool: PoolName, sizing: NodeGroupSpec): NodePoolPlan {
  const size = sizeOf(sizing);
  const extra = Math.max(1, sizing.maxSize - sizing.minSize);
  return {
    name,
    pool,
    instanceTypes: sizing.instanceTypes,
    demand: { cpu: sizing.maxSize * size.vcpus, memoryGiB: sizing.maxSize * size.memoryGiB },
    nodesForDemand: sizing.maxSize,
    baselineNodes: sizing.minSize,
    limits: { cpu: extra * size.vcpus, memoryGiB: extra * size.memoryGiB },
  };
}
