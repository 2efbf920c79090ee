import type { DeployedAssembly, DeployedStack } from './deployed-assembly';

/**
 * Route 53's data plane for the records and health checks the synthesized stacks configure: endpoint
 * checks probed every `RequestInterval` seconds of the platform's clock, flipping after
 * `FailureThreshold` consecutive results the other way; calculated checks counting their healthy
 * children against `HealthThreshold`; `Inverted` applied last; failover records answering with the
 * PRIMARY while its check is healthy, else the SECONDARY while its own is, else the PRIMARY (both
 * unhealthy); CNAMEs followed inside the zone; each answer cached for its TTL by the client.
 *
 * Route 53 developer guide: "How Route 53 determines whether a health check is healthy" (interval,
 * threshold, calculated checks, inversion), "How health checks work in simple Amazon Route 53
 * configurations" / "Active-passive failover" (a PRIMARY and SECONDARY both unhealthy: Route 53
 * answers with the primary). What it does not model: the spread of health checkers (a check flips
 * when one evaluation sees `FailureThreshold` results, where Route 53 needs more than 18% of its
 * checkers to agree), and how soon answers follow a check (`MODELLED_SECONDS.route53Propagation`
 * counts it in the modelled RTO, not here).
 */
export interface EndpointProbe {
  /** Whether `https://<fqdn><path>` answers 2xx or 3xx within Route 53's timeouts now. */
  (fqdn: string, path: string): Promise<boolean>;
}

interface EndpointCheck {
  readonly kind: 'endpoint';
  readonly fqdn: string;
  readonly path: string;
  readonly interval: number;
  readonly threshold: number;
  readonly inverted: boolean;
  healthy: boolean;
  /** Results in a row that disagree with `healthy`. */
  against: number;
  /** Clock (ms) of the last probe. */
  probedAt: number;
}

interface CalculatedCheck {
  readonly kind: 'calculated';
  readonly children: readonly string[];
  readonly healthThreshold: number;
  readonly inverted: boolean;
}

interface FailoverRecord {
  readonly role: 'PRIMARY' | 'SECONDARY';
  readonly target: string;
  readonly ttl: number;
  readonly check?: string;
}

/** What a resolver gets for a name: the name it finally points at, and how long it may keep the answer. */
export interface Answer {
  readonly target: string;
  readonly ttl: number;
}

const withoutDot = (name: string) => name.replace(/\.$/, '');

export class SimulatedRoute53 {
  private readonly checks = new Map<string, EndpointCheck | CalculatedCheck>();
  private readonly records = new Map<string, FailoverRecord[]>();
  private started = false;

  constructor(
    assembly: DeployedAssembly,
    private readonly probe: EndpointProbe,
    private readonly now: () => Date,
  ) {
    for (const { stack, logicalId } of assembly.resourcesOfType('AWS::Route53::HealthCheck')) {
      this.checks.set(String(assembly.ref(stack, logicalId)), readCheck(assembly, stack, logicalId));
    }
    for (const { stack, logicalId } of assembly.resourcesOfType('AWS::Route53::RecordSet')) {
      const prop = (key: string) => assembly.property(stack, logicalId, key);
      const role = prop('Failover');
      if (role !== 'PRIMARY' && role !== 'SECONDARY') continue; // latency records: the read hosts
      if (prop('Type') !== 'CNAME') throw new Error(`the simulated Route 53 models failover CNAMEs only, ${logicalId} is ${prop('Type')}`);
      const name = withoutDot(String(prop('Name')));
      const check = prop('HealthCheckId');
      const list = this.records.get(name) ?? [];
      list.push({
        role,
        target: withoutDot(String((prop('ResourceRecords') as unknown[])[0])),
        ttl: Number(prop('TTL')),
        ...(check === undefined ? {} : { check: String(check) }),
      });
      this.records.set(name, list);
    }
  }

  /**
   * Bring every endpoint check up to the clock: each probe due since the last evaluation, answered
   * as the endpoints answer now (the state between two evaluations does not change, so no more than
   * `FailureThreshold` of them can matter). The first evaluation takes each check as settled.
   */
  async evaluate(): Promise<void> {
    const now = this.now().getTime();
    const endpoints = [...this.checks.values()].filter((c): c is EndpointCheck => c.kind === 'endpoint');
    await Promise.all(
      endpoints.map(async (check) => {
        const due = this.started ? Math.floor((now - check.probedAt) / (check.interval * 1000)) : check.threshold;
        if (due <= 0) return;
        const answered = await this.probe(check.fqdn, check.path).catch(() => false);
        check.probedAt = this.started ? check.probedAt + due * check.interval * 1000 : now;
        if (answered === check.healthy) {
          check.against = 0;
          return;
        }
        check.against = Math.min(check.threshold, check.against + due);
        if (check.against >= check.threshold) {
          check.healthy = answered;
          check.against = 0;
        }
      }),
    );
    this.started = true;
  }

  /** A check's status as the records see it (inversion applied). */
  healthy(id: string): boolean {
    const check = this.checks.get(id);
    if (!check) throw new Error(`no synthesized health check ${id}`);
    const raw =
      check.kind === 'endpoint' ? check.healthy : check.children.filter((child) => this.healthy(child)).length >= check.healthThreshold;
    return check.inverted ? !raw : raw;
  }

  /**
   * Resolve `name` through the zone's failover records as evaluated now: the name it ends at (outside
   * the zone's records) and the shortest TTL on the way (what a resolver keeps the answer for).
   */
  resolve(name: string): Answer {
    let current = withoutDot(name);
    let ttl = Number.POSITIVE_INFINITY;
    for (let hops = 0; hops < 32; hops++) {
      const records = this.records.get(current);
      if (!records) return { target: current, ttl: Number.isFinite(ttl) ? ttl : 0 };
      const primary = records.find((r) => r.role === 'PRIMARY');
      const secondary = records.find((r) => r.role === 'SECONDARY');
      if (!primary || !secondary) throw new Error(`${current} needs a PRIMARY and a SECONDARY failover record`);
      const ok = (record: FailoverRecord) => record.check === undefined || this.healthy(record.check);
      const chosen = ok(primary) ? primary : ok(secondary) ? secondary : primary;
      ttl = Math.min(ttl, chosen.ttl);
      current = chosen.target;
    }
    throw new Error(`${name}: the failover chain does not end`);
  }
}

function readCheck(assembly: DeployedAssembly, stack: DeployedStack, logicalId: string): EndpointCheck | CalculatedCheck {
  const config = assembly.property(stack, logicalId, 'HealthCheckConfig') as Record<string, unknown>;
  const inverted = config.Inverted === true || config.Inverted === 'true';
  switch (config.Type) {
    case 'HTTPS':
    case 'HTTP':
      return {
        kind: 'endpoint',
        fqdn: String(config.FullyQualifiedDomainName),
        path: String(config.ResourcePath ?? '/'),
        // Route 53's defaults: 30 s and three checks (API reference, HealthCheckConfig).
        interval: Number(config.RequestInterval ?? 30),
        threshold: Number(config.FailureThreshold ?? 3),
        inverted,
        healthy: true,
        against: 0,
        probedAt: 0,
      };
    case 'CALCULATED':
      return {
        kind: 'calculated',
        children: (config.ChildHealthChecks as unknown[]).map(String),
        healthThreshold: Number(config.HealthThreshold),
        inverted,
      };
    default:
      throw new Error(`the simulated Route 53 does not model ${String(config.Type)} health checks (${logicalId})`);
  }
}
