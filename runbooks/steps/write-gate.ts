/** The write-gate endpoint: what Route 53's write-gate health check of this region asks. */
import type { RunbookDeps } from '../core/env';
import { gateServedOpen, readGate } from '../core/state-table';

/** What an Application Load Balancer expects back from a Lambda target (ELB User Guide, "Lambda functions as targets"). */
export interface LoadBalancerResponse {
  readonly statusCode: number;
  readonly statusDescription: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly isBase64Encoded: false;
}

const answer = (statusCode: 200 | 503, body: string): LoadBalancerResponse => ({
  statusCode,
  statusDescription: statusCode === 200 ? '200 OK' : '503 Service Unavailable',
  headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' },
  body,
  isBase64Encoded: false,
});

/**
 * 200 while this region's write gate is open and its lease was renewed recently enough
 * (`gateServedOpen`), 503 otherwise, also when the state table cannot be read: a gate fails closed.
 * It reads this region's own table only, so whether a region takes writes never depends on another
 * region answering; Route 53's checkers probe it every 10 s and a single 503 takes the region out of
 * the write records.
 */
export async function serveWriteGate(_request: unknown, deps: RunbookDeps): Promise<LoadBalancerResponse> {
  const { region, stateTable } = deps.env;
  const now = deps.now();
  const gate = await readGate(deps, region, stateTable).catch(() => undefined);
  if (gateServedOpen(gate, now)) return answer(200, `open: ${region} takes writes under epoch ${gate?.epoch} until ${gate?.openUntil}\n`);
  const why = !gate
    ? 'no gate recorded'
    : !gate.open
      ? `closed under epoch ${gate.epoch}`
      : `its lease was last renewed for until ${gate.openUntil ?? 'never'}`;
  return answer(503, `closed: ${region} takes no writes (${why})\n`);
}
