/**
 * The modelled timeline of a region failover of tier1 (us-east-1 -> us-west-2): the synthesized
 * RegionFailover runs locally over the simulated AWS control plane, whose operations take the
 * durations AWS documents (runbooks/local/fake-aws.ts, MODELLED_SECONDS), then the DNS tail.
 * Prints each step's modelled start and end, and the RTO against the objective and the seeds'
 * manual runbooks, from the decision and, for an unplanned failover, from the fault (detection and
 * the start, `runbooks/local/detection.ts`). Measured figures, on real servers, come from `npm run drill`.
 *
 *   npm run model:failover [-- planned|unplanned]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePlatformConfig } from '../lib/config';
import { buildPlatform } from '../lib/platform';
import { DeployedAssembly } from '../runbooks/local/deployed-assembly';
import { detectionLead } from '../runbooks/local/detection';
import { dnsTail } from '../runbooks/local/fake-aws';
import type { TaskRecord } from '../runbooks/local/local-runbooks';
import { SimulatedPlatform } from '../runbooks/local/simulated-platform';
import { scriptApp } from './support/app';

// The SDK warns that releases after January 2027 need Node 22; the versions here are pinned, and the warning buries the drill's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  const mode = process.argv[2] ?? 'unplanned';
  if (mode !== 'planned' && mode !== 'unplanned') {
    console.error(`model:failover: mode must be planned or unplanned, got ${mode}`);
    return 2;
  }
  const outdir = mkdtempSync(join(tmpdir(), 'mlp-model-'));
  try {
    const app = scriptApp(outdir);
    const config = resolvePlatformConfig({ tier: 'tier1', account: '111122223333' }).config;
    buildPlatform(app, config);
    app.synth();
    const platform = new SimulatedPlatform({ config, assembly: DeployedAssembly.fromDirectory(outdir) });
    const [HOME, TARGET] = [platform.primaryRegion, platform.defaultTarget];
    platform.heartbeats(120, mode === 'unplanned' ? 1 : 0);
    if (mode === 'unplanned') {
      platform.aws.unreachable.add(HOME);
      platform.db.unreachable.add(HOME);
    }
    const fault = platform.now();
    const tasks: TaskRecord[] = [];
    const result = await platform.run('mlp-tier1-region-failover', { mode, targetRegion: TARGET }, { onTask: (t) => tasks.push(t) });
    const at = (d: Date) => ((d.getTime() - fault.getTime()) / 1000).toFixed(0).padStart(5);
    console.log(
      `RegionFailover ${mode}, tier1 us-east-1 -> us-west-2 (modelled, virtual seconds from the decision): ${result.status}${result.cause ? ` (${result.cause})` : ''}`,
    );
    for (const t of tasks)
      console.log(`${at(t.start)} s -> ${at(t.end)} s  ${t.state}${t.outcome === 'failed' ? ` (${t.error}, retried)` : ''}`);
    const writable = tasks.find((t) => t.step === 'VerifyWrites' && t.outcome === 'succeeded')?.end;
    if (!writable) return 1;
    const runbookSeconds = (writable.getTime() - fault.getTime()) / 1000;
    let total = runbookSeconds;
    console.log(`\nfirst write acknowledged by the new primary: ${runbookSeconds.toFixed(0)} s from the decision`);
    for (const tail of dnsTail(platform.config.tier.routing.recordTtlSeconds)) {
      total += tail.seconds;
      console.log(`  + ${tail.seconds} s ${tail.what}`);
    }
    const minutes = (s: number) => `${s.toFixed(0)} s (${(s / 60).toFixed(1)} min)`;
    console.log(`modelled RTO for clients from the decision: ${minutes(total)}`);
    if (mode === 'unplanned') {
      console.log('\nbefore the decision, from the fault:');
      for (const lead of detectionLead(platform.assembly, config)) {
        total += lead.seconds;
        console.log(`  + ${lead.seconds} s ${lead.what} [${lead.source}]`);
      }
    }
    console.log(
      `modelled RTO for clients from the fault: ${minutes(total)}; objective 5 min (seed 003); manual runbooks 15-30 min (seed 003), 23 min (seed 004)`,
    );
    return 0;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

main().then((code) => {
  process.exitCode = code;
});
