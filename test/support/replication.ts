import { expect } from 'vitest';

interface ReplicationRule {
  ID: string;
  Priority: number;
  Status: string;
  Destination: Record<string, any>;
  [key: string]: any;
}

/**
 * The replication configuration a `Custom::BucketReplication` resource sends to S3 on create.
 * `Create` is JSON, joined with the role ARN token; tokens are replaced by "<token>".
 */
export function replicationSentBy(resources: Record<string, { Type: string; Properties?: Record<string, any> }>): {
  bucket: string;
  rules: ReplicationRule[];
} {
  const found = Object.values(resources).filter((r) => r.Type === 'Custom::BucketReplication');
  expect(found).toHaveLength(1);
  const create = found[0]?.Properties?.Create;
  const text =
    typeof create === 'string'
      ? create
      : create['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : '<token>')).join('');
  const call = JSON.parse(text.replace(/"<token>"|<token>/g, '<token>').replace(/<token>/g, '"<token>"'));
  expect(call).toMatchObject({ service: 'S3', action: 'putBucketReplication' });
  return { bucket: call.parameters.Bucket, rules: call.parameters.ReplicationConfiguration.Rules };
}
