import { describe, expect, test } from 'vitest';
import { artifactBucketName, resolvePlatformConfig } from '../../lib/config';
import { LayoutAssembly } from '../support/assembly';
import { LAYOUTS, layoutContext, TEST_ACCOUNT } from '../support/layouts';
import { replicationSentBy } from '../support/replication';

describe.each(LAYOUTS)('platform layout $id', (layout) => {
  const assembly = LayoutAssembly.of(layout.id);
  const { config } = resolvePlatformConfig(layoutContext(layout));
  const primary = config.regions[0];
  const secondaries = config.regions.slice(1);
  if (!primary) throw new Error('no primary');
  const name = (code: string, layer: string) => `Mlp-${config.tier.name}-${code}-${layer}`;

  test('network, data, compute and resilience stacks in every region, named Mlp-<tier>-<code>-<layer>, plus the global stack (and a two-region tier’s witness)', () => {
    const expected = config.regions.flatMap((r) => ['network', 'data', 'compute', 'resilience'].map((layer) => name(r.code, layer)));
    const witness = config.witnessRegion ? [name(config.witnessRegion.code, 'witness')] : [];
    expect(config.witnessRegion !== undefined).toBe(config.regions.length === 2);
    expect(assembly.stackNames.sort()).toEqual([...expected, ...witness, `Mlp-${config.tier.name}-global`].sort());
  });

  test('a two-region tier’s witness stack holds one runbook state table, under its own key, in a third region', () => {
    if (!config.witnessRegion) return;
    const stack = name(config.witnessRegion.code, 'witness');
    expect(assembly.artifact(stack).environment).toBe(`aws://${TEST_ACCOUNT}/${config.witnessRegion.name}`);
    expect(config.regions.map((r) => r.name)).not.toContain(config.witnessRegion.name);
    const template = assembly.template(stack);
    const types = Object.values(template.Resources as Record<string, { Type: string }>)
      .map((r) => r.Type)
      .sort();
    expect(types).toEqual(['AWS::DynamoDB::Table', 'AWS::KMS::Alias', 'AWS::KMS::Key']);
    const table = Object.values(
      template.Resources as Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>,
    ).find((r) => r.Type === 'AWS::DynamoDB::Table');
    expect(table?.Properties).toMatchObject({
      TableName: `mlp-${config.tier.name}-dr-state`,
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    });
    expect(table?.DeletionPolicy).toBe('Retain');
  });

  test('every stack has an explicit account and region', () => {
    for (const region of config.regions) {
      for (const layer of ['network', 'data', 'compute', 'resilience']) {
        expect(assembly.artifact(name(region.code, layer)).environment).toBe(`aws://${TEST_ACCOUNT}/${region.name}`);
      }
    }
  });

  test('only the stateful data stacks are termination-protected', () => {
    for (const region of config.regions) {
      expect(assembly.artifact(name(region.code, 'data')).properties?.terminationProtection).toBe(true);
      expect(assembly.artifact(name(region.code, 'network')).properties?.terminationProtection).toBeFalsy();
    }
  });

  test('stacks are tagged with tier, region and primary/secondary role', () => {
    for (const region of config.regions) {
      expect(assembly.artifact(name(region.code, 'data')).properties?.tags).toMatchObject({
        'mlp:tier': config.tier.name,
        'mlp:region': region.name,
        'mlp:region-role': region.isPrimary ? 'primary' : 'secondary',
        'mlp:layer': 'data',
      });
    }
  });

  test('each resilience stack deploys after every region’s data stack', () => {
    for (const region of config.regions) {
      const dependencies = assembly.artifact(name(region.code, 'resilience')).dependencies ?? [];
      for (const other of config.regions) expect(dependencies).toContain(name(other.code, 'data'));
    }
  });

  test('the global stack deploys in us-east-1 after every region’s compute stack', () => {
    const global = assembly.artifact(`Mlp-${config.tier.name}-global`);
    expect(global.environment).toBe(`aws://${TEST_ACCOUNT}/us-east-1`);
    for (const region of config.regions) expect(global.dependencies).toContain(name(region.code, 'compute'));
  });

  test('VPC CIDRs never overlap between regions', () => {
    const cidrs = config.regions.map((r) => assembly.resourcesOfType(name(r.code, 'network'), 'AWS::EC2::VPC'));
    const blocks = cidrs.map((vpcs) => Object.values(vpcs)[0]?.Properties?.CidrBlock);
    expect(new Set(blocks).size).toBe(config.regions.length);
  });

  test("the primary's artifact bucket replicates to every secondary's bucket, with RTC and metrics", () => {
    const sent = replicationSentBy(assembly.template(name(primary.code, 'resilience')).Resources);
    expect(sent.bucket).toBe(artifactBucketName(config.tier.name, TEST_ACCOUNT, primary.name));
    expect(sent.rules.map((r) => r.Destination.Bucket)).toEqual(
      secondaries.map((s) => `arn:aws:s3:::${artifactBucketName(config.tier.name, TEST_ACCOUNT, s.name)}`),
    );
    for (const rule of sent.rules) {
      expect(rule.Destination.ReplicationTime).toEqual({ Status: 'Enabled', Time: { Minutes: 15 } });
      expect(rule.Destination.Metrics).toEqual({ Status: 'Enabled', EventThreshold: { Minutes: 15 } });
    }
  });

  test('each secondary replicates back to the primary only (the failback path)', () => {
    for (const secondary of secondaries) {
      const sent = replicationSentBy(assembly.template(name(secondary.code, 'resilience')).Resources);
      expect(sent.bucket).toBe(artifactBucketName(config.tier.name, TEST_ACCOUNT, secondary.name));
      expect(sent.rules.map((r) => r.Destination.Bucket)).toEqual([
        `arn:aws:s3:::${artifactBucketName(config.tier.name, TEST_ACCOUNT, primary.name)}`,
      ]);
    }
  });

  test('each data stack has its artifact bucket, encrypted with its own region’s data key', () => {
    for (const region of config.regions) {
      const template = assembly.assertions(name(region.code, 'data'));
      template.hasResourceProperties('AWS::KMS::Alias', { AliasName: `alias/mlp-${config.tier.name}-data` });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: artifactBucketName(config.tier.name, TEST_ACCOUNT, region.name),
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
      });
    }
  });
});
