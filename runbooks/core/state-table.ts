import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
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
 * - `fence`: this region's database must be fenced (its gate was superseded), until that is done;
 * - `lease`: the write lease of the region holding the primary's gate, renewed every minute.
 * The lock and the lease span the tier: see `tier-lock.ts`.
 */
export interface LockItem {
  readonly owner: string;
  readonly epoch: number;
  readonly since: string;
}
export interface GateItem {
  readonly open: boolean;
  readonly epoch: number;
  /** When the gate was last opened or closed (a renewal leaves it). */
  readonly updatedAt: string;
  /**
   * Until when an open gate may be served as open (`WRITE_LEASE.gateValiditySeconds` after it was
   * opened or its lease last renewed in a quorum): a region that stops renewing closes by itself.
   */
  readonly openUntil?: string;
}

/** Whether a region's write gate is open at `now`: recorded open, and its lease renewed recently enough. */
export function gateServedOpen(gate: GateItem | undefined, now: Date): boolean {
  return gate?.open === true && gate.openUntil !== undefined && now.getTime() < Date.parse(gate.openUntil);
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

/** One kind of item: its key, and its other attributes, each a string or a number, in the order they are written. */
interface ItemKind<F extends Fields> {
  readonly pk: string;
  readonly fields: F;
}
type Fields = Readonly<Record<string, 'S' | 'N'>>;
type Typed<F extends Fields> = { readonly [K in keyof F]: F[K] extends 'N' ? number : string };

const LOCK = { pk: 'lock', fields: { owner: 'S', epoch: 'N', since: 'S' } } as const;
const LEASE = { pk: 'lease', fields: { region: 'S', epoch: 'N', renewedAt: 'S' } } as const;
const PROMOTION = {
  pk: 'promotion',
  fields: { region: 'S', instanceIdentifier: 'S', sourceRegion: 'S', sourceInstanceIdentifier: 'S', epoch: 'N' },
} as const;
const SCALED = { pk: 'scaled', fields: { primaryEpoch: 'N' } } as const;
const FENCE = { pk: 'fence', fields: { instanceIdentifier: 'S', supersededBy: 'S', requestedAt: 'S' } } as const;
const PRIMARY = { pk: 'primary', fields: { region: 'S', instanceIdentifier: 'S', epoch: 'N', updatedAt: 'S' } } as const;

/** The item of `kind` holding `value`'s fields (and no others). */
function toItem<F extends Fields>(kind: ItemKind<F>, value: Typed<F>): Item {
  const item: Item = { pk: s(kind.pk) };
  for (const [name, type] of Object.entries(kind.fields)) {
    const field = value[name] as string | number;
    item[name] = type === 'N' ? n(field as number) : s(field as string);
  }
  return item;
}

/** An item's fields of `kind`: a missing string reads as '', a missing number as 0. */
function fromItem<F extends Fields>(kind: ItemKind<F>, item: Item): Typed<F> {
  return Object.fromEntries(
    Object.entries(kind.fields).map(([name, type]) => [name, type === 'N' ? num(item, name) : str(item, name)]),
  ) as Typed<F>;
}

/** The item of `kind` in `region`'s table, if there is one. */
async function readItem<F extends Fields>(
  deps: RunbookDeps,
  region: string,
  table: string,
  kind: ItemKind<F>,
): Promise<Typed<F> | undefined> {
  const item = await getItem(deps, region, table, kind.pk);
  return item ? fromItem(kind, item) : undefined;
}

/** What a conditional write adds to its PutItem. */
type Condition = Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>;

/** Put the item of `kind` in `region`'s table; a condition that does not hold throws. */
async function writeItem<F extends Fields>(
  deps: RunbookDeps,
  region: string,
  table: string,
  kind: ItemKind<F>,
  value: Typed<F>,
  condition: Condition = {},
): Promise<void> {
  await call(region, () =>
    deps.clients.dynamodb(region).send(new PutItemCommand({ TableName: table, Item: toItem(kind, value), ...condition })),
  );
}

/** A conditional PutItem in `region`'s table: whether its condition held (DynamoDB refused it on the condition otherwise). */
async function putIf(deps: RunbookDeps, region: string, input: PutItemCommandInput): Promise<boolean> {
  try {
    await call(region, () => deps.clients.dynamodb(region).send(new PutItemCommand(input)));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

export async function readLock(deps: RunbookDeps, region: string, table: string): Promise<LockItem | undefined> {
  return readItem(deps, region, table, LOCK);
}

/** This table's epoch counter: the newest epoch a lock was taken under here. */
export async function readEpochCounter(deps: RunbookDeps, region: string, table: string): Promise<number> {
  const item = await getItem(deps, region, table, 'epoch');
  return item ? num(item, 'value') : 0;
}

/**
 * Claim this table's lock for `owner` under `epoch`: the lock item if it is free, held by
 * `staleOwner` (an execution no longer running) or already by `owner`, then the epoch counter if
 * it is below `epoch`. Both writes are conditional, so of two executions racing for one table
 * exactly one claims it. Returns false when another execution claimed it first (nothing of this
 * execution's is left in the table then).
 */
export async function claimLock(
  deps: RunbookDeps,
  region: string,
  table: string,
  owner: string,
  epoch: number,
  staleOwner?: string,
): Promise<boolean> {
  const client = deps.clients.dynamodb(region);
  const claimed = await putIf(deps, region, {
    TableName: table,
    Item: toItem(LOCK, { owner, epoch, since: deps.now().toISOString() }),
    ConditionExpression: staleOwner ? 'attribute_not_exists(pk) OR #o = :stale OR #o = :me' : 'attribute_not_exists(pk) OR #o = :me',
    ExpressionAttributeNames: { '#o': 'owner' },
    ExpressionAttributeValues: staleOwner ? { ':stale': s(staleOwner), ':me': s(owner) } : { ':me': s(owner) },
  });
  if (!claimed) return false;
  try {
    await call(region, () =>
      client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: s('epoch') },
          UpdateExpression: 'SET #v = :epoch',
          ConditionExpression: 'attribute_not_exists(pk) OR #v < :epoch',
          ExpressionAttributeNames: { '#v': 'value' },
          ExpressionAttributeValues: { ':epoch': n(epoch) },
        }),
      ),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // Another execution counted this epoch here first: give the table back.
    await releaseLock(deps, region, table, owner);
    return false;
  }
  return true;
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

/**
 * The write lease in one table: the region holding the primary's write gate renews it every minute
 * under its gate's epoch; an unplanned failover revokes it under its own, newer epoch.
 */
export interface LeaseItem {
  readonly region: string;
  readonly epoch: number;
  readonly renewedAt: string;
  /** On a revocation: the lease it replaced in this table, as it stood when it was replaced. */
  readonly revoked?: { readonly region: string; readonly renewedAt: string };
}

export async function readLease(deps: RunbookDeps, region: string, table: string): Promise<LeaseItem | undefined> {
  const item = await getItem(deps, region, table, LEASE.pk);
  if (!item) return undefined;
  const lease = fromItem(LEASE, item);
  return item.revokedRegion?.S && item.revokedRenewedAt?.S
    ? { ...lease, revoked: { region: item.revokedRegion.S, renewedAt: item.revokedRenewedAt.S } }
    : lease;
}

/**
 * Revoke the lease in one table for `holder` under `epoch`, keeping what it replaces: lands only if
 * the table still holds `seen` (the lease as last read; nothing when there was none), so the renewal
 * it records is the last one this table took before the revocation. Returns false when the table
 * changed since it was read (read it again), or `seen` does not give way to `epoch`.
 */
export async function writeRevocation(
  deps: RunbookDeps,
  region: string,
  table: string,
  holder: string,
  epoch: number,
  seen: LeaseItem | undefined,
): Promise<boolean> {
  if (seen && seen.epoch >= epoch) return false;
  return putIf(deps, region, {
    TableName: table,
    Item: {
      ...toItem(LEASE, { region: holder, epoch, renewedAt: deps.now().toISOString() }),
      ...(seen ? { revokedRegion: s(seen.region), revokedRenewedAt: s(seen.renewedAt) } : {}),
    },
    ...(seen
      ? {
          ConditionExpression: '(epoch = :seenEpoch AND renewedAt = :seenAt AND #r = :seenRegion)',
          ExpressionAttributeNames: { '#r': 'region' },
          ExpressionAttributeValues: { ':seenEpoch': n(seen.epoch), ':seenAt': s(seen.renewedAt), ':seenRegion': s(seen.region) },
        }
      : { ConditionExpression: 'attribute_not_exists(pk)' }),
  });
}

/**
 * Write the lease in one table for `holder` under `epoch`: lands if the table's lease is older, or
 * the holder's own under the same epoch. Returns false when a newer epoch (or another region under
 * the same one) holds it.
 */
export async function writeLease(deps: RunbookDeps, region: string, table: string, holder: string, epoch: number): Promise<boolean> {
  return putIf(deps, region, {
    TableName: table,
    Item: toItem(LEASE, { region: holder, epoch, renewedAt: deps.now().toISOString() }),
    ConditionExpression: 'attribute_not_exists(pk) OR epoch < :epoch OR (epoch = :epoch AND #r = :holder)',
    ExpressionAttributeNames: { '#r': 'region' },
    ExpressionAttributeValues: { ':epoch': n(epoch), ':holder': s(holder) },
  });
}

export async function readGate(deps: RunbookDeps, region: string, table: string): Promise<GateItem | undefined> {
  const item = await getItem(deps, region, table, 'gate');
  if (!item) return undefined;
  const openUntil = item.openUntil?.S;
  return {
    open: item.open?.BOOL === true,
    epoch: num(item, 'epoch'),
    updatedAt: str(item, 'updatedAt'),
    ...(openUntil ? { openUntil } : {}),
  };
}

/**
 * Record a region's gate. Only a change carrying an epoch at least as new as the recorded one
 * lands, so a delayed step of an older execution cannot reopen or close what a newer one decided.
 */
export async function writeGate(
  deps: RunbookDeps,
  region: string,
  table: string,
  open: boolean,
  epoch: number,
  openUntil?: Date,
): Promise<void> {
  const landed = await putIf(deps, region, {
    TableName: table,
    Item: {
      pk: s('gate'),
      open: { BOOL: open },
      epoch: n(epoch),
      updatedAt: s(deps.now().toISOString()),
      ...(open && openUntil ? { openUntil: s(openUntil.toISOString()) } : {}),
    },
    ConditionExpression: 'attribute_not_exists(pk) OR epoch <= :epoch',
    ExpressionAttributeValues: { ':epoch': n(epoch) },
  });
  if (!landed) fail(ERROR.staleEpoch, `the gate of ${region} was set under a newer epoch than ${epoch}`);
}

/**
 * Keep an open gate open until `openUntil`, after its lease was renewed in a quorum: only while the
 * gate is still the one read (open, same epoch, same opening), so a gate closed or reopened meanwhile
 * is left as it is. Returns whether it was extended.
 */
export async function extendGate(deps: RunbookDeps, region: string, table: string, gate: GateItem, openUntil: Date): Promise<boolean> {
  return putIf(deps, region, {
    TableName: table,
    Item: {
      pk: s('gate'),
      open: { BOOL: true },
      epoch: n(gate.epoch),
      updatedAt: s(gate.updatedAt),
      openUntil: s(openUntil.toISOString()),
    },
    ConditionExpression: '#open = :open AND epoch = :epoch AND updatedAt = :updatedAt',
    ExpressionAttributeNames: { '#open': 'open' },
    ExpressionAttributeValues: { ':open': { BOOL: true }, ':epoch': n(gate.epoch), ':updatedAt': s(gate.updatedAt) },
  });
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
  return readItem(deps, region, table, PROMOTION);
}

export async function writePromotion(deps: RunbookDeps, region: string, table: string, promotion: PromotionItem): Promise<void> {
  await writeItem(deps, region, table, PROMOTION, promotion);
}

/** The primary epoch whose scaling is done, so a re-run never scales twice. */
export async function readScaledFor(deps: RunbookDeps, region: string, table: string): Promise<number | undefined> {
  return (await readItem(deps, region, table, SCALED))?.primaryEpoch;
}

export async function writeScaledFor(deps: RunbookDeps, region: string, table: string, primaryEpoch: number): Promise<void> {
  await writeItem(deps, region, table, SCALED, { primaryEpoch });
}

/** A fence this region's database owes: its gate was superseded by `supersededBy`'s while it was the primary. */
export interface FenceRequest {
  readonly instanceIdentifier: string;
  readonly supersededBy: string;
  readonly requestedAt: string;
}

export async function readFenceRequest(deps: RunbookDeps, region: string, table: string): Promise<FenceRequest | undefined> {
  return readItem(deps, region, table, FENCE);
}

export async function writeFenceRequest(
  deps: RunbookDeps,
  region: string,
  table: string,
  request: Omit<FenceRequest, 'requestedAt'>,
): Promise<void> {
  await writeItem(deps, region, table, FENCE, { ...request, requestedAt: deps.now().toISOString() });
}

export async function clearFenceRequest(deps: RunbookDeps, region: string, table: string): Promise<void> {
  await call(region, () => deps.clients.dynamodb(region).send(new DeleteItemCommand({ TableName: table, Key: { pk: s('fence') } })));
}

export async function readPrimary(deps: RunbookDeps, region: string, table: string): Promise<PrimaryItem | undefined> {
  return readItem(deps, region, table, PRIMARY);
}

export async function writePrimary(
  deps: RunbookDeps,
  region: string,
  table: string,
  primary: Omit<PrimaryItem, 'updatedAt'>,
): Promise<void> {
  await writeItem(
    deps,
    region,
    table,
    PRIMARY,
    { ...primary, updatedAt: deps.now().toISOString() },
    { ConditionExpression: 'attribute_not_exists(pk) OR epoch <= :epoch', ExpressionAttributeValues: { ':epoch': n(primary.epoch) } },
  );
}
