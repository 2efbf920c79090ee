import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** Run bin/platform.ts the way `cdk synth` does: context through CDK_CONTEXT_JSON. */
function runApp(context: Record<string, unknown>, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/platform.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify(context),
        CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'mlp-cli-')),
        ...env,
      },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('bin/platform.ts rejects bad context with one line and a non-zero exit', () => {
  test.concurrent.each([
    [{ tier: 'gold' }, 'Invalid context -c tier=gold: expected one of dev, tier1, tier2, tier3'],
    [
      { regions: 'us-east-1,us-east-1' },
      'Invalid context -c regions=us-east-1,us-east-1: the primary us-east-1 is listed again; each region may appear once',
    ],
    [{ backupVaultLock: 'yes' }, 'Invalid context -c backupVaultLock=yes: expected one of off, governance, compliance'],
    [{ account: 'abc' }, 'Invalid context -c account=abc: expected a 12-digit AWS account id'],
    [
      { hostedZoneId: 'nope' },
      'Invalid context -c hostedZoneId=nope: expected a Route 53 hosted zone id: Z followed by up to 31 upper-case letters or digits',
    ],
    [
      { regions: 'us-east-1,us-west-2', primaryRegion: 'eu-west-1' },
      'Invalid context -c primaryRegion=eu-west-1: the primary must be one of -c regions (us-east-1, us-west-2); a failover changes the primary, not the region list',
    ],
    [
      { rebuiltReplicas: 'us-east-1>us-west-2' },
      'Invalid context -c rebuiltReplicas=us-east-1>us-west-2: "us-east-1>us-west-2" is not <region>:<source region>; expected entries such as us-east-1:us-west-2, oldest first',
    ],
  ])('%j', async (context, message) => {
    const { code, stderr } = await runApp(context);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(message);
  });
});

describe('bin/platform.ts and CDK_DEFAULT_ACCOUNT', () => {
  test('a malformed CDK_DEFAULT_ACCOUNT is reported as the environment variable, not as -c account', async () => {
    const { code, stderr } = await runApp({}, { CDK_DEFAULT_ACCOUNT: 'abc' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      'Invalid environment CDK_DEFAULT_ACCOUNT=abc: expected a 12-digit AWS account id (read because -c account is not given)',
    );
  });
});
