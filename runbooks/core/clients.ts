import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { KafkaClient } from '@aws-sdk/client-kafka';
import { KeyspacesClient } from '@aws-sdk/client-keyspaces';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';

/** AWS SDK v3 clients by region. Steps take every client from here, so a test or the drill can give others. */
export interface AwsClients {
  rds(region: string): RDSClient;
  elasticache(region: string): ElastiCacheClient;
  cloudwatch(region: string): CloudWatchClient;
  ssm(region: string): SSMClient;
  sns(region: string): SNSClient;
  s3(region: string): S3Client;
  dynamodb(region: string): DynamoDBClient;
  kafka(region: string): KafkaClient;
  batch(region: string): BatchClient;
  sfn(region: string): SFNClient;
  eks(region: string): EKSClient;
  keyspaces(region: string): KeyspacesClient;
  lambda(region: string): LambdaClient;
}

/**
 * Explicit transport timeouts for every runbook client. The SDK's defaults wait for the operating
 * system's TCP timeout when a region drops packets (minutes): a step would hang until its Lambda
 * timeout. With these, a call to a blackholed region fails after its three attempts, about 3.5 s.
 */
export const CLIENT_TIMEOUTS = {
  /** TCP connect to the endpoint: an AWS endpoint of any region connects in well under 300 ms from Lambda. */
  connectionTimeoutMs: 1_000,
  /** From the request sent to the response's first byte; the runbooks' calls answer in well under a second. */
  requestTimeoutMs: 5_000,
} as const;

/** Attempts per call (the SDK's standard retry); throttling that outlasts them becomes `AwsThrottled`. */
export const CLIENT_MAX_ATTEMPTS = 3;

/** How every runbook client is configured, in Lambda and in the drill alike. */
export interface ClientConfig {
  readonly region: string;
  readonly maxAttempts: number;
  readonly requestHandler: { readonly connectionTimeout: number; readonly requestTimeout: number };
  /** Static credentials: the drill signs nothing real. @default - the SDK's default chain (Lambda's role) */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

export interface AwsClientsOptions {
  readonly credentials?: ClientConfig['credentials'];
  /** Called once for each client created (the drill adds the simulated AWS to its middleware stack). */
  readonly onClient?: (client: { middlewareStack: unknown }, service: string, region: string) => void;
}

type Constructor<T> = new (config: ClientConfig) => T;

/**
 * Real clients, one per service and region, created on first use, each with the runbooks' retry
 * and transport timeouts; throttling that outlasts the retries surfaces as `AwsThrottled` and the
 * state machine retries the step with backoff.
 */
export function awsClients(options: AwsClientsOptions = {}): AwsClients {
  const cache = new Map<string, unknown>();
  const of =
    <T>(service: string, Client: Constructor<T>) =>
    (region: string): T => {
      const key = `${service}:${region}`;
      if (!cache.has(key)) {
        const client = new Client({
          region,
          maxAttempts: CLIENT_MAX_ATTEMPTS,
          requestHandler: { connectionTimeout: CLIENT_TIMEOUTS.connectionTimeoutMs, requestTimeout: CLIENT_TIMEOUTS.requestTimeoutMs },
          ...(options.credentials ? { credentials: options.credentials } : {}),
        });
        options.onClient?.(client as { middlewareStack: unknown }, service, region);
        cache.set(key, client);
      }
      return cache.get(key) as T;
    };
  return {
    rds: of('rds', RDSClient),
    elasticache: of('elasticache', ElastiCacheClient),
    cloudwatch: of('cloudwatch', CloudWatchClient),
    ssm: of('ssm', SSMClient),
    sns: of('sns', SNSClient),
    s3: of('s3', S3Client),
    dynamodb: of('dynamodb', DynamoDBClient),
    kafka: of('kafka', KafkaClient),
    batch: of('batch', BatchClient),
    sfn: of('sfn', SFNClient),
    eks: of('eks', EKSClient),
    keyspaces: of('keyspaces', KeyspacesClient),
    lambda: of('lambda', LambdaClient),
  };
}
