import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import {
  type ContainerResources,
  NAME_LABEL,
  PART_OF,
  PART_OF_LABEL,
  resourceRequirements,
  restrictedContainerSecurity,
  restrictedNamespace,
  restrictedPodSecurity,
  validateDnsLabel,
  validateDnsSubdomain,
  validateInteger,
} from '../private/k8s';

/** Non-root UID and GID the Kafka tool containers run as (the images must not need root). */
export const KAFKA_TOOLS_UID = 10001;

/** Share of the memory request given to the JVM heap; the rest is metaspace, threads and buffers. */
const HEAP_SHARE = 0.75;

/** The pod and container security settings of Pod Security `restricted`, with a read-only root. */
const POD_SECURITY_CONTEXT: kplus.k8s.PodSecurityContext = restrictedPodSecurity(KAFKA_TOOLS_UID);

const CONTAINER_SECURITY_CONTEXT: kplus.k8s.SecurityContext = {
  ...restrictedContainerSecurity(),
  runAsNonRoot: true,
  runAsUser: KAFKA_TOOLS_UID,
  runAsGroup: KAFKA_TOOLS_UID,
  privileged: false,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** What every Kafka tool chart runs: one container of an image with Apache Kafka, under its own ServiceAccount. */
export interface KafkaToolProps {
  /** Image with Apache Kafka (under `kafkaHome`) and the aws-msk-iam-auth jar on its classpath. */
  readonly image: string;
  /**
   * Where Kafka is installed in the image.
   * @default '/opt/kafka'
   */
  readonly kafkaHome?: string;
  /** ServiceAccount created for the pods; the stack associates the tool's IAM role with it (Pod Identity). */
  readonly serviceAccountName: string;
  /** Requests; memory limit = request (it cannot be throttled), CPU limit twice the request. */
  readonly resources: ContainerResources;
}

/**
 * The chart of one Kafka tool: after checking what every tool takes, its first objects are the
 * `restricted` namespace (which every container here meets) and the tool's ServiceAccount. The
 * subclass adds the tool's own objects with `toolLabels`, and its pods with `podIdentity()` and
 * `container()`.
 */
export abstract class KafkaToolChart extends Chart {
  /** Selects the tool's pods: `NAME_LABEL` is the tool's name. */
  protected readonly selector: Readonly<Record<string, string>>;
  /** Labels of the tool's objects: the selector and `PART_OF_LABEL`. */
  protected readonly toolLabels: Readonly<Record<string, string>>;
  private readonly tool: KafkaToolProps;

  protected constructor(scope: Construct, id: string, props: KafkaToolProps & { readonly namespace: string; readonly name: string }) {
    super(scope, id, { namespace: props.namespace, labels: { [PART_OF_LABEL]: PART_OF } });
    this.tool = props;
    this.selector = { [NAME_LABEL]: props.name };
    this.toolLabels = { ...this.selector, [PART_OF_LABEL]: PART_OF };
    validateDnsLabel(this, 'namespace', props.namespace);
    validateDnsLabel(this, 'name', props.name);
    validateDnsSubdomain(this, 'serviceAccountName', props.serviceAccountName);
    validateInteger(this, 'resources.cpuMillicores', props.resources.cpuMillicores, 1);
    validateInteger(this, 'resources.memoryMiB', props.resources.memoryMiB, 1);
    restrictedNamespace(this, props.namespace);
    new kplus.k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: props.serviceAccountName, labels: { ...this.toolLabels } },
      automountServiceAccountToken: false,
    });
  }

  /** What every tool pod runs as: the tool's ServiceAccount without a Kubernetes API token, Pod Security `restricted`. */
  protected podIdentity(): Pick<kplus.k8s.PodSpec, 'serviceAccountName' | 'automountServiceAccountToken' | 'securityContext'> {
    return { serviceAccountName: this.tool.serviceAccountName, automountServiceAccountToken: false, securityContext: POD_SECURITY_CONTEXT };
  }

  /**
   * The tool's container: `command` in the image, hardened, sized by `resources` with the Kafka
   * scripts' JVM heap to match, and a writable log directory; `env` comes first.
   */
  protected container(name: string, command: string[], env: kplus.k8s.EnvVar[]): kplus.k8s.Container {
    const { image, resources } = this.tool;
    return {
      name,
      image,
      imagePullPolicy: 'IfNotPresent',
      command,
      env: [...env, ...kafkaToolEnv(resources.memoryMiB)],
      resources: resourceRequirements(resources, `${2 * resources.cpuMillicores}m`),
      securityContext: CONTAINER_SECURITY_CONTEXT,
    };
  }
}

/** The Kafka scripts' JVM heap for a container of `memoryMiB`, and a writable log directory. */
function kafkaToolEnv(memoryMiB: number): kplus.k8s.EnvVar[] {
  const heap = Math.floor(memoryMiB * HEAP_SHARE);
  return [
    { name: 'KAFKA_HEAP_OPTS', value: `-Xms${heap}m -Xmx${heap}m` },
    // kafka-run-class.sh writes under LOG_DIR; the root file system is read-only.
    { name: 'LOG_DIR', value: '/tmp/kafka-logs' },
  ];
}
