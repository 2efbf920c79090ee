import type { Duration } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ValidationError } from '../private/validation-error';
import { DNS_LABEL_PATTERN } from './host-names';

/** Route 53's largest TTL (two days). */
export const MAX_RECORD_TTL_SECONDS = 172_800;

/** At least one region, each listed once by name (and by code, where one is given). */
export function validateRegions(scope: IConstruct, regions: readonly { readonly name: string; readonly code?: string }[]): void {
  if (regions.length === 0) {
    throw new ValidationError('regions must list at least one region', scope);
  }
  for (const key of ['name', 'code'] as const) {
    const seen = new Set<string>();
    for (const region of regions) {
      const value = region[key];
      if (value === undefined) continue;
      if (seen.has(value)) {
        throw new ValidationError(`region ${key} ${value} is listed twice; each region may appear once`, scope);
      }
      seen.add(value);
    }
  }
}

export function validateHostName(scope: IConstruct, hostName: string): void {
  if (!DNS_LABEL_PATTERN.test(hostName)) {
    throw new ValidationError(
      `host name "${hostName}" is not a DNS label: expected 1-63 lower-case letters, digits and inner hyphens`,
      scope,
    );
  }
}

export function validateTtl(scope: IConstruct, ttl: Duration): void {
  const seconds = ttl.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_RECORD_TTL_SECONDS) {
    throw new ValidationError(`ttl must be a whole number of seconds from 0 to ${MAX_RECORD_TTL_SECONDS}, got ${seconds}`, scope);
  }
}
