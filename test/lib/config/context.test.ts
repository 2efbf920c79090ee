import { describe, expect, test } from 'vitest';
import {
  ConfigError,
  MAX_REGIONS,
  PLACEHOLDER_ACCOUNT,
  resolvePlatformConfig,
  SUPPORTED_REGIONS,
  TIER_NAMES,
  vpcCidrFor,
} from '../../../lib/config';

const ACCOUNT = '111122223333';

describe('defaults', () => {
  test('tier1 in us-east-1 (primary) and us-west-2 when nothing is given', () => {
    // WHEN
    const { config, warnings } = resolvePlatformConfig({}, undefined);
    // THEN
    expect(config.tier.name).toBe('tier1');
    expect(config.regions.map((r) => [r.name, r.isPrimary])).toEqual([
      ['us-east-1', true],
      ['us-west-2', false],
    ]);
    expect(config.account).toBe(PLACEHOLDER_ACCOUNT);
    expect(config.accountIsPlaceholder).toBe(true);
    expect(warnings).toHaveLength(3);
  });

  test("tier3's default is the three-region layout", () => {
    const { config } = resolvePlatformConfig({ tier: 'tier3', account: ACCOUNT });
    expect(config.regions.map((r) => r.name)).toEqual(['us-east-1', 'us-west-2', 'eu-west-1']);
  });

  test('CDK_DEFAULT_ACCOUNT is used when -c account is absent, with no warning about it', () => {
    const { config, warnings } = resolvePlatformConfig({ domain: 'ml.example.com', hostedZoneId: 'Z123ABC' }, '444455556666');
    expect(config.account).toBe('444455556666');
    expect(config.accountIsPlaceholder).toBe(false);
    expect(warnings).toEqual([]);
  });

  test.each([
    ['empty', ''],
    ['blank', '   '],
  ])('a CDK_DEFAULT_ACCOUNT that is set but %s counts as unset: the placeholder, with its warning', (_, blank) => {
    // WHEN
    const { config, warnings } = resolvePlatformConfig({ domain: 'ml.example.com', hostedZoneId: 'Z123ABC' }, blank);
    // THEN
    expect(config.account).toBe(PLACEHOLDER_ACCOUNT);
    expect(config.accountIsPlaceholder).toBe(true);
    expect(warnings).toEqual([`no -c account and no CDK_DEFAULT_ACCOUNT: using placeholder ${PLACEHOLDER_ACCOUNT} (synth only)`]);
  });

  test('-c account wins over CDK_DEFAULT_ACCOUNT, even a malformed one', () => {
    const { config } = resolvePlatformConfig({ account: ACCOUNT }, 'not-an-account');
    expect(config.account).toBe(ACCOUNT);
  });

  test('a malformed CDK_DEFAULT_ACCOUNT is named as such, not as -c account', () => {
    expect(() => resolvePlatformConfig({}, ' 1234 ')).toThrow(
      'Invalid environment CDK_DEFAULT_ACCOUNT=1234: expected a 12-digit AWS account id (read because -c account is not given)',
    );
  });

  test('an account given as -c account is named as -c account', () => {
    expect(() => resolvePlatformConfig({ account: 'x' }, '444455556666')).toThrow('Invalid context -c account=x: ');
  });

  test('regions may be given as a JSON list (cdk.json) or a comma-separated string (-c)', () => {
    const fromList = resolvePlatformConfig({ regions: ['eu-west-1', 'eu-central-1'], account: ACCOUNT });
    const fromString = resolvePlatformConfig({ regions: 'eu-west-1, eu-central-1', account: ACCOUNT });
    expect(fromList.config.regions).toEqual(fromString.config.regions);
    expect(fromList.config.regions[0]?.isPrimary).toBe(true);
  });

  test('EKS admin roles come from -c eksAdminRoleArns, none by default', () => {
    expect(resolvePlatformConfig({ account: ACCOUNT }).config.eksAdminRoleArns).toEqual([]);
    const arns = 'arn:aws:iam::111122223333:role/platform-admin, arn:aws:iam::111122223333:role/sre';
    expect(resolvePlatformConfig({ account: ACCOUNT, eksAdminRoleArns: arns }).config.eksAdminRoleArns).toEqual([
      'arn:aws:iam::111122223333:role/platform-admin',
      'arn:aws:iam::111122223333:role/sre',
    ]);
  });

  test('on-call principals come from -c onCallPrincipals (roles, users, account roots; a JSON list too), none by default', () => {
    expect(resolvePlatformConfig({ account: ACCOUNT }).config.onCallPrincipalArns).toEqual([]);
    const given = 'arn:aws:iam::111122223333:role/sre, arn:aws:iam::444455556666:root,arn:aws:iam::111122223333:user/alice';
    const expected = ['arn:aws:iam::111122223333:role/sre', 'arn:aws:iam::444455556666:root', 'arn:aws:iam::111122223333:user/alice'];
    expect(resolvePlatformConfig({ account: ACCOUNT, onCallPrincipals: given }).config.onCallPrincipalArns).toEqual(expected);
    expect(resolvePlatformConfig({ account: ACCOUNT, onCallPrincipals: expected }).config.onCallPrincipalArns).toEqual(expected);
  });

  test('a two-region deployment has a witness region (us-east-2 unless -c witnessRegion; none with none); three regions have none', () => {
    expect(resolvePlatformConfig({ account: ACCOUNT }).config.witnessRegion).toMatchObject({ name: 'us-east-2', code: 'use2' });
    expect(resolvePlatformConfig({ account: ACCOUNT, witnessRegion: 'eu-west-1' }).config.witnessRegion?.name).toBe('eu-west-1');
    expect(resolvePlatformConfig({ account: ACCOUNT, witnessRegion: 'none' }).config.witnessRegion).toBeUndefined();
    expect(resolvePlatformConfig({ account: ACCOUNT, tier: 'tier3' }).config.witnessRegion).toBeUndefined();
  });

  test('game days are on for dev and off for tiers 1-3 unless -c gameDays says otherwise', () => {
    expect(TIER_NAMES.map((tier) => [tier, resolvePlatformConfig({ tier, account: ACCOUNT }).config.gameDays])).toEqual([
      ['dev', true],
      ['tier1', false],
      ['tier2', false],
      ['tier3', false],
    ]);
    expect(resolvePlatformConfig({ tier: 'tier1', account: ACCOUNT, gameDays: 'on' }).config.gameDays).toBe(true);
    expect(resolvePlatformConfig({ tier: 'dev', account: ACCOUNT, gameDays: 'off' }).config.gameDays).toBe(false);
  });

  test('backup Vault Lock is off unless -c backupVaultLock turns it on', () => {
    expect(resolvePlatformConfig({ account: ACCOUNT }).config.backupVaultLock).toBe('off');
    expect(resolvePlatformConfig({ account: ACCOUNT, backupVaultLock: 'compliance' }).config.backupVaultLock).toBe('compliance');
  });
});

describe('bad input fails with one line naming key, value and what is allowed', () => {
  test.each([
    [{ tier: 'tier9' }, 'Invalid context -c tier=tier9: expected one of dev, tier1, tier2, tier3'],
    [{ tier: '' }, 'Invalid context -c tier="": expected a non-empty value, or leave the key out to use the default'],
    [
      { regions: 'us-east-1,useast2' },
      'Invalid context -c regions=us-east-1,useast2: "useast2" is not a region name; expected a comma-separated list such as us-east-1,us-west-2',
    ],
    [
      { regions: 'us-east-1,us-west-1' },
      `Invalid context -c regions=us-east-1,us-west-1: us-west-1 is not supported; supported regions: ${SUPPORTED_REGIONS.map((r) => r.name).join(', ')}`,
    ],
    [
      { regions: 'us-east-1,us-west-2,us-west-2' },
      'Invalid context -c regions=us-east-1,us-west-2,us-west-2: us-west-2 is listed twice; each region may appear once',
    ],
    [
      { regions: 'us-east-1,us-west-2,us-east-1' },
      'Invalid context -c regions=us-east-1,us-west-2,us-east-1: the primary us-east-1 is listed again; each region may appear once',
    ],
    [
      { regions: 'us-east-1,us-west-2,eu-west-1,eu-central-1,ap-southeast-2,ap-northeast-1' },
      `Invalid context -c regions=us-east-1,us-west-2,eu-west-1,eu-central-1,ap-southeast-2,ap-northeast-1: 6 region(s) given; expected 2 to ${MAX_REGIONS}, the first being the primary`,
    ],
    [{ regions: 'us-east-1' }, 'Invalid context -c regions=us-east-1: 1 region(s) given; expected 2 to 5, the first being the primary'],
    [{ backupVaultLock: 'on' }, 'Invalid context -c backupVaultLock=on: expected one of off, governance, compliance'],
    [{ gameDays: 'yes' }, 'Invalid context -c gameDays=yes: expected one of on, off'],
    [{ tier: 'dev', gameDays: 'ON' }, 'Invalid context -c gameDays=ON: expected one of on, off'],
    [{ gameDays: true }, 'Invalid context -c gameDays=true: expected a string'],
    [
      { witnessRegion: 'us-west-2' },
      "Invalid context -c witnessRegion=us-west-2: the witness must be a region apart from the deployment's (us-east-1, us-west-2)",
    ],
    [
      { witnessRegion: 'mars-1' },
      `Invalid context -c witnessRegion=mars-1: expected none or one of ${SUPPORTED_REGIONS.map((r) => r.name).join(', ')}`,
    ],
    [
      { tier: 'tier3', witnessRegion: 'us-east-2' },
      'Invalid context -c witnessRegion=us-east-2: a deployment of 3 regions needs no witness (its regions make a majority); give none, or leave it out',
    ],
    [
      { eksAdminRoleArns: 'arn:aws:iam::111122223333:user/alice' },
      'Invalid context -c eksAdminRoleArns=arn:aws:iam::111122223333:user/alice: "arn:aws:iam::111122223333:user/alice" is not an IAM role ARN; expected arn:aws:iam::<account>:role/<name>, comma-separated',
    ],
    [
      { onCallPrincipals: 'arn:aws:iam::111122223333:role/sre,sre' },
      'Invalid context -c onCallPrincipals=arn:aws:iam::111122223333:role/sre,sre: "sre" is not an IAM principal ARN; expected arn:aws:iam::<account>:role/<name>, arn:aws:iam::<account>:user/<name> or arn:aws:iam::<account>:root, comma-separated',
    ],
    [
      { onCallPrincipals: 'arn:aws:iam::111122223333:group/oncall' },
      'Invalid context -c onCallPrincipals=arn:aws:iam::111122223333:group/oncall: "arn:aws:iam::111122223333:group/oncall" is not an IAM principal ARN; expected arn:aws:iam::<account>:role/<name>, arn:aws:iam::<account>:user/<name> or arn:aws:iam::<account>:root, comma-separated',
    ],
    [{ account: '1234' }, 'Invalid context -c account=1234: expected a 12-digit AWS account id'],
    [{ account: 12 }, 'Invalid context -c account=12: expected a string'],
    [{ domain: 'Not A Domain' }, 'Invalid context -c domain=Not A Domain: expected a lower-case DNS name such as ml.example.com'],
    [
      { hostedZoneId: 'zone-1' },
      'Invalid context -c hostedZoneId=zone-1: expected a Route 53 hosted zone id: Z followed by up to 31 upper-case letters or digits',
    ],
  ])('%j', (context, message) => {
    expect(() => resolvePlatformConfig(context)).toThrow(ConfigError);
    expect(() => resolvePlatformConfig(context)).toThrow(message);
    try {
      resolvePlatformConfig(context);
    } catch (error) {
      expect((error as Error).message).toBe(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

describe('address plan', () => {
  test('every (tier, supported region) pair gets its own /16', () => {
    const cidrs = TIER_NAMES.flatMap((tier) => SUPPORTED_REGIONS.map((region) => vpcCidrFor(tier, region)));
    expect(new Set(cidrs).size).toBe(TIER_NAMES.length * SUPPORTED_REGIONS.length);
    for (const cidr of cidrs) expect(cidr).toMatch(/^10\.\d{1,3}\.0\.0\/16$/);
  });

  test("a region's CIDR does not depend on its position in -c regions", () => {
    const a = resolvePlatformConfig({ regions: 'us-east-1,us-west-2,eu-west-1', account: ACCOUNT }).config;
    const b = resolvePlatformConfig({ regions: 'eu-west-1,us-east-1', account: ACCOUNT }).config;
    const cidrOf = (c: typeof a, name: string) => c.regions.find((r) => r.name === name)?.vpcCidr;
    expect(cidrOf(a, 'eu-west-1')).toBe(cidrOf(b, 'eu-west-1'));
    expect(cidrOf(a, 'us-east-1')).toBe(cidrOf(b, 'us-east-1'));
    expect(cidrOf(a, 'us-east-1')).toBe('10.64.0.0/16');
  });
});
