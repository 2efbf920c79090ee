import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { recordKey, templateShape } from '../support/cfn-lint';

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

test('the cfn-lint record knows a template by its region and exact text, asset hashes aside', () => {
  const directory = mkdtempSync(join(tmpdir(), 'mlp-record-'));
  try {
    const write = (name: string, value: unknown) => {
      const file = join(directory, name);
      writeFileSync(file, JSON.stringify(value));
      return file;
    };
    const asset = (hash: string) => template('mlp-tier1-use1', { Code: { S3Key: `${hash}.zip` } });
    const a = recordKey({ file: write('a.json', asset('a'.repeat(64))), region: 'us-east-1' });
    expect(recordKey({ file: write('b.json', asset('b'.repeat(64))), region: 'us-east-1' })).toBe(a);
    expect(recordKey({ file: write('c.json', asset('a'.repeat(64))), region: 'us-west-2' })).not.toBe(a);
    expect(
      recordKey({ file: write('d.json', template('mlp-tier1-usw2', { Code: { S3Key: `${'a'.repeat(64)}.zip` } })), region: 'us-east-1' }),
    ).not.toBe(a);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
