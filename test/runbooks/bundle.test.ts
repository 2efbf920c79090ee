import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { runbookBundleOptions } from '../../constructs/runbooks';

/**
 * The only test that bundles for real: the one bundle every runbook function deploys, built as the
 * resilience stack builds it (esbuild, minified, CommonJS, the AWS SDK left to the Lambda runtime).
 */
describe('the runbook bundle', () => {
  test('builds, stays under 250 KB minified and exports the handler', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'mlp-runbook-bundle-'));
    try {
      const outfile = join(outdir, 'index.js');
      const { metafile } = await build({ ...runbookBundleOptions(outfile), metafile: true });
      // Nothing of the rehearsal (its AGPL IAM evaluator included) reaches a Lambda function.
      const inputs = Object.keys(metafile.inputs);
      expect(inputs.filter((input) => /@cloud-copilot|runbooks\/(local|drill)\/|aws-sdk-client-mock/.test(input))).toEqual([]);
      const bytes = statSync(outfile).size;
      console.log(`runbook bundle: ${(bytes / 1024).toFixed(1)} KB minified`);
      expect(bytes).toBeLessThan(250 * 1024);
      const source = readFileSync(outfile, 'utf8');
      expect(source).toContain('handler');
      expect(source).not.toMatch(/require\("aws-cdk-lib/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
