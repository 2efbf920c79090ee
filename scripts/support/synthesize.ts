import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlatformConfig } from '../../lib/config';
import { buildPlatform } from '../../lib/platform';
import { DeployedAssembly } from '../../runbooks/local/deployed-assembly';
import { scriptApp } from './app';

/** Synthesize a deployment, every stack of every region, as `cdk synth` would for its context; read back resolved. */
export function synthesizeDeployment(config: PlatformConfig): DeployedAssembly {
  const outdir = mkdtempSync(join(tmpdir(), 'mlp-synth-'));
  try {
    const app = scriptApp(outdir);
    buildPlatform(app, config);
    app.synth();
    return DeployedAssembly.fromDirectory(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
