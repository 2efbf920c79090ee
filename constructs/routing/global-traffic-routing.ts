import type { Duration } from 'aws-cdk-lib';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';
import { FailoverRecordChain } from './failover-record-chain';
import { LatencyRecords } from './latency-records';
import { RegionalHealthChecks, type RoutedRegion } from './regional-health-checks';
import { validateHostName, validateRegions } from './validation';
import { WriteGates } from './write-gates';

export interface GlobalTrafficRoutingProps {
  /** Public hosted zone of the platform's domain. */
  readonly zone: route53.IHostedZone;
  /** Regions in failover order: the first is the primary. */
  readonly regions: readonly RoutedRegion[];
  /** Prefix of health check names and alarm names, e.g. `mlp-tier1`. */
  readonly namePrefix: string;
  /** Time between two probes of each Route 53 health checker: 10 or 30 seconds. */
  readonly healthCheckInterval: Duration;
  /** Consecutive failed probes that take a region out of DNS answers: 1 to 10. */
  readonly healthCheckFailureThreshold: number;
  /** TTL of the read hosts' records. */
  readonly recordTtl: Duration;
  /**
   * TTL of the write hosts' records: how long a client keeps writing to where the name pointed.
   * @default `recordTtl`
   */
  readonly writeRecordTtl?: Duration;
  /** Names served by one region at a time, with failover in region order, e.g. `tracking`. */
  readonly writeHosts: readonly string[];
  /** Names served by every region, routed to the lowest-latency healthy one, e.g. `query`. */
  readonly readHosts: readonly string[];
  /**
   * The path of each region's API name that answers for its write gate. With it, a write host routes
   * to a region only while its gate is open (see `WriteGates`), and fails closed to `writeClosedTarget`.
   * @default - write hosts fail over on the HTTPS health checks alone
   */
  readonly writeGatePath?: string;
  /**
   * Where write hosts answer when no region may take writes. A name under `.invalid` (RFC 2606)
   * never resolves, so clients fail fast instead of writing to a region whose gate is closed.
   * @default 'write-gate-closed.invalid' when `writeGatePath` is given
   */
  readonly writeClosedTarget?: string;
}

/**
 * The platform's global DNS: a health check per region, failover records for the write hosts and
 * latency records for the read hosts, all pointing at the regions' `api.<code>.<zone>` names.
 */
export class GlobalTrafficRouting extends Construct {
  public readonly healthChecks: RegionalHealthChecks;
  /** By host name. */
  public readonly failover: ReadonlyMap<string, FailoverRecordChain>;
  /** By host name. */
  public readonly latency: ReadonlyMap<string, LatencyRecords>;
  /** The write gates, when `writeGatePath` is given. */
  public readonly writeGates?: WriteGates;

  constructor(scope: Construct, id: string, props: GlobalTrafficRoutingProps) {
    super(scope, id);
    const { writeHosts, readHosts } = props;
    validateRegions(this, props.regions);
    const seen = new Set<string>();
    for (const host of [...writeHosts, ...readHosts]) {
      validateHostName(this, host);
      if (seen.has(host)) {
        throw new ValidationError(`host name ${host} is listed twice; a name is either a write host or a read host, once`, this);
      }
      seen.add(host);
    }

    this.healthChecks = new RegionalHealthChecks(this, 'HealthChecks', {
      regions: props.regions,
      domain: props.zone.zoneName,
      namePrefix: props.namePrefix,
      requestInterval: props.healthCheckInterval,
      failureThreshold: props.healthCheckFailureThreshold,
    });
    const endpoints = this.healthChecks.endpoints;
    let writeEndpoints = endpoints;
    let closedTarget: string | undefined;
    if (props.writeGatePath) {
      this.writeGates = new WriteGates(this, 'WriteGates', { endpoints, path: props.writeGatePath, namePrefix: props.namePrefix });
      writeEndpoints = this.writeGates.writeEndpoints;
      closedTarget = props.writeClosedTarget ?? 'write-gate-closed.invalid';
    }

    const failover = new Map<string, FailoverRecordChain>();
    const writeScope = new Construct(this, 'Failover');
    for (const hostName of writeHosts) {
      failover.set(
        hostName,
        new FailoverRecordChain(writeScope, hostName, {
          zone: props.zone,
          hostName,
          endpoints: writeEndpoints,
          ttl: props.writeRecordTtl ?? props.recordTtl,
          closedTarget,
        }),
      );
    }
    const latency = new Map<string, LatencyRecords>();
    const readScope = new Construct(this, 'Latency');
    for (const hostName of readHosts) {
      latency.set(hostName, new LatencyRecords(readScope, hostName, { zone: props.zone, hostName, endpoints, ttl: props.recordTtl }));
    }
    this.failover = failover;
    this.latency = latency;
  }
}
