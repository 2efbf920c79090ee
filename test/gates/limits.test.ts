import { describe, expect, test } from 'vitest';
import { LayoutAssembly } from '../support/assembly';
import { LAYOUTS } from '../support/layouts';

/** CloudFormation allows 500 resources and 1 MB per template; we keep 20 % headroom. */
const MAX_RESOURCES = 400;
const MAX_TEMPLATE_BYTES = 800 * 1024;

describe.each(LAYOUTS)('CloudFormation limits with headroom: $id', ({ id }) => {
  const assembly = LayoutAssembly.of(id);
  test.each(assembly.stackNames)('%s', (stackName) => {
    expect(Object.keys(assembly.template(stackName).Resources).length).toBeLessThanOrEqual(MAX_RESOURCES);
    expect(Buffer.byteLength(assembly.templateText(stackName))).toBeLessThanOrEqual(MAX_TEMPLATE_BYTES);
  });
});
