import type { Duration } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';
import { failoverLinkDomainName, serviceDomainName } from './host-names';
import type { RegionalEndpoint } from './regional-health-checks';
import { validateHostName, validateRegions, validateTtl } from './validation';

/**
 * Set identifiers of the two records of a link. They name the role, not the region, so changing the
 * region order rewrites record values in place instead of swapping identifiers under one name.
 */
export const PRIMARY_SET_IDENTIFIER = 'primary';
export const SECONDARY_SET_IDENTIFIER = 'secondary';

export interface FailoverRecordChainProps {
  /** Public hosted zone of the domain. */
  readonly zone: route53.IHostedZone;
  /** First label of the service name, e.g. `tracking` for `tracking.<zone>`. */
  readonly hostName: string;
  /** Regions in failover order: the first serves while healthy, then each next one in turn. At least two. */
  readonly endpoints: readonly RegionalEndpoint[];
  /** TTL of every record, which bounds how long resolvers keep answering with a failed region. */
  readonly ttl: Duration;
  /**
   * Where the chain ends when every region is unhealthy. Route 53 answers a link whose records are
   * both unhealthy with its PRIMARY, so without this the last region would take traffic even while
   * unhealthy; with it, one more link answers with the last region while healthy and with this
   * name otherwise (a write host fails closed).
   * @default - the last region, healthy or not
   */
  readonly closedTarget?: string;
}

/**
 * Failover routing of one write or control-plane service name over any number of regions.
 *
 * Route 53 allows one PRIMARY and one SECONDARY record per name, so more than two regions take a
 * chain of names: `<host>.<zone>` answers with region 1 while its health check passes, else with
 * `<host>.failover-2.<zone>`, which answers with region 2, else with `<host>.failover-3.<zone>`,
 * and so on; the last link's SECONDARY is the last region. Every record that points at a region
 * carries that region's health check; the records that point at the next link carry none, so they
 * count as healthy and the chain is always followed. If every region is unhealthy, Route 53 answers
 * the last link with its PRIMARY (both records of a link unhealthy), so traffic still goes somewhere.
 *
 * The records are CNAMEs to `api.<code>.<zone>`, not aliases. An alias record has no TTL of its own
 * (it takes the target's), and the design asks for a short, explicit TTL on the service names. The
 * cost: CNAME queries are billed where alias queries to AWS resources are not, and resolvers follow
 * one more name per link. A TTL only bounds how long each cached answer lives, so a failover
 * reaches a client within about one TTL whatever the chain's length.
 */
export class FailoverRecordChain extends Construct {
  /** `<host>.<zone>`, the name clients use. */
  public readonly domainName: string;
  /** The chain's names, link 1 (the service name) first. */
  public readonly linkDomainNames: readonly string[];
  /** Every record, link by link, PRIMARY before SECONDARY. */
  public readonly records: readonly route53.CnameRecord[];

  constructor(scope: Construct, id: string, props: FailoverRecordChainProps) {
    super(scope, id);
    validate(this, props);
    const { zone, hostName, endpoints } = props;
    const domain = zone.zoneName;
    this.domainName = serviceDomainName(hostName, domain);

    // With a closed target, every region is a link's PRIMARY and the closed target the last SECONDARY.
    const chain = props.closedTarget
      ? [...endpoints, { region: 'closed', domainName: props.closedTarget, healthCheck: undefined }]
      : endpoints;
    const linkCount = chain.length - 1;
    const linkDomainNames: string[] = [];
    const records: route53.CnameRecord[] = [];
    for (let position = 1; position <= linkCount; position++) {
      const link = new Construct(this, `Link${position}`);
      const recordName = failoverLinkDomainName(hostName, position, domain);
      const primary = chain[position - 1];
      const last = chain[position];
      if (!primary || !last) throw new Error('unreachable: a link has a primary and a next region');
      const isLastLink = position === linkCount;
      linkDomainNames.push(recordName);
      records.push(
        new route53.CnameRecord(link, 'Primary', {
          zone,
          recordName,
          domainName: primary.domainName,
          ttl: props.ttl,
          failover: route53.Failover.PRIMARY,
          setIdentifier: PRIMARY_SET_IDENTIFIER,
          healthCheck: primary.healthCheck as route53.IHealthCheck,
        }),
        new route53.CnameRecord(link, 'Secondary', {
          zone,
          recordName,
          domainName: isLastLink ? last.domainName : failoverLinkDomainName(hostName, position + 1, domain),
          ttl: props.ttl,
          failover: route53.Failover.SECONDARY,
          setIdentifier: SECONDARY_SET_IDENTIFIER,
          healthCheck: isLastLink ? last.healthCheck : undefined,
        }),
      );
    }
    this.linkDomainNames = linkDomainNames;
    this.records = records;
  }
}

function validate(scope: Construct, props: FailoverRecordChainProps): void {
  validateHostName(scope, props.hostName);
  validateRegions(
    scope,
    props.endpoints.map((e) => ({ name: e.region })),
  );
  if (props.endpoints.length < 2) {
    throw new ValidationError(
      `endpoints must list a primary and at least one secondary region for failover, got ${props.endpoints.length}`,
      scope,
    );
  }
  validateTtl(scope, props.ttl);
}
