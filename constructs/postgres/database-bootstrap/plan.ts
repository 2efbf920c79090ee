import { createHash } from 'node:crypto';
import type { BootstrapStatement } from '../../../runbooks/core/database-bootstrap';

/**
 * The plan as the custom resource carries it: every statement's fields, in order, as strings
 * (CloudFormation passes custom resource properties as strings).
 */
export type PlanProperty = readonly { readonly Database: string; readonly Sql: string; readonly Unless?: string }[];

export function toPlanProperty(plan: readonly BootstrapStatement[]): PlanProperty {
  return plan.map((s) => ({ Database: s.database, Sql: s.sql, ...(s.unless === undefined ? {} : { Unless: s.unless }) }));
}

export function fromPlanProperty(property: PlanProperty): BootstrapStatement[] {
  return property.map((s) => ({ database: s.Database, sql: s.Sql, ...(s.Unless === undefined ? {} : { unless: s.Unless }) }));
}

/** SHA-256 (hex) of the plan: changes with any statement, guard, database or their order. */
export function planSha256(plan: readonly BootstrapStatement[]): string {
  return createHash('sha256')
    .update(JSON.stringify(toPlanProperty(plan)))
    .digest('hex');
}
