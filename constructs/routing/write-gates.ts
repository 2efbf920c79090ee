import { Duration, Tags } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';
import {
  HEALTH_CHECK_INTERVALS_SECONDS,
  HTTPS_PORT,
  MAX_FAILURE_THRESHOLD,
  MIN_FAILURE_THRESHOLD,
  type RegionalEndpoint,
} from './regional-health-checks';

export interface WriteGatesProps {
  /** The regions' HTTPS endpoints and health checks. */
  readonly endpoints: readonly RegionalEndpoint[];
  /**
   * The path each region's API name answers for its own write gate: 2xx or 3xx while the region may
   * take writes, anything else (or nothing) while it may not.
   */
  readonly path: string;
  /**
   * Time between two probes of each Route 53 health checker: 10 or 30 seconds.
   * @default Duration.seconds(10), so an opened gate reaches DNS answers within about 10 s
   */
  readonly requestInterval?: Duration;
  /**
   * Consecutive results that flip a gate's status: 1 to 10.
   * @default 1: one closed answer takes the region out of the write records at once
   */
  readonly failureThreshold?: number;
  /** Prefix of the health checks' `Name` tags, e.g. `mlp-tier1`. */
  readonly namePrefix: string;
}

/**
 * Write gates in Route 53's data plane. Per region: an HTTPS health check of the region's write-gate
 * endpoint (`https://api.<code>.<domain><path>`), which the region itself serves from its own state
 * (open only while it holds the write lease, so a gate its region stops renewing closes by itself),
 * and the check the write records use: healthy only while the region's API check and its gate
 * check pass. Whether a region takes writes never depends on another region answering: no check reads
 * another region's endpoint or alarm, so a new primary becomes writable during the outage of the old.
 * That two regions never take writes at once is the lease's job (only one region holds it); the
 * failover chain also answers with one region at a time.
 *
 * A runbook opens or closes a gate in its own region's state table; nothing here is ever changed on
 * the recovery path (Route 53's control plane, in us-east-1, is not needed).
 */
export class WriteGates extends Construct {
  /** The endpoints with the write health check, in the order of `endpoints`. */
  public readonly writeEndpoints: readonly RegionalEndpoint[];
  /** By region name. */
  public readonly gateChecks: ReadonlyMap<string, route53.HealthCheck>;

  constructor(scope: Construct, id: string, props: WriteGatesProps) {
    super(scope, id);
    const interval = (props.requestInterval ?? Duration.seconds(10)).toSeconds({ integral: false });
    const threshold = props.failureThreshold ?? 1;
    if (!HEALTH_CHECK_INTERVALS_SECONDS.includes(interval)) {
      throw new ValidationError(
        `requestInterval must be 10 or 30 seconds (the only intervals Route 53 offers), got ${interval} seconds`,
        this,
      );
    }
    if (!Number.isInteger(threshold) || threshold < MIN_FAILURE_THRESHOLD || threshold > MAX_FAILURE_THRESHOLD) {
      throw new ValidationError(
        `failureThreshold must be an integer from ${MIN_FAILURE_THRESHOLD} to ${MAX_FAILURE_THRESHOLD}, got ${threshold}`,
        this,
      );
    }
    if (!/^\/[A-Za-z0-9._~/-]*$/.test(props.path))
      throw new ValidationError(`path must be an absolute URL path like /write-gate, got ${props.path}`, this);
    const gates = new Map<string, route53.HealthCheck>();
    this.writeEndpoints = props.endpoints.map((endpoint) => {
      const regionScope = new Construct(this, endpoint.region);
      const gate = new route53.HealthCheck(regionScope, 'GateOpen', {
        type: route53.HealthCheckType.HTTPS,
        fqdn: endpoint.domainName,
        port: HTTPS_PORT,
        enableSNI: true,
        resourcePath: props.path,
        requestInterval: Duration.seconds(interval),
        failureThreshold: threshold,
      });
      Tags.of(gate).add('Name', `${props.namePrefix}-gate-${endpoint.region}`);
      gates.set(endpoint.region, gate);
      const write = new route53.HealthCheck(regionScope, 'Writable', {
        type: route53.HealthCheckType.CALCULATED,
        childHealthChecks: [endpoint.healthCheck, gate],
        healthThreshold: 2,
      });
      Tags.of(write).add('Name', `${props.namePrefix}-writable-${endpoint.region}`);
      return { ...endpoint, healthCheck: write };
    });
    this.gateChecks = gates;
  }
}
