import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { WRITE_LEASE } from '../../runbooks/definitions/catalogue';
import { STEPS } from '../../runbooks/steps';
import { surveyTier } from '../../runbooks/steps/watchdog';
import { HOME, TARGET, World } from './world';

const FAILOVER = 'mlp-tier1-region-failover';
const schedule = {} as never;

/**
 * The inputs the operator's path in docs/operations.md gives for a case (`# case: <name>` above its command),
 * with `<region>` placeholders filled in: what is documented is what is run here.
 */
function documentedInput(name: string, fill: Record<string, string>): Record<string, unknown> {
  const operations = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
  const block = new RegExp(`# case: ${name}\\n(?:[^\\n]*\\n)*?[^\\n]*--input '([^']+)'`).exec(operations);
  if (!block?.[1]) throw new Error(`docs/operations.md has no "# case: ${name}" command with an --input`);
  let input = block[1];
  for (const [placeholder, value] of Object.entries(fill)) input = input.replaceAll(`<${placeholder}>`, value);
  return JSON.parse(input) as Record<string, unknown>;
}

const openGates = async (world: World, from: string) => (await surveyTier(schedule, world.deps(from, 'WatchPrimary'))).openGates;

test('no region writable: the documented override (RegionFailover to the region that should take writes) opens exactly that gate', async () => {
  const world = new World();
  world.heartbeats(20);
  expect((await world.run(FAILOVER, { mode: 'planned', targetRegion: TARGET })).status).toBe('SUCCEEDED');
  // The primary is cut off from a quorum of the state tables: its gate keeper closes its gate and fences it.
  world.aws.partitioned.add(TARGET);
  world.aws.advance(WRITE_LEASE.renewalSeconds);
  expect((await STEPS.RefreshGate(schedule, world.deps(TARGET, 'RefreshGate'))).open).toBe(false);
  world.aws.partitioned.delete(TARGET);
  // Healed, nobody takes writes: the gate keepers never reopen a gate on their own.
  await STEPS.RefreshGate(schedule, world.deps(TARGET, 'RefreshGate'));
  expect(await openGates(world, HOME)).toEqual([]);

  const input = documentedInput('no region writable', { region: TARGET });
  expect(input).toMatchObject({ mode: 'unplanned', targetRegion: TARGET, override: { reason: expect.any(String) } });
  expect((await world.run(FAILOVER, input, {}, TARGET)).status).toBe('SUCCEEDED');
  expect(await openGates(world, HOME)).toEqual([TARGET]);
  expect(await openGates(world, TARGET)).toEqual([TARGET]);
});

test('two write gates open: the documented override (a planned RegionFailover to the region that keeps writes) closes the other', async () => {
  const world = new World();
  await world.splitBrain();
  expect(await openGates(world, TARGET)).toEqual([HOME, TARGET]);

  const input = documentedInput('two write gates open', { region: TARGET });
  expect(input).toEqual({ mode: 'planned', targetRegion: TARGET });
  expect((await world.run(FAILOVER, input, {}, TARGET)).status).toBe('SUCCEEDED');
  // The other region's gate keeper, at its next pass (every 20 s), finds a gate opened after its own.
  const pass = await STEPS.RefreshGate(schedule, world.deps(HOME, 'RefreshGate'));
  expect(pass).toMatchObject({ open: false, supersededBy: TARGET });
  expect(await openGates(world, TARGET)).toEqual([TARGET]);
  expect(await openGates(world, HOME)).toEqual([TARGET]);
});
