import type { Duration } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { serviceDomainName } from './host-names';
import type { RegionalEndpoint } from './regional-health-checks';
import { validateHostName, validateRegions, validateTtl } from './validation';

export interface LatencyRecordsProps {
  /** Public hosted zone of the domain. */
  readonly zone: route53.IHostedZone;
  /** First label of the service name, e.g. `prediction` for `prediction.<zone>`. */
  readonly hostName: string;
  /** Every region that serves the name; each is its own latency region. */
  readonly endpoints: readonly RegionalEndpoint[];
  /** TTL of every record. */
  readonly ttl: Duration;
}

/**
 * Latency routing of one active-active read service name: one record per region (set identifier and
 * latency region = the region's name), each carrying the region's health check, so Route 53 answers
 * with the closest healthy region. CNAMEs to `api.<code>.<zone>` for the same reason as
 * `FailoverRecordChain`: the service names get an explicit TTL, which alias records cannot have.
 */
export class LatencyRecords extends Construct {
  /** `<host>.<zone>`, the name clients use. */
  public readonly domainName: string;
  /** One per endpoint, in the order given. */
  public readonly records: readonly route53.CnameRecord[];

  constructor(scope: Construct, id: string, props: LatencyRecordsProps) {
    super(scope, id);
    validateHostName(this, props.hostName);
    validateRegions(
      this,
      props.endpoints.map((e) => ({ name: e.region })),
    );
    validateTtl(this, props.ttl);
    this.domainName = serviceDomainName(props.hostName, props.zone.zoneName);
    this.records = props.endpoints.map(
      (endpoint) =>
        new route53.CnameRecord(this, endpoint.region, {
          zone: props.zone,
          recordName: this.domainName,
          domainName: endpoint.domainName,
          ttl: props.ttl,
          region: endpoint.region,
          setIdentifier: endpoint.region,
          healthCheck: endpoint.healthCheck,
        }),
    );
  }
}
