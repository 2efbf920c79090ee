import {
  ConflictException,
  GetKeyspaceCommand,
  KeyspacesClient,
  UpdateKeyspaceCommand,
  ValidationException,
} from '@aws-sdk/client-keyspaces';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, test } from 'vitest';
import { nextStep, onEvent } from '../../../constructs/feature-store/keyspace-regions/handler';

/**
 * A keyspace as Keyspaces keeps it: a single-Region keyspace reports no replication regions; adding
 * a Region leaves it CREATING for a few reads (the cross-Region restore of its tables), and any
 * other DDL meanwhile is refused with ConflictException, as the service does.
 */
function fakeKeyspaces(home: string, { readsUntilActive = 2 } = {}) {
  const state = { regions: [home], creating: undefined as string | undefined, reads: 0, updates: [] as string[][] };
  const client = new KeyspacesClient({ region: home });
  const mock = mockClient(client);
  mock.on(GetKeyspaceCommand).callsFake(() => {
    if (state.creating && ++state.reads >= readsUntilActive) state.creating = undefined;
    const multi = state.regions.length > 1;
    return {
      keyspaceName: 'mlp_tier3_features',
      resourceArn: 'arn:aws:cassandra:us-east-1:111122223333:/keyspace/mlp_tier3_features/',
      replicationStrategy: multi ? 'MULTI_REGION' : 'SINGLE_REGION',
      ...(multi
        ? {
            replicationRegions: [...state.regions],
            replicationGroupStatuses: state.regions.map((region) => ({
              region,
              keyspaceStatus: region === state.creating ? 'CREATING' : 'ACTIVE',
            })),
          }
        : {}),
    };
  });
  mock.on(UpdateKeyspaceCommand).callsFake((input: { replicationSpecification: { regionList: string[] } }) => {
    if (state.creating) throw new ConflictException({ message: 'Another DDL operation is in progress on the keyspace', $metadata: {} });
    const list = input.replicationSpecification.regionList;
    const added = list.filter((r) => !state.regions.includes(r));
    if (added.length !== 1 || state.regions.some((r) => !list.includes(r))) {
      throw new ValidationException({ message: 'regionList must hold the existing Regions and one new Region', $metadata: {} });
    }
    state.updates.push(list);
    state.regions = list;
    state.creating = added[0];
    state.reads = 0;
    return { resourceArn: 'arn' };
  });
  return { client, state };
}

const event = (regions: string[], RequestType: 'Create' | 'Update' | 'Delete' = 'Create') => ({
  RequestType,
  PhysicalResourceId: 'mlp_tier3_features',
  ResourceProperties: { KeyspaceName: 'mlp_tier3_features', Regions: regions },
});

/** Poll as the provider framework does, until complete; at most `limit` polls. */
async function pollUntilComplete(client: KeyspacesClient, regions: string[], limit = 20) {
  for (let poll = 1; poll <= limit; poll++) {
    const response = await nextStep(event(regions), client);
    if (response.IsComplete) return { ...response, polls: poll };
  }
  throw new Error(`not complete after ${limit} polls`);
}

describe('keyspace regions handler', () => {
  test('adds the missing Regions one at a time, waiting for each to be ACTIVE', async () => {
    const { client, state } = fakeKeyspaces('us-east-1');
    const done = await pollUntilComplete(client, ['us-east-1', 'us-west-2', 'eu-west-1']);
    expect(state.updates).toEqual([
      ['us-east-1', 'us-west-2'],
      ['us-east-1', 'us-west-2', 'eu-west-1'],
    ]);
    expect(done.Data).toEqual({ Regions: 'us-east-1,us-west-2,eu-west-1' });
  });

  test('a keyspace already in every Region is complete at once, with no call that changes it', async () => {
    const { client, state } = fakeKeyspaces('us-east-1');
    await pollUntilComplete(client, ['us-east-1', 'us-west-2']);
    state.updates.length = 0;
    const again = await pollUntilComplete(client, ['us-east-1', 'us-west-2']);
    expect(again.polls).toBe(1);
    expect(state.updates).toEqual([]);
  });

  test('a Region dropped from the request stays: Keyspaces cannot remove one, and nothing is attempted', async () => {
    const { client, state } = fakeKeyspaces('us-east-1');
    await pollUntilComplete(client, ['us-east-1', 'us-west-2', 'eu-west-1']);
    state.updates.length = 0;
    const done = await pollUntilComplete(client, ['us-east-1', 'us-west-2']);
    expect(state.updates).toEqual([]);
    expect(done.Data).toEqual({ Regions: 'us-east-1,us-west-2,eu-west-1' });
  });

  test('never issues DDL while a Region is still being added', async () => {
    const { client, state } = fakeKeyspaces('us-east-1', { readsUntilActive: 5 });
    // Would throw ConflictException if the handler updated while CREATING.
    await pollUntilComplete(client, ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1']);
    expect(state.updates).toHaveLength(3);
  });

  test('a delete leaves the retained keyspace alone', async () => {
    const { client, state } = fakeKeyspaces('us-east-1');
    expect(await nextStep(event(['us-east-1', 'us-west-2'], 'Delete'), client)).toEqual({ IsComplete: true });
    expect(state.updates).toEqual([]);
  });

  test('onEvent names the keyspace and rejects a request without Regions', async () => {
    expect(await onEvent(event(['us-east-1']))).toEqual({ PhysicalResourceId: 'mlp_tier3_features' });
    await expect(onEvent(event([]))).rejects.toThrow("Regions must list at least the keyspace's own Region, got []");
  });
});
