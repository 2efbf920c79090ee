import type { IConstruct } from 'constructs';
import { ValidationError } from '../private/validation-error';

/** One topic the platform creates, with the durability settings it is created with. */
export interface KafkaTopicSpec {
  /** Topic name: 1-249 letters, digits, `.`, `_` and `-`. */
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Replicas that must acknowledge a write sent with `acks=all`; at least 1 and below the replication factor. */
  readonly minInsyncReplicas: number;
  readonly retentionHours: number;
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** Milliseconds in an hour, for `retention.ms`. */
export const HOUR_MS = 3_600_000;

/** Throws unless `name` is a legal Kafka topic name. */
export function validateTopicName(scope: IConstruct, name: string): void {
  if (!TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new ValidationError(
      `topic name '${name}' is not a Kafka topic name: use 1-249 letters, digits, '.', '_' and '-' (and not '.' or '..')`,
      scope,
    );
  }
}

/**
 * Throws unless the durability settings hold together: a replication factor the brokers can place,
 * and a min ISR that still accepts writes while one replica is down.
 */
export function validateDurability(
  scope: IConstruct,
  what: string,
  settings: { readonly replicationFactor: number; readonly minInsyncReplicas: number; readonly retentionHours: number },
  brokers: number,
): void {
  const { replicationFactor, minInsyncReplicas, retentionHours } = settings;
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > brokers) {
    throw new ValidationError(
      `${what} has replication factor ${replicationFactor}; it must be an integer from 1 to the ${brokers} brokers, which each hold one replica`,
      scope,
    );
  }
  if (!Number.isInteger(minInsyncReplicas) || minInsyncReplicas < 1 || minInsyncReplicas >= replicationFactor) {
    throw new ValidationError(
      `${what} has min.insync.replicas ${minInsyncReplicas}; it must be at least 1 and below the replication factor ${replicationFactor}, or a single broker down would stop acks=all writes`,
      scope,
    );
  }
  if (!Number.isInteger(retentionHours) || retentionHours < 1) {
    throw new ValidationError(`${what} has retention ${retentionHours} h; it must be a whole number of hours, at least 1`, scope);
  }
}

/** Throws unless every topic is valid for a cluster of `brokers` brokers and no name repeats. */
export function validateTopics(scope: IConstruct, topics: readonly KafkaTopicSpec[], brokers: number): void {
  const seen = new Set<string>();
  for (const topic of topics) {
    validateTopicName(scope, topic.name);
    if (seen.has(topic.name)) throw new ValidationError(`topic '${topic.name}' is listed twice`, scope);
    seen.add(topic.name);
    if (!Number.isInteger(topic.partitions) || topic.partitions < 1) {
      throw new ValidationError(`topic '${topic.name}' has ${topic.partitions} partitions; it needs a positive integer`, scope);
    }
    validateDurability(scope, `topic '${topic.name}'`, topic, brokers);
  }
}
