import { Token } from 'aws-cdk-lib';
import { ApiObject, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';
import { LeaderElectedScheduler } from './leader-elected-scheduler';
import { KEDA_OPERATOR_AUTHENTICATION, PlatformService } from './platform-service';
import { PART_OF, PART_OF_LABEL, validateDnsLabel } from './platform-workload';
import type { PlatformChartsProps, PlatformServiceProps } from './types';

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

const LABELS = { [PART_OF_LABEL]: PART_OF };

/**
 * The platform's Kubernetes workloads as cdk8s charts: the namespace, one chart per service
 * family and one for the scheduler. Services are taken from `props.services` by name; every
 * family's services must be there, and every service there must belong to a family.
 *
 * `chart.addDependency` orders the charts for cdk8s; a stack deploying them as separate manifests
 * must make each family's manifest depend on the namespace's as well.
 */
export class PlatformCharts extends Construct {
  /** The namespace, with Pod Security Admission enforcing `restricted`. Deploy it first. */
  public readonly namespace: Chart;
  /** One chart per family; each depends on the namespace chart. */
  public readonly families: Readonly<Record<FamilyName, Chart>>;

  constructor(scope: Construct, id: string, props: PlatformChartsProps) {
    super(scope, id);
    this.namespace = new Chart(this, 'platform-namespace', { labels: LABELS });
    validateDnsLabel(this.namespace, 'namespace', props.namespace);
    new kplus.Namespace(this.namespace, 'Namespace', {
      metadata: { name: props.namespace, labels: { 'pod-security.kubernetes.io/enforce': POD_SECURITY_LEVEL } },
    });
    new ApiObject(this.namespace, 'KedaOperatorAuthentication', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: { name: KEDA_OPERATOR_AUTHENTICATION, namespace: props.namespace },
      spec: { podIdentity: { provider: 'aws', identityOwner: 'keda' } },
    });
    validateFamilyMembership(this.namespace, props);

    const familyChart = (family: FamilyName) => {
      const chart = new Chart(this, `platform-${family}`, { namespace: props.namespace, labels: LABELS });
      chart.addDependency(this.namespace);
      return chart;
    };
    const serviceFamily = (family: ServiceFamily) => {
      const chart = familyChart(family);
      for (const name of FAMILY_SERVICES[family]) {
        new PlatformService(chart, name, familyService(chart, family, name, props));
      }
      return chart;
    };
    const schedulerFamily = () => {
      const chart = familyChart('scheduler');
      new LeaderElectedScheduler(chart, props.scheduler.name, props.scheduler);
      return chart;
    };
    this.families = {
      tracking: serviceFamily('tracking'),
      pipelines: serviceFamily('pipelines'),
      observability: serviceFamily('observability'),
      serving: serviceFamily('serving'),
      scheduler: schedulerFamily(),
    };
  }
}

/** Throws unless every service in `props.services` belongs to a family. */
function validateFamilyMembership(scope: Chart, props: PlatformChartsProps): void {
  const known = new Set<string>(Object.values(FAMILY_SERVICES).flat());
  const unknown = Object.keys(props.services).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ValidationError(
      `spec.services has ${unknown.map((name) => `'${name}'`).join(', ')}, which no family runs; the families run ${[...known].join(', ')}`,
      scope,
    );
  }
}

/** The props of `family`'s service `name`, which must be there under its own name, with its request metric in the platform's region. */
function familyService(chart: Chart, family: ServiceFamily, name: string, props: PlatformChartsProps): PlatformServiceProps {
  const service = props.services[name];
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
    !Token.isUnresolved(props.region) &&
    metricRegion !== props.region
  ) {
    throw new ValidationError(`${name} reads its request metric in ${metricRegion}, but the platform is in ${props.region}`, chart);
  }
  return service;
}
