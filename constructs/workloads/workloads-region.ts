import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as cdk8s from 'cdk8s';
import type { ServiceName, WorkloadSizing } from '../../lib/config';
import { type ClickHouseAccess, clickHouseClientSettings } from '../clickhouse';
import type { PlatformCluster } from '../eks';
import type { RegionalApiEndpoint } from '../ingress';
import { pascalCase } from '../private/ids';
import { PlatformCharts } from './platform-charts';
import type { PlatformServiceProps } from './types';

export interface WorkloadsRegionProps {
  /** The region's EKS cluster, with KEDA and the load balancer controller installed. */
  readonly cluster: PlatformCluster;
  /** The regional API endpoint: its target groups route to the services, its metrics scale them. */
  readonly endpoint: RegionalApiEndpoint;
  readonly region: string;
  readonly namespace: string;
  readonly workloads: WorkloadSizing;
  /** Port every platform container listens on. */
  readonly port: number;
  /** The service's image reference, in the region's ECR. */
  readonly image: (service: ServiceName | 'scheduler') => string;
  /** The services that query ClickHouse, and their access: each gets its client certificate and settings. @default - none */
  readonly clickHouseClients?: Partial<Record<ServiceName, ClickHouseAccess>>;
  /** The services that use the cache, and the time to live of what they put there. @default - none */
  readonly cache?: { readonly clients: readonly ServiceName[]; readonly ttlSeconds: number };
}

/**
 * The platform's services and the job scheduler on the region's EKS cluster: the namespace first
 * (with KEDA's authentication), then one manifest per family of services, each after the CRDs it uses.
 *
 * Not a construct: its manifests are created on the cluster, under the ids they have always had
 * (`PlatformNamespace`, `Platform<Family>`).
 */
export class WorkloadsRegion {
  /** The platform namespace's manifest, which anything placed in the namespace must follow. */
  public readonly namespace: eks.KubernetesManifest;

  constructor(props: WorkloadsRegionProps) {
    const { endpoint, workloads } = props;
    const loadBalancer = endpoint.loadBalancer;
    const routed = (name: string) => {
      const group = endpoint.targetGroups[name];
      return group ? { targetGroupArn: group.targetGroupArn, loadBalancerSecurityGroupId: endpoint.securityGroup.securityGroupId } : {};
    };
    const services: Record<string, PlatformServiceProps> = {};
    for (const name of Object.keys(workloads.services) as ServiceName[]) {
      const autoscaling = workloads.services[name];
      const group = endpoint.targetGroups[name];
      services[name] = {
        name,
        image: props.image(name),
        port: props.port,
        resources: workloads.resources[name],
        autoscaling,
        probe: workloads.probe,
        serviceAccountName: name,
        ...routed(name),
        ...connections(name, props),
        requestsMetric:
          autoscaling.requestsPerSecondPerPod !== undefined && group
            ? {
                loadBalancerFullName: loadBalancer.loadBalancerFullName,
                targetGroupFullName: group.targetGroupFullName,
                region: props.region,
              }
            : undefined,
      };
    }
    const charts = new PlatformCharts(new cdk8s.App(), 'Platform', {
      namespace: props.namespace,
      region: props.region,
      services,
      scheduler: {
        name: 'scheduler',
        image: props.image('scheduler'),
        port: props.port,
        resources: workloads.resources.scheduler,
        replicas: workloads.scheduler.replicas,
        leaseDurationSeconds: workloads.scheduler.leaseDurationSeconds,
        probe: workloads.probe,
        serviceAccountName: 'scheduler',
        ...routed('scheduler'),
      },
    });

    const cluster = props.cluster.cluster;
    this.namespace = cluster.addCdk8sChart('PlatformNamespace', charts.namespace);
    this.namespace.node.addDependency(props.cluster.kedaChart); // its TriggerAuthentication is a KEDA resource
    for (const [family, chart] of Object.entries(charts.families)) {
      const manifest = cluster.addCdk8sChart(`Platform${pascalCase(family)}`, chart);
      // TargetGroupBinding is the load balancer controller's custom resource: its CRD comes first.
      manifest.node.addDependency(this.namespace);
      if (cluster.albController) manifest.node.addDependency(cluster.albController);
    }
  }
}

/** What a service connects with beyond its grants: ClickHouse's client settings, the cache's time to live. */
function connections(service: ServiceName, props: WorkloadsRegionProps): Pick<PlatformServiceProps, 'env' | 'secretMounts'> {
  const access = props.clickHouseClients?.[service];
  const clickhouse = access === undefined ? undefined : clickHouseClientSettings(access);
  const cacheTtl = props.cache?.clients.includes(service) ? { CACHE_TTL_SECONDS: String(props.cache.ttlSeconds) } : undefined;
  if (!clickhouse && !cacheTtl) return {};
  return {
    ...(clickhouse ? { secretMounts: [clickhouse.secretMount] } : {}),
    env: { ...clickhouse?.env, ...cacheTtl },
  };
}
