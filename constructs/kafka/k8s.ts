import type { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { IConstruct } from 'constructs';
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
} from '../private/k8s';
import { ValidationError } from '../private/validation-error';

export { NAME_LABEL, PART_OF, PART_OF_LABEL, validateDnsLabel, validateDnsSubdomain };

/** Non-root UID and GID the Kafka tool containers run as (the images must not need root). */
export const KAFKA_TOOLS_UID = 10001;

/** Share of the memory request given to the JVM heap; the rest is metaspace, threads and buffers. */
const HEAP_SHARE = 0.75;

export function validatePositiveInteger(scope: IConstruct, what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new ValidationError(`${what} must be a positive integer, got ${value}`, scope);
}

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
 * Checks what every Kafka tool chart takes, then adds its first objects: the `restricted` namespace
 * (which every container here meets) and the ServiceAccount, labelled `labels`.
 */
export function addKafkaToolBasics(
  chart: Chart,
  props: KafkaToolProps & { readonly namespace: string; readonly name: string },
  labels: Readonly<Record<string, string>>,
): void {
  validateDnsLabel(chart, 'namespace', props.namespace);
  validateDnsLabel(chart, 'name', props.name);
  validateDnsSubdomain(chart, 'serviceAccountName', props.serviceAccountName);
  validatePositiveInteger(chart, 'resources.cpuMillicores', props.resources.cpuMillicores);
  validatePositiveInteger(chart, 'resources.memoryMiB', props.resources.memoryMiB);
  restrictedNamespace(chart, props.namespace);
  new kplus.k8s.KubeServiceAccount(chart, 'ServiceAccount', {
    metadata: { name: props.serviceAccountName, labels: { ...labels } },
    automountServiceAccountToken: false,
  });
}

/**
 * The Kafka tool container: `command` in the image, hardened, sized by `resources` with the Kafka
 * scripts' JVM heap to match, and a writable log directory; `env` comes first.
 */
export function kafkaToolContainer(name: string, props: KafkaToolProps, command: string[], env: kplus.k8s.EnvVar[]): kplus.k8s.Container {
  return {
    name,
    image: props.image,
    imagePullPolicy: 'IfNotPresent',
    command,
    env: [...env, ...kafkaToolEnv(props.resources.memoryMiB)],
    resources: resourceRequirements(props.resources, `${2 * props.resources.cpuMillicores}m`),
    securityContext: CONTAINER_SECURITY_CONTEXT,
  };
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

/** The pod and container security settings of Pod Security `restricted`, with a read-only root. */
export const POD_SECURITY_CONTEXT: kplus.k8s.PodSecurityContext = restrictedPodSecurity(KAFKA_TOOLS_UID);

const CONTAINER_SECURITY_CONTEXT: kplus.k8s.SecurityContext = {
  ...restrictedContainerSecurity(),
  runAsNonRoot: true,
  runAsUser: KAFKA_TOOLS_UID,
  runAsGroup: KAFKA_TOOLS_UID,
  privileged: false,
  seccompProfile: { type: 'RuntimeDefault' },
};
