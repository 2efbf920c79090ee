/**
 * Times `cdk synth` into a fresh (cold) output directory, several runs per case, and prints median
 * and minimum wall time. Each case runs twice: as users run it, and with Lambda bundling and the
 * built-in CloudFormation validation off (the floor), so the cost of the checks is visible.
 *
 *   npm run bench:synth            # 5 runs per case
 *   BENCH_RUNS=3 npm run bench:synth
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CDK = join(import.meta.dirname, '..', 'node_modules', '.bin', 'cdk');

const CASES: { name: string; args: string[] }[] = [
  { name: 'default (tier1, 2 regions)', args: [] },
  { name: 'tier3 x 5 regions', args: ['-c', 'tier=tier3', '-c', 'regions=us-east-1,us-west-2,eu-west-1,ap-southeast-2,eu-central-1'] },
];
const MODES: { name: string; env: Record<string, string> }[] = [
  { name: 'full', env: {} },
  { name: 'floor', env: { CDK_VALIDATION: 'false', MLP_SKIP_BUNDLING: '1' } },
];

function timeOnce(args: string[], env: Record<string, string>): number {
  const outdir = mkdtempSync(join(tmpdir(), 'mlp-bench-'));
  const started = process.hrtime.bigint();
  const result = spawnSync(CDK, ['synth', '--quiet', '-o', outdir, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(outdir, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`cdk synth ${args.join(' ')} failed:\n${result.stderr}`);
  return seconds;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

console.log(`cdk synth, cold output directory, ${RUNS} runs per row\n`);
console.log('case                          mode    median    min');
for (const c of CASES) {
  const medians: Record<string, number> = {};
  for (const mode of MODES) {
    const times = Array.from({ length: RUNS }, () => timeOnce(c.args, mode.env));
    medians[mode.name] = median(times);
    console.log(
      `${c.name.padEnd(30)}${mode.name.padEnd(8)}${median(times).toFixed(2).padStart(6)} s${Math.min(...times)
        .toFixed(2)
        .padStart(7)} s`,
    );
  }
  console.log(`${''.padEnd(30)}full / floor = ${((medians.full ?? 0) / (medians.floor ?? 1)).toFixed(2)}\n`);
}
