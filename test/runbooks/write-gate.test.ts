import { expect, test } from 'vitest';
import { WRITE_LEASE } from '../../runbooks/definitions/catalogue';
import { STEPS } from '../../runbooks/steps';
import { HOME, STATE_TABLE, TARGET, World } from './world';

const FAILOVER = 'mlp-tier1-region-failover';
const schedule = { state: {}, execution: { id: 'schedule', startTime: '' } } as never;
const request = { requestContext: { elb: { targetGroupArn: 'x' } }, httpMethod: 'GET', path: '/write-gate' } as never;

const serve = (world: World, region: string) => STEPS.ServeWriteGate(request, world.deps(region, 'ServeWriteGate'));

test('the write-gate endpoint answers 200 only while the gate is open and its lease renewed, 503 otherwise', async () => {
  const world = new World();
  world.heartbeats(20);
  // No gate recorded in either region yet: both closed.
  expect((await serve(world, HOME)).statusCode).toBe(503);
  expect((await serve(world, TARGET)).statusCode).toBe(503);

  expect((await world.run(FAILOVER, { mode: 'planned', targetRegion: TARGET })).status).toBe('SUCCEEDED');
  const opened = await serve(world, TARGET);
  expect(opened).toMatchObject({ statusCode: 200, statusDescription: '200 OK', isBase64Encoded: false });
  expect(opened.body).toMatch(/^open: us-west-2 takes writes under epoch \d+ until /);
  expect((await serve(world, HOME)).statusCode).toBe(503);

  // Nobody renews the lease: the gate closes by itself once its validity has passed.
  world.aws.advance(WRITE_LEASE.gateValiditySeconds);
  const lapsed = await serve(world, TARGET);
  expect(lapsed.statusCode).toBe(503);
  expect(lapsed.body).toMatch(/its lease was last renewed for until/);

  // The gate keeper's next pass renews the lease in a quorum and serves the gate open again.
  const pass = await STEPS.RefreshGate(schedule, world.deps(TARGET, 'RefreshGate'));
  expect(pass).toMatchObject({ open: true, lease: { held: true } });
  expect((await serve(world, TARGET)).statusCode).toBe(200);
  world.aws.advance(WRITE_LEASE.gateValiditySeconds - 1);
  expect((await serve(world, TARGET)).statusCode).toBe(200);
});

test('a gate keeper cut off from a quorum of the state tables closes its gate: the endpoint answers 503 at once', async () => {
  const world = new World();
  world.heartbeats(20);
  expect((await world.run(FAILOVER, { mode: 'planned', targetRegion: TARGET })).status).toBe('SUCCEEDED');
  await STEPS.RefreshGate(schedule, world.deps(TARGET, 'RefreshGate'));
  // Cut off from the other state tables: the renewal reaches its own table alone.
  world.aws.partitioned.add(TARGET);
  world.aws.advance(WRITE_LEASE.renewalSeconds);
  const pass = await STEPS.RefreshGate(schedule, world.deps(TARGET, 'RefreshGate'));
  expect(pass.open).toBe(false);
  expect((await serve(world, TARGET)).statusCode).toBe(503);
});

test('the endpoint reads only its own region: its role may not read another region’s state table', async () => {
  const world = new World();
  const deps = world.deps(TARGET, 'ServeWriteGate');
  const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
  await expect(
    deps.clients.dynamodb(HOME).send(new GetItemCommand({ TableName: STATE_TABLE, Key: { pk: { S: 'gate' } } })),
  ).rejects.toThrow(/AccessDenied|not authorized/);
});
