/**
 * The DNS names of the platform's public endpoints. The global stack publishes records under them;
 * each region's compute stack answers them on its load balancer and puts them in its certificate.
 */

/** One DNS label: 1-63 lower-case letters, digits and inner hyphens. */
export const DNS_LABEL_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** `<host>.<domain>`, the name clients use, e.g. `tracking.ml.example.com`. */
export function serviceDomainName(host: string, domain: string): string {
  return `${host}.${domain}`;
}

/**
 * `api.<regionCode>.<domain>`, the name of one region's load balancer (an alias record the compute
 * stack owns), e.g. `api.use1.ml.example.com`. Health checks probe it and service records point at it.
 */
export function regionalApiDomainName(regionCode: string, domain: string): string {
  return `api.${regionCode}.${domain}`;
}

/**
 * `<host>.failover-<position>.<domain>`: link `position` (2 or more) of a failover chain, answering
 * with the region at that 1-based position in the failover order while it is healthy and with the
 * next link otherwise. Link 1 is the service name itself. Clients never use these names; the
 * `failover-` label keeps them apart from the service and regional names.
 */
export function failoverLinkDomainName(host: string, position: number, domain: string): string {
  return position === 1 ? serviceDomainName(host, domain) : `${host}.failover-${position}.${domain}`;
}
