import { fullDiff, type ResourceDifference, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { STATEFUL_RESOURCE_TYPES } from '../aspects';
import { DATABASE_TAG } from '../config/naming';

/** A CloudFormation template, as far as the check reads it. */
export interface TemplateLike {
  readonly Resources?: Record<string, ResourceLike>;
  readonly [key: string]: unknown;
}

interface ResourceLike {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly [key: string]: unknown;
}

/** Templates of one synthesized layout, by stack name. */
export type StackTemplates = Readonly<Record<string, TemplateLike>>;

/**
 * Resource types whose loss loses data or identity: the guarded types of the stateful-resource
 * aspect, and the EKS cluster (its workloads, volumes and access entries hang off it).
 */
export const CHANGE_SAFETY_TYPES: ReadonlySet<string> = new Set([...Object.keys(STATEFUL_RESOURCE_TYPES), 'AWS::EKS::Cluster']);

export type FindingKind =
  | 'replacement' // the resource would be replaced (or may be)
  | 'destruction' // removed, and deleted
  | 'orphaning' // removed, and left running outside any stack
  | 'duplicate-primary' // a new database that is not a replica, where the stack already holds one
  | 'promotion' // a replica losing SourceDBInstanceIdentifier: promoted in place
  | 'derived-copy-removed' // an in-region read replica removed: it held only a copy
  | 'retired' // a database generation named in -c retiredDatabases leaves its stack, as asked
  | 'log-group-left-to-expire' // a retained log group with a retention leaves its stack: its data expires as it would have
  | 'detached-from-global' // an Aurora cluster leaving (or changing) its global database
  | 'stack-left-out'; // a stack no longer in the app: `cdk deploy` leaves it alone

/** One stateful change the check found. */
export interface ChangeFinding {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly kind: FindingKind;
  /** True when the change must not be deployed. */
  readonly error: boolean;
  /** The properties behind a replacement, or what was added or removed. */
  readonly properties: readonly string[];
  readonly message: string;
}

export interface ChangeSafetyOptions {
  /**
   * Database generations whose removal is intended (`-c retiredDatabases` of the new layout): their
   * resources, recognised by the `mlp:database` tag, may leave their stack (retained, unmanaged).
   * @default - none
   */
  readonly retiredDatabases?: readonly string[];
}

export interface ChangeSafetyReport {
  readonly findings: readonly ChangeFinding[];
  readonly errors: readonly ChangeFinding[];
}

/**
 * The per-resource change impact between two synthesized layouts, computed offline with
 * `@aws-cdk/cloudformation-diff`, with the platform's rules on top. It fails closed: anything that
 * would replace, destroy or orphan a stateful resource is an error, and so is a new database that
 * is not a replica in a stack that already holds one (two primaries). What the diff cannot tell
 * apart is settled by rules:
 * - `MAY_REPLACE` from removing `SourceDBInstanceIdentifier` alone is a promotion in place;
 * - removing an RDS instance whose source is an instance of the same template (an in-region read
 *   replica, which holds only a copy) is allowed;
 * - a retained log group with a retention may leave its stack (a removed region's replication
 *   flow): it keeps its events for their retention, then empties itself, as it would have;
 * - the resources of a database generation named in `retiredDatabases` may leave their stack.
 */
export function checkChangeSafety(before: StackTemplates, after: StackTemplates, options: ChangeSafetyOptions = {}): ChangeSafetyReport {
  const retired = new Set(options.retiredDatabases ?? []);
  const findings: ChangeFinding[] = [];
  for (const stack of Object.keys(before)) {
    if (!(stack in after)) {
      findings.push({
        stack,
        logicalId: '*',
        type: 'AWS::CloudFormation::Stack',
        kind: 'stack-left-out',
        error: false,
        properties: [],
        message: `${stack} is no longer in the app: cdk deploy leaves it as it is (its stateful resources are retained even by cdk destroy)`,
      });
    }
  }
  for (const [stack, newTemplate] of Object.entries(after)) {
    const oldTemplate = before[stack] ?? { Resources: {} };
    findings.push(...checkStack(stack, oldTemplate, newTemplate, retired));
  }
  findings.sort((a, b) => a.stack.localeCompare(b.stack) || a.logicalId.localeCompare(b.logicalId));
  return { findings, errors: findings.filter((f) => f.error) };
}

function checkStack(stack: string, oldTemplate: TemplateLike, newTemplate: TemplateLike, retired: ReadonlySet<string>): ChangeFinding[] {
  const findings: ChangeFinding[] = [];
  const oldResources = oldTemplate.Resources ?? {};
  const diff = fullDiff(oldTemplate as never, newTemplate as never);
  const finding = (logicalId: string, type: string, kind: FindingKind, error: boolean, properties: string[], detail: string) =>
    findings.push({ stack, logicalId, type, kind, error, properties, message: `${stack} ${logicalId} (${type}): ${detail}` });

  diff.resources.forEachDifference((logicalId: string, change: ResourceDifference) => {
    const type = change.newResourceType ?? change.oldResourceType ?? 'unknown';
    if (!CHANGE_SAFETY_TYPES.has(type)) return;
    if (change.isRemoval) {
      const old = oldResources[logicalId] as ResourceLike;
      const database = tagValue(old, DATABASE_TAG);
      if (database !== undefined && retired.has(database)) {
        finding(
          logicalId,
          type,
          'retired',
          false,
          [],
          `leaves the stack with the retired database ${database}; retained, delete it by hand once reconciled`,
        );
      } else if (type === 'AWS::Logs::LogGroup' && old.DeletionPolicy === 'Retain' && old.Properties?.RetentionInDays !== undefined) {
        finding(
          logicalId,
          type,
          'log-group-left-to-expire',
          false,
          [],
          `leaves the stack, retained: its events expire after ${old.Properties.RetentionInDays} days as they would have`,
        );
      } else if (type === 'AWS::RDS::DBInstance' && inCluster(old)) {
        finding(
          logicalId,
          type,
          'derived-copy-removed',
          false,
          [],
          "an Aurora instance is removed; the data is its cluster's volume, which stays",
        );
      } else if (isInRegionReplica(old, oldResources)) {
        finding(
          logicalId,
          type,
          'derived-copy-removed',
          false,
          [],
          'an in-region read replica is removed; it holds only a copy of its source',
        );
      } else if (old.DeletionPolicy === 'Retain' || old.DeletionPolicy === 'RetainExceptOnCreate') {
        finding(logicalId, type, 'orphaning', true, [], 'would be removed from the stack and left running, orphaned and unmanaged');
      } else {
        finding(logicalId, type, 'destruction', true, [], `would be deleted (DeletionPolicy ${old.DeletionPolicy ?? 'Delete'})`);
      }
      return;
    }
    if (change.isAddition) {
      if (type === 'AWS::RDS::DBInstance' && !hasSource(change.newValue as ResourceLike) && !inCluster(change.newValue as ResourceLike)) {
        const existing = Object.entries(oldResources)
          .filter(([, r]) => r.Type === 'AWS::RDS::DBInstance')
          .map(([id]) => id);
        if (existing.length > 0) {
          finding(
            logicalId,
            type,
            'duplicate-primary',
            true,
            [],
            `a new database that is not a replica, beside ${existing.join(', ')} in the same stack: a second primary`,
          );
        }
      }
      return;
    }
    // CloudFormation detaches a cluster whose GlobalClusterIdentifier is emptied, and replaces one given
    // another (the RDS resource provider's ImmutabilityHelper); the specification the diff reads calls both updates.
    const globalUpdate = type === 'AWS::RDS::DBCluster' ? change.propertyUpdates.GlobalClusterIdentifier : undefined;
    if (globalUpdate && globalUpdate.oldValue !== undefined) {
      finding(
        logicalId,
        type,
        'detached-from-global',
        true,
        ['GlobalClusterIdentifier'],
        globalUpdate.newValue === undefined || globalUpdate.newValue === ''
          ? 'would leave its Aurora global database: a standalone cluster no failover can reach'
          : 'would move to another global database, which replaces the cluster',
      );
      return;
    }
    const replacing = Object.entries(change.propertyUpdates)
      .filter(([, update]) => update.changeImpact === ResourceImpact.WILL_REPLACE || update.changeImpact === ResourceImpact.MAY_REPLACE)
      .map(([property]) => property);
    const replaced = change.changeImpact === ResourceImpact.WILL_REPLACE || change.changeImpact === ResourceImpact.MAY_REPLACE;
    if (!replaced && replacing.length === 0) return;
    if (type === 'AWS::RDS::DBInstance' && isPromotion(change, replacing)) {
      finding(
        logicalId,
        type,
        'promotion',
        false,
        ['SourceDBInstanceIdentifier'],
        'SourceDBInstanceIdentifier is removed: CloudFormation promotes the replica in place',
      );
      return;
    }
    const cause = replacing.length > 0 ? replacing : ['(resource type or an attribute)'];
    finding(logicalId, type, 'replacement', true, cause, `would be replaced, losing its data, because ${cause.join(', ')} changed`);
  });
  return findings;
}

/** A replica losing its source and nothing else that replaces: RDS promotes it in place. */
function isPromotion(change: ResourceDifference, replacing: readonly string[]): boolean {
  if (replacing.length !== 1 || replacing[0] !== 'SourceDBInstanceIdentifier') return false;
  const update = change.propertyUpdates.SourceDBInstanceIdentifier;
  return update?.oldValue !== undefined && update.newValue === undefined;
}

function tagValue(resource: ResourceLike, key: string): string | undefined {
  const tags = resource.Properties?.Tags;
  if (!Array.isArray(tags)) return undefined;
  const tag = tags.find((t: { Key?: unknown }) => t?.Key === key) as { Value?: unknown } | undefined;
  return typeof tag?.Value === 'string' ? tag.Value : undefined;
}

/** An Aurora instance: compute over its cluster's volume, never a database of its own. */
function inCluster(resource: ResourceLike | undefined): boolean {
  return resource?.Properties?.DBClusterIdentifier !== undefined;
}

function hasSource(resource: ResourceLike | undefined): boolean {
  return resource?.Properties?.SourceDBInstanceIdentifier !== undefined;
}

/** An RDS instance whose source is another instance of the same template. */
function isInRegionReplica(resource: ResourceLike, resources: Record<string, ResourceLike>): boolean {
  if (resource.Type !== 'AWS::RDS::DBInstance' || !hasSource(resource)) return false;
  const referenced = referencedLogicalIds(resource.Properties?.SourceDBInstanceIdentifier);
  return referenced.some((id) => resources[id]?.Type === 'AWS::RDS::DBInstance');
}

function referencedLogicalIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedLogicalIds);
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (typeof object.Ref === 'string') return [object.Ref];
    if (Array.isArray(object['Fn::GetAtt'])) return [String(object['Fn::GetAtt'][0])];
    return Object.values(object).flatMap(referencedLogicalIds);
  }
  return [];
}

/** One line per finding, errors first. */
export function formatChangeSafetyReport(report: ChangeSafetyReport): string {
  const ordered = [...report.findings].sort((a, b) => Number(b.error) - Number(a.error));
  const lines = ordered.map((f) => `${f.error ? 'ERROR' : 'ok   '} ${f.kind.padEnd(20)} ${f.message}`);
  lines.push(
    report.errors.length === 0
      ? `change-safety: no stateful resource is replaced, destroyed or orphaned (${report.findings.length} finding(s) allowed)`
      : `change-safety: ${report.errors.length} unsafe change(s); do not deploy`,
  );
  return lines.join('\n');
}
