import { Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { DEFAULT_CERTIFICATE_DURATION_HOURS, DEFAULT_CERTIFICATE_RENEW_BEFORE_HOURS, validateIssuer } from '../private/certificates';
import { isDnsLabel, validateDnsSubdomain, validateInteger } from '../private/k8s';
import { ValidationError } from '../private/validation-error';
import { DEFAULT_DATABASE } from './k8s';
import type { ClickHouseChartsProps, ClickHouseClientSpec } from './types';

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
const KAFKA_NAME = /^[A-Za-z0-9._-]+$/;

/** Throws a `ValidationError` on `scope` for the first thing in `props` the charts cannot deploy. */
export function validateClickHouseProps(scope: IConstruct, spec: ClickHouseChartsProps): void {
  const fail = (message: string): never => {
    throw new ValidationError(message, scope);
  };
  const integer = (what: string, value: number, min: number, max?: number) => validateInteger(scope, what, value, min, max);
  const known = (value: string) => !Token.isUnresolved(value);

  if (!isDnsLabel(spec.namespace)) {
    fail(`namespace must be a DNS-1123 label, got '${spec.namespace}'`);
  }
  for (const [what, value] of [
    ['clusterName', spec.clusterName],
    ['database', spec.database ?? DEFAULT_DATABASE],
  ] as const) {
    if (!IDENTIFIER.test(value)) fail(`${what} must be lower-case letters, digits and '_', starting with a letter, got '${value}'`);
  }
  integer('shards', spec.shards, 1);
  if (spec.zones.length < 3) {
    fail(
      `zones must name at least 3 availability zones (a shard's replicas and the Keeper members are spread over them), got ${spec.zones.length}`,
    );
  }
  if (known(spec.zones.join('')) && new Set(spec.zones).size !== spec.zones.length)
    fail(`zones must be distinct, got ${spec.zones.join(', ')}`);
  integer('replicasPerShard', spec.replicasPerShard, 1, 3);
  if (spec.replicasPerShard > spec.zones.length) {
    fail(
      `replicasPerShard (${spec.replicasPerShard}) must not exceed the number of zones (${spec.zones.length}); a shard's replicas sit in different zones`,
    );
  }
  if (spec.keeperNodes !== 3 && spec.keeperNodes !== 5) {
    fail(`keeperNodes must be 3 or 5 (an odd ensemble that keeps a quorum with one member down), got ${spec.keeperNodes}`);
  }
  // The server's share after the backup sidecar must stay positive and useful.
  integer('nodeVcpus', spec.nodeVcpus, 2);
  integer('nodeMemoryGiB', spec.nodeMemoryGiB, 4);
  integer('storageGiB', spec.storageGiB, 1);
  if (spec.keeperStorageGiB !== undefined) integer('keeperStorageGiB', spec.keeperStorageGiB, 1);
  if (spec.keeperResources !== undefined) {
    integer('keeperResources.cpuMillicores', spec.keeperResources.cpuMillicores, 1);
    integer('keeperResources.memoryMiB', spec.keeperResources.memoryMiB, 1);
  }
  if (spec.tableTtlDays !== undefined) integer('tableTtlDays', spec.tableTtlDays, 1);
  if (spec.storageClass === '') fail('storageClass must name a StorageClass');
  if (known(spec.serviceAccountName)) validateDnsSubdomain(scope, 'serviceAccountName', spec.serviceAccountName);
  for (const [what, value] of [
    ['image', spec.image],
    ['keeperImage', spec.keeperImage],
    ['backup.image', spec.backup.image],
    ['backup.bucketName', spec.backup.bucketName],
    ['region', spec.region],
  ] as const) {
    if (value === '') fail(`${what} must not be empty`);
  }

  validateClients(scope, spec.clients);
  const { tls } = spec;
  validateIssuer(scope, 'tls.issuer', tls.issuer);
  const duration = tls.durationHours ?? DEFAULT_CERTIFICATE_DURATION_HOURS;
  integer('tls.durationHours', duration, 1);
  integer('tls.renewBeforeHours', tls.renewBeforeHours ?? DEFAULT_CERTIFICATE_RENEW_BEFORE_HOURS, 1, duration - 1);

  const { backup, kafka } = spec;
  integer('backup.retentionDays', backup.retentionDays, 1);
  if (known(backup.prefix) && (backup.prefix === '' || backup.prefix.startsWith('/') || backup.prefix.endsWith('/'))) {
    fail(`backup.prefix must be a non-empty key prefix without leading or trailing '/', got '${backup.prefix}'`);
  }
  if (known(backup.schedule) && backup.schedule.trim().split(/\s+/).length !== 5) {
    fail(`backup.schedule must be a 5-field cron expression, got '${backup.schedule}'`);
  }
  for (const [what, value] of [
    ['kafka.topics.spans', kafka.topics.spans],
    ['kafka.topics.evaluations', kafka.topics.evaluations],
    ['kafka.consumerGroup', kafka.consumerGroup],
  ] as const) {
    if (known(value) && !KAFKA_NAME.test(value)) fail(`${what} must be a Kafka name (letters, digits, '.', '_', '-'), got '${value}'`);
  }
  // Literal values go into single-quoted SQL strings.
  for (const [what, value] of [
    ['kafka.bootstrapServers', kafka.bootstrapServers],
    ['region', spec.region],
  ] as const) {
    if (known(value) && (value === '' || /['\\\s]/.test(value)))
      fail(`${what} must be non-empty, without quotes, backslashes or spaces, got '${value}'`);
  }
}

function validateClients(scope: IConstruct, clients: readonly ClickHouseClientSpec[]): void {
  const seen = new Set<string>();
  for (const client of clients) {
    if (!isDnsLabel(client.namespace)) {
      throw new ValidationError(`clients: namespace must be a DNS-1123 label, got '${client.namespace}'`, scope);
    }
    if (client.access !== 'read' && client.access !== 'write') {
      throw new ValidationError(
        `clients: access of namespace '${client.namespace}' must be 'read' or 'write', got '${client.access}'`,
        scope,
      );
    }
    const key = `${client.namespace} ${client.access}`;
    if (seen.has(key)) {
      throw new ValidationError(
        `clients: namespace '${client.namespace}' is listed twice with access '${client.access}'; one certificate serves its pods`,
        scope,
      );
    }
    seen.add(key);
  }
}
