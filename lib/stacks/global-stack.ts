import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { TierDashboard } from '../../constructs/operations';
import { GlobalTrafficRouting } from '../../constructs/routing';
import { globalStackName, type PlatformConfig, READ_HOSTS, replicatedDatabaseOf, WRITE_GATE_PATH, WRITE_HOSTS } from '../config';

/** The one region the global stack deploys to. */
export const GLOBAL_REGION = 'us-east-1';

export interface GlobalStackProps extends Omit<StackProps, 'env' | 'stackName'> {
  readonly config: PlatformConfig;
}

/**
 * The tier's global traffic routing, deployed once as `Mlp-<tier>-global` in us-east-1: a Route 53
 * health check per region on `https://api.<code>.<domain>/health` (with an alarm each), failover
 * records for the write and control-plane hosts in region order, and latency records for the
 * active-active read hosts.
 *
 * us-east-1 is where Route 53's control plane and its CloudWatch metrics live, not a single point
 * of failure for routing: health checks and DNS answers are Route 53's global data plane, so
 * failover keeps working while us-east-1 (even as the primary) is down. What needs us-east-1 is
 * changing this stack, the health alarms and the tier's dashboard.
 */
export class GlobalStack extends Stack {
  public readonly config: PlatformConfig;
  public readonly routing: GlobalTrafficRouting;
  /** The tier's disaster-recovery dashboard, `mlp-<tier>-dr`, reading every region. */
  public readonly dashboard: TierDashboard;

  constructor(scope: Construct, props: GlobalStackProps) {
    const name = globalStackName(props.config.tier.name);
    super(scope, name, {
      ...props,
      stackName: name,
      env: { account: props.config.account, region: GLOBAL_REGION },
      // Stack tags: CloudFormation propagates them to every resource that supports tags.
      tags: {
        'mlp:tier': props.config.tier.name,
        'mlp:layer': 'global',
      },
    });
    this.config = props.config;

    // An imported zone by id and name: no lookup at synth time.
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: props.config.hostedZoneId,
      zoneName: props.config.domain,
    });
    const { routing } = props.config.tier;
    this.routing = new GlobalTrafficRouting(this, 'Routing', {
      zone,
      // The failover chain starts at the region holding the primary, then the others in home order.
      regions: [props.config.primaryRegion, ...props.config.regions.filter((r) => !r.isPrimary)],
      namePrefix: `mlp-${props.config.tier.name}`,
      healthCheckInterval: Duration.seconds(routing.healthCheckIntervalSeconds),
      healthCheckFailureThreshold: routing.healthCheckFailureThreshold,
      recordTtl: Duration.seconds(routing.recordTtlSeconds),
      writeRecordTtl: Duration.seconds(routing.writeRecordTtlSeconds),
      writeHosts: WRITE_HOSTS,
      readHosts: READ_HOSTS,
      // Write hosts follow the runbooks' write gates, each served by its own region, never a health check alone.
      writeGatePath: WRITE_GATE_PATH,
    });
    const { rpoSeconds } = props.config.tier.recovery.region; // [003] RPO 1 min
    this.dashboard = new TierDashboard(this, 'Dashboard', {
      tier: props.config.tier.name,
      regions: props.config.regions.map((region) => {
        const replicated = replicatedDatabaseOf(props.config, region);
        return { name: region.name, ...(replicated ? { replication: { ...replicated, rpoSeconds } } : {}) };
      }),
    });
  }
}
