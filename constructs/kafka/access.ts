import { Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { ValidationError } from '../private/validation-error';

/** `arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>`, the form MSK gives a provisioned cluster. */
const CLUSTER_ARN = /^arn:[a-z-]+:kafka:([a-z0-9-]+):\d{12}:cluster\/[^/]+\/[^/]+$/;

/** Port of the brokers' SASL/IAM listener over TLS, inside the VPC. */
export const KAFKA_IAM_PORT = 9098;

/** Kafka resources an IAM policy can name inside a cluster. */
export type KafkaResourceType = 'topic' | 'group';

/** The region of a literal MSK cluster ARN; throws when the ARN is not one. */
export function clusterArnRegion(scope: IConstruct, what: string, clusterArn: string): string {
  const match = CLUSTER_ARN.exec(clusterArn);
  if (match?.[1] === undefined) {
    throw new ValidationError(
      `${what} must be an MSK cluster ARN (arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>), got ${clusterArn}`,
      scope,
    );
  }
  return match[1];
}

/**
 * ARN of a topic or consumer group of a cluster, e.g.
 * `arn:aws:kafka:<region>:<account>:topic/<clusterName>/<clusterUuid>/<name>`; `name` may hold `*`.
 * A cluster ARN that is a token (the cluster's own attribute, or a value read from another region)
 * is rewritten in CloudFormation: everything before `:cluster/`, the resource type, everything after.
 */
export function kafkaResourceArn(scope: IConstruct, clusterArn: string, type: KafkaResourceType, name: string): string {
  if (!Token.isUnresolved(clusterArn)) {
    clusterArnRegion(scope, 'clusterArn', clusterArn);
    return `${clusterArn.replace(':cluster/', `:${type}/`)}/${name}`;
  }
  const parts = Fn.split(':cluster/', clusterArn);
  return Fn.join('', [Fn.select(0, parts), `:${type}/`, Fn.select(1, parts), `/${name}`]);
}

/**
 * The IAM form of a topic or group regex as MSK Replicator and MirrorMaker take them: a literal name
 * (with `\.` for dots) stays, a trailing `.*` becomes `*`; anything else can match any name, so `*`.
 */
export function regexToIamPattern(regex: string): string {
  if (/^(?:[A-Za-z0-9_-]|\\\.)+(?:\.\*)?$/.test(regex)) return regex.replace(/\.\*$/, '*').replace(/\\\./g, '.');
  return '*';
}

/** What a Kafka client may do on one cluster. */
export interface KafkaClientAccess {
  /** Topic names or IAM patterns (`*` matches any run of characters). */
  readonly topics: readonly string[];
  /**
   * Consume the topics.
   * @default true
   */
  readonly read?: boolean;
  /**
   * Produce to the topics (idempotently, as Kafka 3 clients do by default).
   * @default false
   */
  readonly write?: boolean;
  /**
   * Create the topics and change their partitions and configuration.
   * @default false
   */
  readonly manageTopics?: boolean;
  /**
   * Consumer groups the client joins and commits offsets for (names or IAM patterns).
   * @default - none
   */
  readonly groups?: readonly string[];
}

/** Least-privilege `kafka-cluster:*` statements for `access` on the cluster `clusterArn`. */
export function kafkaClientStatements(scope: IConstruct, clusterArn: string, access: KafkaClientAccess): iam.PolicyStatement[] {
  if (access.topics.length === 0) throw new ValidationError('a Kafka client needs at least one topic', scope);
  const read = access.read ?? true;
  const write = access.write ?? false;
  const manage = access.manageTopics ?? false;

  const topicActions = ['kafka-cluster:DescribeTopic'];
  if (read) topicActions.push('kafka-cluster:ReadData');
  if (write) topicActions.push('kafka-cluster:WriteData');
  if (manage) {
    topicActions.push(
      'kafka-cluster:CreateTopic',
      'kafka-cluster:AlterTopic',
      'kafka-cluster:DescribeTopicDynamicConfiguration',
      'kafka-cluster:AlterTopicDynamicConfiguration',
    );
  }
  const statements = [
    new iam.PolicyStatement({
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', ...(write ? ['kafka-cluster:WriteDataIdempotently'] : [])],
      resources: [clusterArn],
    }),
    new iam.PolicyStatement({
      actions: topicActions,
      resources: access.topics.map((topic) => kafkaResourceArn(scope, clusterArn, 'topic', topic)),
    }),
  ];
  if (access.groups !== undefined && access.groups.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        resources: access.groups.map((group) => kafkaResourceArn(scope, clusterArn, 'group', group)),
      }),
    );
  }
  return statements;
}

/**
 * Add `kafkaClientStatements` to the grantee's policy. Topic and group patterns with `*` are
 * acknowledged on the grantee (when it is a construct): they name resources inside one cluster only.
 */
export function grantKafkaClient(grantee: iam.IGrantable, clusterArn: string, access: KafkaClientAccess): iam.Grant {
  const scope = isConstruct(grantee) ? grantee : undefined;
  const statements = kafkaClientStatements(scope ?? fallbackScope(grantee), clusterArn, access);
  const grant = grantStatements(grantee, statements);
  if (scope !== undefined) {
    acknowledgeKafkaWildcards(
      scope,
      statements,
      'Topic and consumer-group patterns inside one MSK cluster: Kafka creates the resources at run time, and the cluster part of the ARN is fixed.',
    );
  }
  return grant;
}

/** The two clusters of a MirrorMaker 2 flow, and what it copies. */
export interface MirrorMakerAccess {
  /** The primary's cluster (another region's ARN; a token is fine): read only. */
  readonly sourceClusterArn: string;
  /** The cluster MirrorMaker writes to. */
  readonly targetClusterArn: string;
  /**
   * Regexes of the copied topics, as in `mm2.properties`.
   * @default ['.*']
   */
  readonly topics?: readonly string[];
  /**
   * Regexes of the consumer groups whose offsets are translated.
   * @default ['.*']
   */
  readonly groups?: readonly string[];
}

/**
 * What MirrorMaker 2 (as `mirrorMaker2Properties` configures it) does on each cluster: on the source
 * it reads the copied topics and their configurations and describes the consumer groups; on the
 * target it creates and writes the copies and its own internal topics (Connect's config, offset and
 * status topics, offset syncs, checkpoints, heartbeats) and commits translated group offsets.
 */
export function mirrorMaker2Statements(scope: IConstruct, access: MirrorMakerAccess): iam.PolicyStatement[] {
  const source = access.sourceClusterArn;
  const target = access.targetClusterArn;
  const topics = (access.topics ?? ['.*']).map(regexToIamPattern);
  const groups = (access.groups ?? ['.*']).map(regexToIamPattern);
  return [
    // Connect to the source.
    new iam.PolicyStatement({
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      resources: [source],
    }),
    // Read the copied topics of the source.
    new iam.PolicyStatement({
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData', 'kafka-cluster:DescribeTopicDynamicConfiguration'],
      resources: topics.map((topic) => kafkaResourceArn(scope, source, 'topic', topic)),
    }),
    // Describe the source's consumer groups.
    new iam.PolicyStatement({
      actions: ['kafka-cluster:DescribeGroup'],
      resources: groups.map((group) => kafkaResourceArn(scope, source, 'group', group)),
    }),
    // Connect to the target.
    new iam.PolicyStatement({
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently'],
      resources: [target],
    }),
    // Create and write the copies and the internal topics.
    new iam.PolicyStatement({
      actions: [
        'kafka-cluster:CreateTopic',
        'kafka-cluster:DescribeTopic',
        'kafka-cluster:ReadData',
        'kafka-cluster:WriteData',
        'kafka-cluster:AlterTopic',
        'kafka-cluster:DescribeTopicDynamicConfiguration',
        'kafka-cluster:AlterTopicDynamicConfiguration',
      ],
      // Copies keep their names, and the internal topics have several: any topic of the target.
      resources: [kafkaResourceArn(scope, target, 'topic', '*')],
    }),
    // The target's groups.
    new iam.PolicyStatement({
      actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
      // The workers' own group and the translated consumer groups.
      resources: [kafkaResourceArn(scope, target, 'group', '*')],
    }),
  ];
}

/** Add `mirrorMaker2Statements` to the grantee's policy, acknowledging their patterns on the grantee. */
export function grantMirrorMaker2(grantee: iam.IGrantable & IConstruct, access: MirrorMakerAccess): iam.Grant {
  const statements = mirrorMaker2Statements(grantee, access);
  const grant = grantStatements(grantee, statements);
  acknowledgeKafkaWildcards(
    grantee,
    statements,
    'MirrorMaker 2 reads the copied topic patterns of the source and writes copies and its internal topics in the target cluster only.',
  );
  return grant;
}

/** One grant of `statements` (actions and resources; none has a condition) on the grantee's policy. */
function grantStatements(grantee: iam.IGrantable, statements: readonly iam.PolicyStatement[]): iam.Grant {
  const grants = statements.map((statement) =>
    iam.Grant.addToPrincipal({ grantee, actions: statement.actions, resourceArns: statement.resources }),
  );
  return grants.reduce((all, grant) => all.combine(grant));
}

/**
 * Acknowledge (AwsSolutions-IAM5) every resource with `*` in `statements`, under `scope`. The names
 * are rendered the way cdk-nag renders them: joins flattened, references as `<Id.Attr>`, any other
 * intrinsic (the `Fn::Select` of a cluster ARN) as its JSON.
 */
export function acknowledgeKafkaWildcards(scope: IConstruct, statements: readonly iam.PolicyStatement[], reason: string): void {
  const stack = Stack.of(scope);
  const ids = new Set<string>();
  for (const statement of statements) {
    for (const resource of statement.resources) {
      const name = flatten(stack.resolve(resource));
      if (name.includes('*')) ids.add(`AwsSolutions-IAM5[Resource::${name}]`);
    }
  }
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (node !== null && typeof node === 'object') {
    const object = node as Record<string, unknown>;
    const join = object['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    if (object['Fn::Sub'] !== undefined) return flatten(object['Fn::Sub']);
    const getAtt = object['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${flatten(getAtt[0])}.${flatten(getAtt[1])}>`;
    if (object['Fn::ImportValue'] !== undefined) return flatten(object['Fn::ImportValue']);
    if (object.Ref !== undefined) return `<${flatten(object.Ref)}>`;
  }
  return JSON.stringify(node);
}

function isConstruct(value: unknown): value is IConstruct {
  return typeof value === 'object' && value !== null && 'node' in value;
}

function fallbackScope(grantee: iam.IGrantable): IConstruct {
  const principal = grantee.grantPrincipal as unknown;
  if (isConstruct(principal)) return principal;
  throw new Error('grantKafkaClient needs a grantee that is a construct (a Role), to scope its findings');
}
