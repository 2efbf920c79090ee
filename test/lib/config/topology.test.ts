import { describe, expect, test } from 'vitest';
import { ConfigError, type DatabaseGeneration, resolvePlatformConfig, topologyContextArgs } from '../../../lib/config';

const ACCOUNT = '111122223333';
const THREE = 'us-east-1,us-west-2,eu-west-1';

/** On RDS PostgreSQL: the database lineage (generations, re-protection, retirement) is that engine's. */
function resolve(context: Record<string, string>) {
  return resolvePlatformConfig({
    account: ACCOUNT,
    domain: 'ml.example.com',
    hostedZoneId: 'Z123ABC',
    databaseEngine: 'rds-postgresql',
    ...context,
  });
}

/** region -> [instance id, role, source instance id] of the current generation. */
function currentOf(context: Record<string, string>) {
  const { config } = resolve(context);
  return Object.fromEntries(
    Object.entries(config.databases).map(([region, { current }]) => [
      region,
      [current.instanceIdentifier, current.role, current.createdFrom?.instanceIdentifier ?? '-'],
    ]),
  );
}

const ids = (generations: readonly DatabaseGeneration[]) => generations.map((g) => g.instanceIdentifier);

describe('primaryRegion', () => {
  test('defaults to the first of -c regions, which is also the home region', () => {
    const { config, warnings } = resolve({});
    expect(config.primaryRegion.name).toBe('us-east-1');
    expect(config.regions.map((r) => [r.name, r.isPrimary, r.isHome])).toEqual([
      ['us-east-1', true, true],
      ['us-west-2', false, false],
    ]);
    expect(warnings).toEqual([]);
  });

  test('a failover is expressed by -c primaryRegion alone: the home order and the home region stay', () => {
    const { config } = resolve({ primaryRegion: 'us-west-2' });
    expect(config.primaryRegion.name).toBe('us-west-2');
    expect(config.regions.map((r) => [r.name, r.isPrimary, r.isHome])).toEqual([
      ['us-east-1', false, true],
      ['us-west-2', true, false],
    ]);
  });

  test('must be one of -c regions: one line naming the key, the value and what is allowed', () => {
    expect(() => resolve({ primaryRegion: 'eu-west-1' })).toThrow(
      new ConfigError(
        'primaryRegion',
        'eu-west-1',
        'the primary must be one of -c regions (us-east-1, us-west-2); a failover changes the primary, not the region list',
      ),
    );
    expect(() => resolve({ primaryRegion: 'eu-west-1' })).toThrow(/^Invalid context -c primaryRegion=eu-west-1: [^\n]+$/);
  });
});

describe('database lineage', () => {
  test('home: the home region holds the primary, every other region a replica of it', () => {
    expect(currentOf({ tier: 'tier3', regions: THREE })).toEqual({
      'us-east-1': ['mlp-tier3-pg-use1', 'primary', '-'],
      'us-west-2': ['mlp-tier3-pg-usw2', 'replica', 'mlp-tier3-pg-use1'],
      'eu-west-1': ['mlp-tier3-pg-euw1', 'replica', 'mlp-tier3-pg-use1'],
    });
  });

  test('failed over: the target is promoted where it stands; the old primary and the other replicas are flagged', () => {
    const { config, warnings } = resolve({ tier: 'tier3', regions: THREE, primaryRegion: 'us-west-2' });
    expect(currentOf({ tier: 'tier3', regions: THREE, primaryRegion: 'us-west-2' })).toEqual({
      'us-east-1': ['mlp-tier3-pg-use1', 'former-primary', '-'],
      'us-west-2': ['mlp-tier3-pg-usw2', 'primary', 'mlp-tier3-pg-use1'],
      'eu-west-1': ['mlp-tier3-pg-euw1', 'stale-replica', 'mlp-tier3-pg-use1'],
    });
    expect(Object.values(config.databases).flatMap((d) => d.retained)).toEqual([]);
    expect(warnings).toEqual([
      "us-east-1's database mlp-tier3-pg-use1 is a former primary, retained but replicating nothing: re-protect the region with -c rebuiltReplicas=us-east-1:us-west-2",
      "eu-west-1's database mlp-tier3-pg-euw1 still replicates mlp-tier3-pg-use1, which is no longer the primary: re-point it with -c rebuiltReplicas=eu-west-1:us-west-2",
    ]);
  });

  test('re-protected: new generations replicate the new primary, under names that cannot collide; the old ones are retained', () => {
    const context = {
      tier: 'tier3',
      regions: THREE,
      primaryRegion: 'us-west-2',
      rebuiltReplicas: 'us-east-1:us-west-2,eu-west-1:us-west-2',
    };
    expect(currentOf(context)).toEqual({
      'us-east-1': ['mlp-tier3-pg-use1-g2', 'replica', 'mlp-tier3-pg-usw2'],
      'us-west-2': ['mlp-tier3-pg-usw2', 'primary', 'mlp-tier3-pg-use1'],
      'eu-west-1': ['mlp-tier3-pg-euw1-g2', 'replica', 'mlp-tier3-pg-usw2'],
    });
    const { config, warnings } = resolve(context);
    expect(ids(config.databases['us-east-1']?.retained ?? [])).toEqual(['mlp-tier3-pg-use1']);
    expect(ids(config.databases['eu-west-1']?.retained ?? [])).toEqual(['mlp-tier3-pg-euw1']);
    expect(config.databases['us-east-1']?.retained[0]?.role).toBe('former-primary');
    expect(config.databases['eu-west-1']?.retained[0]?.role).toBe('stale-replica');
    expect(warnings).toEqual([]);
  });

  test('failed back: the rebuilt home replica is the primary again, the former one flagged for re-protection', () => {
    const context = { primaryRegion: 'us-east-1', rebuiltReplicas: 'us-east-1:us-west-2' };
    expect(currentOf(context)).toEqual({
      'us-east-1': ['mlp-tier1-pg-use1-g2', 'primary', 'mlp-tier1-pg-usw2'],
      'us-west-2': ['mlp-tier1-pg-usw2', 'former-primary', 'mlp-tier1-pg-use1'],
    });
    // A second round: us-west-2 rebuilt from home's second generation, and failed over to again.
    expect(currentOf({ primaryRegion: 'us-west-2', rebuiltReplicas: 'us-east-1:us-west-2,us-west-2:us-east-1' })).toEqual({
      'us-east-1': ['mlp-tier1-pg-use1-g2', 'former-primary', 'mlp-tier1-pg-usw2'],
      'us-west-2': ['mlp-tier1-pg-usw2-g2', 'primary', 'mlp-tier1-pg-use1-g2'],
    });
  });

  test('retiredDatabases removes older generations only', () => {
    const context = { primaryRegion: 'us-west-2', rebuiltReplicas: 'us-east-1:us-west-2' };
    const { config } = resolve({ ...context, retiredDatabases: 'mlp-tier1-pg-use1' });
    expect(config.databases['us-east-1']?.retained).toEqual([]);
    expect(config.databases['us-east-1']?.current.instanceIdentifier).toBe('mlp-tier1-pg-use1-g2');
    expect(config.retiredDatabases).toEqual(['mlp-tier1-pg-use1']);
  });

  test.each([
    [
      { rebuiltReplicas: 'us-east-1' },
      'Invalid context -c rebuiltReplicas=us-east-1: "us-east-1" is not <region>:<source region>; expected entries such as us-east-1:us-west-2, oldest first',
    ],
    [
      { rebuiltReplicas: 'us-east-1:eu-west-1' },
      'Invalid context -c rebuiltReplicas=us-east-1:eu-west-1: eu-west-1 is not one of -c regions (us-east-1, us-west-2)',
    ],
    [
      { rebuiltReplicas: 'us-west-2:us-west-2' },
      'Invalid context -c rebuiltReplicas=us-west-2:us-west-2: "us-west-2:us-west-2" rebuilds us-west-2 from itself; a replica\'s source is another region',
    ],
    [
      { primaryRegion: 'us-west-2', retiredDatabases: 'mlp-tier1-pg-usw2' },
      'Invalid context -c retiredDatabases=mlp-tier1-pg-usw2: mlp-tier1-pg-usw2 is the current database of us-west-2; only an older generation can be retired',
    ],
    [
      { retiredDatabases: 'mlp-tier1-pg-use1-g7' },
      'Invalid context -c retiredDatabases=mlp-tier1-pg-use1-g7: mlp-tier1-pg-use1-g7 is not a database of this deployment; retire one of the older generations: mlp-tier1-pg-use1, mlp-tier1-pg-usw2',
    ],
  ])('rejects %o with one clear line', (context, message) => {
    expect(() => resolve(context)).toThrow(message);
  });

  test('topologyContextArgs gives the exact -c arguments of a topology, and none beyond regions at home', () => {
    expect(topologyContextArgs(resolve({}).config)).toEqual(['-c', 'regions=us-east-1,us-west-2']);
    const { config } = resolve({
      primaryRegion: 'us-west-2',
      rebuiltReplicas: 'us-east-1:us-west-2',
      retiredDatabases: 'mlp-tier1-pg-use1',
    });
    expect(topologyContextArgs(config)).toEqual([
      '-c',
      'regions=us-east-1,us-west-2',
      '-c',
      'primaryRegion=us-west-2',
      '-c',
      'rebuiltReplicas=us-east-1:us-west-2',
      '-c',
      'retiredDatabases=mlp-tier1-pg-use1',
    ]);
  });
});
