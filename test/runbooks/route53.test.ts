import { expect, test } from 'vitest';
import { DeployedAssembly } from '../../runbooks/local/deployed-assembly';
import { SimulatedRoute53 } from '../../runbooks/local/route53';
import { LayoutAssembly } from '../support/assembly';

const DOMAIN = 'ml-platform.example.com';
const USE1 = `api.use1.${DOMAIN}`;
const USW2 = `api.usw2.${DOMAIN}`;

/** tier1's global stack as synthesized, its endpoints answering as `state` says, on a clock the test moves. */
function route53() {
  const assembly = DeployedAssembly.fromDirectory(LayoutAssembly.of('tier1').directory);
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const state: Record<string, { up: boolean; gate: boolean }> = { [USE1]: { up: true, gate: true }, [USW2]: { up: true, gate: false } };
  const probed: string[] = [];
  const r53 = new SimulatedRoute53(
    assembly,
    async (fqdn, path) => {
      probed.push(`${fqdn}${path}`);
      const endpoint = state[fqdn];
      return endpoint?.up === true && (path === '/health' || (path === '/write-gate' && endpoint.gate));
    },
    () => new Date(clock),
  );
  return { r53, state, probed, advance: (s: number) => (clock += s * 1000) };
}

test('the write names answer with the region whose own gate endpoint answers open, and fail closed when none does', async () => {
  const { r53, state, advance } = route53();
  await r53.evaluate();
  expect(r53.resolve(`tracking.${DOMAIN}`)).toEqual({ target: USE1, ttl: 5 });
  // The primary's gate closes: one probe (failure threshold 1, every 10 s) takes it out.
  (state[USE1] as { gate: boolean }).gate = false;
  advance(9);
  await r53.evaluate();
  expect(r53.resolve(`tracking.${DOMAIN}`).target).toBe(USE1);
  advance(1);
  await r53.evaluate();
  expect(r53.resolve(`tracking.${DOMAIN}`).target).toBe('write-gate-closed.invalid');
  // The target's gate opens: within the next probe it takes the writes.
  (state[USW2] as { gate: boolean }).gate = true;
  advance(10);
  await r53.evaluate();
  expect(r53.resolve(`registry.${DOMAIN}`)).toEqual({ target: USW2, ttl: 5 });
});

test('a region whose API stops answering leaves the write records after three failed probes (the tier’s threshold), 10 s apart', async () => {
  const { r53, state, advance } = route53();
  await r53.evaluate();
  (state[USE1] as { up: boolean }).up = false;
  (state[USW2] as { gate: boolean }).gate = true;
  // Its gate check (threshold 1) fails at the first probe already: the write check needs both.
  advance(10);
  await r53.evaluate();
  expect(r53.resolve(`tracking.${DOMAIN}`).target).toBe(USW2);
  expect(r53.healthy(apiCheckId(r53, USE1))).toBe(true);
  advance(20);
  await r53.evaluate();
  expect(r53.healthy(apiCheckId(r53, USE1))).toBe(false);
});

test('probes only what the synthesized checks name: each region’s /health and /write-gate, nothing of the failover links', async () => {
  const { r53, probed } = route53();
  await r53.evaluate();
  expect([...new Set(probed)].sort()).toEqual([`${USE1}/health`, `${USE1}/write-gate`, `${USW2}/health`, `${USW2}/write-gate`]);
});

/** The id of the HTTPS check on `fqdn`'s /health, found by what it reports. */
function apiCheckId(r53: SimulatedRoute53, fqdn: string): string {
  const checks = (r53 as unknown as { checks: Map<string, { kind: string; fqdn?: string; path?: string }> }).checks;
  const entry = [...checks.entries()].find(([, c]) => c.kind === 'endpoint' && c.fqdn === fqdn && c.path === '/health');
  if (!entry) throw new Error(`no /health check of ${fqdn}`);
  return entry[0];
}
