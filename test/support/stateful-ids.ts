import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATEFUL_RESOURCE_TYPES } from '../../lib/aspects';
import type { CfnTemplate } from './assembly';

/** Pinned stateful resources: layout id -> stack name -> logical id -> CloudFormation type. */
export type StatefulPins = Record<string, Record<string, Record<string, string>>>;

export const PINS_FILE = join(import.meta.dirname, '..', 'gates', 'stateful-logical-ids.json');

export function readPins(): StatefulPins {
  return JSON.parse(readFileSync(PINS_FILE, 'utf8'));
}

/** Logical id -> type of every stateful resource in a template. */
export function statefulResourcesOf(template: CfnTemplate): Record<string, string> {
  return Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type in STATEFUL_RESOURCE_TYPES)
      .map(([logicalId, resource]) => [logicalId, resource.Type])
      .sort(([a], [b]) => (a as string).localeCompare(b as string)),
  );
}
