import { Token } from 'aws-cdk-lib';
import { ApiObject, type App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { ValidationError } from '../private/validation-error';
import { LeaderElectedScheduler } from './leader-elected-scheduler';
import { KEDA_OPERATOR_AUTHENTICATION, PlatformService } from './platform-service';
import { PART_OF, PART_OF_LABEL, validateDnsLabel } from './platform-workload';
import type { PlatformWorkloadsSpec } from './types';

/** The services of each family; a family is one chart, deployed as one manifest. */
export const FAMILY_SERVICES = {
  tracking: ['tracking-server', 'registry-api'],
  pipelines: ['metadata-service', 'metaflow-worker'],
  observability: ['query-api', 'collector', 'evaluation-worker'],
  serving: ['prediction-service'],
} as const satisfies Record<string, readonly string[]>;

export type ServiceFamily = keyof typeof FAMILY_SERVICES;
export type FamilyName = ServiceFamily | 'scheduler';

/** Pod Security Admission level enforced on the platform namespace. */
export const POD_SECURITY_LEVEL = 'restricted';

export interface PlatformCharts {
  /** The namespace, with Pod Security Admission enforcing `restricted`. Deploy it first. */
  readonly namespace: Chart;
  /** One chart per family; each depends on the namespace chart. */
  readonly families: Readonly<Record<FamilyName, Chart>>;
}

/**
 * The platform's Kubernetes workloads as cdk8s charts: the namespace, one chart per service
 * family and one for the scheduler. Services are taken from `spec.services` by name; every
 * family's services must be there, and every service there must belong to a family.
 *
 * `chart.addDependency` orders the charts for cdk8s; a stack deploying them as separate manifests
 * must make each family's manifest depend on the namespace's as well.
 */
export function platformCharts(app: App, spec: PlatformWorkloadsSpec): PlatformCharts {
  const labels = { [PART_OF_LABEL]: PART_OF };
  const namespace = new Chart(app, 'platform-namespace', { labels });
  validateDnsLabel(namespace, 'namespace', spec.namespace);
  new kplus.Namespace(namespace, 'Namespace', {
    metadata: { name: spec.namespace, labels: { 'pod-security.kubernetes.io/enforce': POD_SECURITY_LEVEL } },
  });
  new ApiObject(namespace, 'KedaOperatorAuthentication', {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'TriggerAuthentication',
    metadata: { name: KEDA_OPERATOR_AUTHENTICATION, namespace: spec.namespace },
    spec: { podIdentity: { provider: 'aws', identityOwner: 'keda' } },
  });

  const known = new Set<string>(Object.values(FAMILY_SERVICES).flat());
  const unknown = Object.keys(spec.services).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ValidationError(
      `spec.services has ${unknown.map((name) => `'${name}'`).join(', ')}, which no family runs; the families run ${[...known].join(', ')}`,
      namespace,
    );
  }

  const familyChart = (family: FamilyName) => {
    const chart = new Chart(app, `platform-${family}`, { namespace: spec.namespace, labels });
    chart.addDependency(namespace);
    return chart;
  };
  const serviceFamily = (family: ServiceFamily) => {
    const chart = familyChart(family);
    for (const name of FAMILY_SERVICES[family]) {
      const service = spec.services[name];
      if (service === undefined) {
        throw new ValidationError(
          `service '${name}' is missing from spec.services; the ${family} family runs ${FAMILY_SERVICES[family].join(', ')}`,
          chart,
        );
      }
      if (service.name !== name) {
        throw new ValidationError(`spec.services['${name}'] is named '${service.name}'; the key and the name must match`, chart);
      }
      const metricRegion = service.requestsMetric?.region;
      if (
        metricRegion !== undefined &&
        !Token.isUnresolved(metricRegion) &&
        !Token.isUnresolved(spec.region) &&
        metricRegion !== spec.region
      ) {
        throw new ValidationError(`${name} reads its request metric in ${metricRegion}, but the platform is in ${spec.region}`, chart);
      }
      new PlatformService(chart, name, service);
    }
    return chart;
  };
  const schedulerFamily = () => {
    const chart = familyChart('scheduler');
    new LeaderElectedScheduler(chart, spec.scheduler.name, spec.scheduler);
    return chart;
  };

  return {
    namespace,
    families: {
      tracking: serviceFamily('tracking'),
      pipelines: serviceFamily('pipelines'),
      observability: serviceFamily('observability'),
      serving: serviceFamily('serving'),
      scheduler: schedulerFamily(),
    },
  };
}
