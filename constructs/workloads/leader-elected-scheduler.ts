import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { validateInteger } from '../private/k8s';
import { ValidationError } from '../private/validation-error';
import { containerWorkloadProps, PART_OF, PART_OF_LABEL, PlatformWorkload, SpreadPolicy } from './platform-workload';
import type { LeaderElectedSchedulerProps } from './types';

/**
 * The job scheduler: a fixed number of replicas (one leader, the rest standbys) that elect their
 * leader through a `coordination.k8s.io/v1` Lease named `LEASE_NAME`. A standby takes over when the
 * leader stops renewing the lease for `LEASE_DURATION_SECONDS`. The pods get a Kubernetes API
 * token and a Role on leases for that; they are spread strictly over zones and nodes, and the
 * disruption budget lets a drain evict only one of them at a time. No autoscaler: more replicas
 * would only add standbys.
 */
export class LeaderElectedScheduler extends Construct {
  public readonly workload: PlatformWorkload;
  /** Name of the Lease the replicas compete for. */
  public readonly leaseName: string;
  public readonly role: kplus.k8s.KubeRole;
  public readonly roleBinding: kplus.k8s.KubeRoleBinding;
  public readonly podDisruptionBudget: kplus.k8s.KubePodDisruptionBudget;

  constructor(scope: Construct, id: string, props: LeaderElectedSchedulerProps) {
    super(scope, id);
    validateInteger(this, 'replicas', props.replicas, 1);
    validateInteger(this, 'leaseDurationSeconds', props.leaseDurationSeconds, 1);
    const namespace = Chart.of(this).namespace;
    if (namespace === undefined) {
      throw new ValidationError('the scheduler must be in a chart with a namespace, which its RoleBinding names', this);
    }
    this.leaseName = `${props.name}-leader`;

    const container = containerWorkloadProps(props);
    this.workload = new PlatformWorkload(this, 'Workload', {
      ...container,
      replicas: props.replicas,
      kubernetesApiAccess: true,
      // A handful of electors: a Pending standby is harmless, two of them in one zone are not.
      spread: SpreadPolicy.REQUIRED,
      env: {
        ...container.env,
        LEASE_NAME: kplus.EnvValue.fromValue(this.leaseName),
        LEASE_DURATION_SECONDS: kplus.EnvValue.fromValue(String(props.leaseDurationSeconds)),
        // The lease's holder identity, and where to find the lease.
        POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
        POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
      },
    });
    const labels = { ...this.workload.selector, [PART_OF_LABEL]: PART_OF };

    this.role = new kplus.k8s.KubeRole(this, 'LeaseRole', {
      metadata: { name: `${props.name}-leader-election`, labels },
      rules: [
        // RBAC cannot restrict create by name: a create request is authorized against the
        // collection, before the object (and its name) exists. list and watch without a field
        // selector are collection requests too.
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'list', 'watch'] },
        // Reading and renewing are restricted to the scheduler's own lease.
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: [this.leaseName],
          verbs: ['get', 'update', 'patch'],
        },
      ],
    });
    this.roleBinding = new kplus.k8s.KubeRoleBinding(this, 'LeaseRoleBinding', {
      metadata: { name: `${props.name}-leader-election`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.role.name },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccountName, namespace }],
    });

    this.podDisruptionBudget = new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name: props.name, labels },
      spec: {
        // A drain never evicts more than one elector, so a standby is always there to take over.
        minAvailable: kplus.k8s.IntOrString.fromNumber(props.replicas - 1),
        selector: { matchLabels: { ...this.workload.selector } },
      },
    });
  }
}
