import { describe, expect, test } from 'vitest';
import { LayoutAssembly } from '../support/assembly';
import { LAYOUTS } from '../support/layouts';
import { readPins, statefulResourcesOf } from '../support/stateful-ids';

const pins = readPins();

describe.each(LAYOUTS)('stateful logical ids stay put: $id', ({ id }) => {
  const assembly = LayoutAssembly.of(id);
  const layoutPins = pins[id] ?? {};

  test('every pinned stack still exists', () => {
    expect(Object.keys(layoutPins).filter((stack) => !assembly.stackNames.includes(stack))).toEqual([]);
  });

  test.each(assembly.stackNames)('%s', (stackName) => {
    const pinned = layoutPins[stackName] ?? {};
    const current = statefulResourcesOf(assembly.template(stackName));
    const changed = Object.entries(pinned)
      .filter(([logicalId, type]) => current[logicalId] !== type)
      .map(([logicalId, type]) => `${logicalId} (${type}) is gone or changed type: renaming a stateful construct replaces the resource`);
    const unpinned = Object.keys(current)
      .filter((logicalId) => !(logicalId in pinned))
      .map((logicalId) => `${logicalId} (${current[logicalId]}) is not pinned: run npx tsx scripts/pin-stateful-ids.ts`);
    expect([...changed, ...unpinned]).toEqual([]);
  });
});
