import { createHash } from 'node:crypto';
import { JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct, IConstruct } from 'constructs';
import {
  NAME_LABEL,
  PART_OF,
  PART_OF_LABEL,
  restrictedContainerSecurity,
  restrictedPodSecurity,
  validateDnsLabel,
  validateDnsSubdomain,
} from '../private/k8s';
import { ValidationError } from '../private/validation-error';

export { NAME_LABEL, PART_OF, PART_OF_LABEL, validateDnsLabel, validateDnsSubdomain };

/** Non-root UID and GID the Kafka tool containers run as (the images must not need root). */
export const KAFKA_TOOLS_UID = 10001;

/** CPU and memory requests of a Kafka tool container; memory is also its limit. */
export interface KafkaToolResources {
  readonly cpuMillicores: number;
  readonly memoryMiB: number;
}

/** Share of the memory request given to the JVM heap; the rest is metaspace, threads and buffers. */
const HEAP_SHARE = 0.75;

export function validatePositiveInteger(scope: IConstruct, what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new ValidationError(`${what} must be a positive integer, got ${value}`, scope);
}

/** A namespace where Pod Security Admission enforces `restricted`, which every container here meets. */
export function restrictedNamespace(scope: Construct, name: string): kplus.k8s.KubeNamespace {
  const namespace = new kplus.k8s.KubeNamespace(scope, 'Namespace', {
    metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', [PART_OF_LABEL]: PART_OF } },
  });
  // The chart's namespace goes on every object; a Namespace is cluster-scoped and has none.
  namespace.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  return namespace;
}

/** Container resources: memory limit = request (it cannot be throttled), CPU limit twice the request. */
export function containerResources(resources: KafkaToolResources): kplus.k8s.ResourceRequirements {
  return {
    requests: {
      cpu: kplus.k8s.Quantity.fromString(`${resources.cpuMillicores}m`),
      memory: kplus.k8s.Quantity.fromString(`${resources.memoryMiB}Mi`),
    },
    limits: {
      cpu: kplus.k8s.Quantity.fromString(`${2 * resources.cpuMillicores}m`),
      memory: kplus.k8s.Quantity.fromString(`${resources.memoryMiB}Mi`),
    },
  };
}

/** The Kafka scripts' JVM heap for a container of `memoryMiB`, and a writable log directory. */
export function kafkaToolEnv(memoryMiB: number): kplus.k8s.EnvVar[] {
  const heap = Math.floor(memoryMiB * HEAP_SHARE);
  return [
    { name: 'KAFKA_HEAP_OPTS', value: `-Xms${heap}m -Xmx${heap}m` },
    // kafka-run-class.sh writes under LOG_DIR; the root file system is read-only.
    { name: 'LOG_DIR', value: '/tmp/kafka-logs' },
  ];
}

/** The pod and container security settings of Pod Security `restricted`, with a read-only root. */
export const POD_SECURITY_CONTEXT: kplus.k8s.PodSecurityContext = restrictedPodSecurity(KAFKA_TOOLS_UID);

export const CONTAINER_SECURITY_CONTEXT: kplus.k8s.SecurityContext = {
  ...restrictedContainerSecurity(),
  runAsNonRoot: true,
  runAsUser: KAFKA_TOOLS_UID,
  runAsGroup: KAFKA_TOOLS_UID,
  privileged: false,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** Short content hash, to roll pods (or name Jobs) when their configuration changes. */
export function contentHash(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 10);
}

/** Replace CDK token markers, whose numbering is not stable between syntheses, before hashing. */
export function maskTokens(text: string): string {
  return text.replace(/\$\{Token\[[^\]]*\]\}/g, '<token>');
}
