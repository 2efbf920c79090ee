import { describe, expect, test } from 'vitest';
import { type CfnTemplate, LayoutAssembly } from '../support/assembly';
import { LAYOUTS } from '../support/layouts';

/** Asset hashes change with every aws-cdk-lib release and handler rebuild; they are not a design change. */
function normaliseAssetHashes(template: CfnTemplate): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}/g, '<asset-hash>'));
}

// A supplement to the fine-grained tests: it shows every template change in review.
describe('snapshots per tier preset', () => {
  test.each(LAYOUTS.filter((l) => !l.regions && !l.context))('$id', async ({ id }) => {
    const assembly = LayoutAssembly.of(id);
    const templates = Object.fromEntries(assembly.stackNames.map((name) => [name, normaliseAssetHashes(assembly.template(name))]));
    await expect(`${JSON.stringify(templates, null, 1)}\n`).toMatchFileSnapshot(`__snapshots__/${id}.templates.json`);
  });
});
