import { Token } from 'aws-cdk-lib';
import { App } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import {
  type KafkaTopicSpec,
  KafkaTopicsJobChart,
  type KafkaTopicsJobChartProps,
  kafkaTopicCommands,
  mskIamClientProperties,
} from '../../../constructs/kafka';
import { validateKubernetesObject } from '../../support/k8s-schema';

const JOB_TASKS: KafkaTopicSpec = { name: 'job-tasks', partitions: 100, replicationFactor: 3, minInsyncReplicas: 2, retentionHours: 168 };
const LLM_SPANS: KafkaTopicSpec = { name: 'llm-spans', partitions: 300, replicationFactor: 3, minInsyncReplicas: 2, retentionHours: 168 };

const SPEC: KafkaTopicsJobChartProps = {
  image: Token.asString({ 'Fn::Sub': `111122223333.dkr.ecr.\${AWS::Region}.amazonaws.com/kafka-tools:3.8.1` }),
  serviceAccountName: 'kafka-topics',
  resources: { cpuMillicores: 250, memoryMiB: 512 },
  bootstrapServers: Token.asString({ 'Fn::GetAtt': ['KafkaBootstrapBrokers', 'BootstrapBrokerStringSaslIam'] }),
  brokers: 3,
  topics: [JOB_TASKS, LLM_SPANS],
};

type Manifest = { kind: string; metadata: { name: string; namespace?: string }; [key: string]: any };
const render = (spec: KafkaTopicsJobChartProps) => new KafkaTopicsJobChart(new App(), 'kafka-topics', spec).toJson() as Manifest[];

describe('kafkaTopicCommands', () => {
  test('creates each topic if missing with its partitions, RF, min ISR and retention, then sets its config', () => {
    const connection = '--bootstrap-server "$BOOTSTRAP_SERVERS" --command-config /config/client.properties';
    expect(kafkaTopicCommands({ topics: [JOB_TASKS] })).toEqual([
      `/opt/kafka/bin/kafka-topics.sh ${connection} --create --if-not-exists --topic job-tasks --partitions 100 --replication-factor 3 --config min.insync.replicas=2 --config retention.ms=604800000`,
      `/opt/kafka/bin/kafka-configs.sh ${connection} --alter --entity-type topics --entity-name job-tasks --add-config min.insync.replicas=2,retention.ms=604800000`,
    ]);
  });
});

describe('KafkaTopicsJobChart', () => {
  const objects = render(SPEC);
  const byKind = (kind: string) => objects.find((object) => object.kind === kind);
  const job = byKind('Job');
  const pod = job?.spec.template.spec;
  const container = pod?.containers[0];

  test('every object passes the Kubernetes schema', () => {
    expect(objects.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'Job', 'Namespace', 'ServiceAccount']);
    for (const object of objects) expect(validateKubernetesObject(object)).toEqual([]);
  });

  test('the script holds exactly the topic commands, and the client properties use MSK IAM', () => {
    const data = byKind('ConfigMap')?.data;
    expect(data['create-topics.sh']).toBe(`${['#!/bin/sh', 'set -eu', ...kafkaTopicCommands(SPEC)].join('\n')}\n`);
    expect(data['client.properties']).toBe(mskIamClientProperties());
    expect(data['client.properties']).toContain('sasl.mechanism = AWS_MSK_IAM');
  });

  test('runs the script once with retries, and is cleaned up a day after it finishes', () => {
    expect(job?.spec).toMatchObject({ backoffLimit: 6, ttlSecondsAfterFinished: 86_400 });
    expect(pod.restartPolicy).toBe('Never');
    expect(container.command).toEqual(['/bin/sh', '/config/create-topics.sh']);
    expect(container.env).toContainEqual({ name: 'BOOTSTRAP_SERVERS', value: SPEC.bootstrapServers });
    expect(pod.serviceAccountName).toBe('kafka-topics');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  test('is named after what it does: same topics, same Job; another topic list, a new Job', () => {
    expect(job?.metadata.name).toMatch(/^kafka-topics-[0-9a-f]{10}$/);
    expect(byKind('ConfigMap')?.metadata.name).toBe(job?.metadata.name);
    const nameOf = (spec: KafkaTopicsJobChartProps) => render(spec).find((o) => o.kind === 'Job')?.metadata.name;
    expect(nameOf({ ...SPEC })).toBe(job?.metadata.name);
    expect(nameOf({ ...SPEC, topics: [JOB_TASKS] })).not.toBe(job?.metadata.name);
    expect(nameOf({ ...SPEC, revision: 'kafka-tools:3.8.2' })).not.toBe(job?.metadata.name);
  });

  test('lives in the restricted kafka-admin namespace', () => {
    expect(byKind('Namespace')?.metadata).toMatchObject({
      name: 'kafka-admin',
      labels: { 'pod-security.kubernetes.io/enforce': 'restricted' },
    });
    expect(job?.metadata.namespace).toBe('kafka-admin');
  });

  test.each<[string, Partial<KafkaTopicsJobChartProps>, string]>([
    [
      'a topic RF above the broker count',
      { brokers: 2 },
      "topic 'job-tasks' has replication factor 3; it must be an integer from 1 to the 2 brokers",
    ],
    ['a min ISR equal to the RF', { topics: [{ ...JOB_TASKS, minInsyncReplicas: 3 }] }, "topic 'job-tasks' has min.insync.replicas 3"],
    ['no topics', { topics: [] }, 'topics must list at least one topic to create'],
    [
      'a topic name a shell would split',
      { topics: [{ ...JOB_TASKS, name: 'job tasks;rm' }] },
      "topic name 'job tasks;rm' is not a Kafka topic name",
    ],
    ['a negative backoff limit', { backoffLimit: -1 }, 'backoffLimit must be an integer of at least 0, got -1'],
  ])('rejects %s with a ValidationError', (_what, overrides, message) => {
    expect(() => render({ ...SPEC, ...overrides })).toThrow(message);
    try {
      render({ ...SPEC, ...overrides });
    } catch (error) {
      expect((error as Error).name).toBe('ValidationError');
    }
  });
});
