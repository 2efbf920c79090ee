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

type Constructor<T> = new (config: { region: string; maxAttempts: number }) => T;

/**
 * Real clients, one per service and region, created on first use. Three attempts each (the SDK's
 * standard retry); throttling that outlasts them surfaces as `AwsThrottled` and the state machine
 * retries the step with backoff.
 */
export function awsClients(): AwsClients {
  const cache = new Map<string, unknown>();
  const of =
    <T>(service: string, Client: Constructor<T>) =>
    (region: string): T => {
      const key = `${service}:${region}`;
      if (!cache.has(key)) cache.set(key, new Client({ region, maxAttempts: 3 }));
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
