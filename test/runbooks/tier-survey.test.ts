import { expect, test } from 'vitest';
import { PRIMARY_WATCH } from '../../runbooks/definitions/catalogue';
import { surveyTier } from '../../runbooks/steps/watchdog';
import { HOME, TARGET, World } from './world';

const FAILOVER = 'mlp-tier1-region-failover';
const schedule = {} as never;

function published(world: World, region: string, name: string): number | undefined {
  const points = world.aws.metrics.filter((m) => m.region === region && m.name === name && m.dimensions?.Region === region);
  return points.at(-1)?.value;
}

test('the survey counts the write gates that answer open and its own region’s disabled Batch queues, and publishes both', async () => {
  const world = new World();
  world.heartbeats(20);
  expect((await world.run(FAILOVER, { mode: 'planned', targetRegion: TARGET })).status).toBe('SUCCEEDED');

  // Seen from the old primary: the new primary's gate alone answers open; its own queues were disabled by the fence.
  const home = await surveyTier(schedule, world.deps(HOME, 'WatchPrimary'));
  expect(home.openGates).toEqual([TARGET]);
  expect(home.disabledQueues.length).toBeGreaterThan(0);
  expect(published(world, HOME, PRIMARY_WATCH.survey.openWriteGates)).toBe(1);
  expect(published(world, HOME, PRIMARY_WATCH.survey.batchQueuesDisabled)).toBe(home.disabledQueues.length);

  // Seen from the new primary: its queues were enabled by the promotion.
  const target = await surveyTier(schedule, world.deps(TARGET, 'WatchPrimary'));
  expect(target).toEqual({ openGates: [TARGET], disabledQueues: [] });
  expect(published(world, TARGET, PRIMARY_WATCH.survey.batchQueuesDisabled)).toBe(0);
});

test('two gates served open are counted as two (the split brain its alarm pages on); an unreachable region counts as closed', async () => {
  const world = new World();
  await world.splitBrain();
  expect((await surveyTier(schedule, world.deps(TARGET, 'WatchPrimary'))).openGates).toEqual([HOME, TARGET]);
  expect(published(world, TARGET, PRIMARY_WATCH.survey.openWriteGates)).toBe(2);

  world.aws.unreachable.add(HOME);
  expect((await surveyTier(schedule, world.deps(TARGET, 'WatchPrimary'))).openGates).toEqual([TARGET]);
});
