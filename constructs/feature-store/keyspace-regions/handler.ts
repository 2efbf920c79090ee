import { GetKeyspaceCommand, KeyspacesClient, UpdateKeyspaceCommand } from '@aws-sdk/client-keyspaces';

/**
 * Custom resource handler that extends a keyspace to more Regions with `UpdateKeyspace`: the
 * keyspace's CloudFormation replication specification never changes, so adding a Region never
 * replaces the keyspace or its tables.
 *
 * Keyspaces adds one Region at a time and allows no other DDL while it does, so `onEvent` only
 * records the request and `isComplete` (polled by the provider framework) moves one step per call:
 * wait while any Region is not ACTIVE, else add the first missing Region, else report done.
 * Keyspaces cannot drop a Region from a keyspace, so Regions no longer asked for stay (reported in
 * `Regions`), and a delete leaves the keyspace as it is (it is retained).
 */

export interface KeyspaceRegionsProperties {
  readonly KeyspaceName: string;
  /** Every Region the keyspace must be in, the keyspace's own first. */
  readonly Regions: readonly string[];
}

interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: KeyspaceRegionsProperties & { readonly ServiceToken?: string };
}

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
}

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: { readonly Regions: string };
}

export async function onEvent(event: CustomResourceEvent): Promise<OnEventResponse> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? event.ResourceProperties.KeyspaceName };
  validate(event.ResourceProperties);
  return { PhysicalResourceId: event.ResourceProperties.KeyspaceName };
}

/** Lambda entry point of the provider framework's completion check. */
export async function isComplete(event: CustomResourceEvent): Promise<IsCompleteResponse> {
  return nextStep(event, new KeyspacesClient({}));
}

/** One step towards the wanted Regions, with the given client (a test passes a mocked one). */
export async function nextStep(event: CustomResourceEvent, client: KeyspacesClient): Promise<IsCompleteResponse> {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const { KeyspaceName: keyspaceName, Regions: wanted } = event.ResourceProperties;
  const keyspace = await client.send(new GetKeyspaceCommand({ keyspaceName }));
  const statuses = keyspace.replicationGroupStatuses ?? [];
  if (statuses.some((status) => status.keyspaceStatus !== 'ACTIVE')) return { IsComplete: false };

  const present = keyspace.replicationRegions?.length ? keyspace.replicationRegions : [wanted[0] as string];
  const missing = wanted.filter((region) => !present.includes(region));
  const next = missing[0];
  if (next === undefined) return { IsComplete: true, Data: { Regions: present.join(',') } };
  await client.send(
    new UpdateKeyspaceCommand({
      keyspaceName,
      replicationSpecification: { replicationStrategy: 'MULTI_REGION', regionList: [...present, next] },
      clientSideTimestamps: { status: 'ENABLED' },
    }),
  );
  return { IsComplete: false };
}

function validate(properties: KeyspaceRegionsProperties): void {
  if (!properties.KeyspaceName) throw new Error('KeyspaceName is required');
  if (!Array.isArray(properties.Regions) || properties.Regions.length === 0) {
    throw new Error(`Regions must list at least the keyspace's own Region, got ${JSON.stringify(properties.Regions)}`);
  }
}
