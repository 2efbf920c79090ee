import { Tags } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';
import type { RegionalEndpoint } from './regional-health-checks';

/** Where a region's write-gate alarm lives: in ALARM while the gate is closed. */
export interface WriteGateAlarm {
  readonly region: string;
  readonly alarmName: string;
}

export interface WriteGatesProps {
  /** The regions' HTTPS endpoints and health checks. */
  readonly endpoints: readonly RegionalEndpoint[];
  /** Each region's gate alarm; one per endpoint. */
  readonly alarms: readonly WriteGateAlarm[];
  /** Prefix of the health checks' `Name` tags, e.g. `mlp-tier1`. */
  readonly namePrefix: string;
}

/**
 * Write gates in Route 53's data plane. Per region: a health check that follows the region's gate
 * alarm (healthy only while the runbook's gate is open), the same check inverted, and the check the
 * write records use: healthy only while the region's HTTPS check passes, its gate is open and
 * every other region's gate is closed. So writes reach a region only when a runbook opened its gate
 * after promoting its database, and if two gates were ever open at once (an old primary that could
 * not be fenced), neither takes writes: the chain ends at a name that does not resolve rather
 * than split the data.
 *
 * A runbook opens or closes a gate with `PutMetricData` in its own region; nothing here is ever
 * changed on the recovery path (Route 53's control plane, in us-east-1, is not needed).
 */
export class WriteGates extends Construct {
  /** The endpoints with the write health check, in the order of `endpoints`. */
  public readonly writeEndpoints: readonly RegionalEndpoint[];
  /** By region name. */
  public readonly gateChecks: ReadonlyMap<string, route53.HealthCheck>;

  constructor(scope: Construct, id: string, props: WriteGatesProps) {
    super(scope, id);
    if (props.alarms.length !== props.endpoints.length || props.endpoints.some((e) => !props.alarms.some((a) => a.region === e.region))) {
      throw new ValidationError(
        `alarms must name one gate alarm per endpoint region (${props.endpoints.map((e) => e.region).join(', ')}), got ${props.alarms.map((a) => a.region).join(', ')}`,
        this,
      );
    }
    const gates = new Map<string, route53.HealthCheck>();
    const closed = new Map<string, route53.HealthCheck>();
    for (const { region, alarmName } of props.alarms) {
      const regionScope = new Construct(this, region);
      const gate = new route53.HealthCheck(regionScope, 'GateOpen', {
        type: route53.HealthCheckType.CLOUDWATCH_METRIC,
        alarmIdentifier: { region, name: alarmName },
        // No data yet (a new alarm) is a closed gate.
        insufficientDataHealthStatus: route53.InsufficientDataHealthStatusEnum.UNHEALTHY,
      });
      Tags.of(gate).add('Name', `${props.namePrefix}-gate-${region}`);
      const gateClosed = new route53.HealthCheck(regionScope, 'GateClosed', {
        type: route53.HealthCheckType.CLOUDWATCH_METRIC,
        alarmIdentifier: { region, name: alarmName },
        inverted: true,
        // Inverted after the insufficient-data status is applied: no data counts as a closed gate here too.
        insufficientDataHealthStatus: route53.InsufficientDataHealthStatusEnum.UNHEALTHY,
      });
      Tags.of(gateClosed).add('Name', `${props.namePrefix}-gate-closed-${region}`);
      gates.set(region, gate);
      closed.set(region, gateClosed);
    }
    this.gateChecks = gates;
    this.writeEndpoints = props.endpoints.map((endpoint) => {
      const children = [
        endpoint.healthCheck,
        gates.get(endpoint.region) as route53.HealthCheck,
        ...props.endpoints
          .filter((other) => other.region !== endpoint.region)
          .map((other) => closed.get(other.region) as route53.HealthCheck),
      ];
      const write = new route53.HealthCheck(this.node.findChild(endpoint.region), 'Writable', {
        type: route53.HealthCheckType.CALCULATED,
        childHealthChecks: children,
        healthThreshold: children.length,
      });
      Tags.of(write).add('Name', `${props.namePrefix}-writable-${endpoint.region}`);
      return { ...endpoint, healthCheck: write };
    });
  }
}
