import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { TIER_PRESETS } from '../../../lib/config';
import { renderTierTable, withTierTable } from '../../../lib/config/tier-table';

describe('tier presets hold the seed numbers', () => {
  test.each([
    ['tier1', 'm7g.2xlarge', 8, 32, 500, 2, 200, false],
    ['tier2', 'm7g.4xlarge', 16, 64, 2048, 3, 500, true],
    ['tier3', 'm7g.8xlarge', 32, 128, 4096, 5, 1000, true],
  ] as const)('%s Postgres (seed 000)', (tier, instanceClass, vcpus, memoryGiB, storage, replicas, connections, pooler) => {
    const pg = TIER_PRESETS[tier].postgres;
    expect(pg).toMatchObject({
      instanceClass,
      vcpus,
      memoryGiB,
      allocatedStorageGiB: storage,
      maxConnections: connections,
      connectionPooler: pooler,
    });
    expect(pg.readReplicaRoles).toHaveLength(replicas);
    expect(pg.backupRetentionDays).toBe(35);
  });

  test.each([
    ['dev', 1, 2],
    ['tier1', 3, 2],
    ['tier2', 8, 2],
    ['tier3', 20, 3],
  ] as const)('%s ClickHouse is %i shards x %i replicas (seed 000)', (tier, shards, replicas) => {
    expect(TIER_PRESETS[tier].clickhouse).toMatchObject({ shards, replicasPerShard: replicas, keeperNodes: 3 });
  });

  test('the region objectives are the strictest seed targets', () => {
    for (const preset of Object.values(TIER_PRESETS)) {
      expect(preset.recovery.region).toEqual({ rtoSeconds: 300, rpoSeconds: 60 });
      expect(preset.recovery.availabilityZone).toEqual({ rtoSeconds: 120, rpoSeconds: 0 });
    }
  });

  test('job-tasks topic matches seed 003 in every tier but dev', () => {
    for (const tier of ['tier1', 'tier2', 'tier3'] as const) {
      expect(TIER_PRESETS[tier].kafka.topics.find((t) => t.name === 'job-tasks')).toEqual({
        name: 'job-tasks',
        partitions: 100,
        replicationFactor: 3,
        minInsyncReplicas: 2,
        retentionHours: 168,
      });
    }
  });

  test('HPA bounds from seeds 000, 002 and 004 at tier2', () => {
    const services = TIER_PRESETS.tier2.workloads.services;
    expect(services['tracking-server']).toMatchObject({
      minReplicas: 3,
      maxReplicas: 50,
      cpuTargetPercent: 70,
      requestsPerSecondPerPod: 10_000,
    });
    expect(services['registry-api']).toMatchObject({ minReplicas: 2, maxReplicas: 20 });
    expect(services['metaflow-worker']).toMatchObject({ minReplicas: 5, maxReplicas: 500 });
    expect(services['query-api'].scaleUp).toEqual({
      stabilizationWindowSeconds: 60,
      policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }],
    });
  });

  test('prediction-service overrides follow seed 001 model tiers', () => {
    expect(TIER_PRESETS.tier3.workloads.services['prediction-service']).toMatchObject({
      minReplicas: 50,
      maxReplicas: 1000,
      requestsPerSecondPerPod: 30_000,
    });
    expect(TIER_PRESETS.tier1.workloads.services['prediction-service']).toMatchObject({ minReplicas: 10, requestsPerSecondPerPod: 40_000 });
    expect(TIER_PRESETS.dev.workloads.services['prediction-service']).toMatchObject({ minReplicas: 2, requestsPerSecondPerPod: 50_000 });
  });

  test('the cache of tier2 and tier3 holds 500 GB with 1 replica per shard (seed 001)', () => {
    // ElastiCache's memory per node, GiB.
    const nodeMemory: Record<string, number> = { 'cache.m7g.large': 6.38, 'cache.r7g.xlarge': 26.32, 'cache.r7g.2xlarge': 52.82 };
    for (const preset of Object.values(TIER_PRESETS)) {
      const { nodeType, shards, targetMemoryGiB, replicasPerShard } = preset.redis;
      expect(nodeMemory[nodeType], `${preset.name}: ${nodeType} has a known size`).toBeDefined();
      expect(shards * (nodeMemory[nodeType] ?? 0), `${preset.name} cache memory`).toBeGreaterThanOrEqual(targetMemoryGiB);
      expect(replicasPerShard).toBe(1);
    }
    expect(TIER_PRESETS.tier2.redis.targetMemoryGiB).toBe(500);
    expect(TIER_PRESETS.tier3.redis.targetMemoryGiB).toBe(500);
  });

  test('backups keep hourly points 7 days, daily 30, weekly a year (seed 003)', () => {
    for (const preset of Object.values(TIER_PRESETS)) {
      expect(preset.backups).toMatchObject({ hourlyRetentionDays: 7, dailyRetentionDays: 30, weeklyRetentionDays: 365 });
      expect(preset.backups.hourlySchedule).toMatch(/^cron\(\d+ \* \* \* \? \*\)$/);
    }
  });

  test('online batch features live 7 days (seed 001)', () => {
    for (const preset of Object.values(TIER_PRESETS)) {
      expect(preset.featureStore.tables.find((t) => t.name === 'batch_features')?.ttlSeconds).toBe(7 * 24 * 3600);
    }
  });

  test('ClickHouse is a release whose Kafka engine speaks AWS_MSK_IAM (the 26.8 LTS line or later), Keeper the same release', () => {
    for (const preset of Object.values(TIER_PRESETS)) {
      const [major = 0, minor = 0] = preset.images.clickhouse.split('.').map(Number);
      expect(major * 100 + minor, preset.name).toBeGreaterThanOrEqual(2608);
      expect(preset.images.clickhouseKeeper).toBe(preset.images.clickhouse);
    }
  });

  test('sizes that must be internally consistent are', () => {
    for (const preset of Object.values(TIER_PRESETS)) {
      expect(preset.kafka.brokers % 3, `${preset.name} brokers spread over 3 AZs`).toBe(0);
      for (const topic of preset.kafka.topics) expect(topic.replicationFactor).toBeLessThanOrEqual(preset.kafka.brokers);
      expect(preset.redis.nodeType, `${preset.name}: global datastores reject T-family nodes`).not.toMatch(/^cache\.t/);
      for (const spec of Object.values(preset.workloads.services)) expect(spec.minReplicas).toBeLessThanOrEqual(spec.maxReplicas);
    }
  });
});

describe('docs/configuration.md', () => {
  const document = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');

  test('its tier table is the presets as they are (npm run docs:config)', () => {
    expect(withTierTable(document)).toBe(document);
  });

  test('the table renders the presets, and a document without its markers is refused', () => {
    expect(renderTierTable()).toContain(`| ClickHouse shards x replicas | 1 x 2 | 3 x 2 | 8 x 2 | 20 x 3 |`);
    expect(() => withTierTable('no markers')).toThrow(/tier-table:start/);
  });
});
