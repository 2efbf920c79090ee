/**
 * Pins the logical ids of new stateful resources in test/gates/stateful-logical-ids.json.
 *
 * It only ever adds: an id that disappeared stays pinned, so the test keeps failing until the
 * construct id is restored (renaming a stateful construct replaces the resource and loses its data).
 *
 *   npx tsx scripts/pin-stateful-ids.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnTemplate } from '../test/support/assembly';
import { LAYOUTS } from '../test/support/layouts';
import { PINS_FILE, readPins, type StatefulPins, statefulResourcesOf } from '../test/support/stateful-ids';
import { synthLayout } from '../test/support/synth';

let pins: StatefulPins = {};
try {
  pins = readPins();
} catch {
  pins = {};
}
const root = mkdtempSync(join(tmpdir(), 'mlp-pins-'));
let added = 0;
for (const layout of LAYOUTS) {
  const platform = synthLayout(layout, join(root, layout.id));
  const layoutPins = pins[layout.id] ?? {};
  pins[layout.id] = layoutPins;
  const stacks = [
    ...[...platform.regions.values()].flatMap((region) => Object.values(region)),
    platform.global,
    ...(platform.witness ? [platform.witness] : []),
  ];
  for (const stack of stacks) {
    const current = statefulResourcesOf(Template.fromStack(stack).toJSON() as CfnTemplate);
    const stackPins = layoutPins[stack.stackName] ?? {};
    layoutPins[stack.stackName] = stackPins;
    for (const [logicalId, type] of Object.entries(current)) {
      if (!(logicalId in stackPins)) {
        stackPins[logicalId] = type;
        added++;
      }
    }
  }
}
rmSync(root, { recursive: true, force: true });
writeFileSync(PINS_FILE, `${JSON.stringify(pins, null, 2)}\n`);
console.log(`pinned ${added} new stateful logical id(s) in ${PINS_FILE}`);
