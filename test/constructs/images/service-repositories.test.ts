import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, test } from 'vitest';
import { ServiceRepositories } from '../../../constructs/images';
import { testApp } from '../../support/synth';

describe('ServiceRepositories', () => {
  const stack = new Stack(testApp(), 'Images', { env: { account: '111122223333', region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const repositories = new ServiceRepositories(stack, 'Images', {
    prefix: 'mlp/tier1',
    services: ['tracking-server', 'scheduler'],
    encryptionKey: key,
  });
  const template = Template.fromStack(stack);

  test('one immutable, scanned, KMS-encrypted, retained repository per service', () => {
    template.resourceCountIs('AWS::ECR::Repository', 2);
    template.hasResource('AWS::ECR::Repository', {
      Properties: {
        RepositoryName: 'mlp/tier1/tracking-server',
        ImageTagMutability: 'IMMUTABLE',
        ImageScanningConfiguration: { ScanOnPush: true },
        EncryptionConfiguration: {
          EncryptionType: 'KMS',
          KmsKey: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
        },
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('image URIs name the service repository and the tag', () => {
    expect(JSON.stringify(stack.resolve(repositories.imageUri('scheduler', '1.0.0')))).toContain(':1.0.0');
    expect(() => repositories.imageUri('nope', '1.0.0')).toThrow('no repository for service nope');
  });

  test.each([
    ['an upper-case prefix', { prefix: 'MLP' }, 'prefix "MLP" is not a valid ECR repository path'],
    ['a service twice', { services: ['a', 'a'] }, 'services lists a service twice'],
  ])('rejects %s', (_what, overrides, message) => {
    const other = new Stack(testApp(), 'Other');
    const otherKey = new kms.Key(other, 'Key');
    expect(
      () => new ServiceRepositories(other, 'Images', { prefix: 'mlp', services: ['a'], encryptionKey: otherKey, ...overrides }),
    ).toThrow(message);
  });
});
