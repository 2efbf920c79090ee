import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { RunbookDeps } from './env';
import { ERROR, fail, normaliseAwsError } from './errors';

/**
 * The runbook's state in one region's DynamoDB table (key `pk`):
 * - `lock`: the execution that holds the runbook, and its epoch;
 * - `epoch`: a counter, one more per lock taken, so every change carries an order;
 * - `gate`: whether this region's write gate is open, and under which epoch;
 * - `primary`: the region a runbook last made primary, and under which epoch;
 * - `fence`: this region's database must be fenced (its gate was superseded), until that is done.
 */
export interface LockItem {
  readonly owner: string;
  readonly epoch: number;
  readonly since: string;
}
export interface GateItem {
  readonly open: boolean;
  readonly epoch: number;
  readonly updatedAt: string;
}
export interface PrimaryItem {
  readonly region: string;
  readonly instanceIdentifier: string;
  readonly epoch: number;
  readonly updatedAt: string;
}

type Item = Record<string, AttributeValue>;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const str = (item: Item, key: string) => item[key]?.S ?? '';
const num = (item: Item, key: string) => Number(item[key]?.N ?? 0);

async function call<T>(region: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw normaliseAwsError(error, region);
  }
}

async function getItem(deps: RunbookDeps, region: string, table: string, pk: string): Promise<Item | undefined> {
  const out = await call(region, () =>
    deps.clients.dynamodb(region).send(new GetItemCommand({ TableName: table, Key: { pk: s(pk) }, ConsistentRead: true })),
  );
  return out.Item;
}

export async function readLock(deps: RunbookDeps, region: string, table: string): Promise<LockItem | undefined> {
  const item = await getItem(deps, region, table, 'lock');
  return item ? { owner: str(item, 'owner'), epoch: num(item, 'epoch'), since: str(item, 'since') } : undefined;
}

/**
 * Take the lock for `owner` if it is free or `staleOwner` (an execution no longer running) holds
 * it. Conditional, so of two executions racing for it exactly one wins. Returns the new epoch:
 * above this region's last one and above `atLeast` (the newest epoch seen in any region), since
 * each region counts its own and a runbook started here must outrank what one started elsewhere did.
 */
export async function takeLock(
  deps: RunbookDeps,
  region: string,
  table: string,
  owner: string,
  staleOwner?: string,
  atLeast = 0,
): Promise<number> {
  const client = deps.clients.dynamodb(region);
  const counter = await call(region, () =>
    client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: s('epoch') },
        UpdateExpression: 'ADD #v :one',
        ExpressionAttributeNames: { '#v': 'value' },
        ExpressionAttributeValues: { ':one': n(1) },
        ReturnValues: 'UPDATED_NEW',
      }),
    ),
  );
  let epoch = Number(counter.Attributes?.value?.N);
  if (epoch <= atLeast) {
    try {
      await call(region, () =>
        client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: s('epoch') },
            UpdateExpression: 'SET #v = :next',
            ConditionExpression: '#v = :mine',
            ExpressionAttributeNames: { '#v': 'value' },
            ExpressionAttributeValues: { ':next': n(atLeast + 1), ':mine': n(epoch) },
          }),
        ),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return fail(ERROR.lockHeld, 'another execution took the runbook lock first');
      throw error;
    }
    epoch = atLeast + 1;
  }
  try {
    await call(region, () =>
      client.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: s('lock'), owner: s(owner), epoch: n(epoch), since: s(deps.now().toISOString()) },
          ConditionExpression: staleOwner ? '#o = :stale' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: staleOwner ? { '#o': 'owner' } : undefined,
          ExpressionAttributeValues: staleOwner ? { ':stale': s(staleOwner) } : undefined,
        }),
      ),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return fail(ERROR.lockHeld, 'another execution took the runbook lock first');
    throw error;
  }
  return epoch;
}

/** Release the lock if `owner` still holds it; releasing a lock already gone is fine. */
export async function releaseLock(deps: RunbookDeps, region: string, table: string, owner: string): Promise<boolean> {
  try {
    await call(region, () =>
      deps.clients.dynamodb(region).send(
        new DeleteItemCommand({
          TableName: table,
          Key: { pk: s('lock') },
          ConditionExpression: 'attribute_not_exists(pk) OR #o = :me',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':me': s(owner) },
        }),
      ),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Fails with `StaleEpoch` unless `owner` still holds the lock under `epoch`. */
export async function assertLockHeld(deps: RunbookDeps, region: string, table: string, owner: string, epoch: number): Promise<void> {
  const lock = await readLock(deps, region, table);
  if (!lock || lock.owner !== owner || lock.epoch !== epoch) {
    fail(
      ERROR.staleEpoch,
      `the runbook lock is now ${lock ? `held by ${lock.owner} under epoch ${lock.epoch}` : 'free'}, not by this execution under epoch ${epoch}`,
    );
  }
}

export async function readGate(deps: RunbookDeps, region: string, table: string): Promise<GateItem | undefined> {
  const item = await getItem(deps, region, table, 'gate');
  return item ? { open: item.open?.BOOL === true, epoch: num(item, 'epoch'), updatedAt: str(item, 'updatedAt') } : undefined;
}

/**
 * Record a region's gate. Only a change carrying an epoch at least as new as the recorded one
 * lands, so a delayed step of an older execution cannot reopen or close what a newer one decided.
 */
export async function writeGate(deps: RunbookDeps, region: string, table: string, open: boolean, epoch: number): Promise<void> {
  try {
    await call(region, () =>
      deps.clients.dynamodb(region).send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: s('gate'), open: { BOOL: open }, epoch: n(epoch), updatedAt: s(deps.now().toISOString()) },
          ConditionExpression: 'attribute_not_exists(pk) OR epoch <= :epoch',
          ExpressionAttributeValues: { ':epoch': n(epoch) },
        }),
      ),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      fail(ERROR.staleEpoch, `the gate of ${region} was set under a newer epoch than ${epoch}`);
    throw error;
  }
}

/** A promotion a runbook asked for: written before the call, so a re-run knows whose it was. */
export interface PromotionItem {
  readonly region: string;
  readonly instanceIdentifier: string;
  readonly sourceRegion: string;
  readonly sourceInstanceIdentifier: string;
  readonly epoch: number;
}

export async function readPromotion(deps: RunbookDeps, region: string, table: string): Promise<PromotionItem | undefined> {
  const item = await getItem(deps, region, table, 'promotion');
  return item
    ? {
        region: str(item, 'region'),
        instanceIdentifier: str(item, 'instanceIdentifier'),
        sourceRegion: str(item, 'sourceRegion'),
        sourceInstanceIdentifier: str(item, 'sourceInstanceIdentifier'),
        epoch: num(item, 'epoch'),
      }
    : undefined;
}

export async function writePromotion(deps: RunbookDeps, region: string, table: string, promotion: PromotionItem): Promise<void> {
  await call(region, () =>
    deps.clients.dynamodb(region).send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: s('promotion'),
          region: s(promotion.region),
          instanceIdentifier: s(promotion.instanceIdentifier),
          sourceRegion: s(promotion.sourceRegion),
          sourceInstanceIdentifier: s(promotion.sourceInstanceIdentifier),
          epoch: n(promotion.epoch),
        },
      }),
    ),
  );
}

/** The primary epoch whose scaling is done, so a re-run never scales twice. */
export async function readScaledFor(deps: RunbookDeps, region: string, table: string): Promise<number | undefined> {
  const item = await getItem(deps, region, table, 'scaled');
  return item ? num(item, 'primaryEpoch') : undefined;
}

export async function writeScaledFor(deps: RunbookDeps, region: string, table: string, primaryEpoch: number): Promise<void> {
  await call(region, () =>
    deps.clients.dynamodb(region).send(new PutItemCommand({ TableName: table, Item: { pk: s('scaled'), primaryEpoch: n(primaryEpoch) } })),
  );
}

/** A fence this region's database owes: its gate was superseded by `supersededBy`'s while it was the primary. */
export interface FenceRequest {
  readonly instanceIdentifier: string;
  readonly supersededBy: string;
  readonly requestedAt: string;
}

export async function readFenceRequest(deps: RunbookDeps, region: string, table: string): Promise<FenceRequest | undefined> {
  const item = await getItem(deps, region, table, 'fence');
  return item
    ? {
        instanceIdentifier: str(item, 'instanceIdentifier'),
        supersededBy: str(item, 'supersededBy'),
        requestedAt: str(item, 'requestedAt'),
      }
    : undefined;
}

export async function writeFenceRequest(
  deps: RunbookDeps,
  region: string,
  table: string,
  request: Omit<FenceRequest, 'requestedAt'>,
): Promise<void> {
  await call(region, () =>
    deps.clients.dynamodb(region).send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: s('fence'),
          instanceIdentifier: s(request.instanceIdentifier),
          supersededBy: s(request.supersededBy),
          requestedAt: s(deps.now().toISOString()),
        },
      }),
    ),
  );
}

export async function clearFenceRequest(deps: RunbookDeps, region: string, table: string): Promise<void> {
  await call(region, () => deps.clients.dynamodb(region).send(new DeleteItemCommand({ TableName: table, Key: { pk: s('fence') } })));
}

export async function readPrimary(deps: RunbookDeps, region: string, table: string): Promise<PrimaryItem | undefined> {
  const item = await getItem(deps, region, table, 'primary');
  return item
    ? {
        region: str(item, 'region'),
        instanceIdentifier: str(item, 'instanceIdentifier'),
        epoch: num(item, 'epoch'),
        updatedAt: str(item, 'updatedAt'),
      }
    : undefined;
}

export async function writePrimary(
  deps: RunbookDeps,
  region: string,
  table: string,
  primary: Omit<PrimaryItem, 'updatedAt'>,
): Promise<void> {
  await call(region, () =>
    deps.clients.dynamodb(region).send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: s('primary'),
          region: s(primary.region),
          instanceIdentifier: s(primary.instanceIdentifier),
          epoch: n(primary.epoch),
          updatedAt: s(deps.now().toISOString()),
        },
        ConditionExpression: 'attribute_not_exists(pk) OR epoch <= :epoch',
        ExpressionAttributeValues: { ':epoch': n(primary.epoch) },
      }),
    ),
  );
}
