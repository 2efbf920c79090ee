import { expect, test } from 'vitest';
import { templateShape } from '../support/cfn-lint';

const template = (bucketName: unknown, extra: Record<string, unknown> = {}) => ({
  Resources: { Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: bucketName, Tags: [{ Key: 'a', Value: 'b' }], ...extra } } },
});

test('templates that differ only in values share a shape; a new key, resource, type or intrinsic makes another', () => {
  const base = templateShape(template('mlp-tier1-use1'));
  expect(templateShape(template('mlp-tier1-usw2-a-much-longer-name'))).toBe(base);
  expect(templateShape(template('x', { VersioningConfiguration: { Status: 'Enabled' } }))).not.toBe(base);
  expect(templateShape(template({ Ref: 'Name' }))).not.toBe(base);
  expect(templateShape(template(7))).not.toBe(base);
  expect(templateShape({ Resources: { ...template('x').Resources, Other: { Type: 'AWS::S3::Bucket' } } })).not.toBe(base);
});
