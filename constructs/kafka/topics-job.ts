import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { contentHash, maskTokens, validateInteger } from '../private/k8s';
import { ValidationError } from '../private/validation-error';
import { mskIamClientProperties } from './client-config';
import { KafkaToolChart, type KafkaToolProps } from './k8s';
import { HOUR_MS, type KafkaTopicSpec, validateTopics } from './topics';

export const KAFKA_ADMIN_NAMESPACE = 'kafka-admin';
/** Where the Job's ConfigMap (client properties and script) is mounted. */
const CONFIG_DIR = '/config';
/** The Job's name gets `-<10-character hash>`; a Job name must stay a 63-character label. */
const MAX_NAME_LENGTH = 52;

export interface KafkaTopicsJobChartProps extends KafkaToolProps {
  /**
   * Namespace the chart creates and runs the Job in.
   * @default KAFKA_ADMIN_NAMESPACE
   */
  readonly namespace?: string;
  /**
   * Name prefix of the Job and its ConfigMap; the Job is named `<name>-<hash of what it does>`.
   * @default 'kafka-topics'
   */
  readonly name?: string;
  /** `host:port,...` of the cluster's SASL/IAM listener (a token is fine). */
  readonly bootstrapServers: string;
  /** Brokers of the cluster; no topic may ask for more replicas. */
  readonly brokers: number;
  readonly topics: readonly KafkaTopicSpec[];
  /**
   * A literal that changes whenever a token in the Job resolves to something new: tokens (the image
   * URI, the bootstrap servers) cannot be hashed into the Job's name, and a Job's pod template cannot
   * be changed in place. Pass, for example, the image tag and the cluster name.
   * @default - none: only the topic list and literal values name the Job
   */
  readonly revision?: string;
  /**
   * Retries of a failed pod (the cluster may still be settling after its creation).
   * @default 6
   */
  readonly backoffLimit?: number;
  /**
   * How long a finished Job stays for its logs to be read, seconds.
   * @default 86400
   */
  readonly ttlSecondsAfterFinished?: number;
}

/**
 * The shell commands that create each topic if it is missing and then set its configuration; both
 * are idempotent, so the Job can run any number of times. Partition counts are never lowered (Kafka
 * cannot), nor raised here: adding partitions moves keys between partitions and is an operator's call.
 */
export function kafkaTopicCommands(spec: Pick<KafkaTopicsJobChartProps, 'topics' | 'kafkaHome'>): string[] {
  const bin = `${spec.kafkaHome ?? '/opt/kafka'}/bin`;
  const connection = `--bootstrap-server "$BOOTSTRAP_SERVERS" --command-config ${CONFIG_DIR}/client.properties`;
  return spec.topics.flatMap((topic) => {
    const retentionMs = topic.retentionHours * HOUR_MS;
    return [
      `${bin}/kafka-topics.sh ${connection} --create --if-not-exists --topic ${topic.name} --partitions ${topic.partitions} --replication-factor ${topic.replicationFactor} --config min.insync.replicas=${topic.minInsyncReplicas} --config retention.ms=${retentionMs}`,
      `${bin}/kafka-configs.sh ${connection} --alter --entity-type topics --entity-name ${topic.name} --add-config min.insync.replicas=${topic.minInsyncReplicas},retention.ms=${retentionMs}`,
    ];
  });
}

/**
 * A cdk8s chart with a Kubernetes Job that creates the platform's topics on an MSK cluster with IAM
 * authentication, its ConfigMap (client properties and script) and ServiceAccount, in a `restricted`
 * namespace. The Job's name carries a hash of its script: a changed topic list is a new Job, since a
 * Job's pod template cannot be changed in place.
 */
export class KafkaTopicsJobChart extends KafkaToolChart {
  constructor(scope: Construct, id: string, props: KafkaTopicsJobChartProps) {
    const prefix = props.name ?? 'kafka-topics';
    super(scope, id, { ...props, namespace: props.namespace ?? KAFKA_ADMIN_NAMESPACE, name: prefix });
    const { toolLabels: labels } = this;
    if (prefix.length > MAX_NAME_LENGTH)
      throw new ValidationError(`name must be at most ${MAX_NAME_LENGTH} characters, got '${prefix}'`, this);
    validateInteger(this, 'brokers', props.brokers, 1);
    if (props.topics.length === 0) throw new ValidationError('topics must list at least one topic to create', this);
    validateTopics(this, props.topics, props.brokers);
    const backoffLimit = props.backoffLimit ?? 6;
    const ttl = props.ttlSecondsAfterFinished ?? 86_400;
    validateInteger(this, 'backoffLimit', backoffLimit, 0);
    validateInteger(this, 'ttlSecondsAfterFinished', ttl, 0);

    const script = ['#!/bin/sh', 'set -eu', ...kafkaTopicCommands(props)].join('\n');
    const name = `${prefix}-${contentHash(maskTokens(script), maskTokens(props.image), props.revision ?? '')}`;

    const configMap = new kplus.k8s.KubeConfigMap(this, 'Config', {
      metadata: { name, labels },
      data: { 'client.properties': mskIamClientProperties(), 'create-topics.sh': `${script}\n` },
    });
    new kplus.k8s.KubeJob(this, 'Job', {
      metadata: { name, labels },
      spec: {
        backoffLimit,
        ttlSecondsAfterFinished: ttl,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            ...this.podIdentity(),
            containers: [
              {
                ...this.container(
                  prefix,
                  ['/bin/sh', `${CONFIG_DIR}/create-topics.sh`],
                  [{ name: 'BOOTSTRAP_SERVERS', value: props.bootstrapServers }],
                ),
                volumeMounts: [
                  { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: configMap.name } },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    });
  }
}
