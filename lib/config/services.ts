import type { ClickHouseAccess } from '../../constructs/clickhouse';
import type { KafkaTopicSpec } from '../../constructs/kafka';
import { SERVICE_HOSTS } from './naming';
import type { ServiceName } from './types';

/** Port every platform container listens on. */
export const SERVICE_PORT = 8080;

/** ECR repository of the training-step image that Batch jobs run. */
export const TRAINING_IMAGE = 'training-step';

/** ECR repositories of the third-party images the region runs, mirrored by an operator. */
export const MIRRORED_IMAGES = {
  clickhouse: 'clickhouse-server',
  clickhouseKeeper: 'clickhouse-keeper',
  clickhouseBackup: 'clickhouse-backup',
  kafkaTools: 'kafka-tools',
} as const;

/** Every service the regional API routes to, by name: its host under `domain`, its port and its health check. */
export function serviceEndpoints(
  domain: string,
  healthCheckPath: string,
): Record<string, { host: string; port: number; healthCheckPath: string }> {
  return Object.fromEntries(
    Object.entries(SERVICE_HOSTS).map(([host, service]) => [service, { host: `${host}.${domain}`, port: SERVICE_PORT, healthCheckPath }]),
  );
}

/** A store a service reaches in AWS. */
export type ServiceStore = 'artifacts' | 'postgres' | 'features' | 'cache';

/** What each service reaches in AWS; services not listed need no AWS access yet. */
export const SERVICE_ACCESS: Partial<Record<ServiceName | 'scheduler', readonly ServiceStore[]>> = {
  'tracking-server': ['artifacts', 'postgres'],
  'registry-api': ['artifacts', 'postgres'],
  'metadata-service': ['artifacts', 'postgres'],
  'metaflow-worker': ['artifacts', 'postgres'],
  'prediction-service': ['artifacts', 'features', 'cache'],
  scheduler: ['postgres'],
};

/** The services that reach `store`. */
export function servicesReaching(store: ServiceStore): ServiceName[] {
  return (Object.entries(SERVICE_ACCESS) as [ServiceName | 'scheduler', readonly ServiceStore[]][])
    .filter(([service, stores]) => service !== 'scheduler' && stores.includes(store))
    .map(([service]) => service as ServiceName);
}

/**
 * Services that query ClickHouse, and what they may do there: the tracking server writes run
 * metrics ([000] metric store), the query API and the evaluation workers read traces ([004]).
 * Each authenticates with the client certificate of its access.
 */
export const CLICKHOUSE_CLIENTS: Partial<Record<ServiceName, ClickHouseAccess>> = {
  'tracking-server': 'write',
  'query-api': 'read',
  'evaluation-worker': 'read',
};

/** The topics the platform's own services use, by role; every preset has them. */
export function platformTopics(topics: readonly KafkaTopicSpec[]): { spans: string; evaluations: string; jobTasks: string } {
  const name = (wanted: string) => {
    const found = topics.find((t) => t.name === wanted);
    if (!found) throw new Error(`unreachable: topic ${wanted} is in every preset`);
    return found.name;
  };
  return { spans: name('llm-spans'), evaluations: name('llm-evaluation-results'), jobTasks: name('job-tasks') };
}
