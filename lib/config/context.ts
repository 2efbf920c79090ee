import { vpcCidrFor } from './address-plan';
import { ConfigError } from './errors';
import { findSupportedRegion, REGION_NAME_PATTERN, SUPPORTED_REGIONS } from './regions';
import { TIER_NAMES, TIER_PRESETS } from './tiers';
import { resolveDatabaseTopology } from './topology';
import type { BackupVaultLockMode, DatabaseEngine, KafkaReplicationMode, PlatformConfig, RegionPlan, TierName } from './types';

/** The CDK context keys that make up the app's interface (`-c key=value`). */
export interface PlatformContext {
  readonly tier?: unknown;
  readonly regions?: unknown;
  readonly account?: unknown;
  readonly domain?: unknown;
  readonly hostedZoneId?: unknown;
  readonly backupVaultLock?: unknown;
  readonly eksAdminRoleArns?: unknown;
  readonly kafkaReplicationMode?: unknown;
  readonly kafkaReplication?: unknown;
  readonly primaryRegion?: unknown;
  readonly rebuiltReplicas?: unknown;
  readonly retiredDatabases?: unknown;
  readonly databaseEngine?: unknown;
  readonly witnessRegion?: unknown;
  readonly onCallPrincipals?: unknown;
  readonly gameDays?: unknown;
}

/** Every key of `PlatformContext`, once: the compiler refuses a key added to one and not the other. */
const CONTEXT_KEY_SET: Readonly<Record<keyof PlatformContext, true>> = {
  tier: true,
  regions: true,
  account: true,
  domain: true,
  hostedZoneId: true,
  backupVaultLock: true,
  eksAdminRoleArns: true,
  kafkaReplicationMode: true,
  kafkaReplication: true,
  primaryRegion: true,
  rebuiltReplicas: true,
  retiredDatabases: true,
  databaseEngine: true,
  witnessRegion: true,
  onCallPrincipals: true,
  gameDays: true,
};

/** The app's context keys (`-c key=value`), as `bin/platform.ts` reads them and `check:changes` accepts them. */
export const CONTEXT_KEYS = Object.keys(CONTEXT_KEY_SET) as readonly (keyof PlatformContext)[];

export { ConfigError };

export const DEFAULT_TIER: TierName = 'tier1';
export const KAFKA_REPLICATION_MODES: readonly KafkaReplicationMode[] = ['msk-replicator', 'mirrormaker2'];
export const DATABASE_ENGINES: readonly DatabaseEngine[] = ['aurora-postgresql-global', 'rds-postgresql'];
/** `-c gameDays`: the tier's game days (scheduled drills and FIS experiment templates) on or off. */
export const GAME_DAYS_CHOICES: readonly ('on' | 'off')[] = ['on', 'off'];
export const BACKUP_VAULT_LOCK_MODES: readonly BackupVaultLockMode[] = ['off', 'governance', 'compliance'];
/** A DR platform needs a primary and at least one secondary. */
export const MIN_REGIONS = 2;
/**
 * The largest layout the quality gates are run against (tier3 across five regions). Raising it
 * means adding that layout to the test matrix first.
 */
export const MAX_REGIONS = 5;

/** Synth-only stand-ins; `bin/platform.ts` warns when one is used. Never deploy with them. */
export const PLACEHOLDER_ACCOUNT = '123456789012';
export const PLACEHOLDER_DOMAIN = 'ml-platform.example.com';
export const PLACEHOLDER_HOSTED_ZONE_ID = 'Z0000000PLACEHOLDER';

const ACCOUNT_PATTERN = /^\d{12}$/;
const ROLE_ARN_PATTERN = /^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** An account root, an IAM role or an IAM user: what a role's trust policy may name to assume it. */
const ON_CALL_PRINCIPAL_PATTERN = /^arn:aws:iam::\d{12}:(root|(role|user)\/[\w+=,.@/-]{1,512})$/;
const HOSTED_ZONE_ID_PATTERN = /^Z[0-9A-Z]{1,31}$/;
const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export interface ResolvedConfig {
  readonly config: PlatformConfig;
  /** Placeholders that were used; synthesis works, deployment would not. */
  readonly warnings: readonly string[];
}

/**
 * Validate the context and build the one `PlatformConfig` the app uses.
 *
 * @param context CDK context values (strings from `-c`, or JSON values from cdk.json)
 * @param defaultAccount the CLI's `CDK_DEFAULT_ACCOUNT`, if any
 * @throws ConfigError for the first value that is not allowed
 */
export function resolvePlatformConfig(context: PlatformContext, defaultAccount?: string): ResolvedConfig {
  const warnings: string[] = [];
  const tierName = parseTier(context.tier);
  const tier = TIER_PRESETS[tierName];
  const regionNames = parseRegions(context.regions, tier.defaultRegions);

  const { account, isPlaceholder: accountIsPlaceholder } = resolveAccount(context.account, defaultAccount, warnings);
  const domain = valueOrPlaceholder(
    'domain',
    optionalString('domain', context.domain),
    PLACEHOLDER_DOMAIN,
    DOMAIN_PATTERN,
    'expected a lower-case DNS name such as ml.example.com',
    warnings,
  );
  const hostedZoneId = valueOrPlaceholder(
    'hostedZoneId',
    optionalString('hostedZoneId', context.hostedZoneId),
    PLACEHOLDER_HOSTED_ZONE_ID,
    HOSTED_ZONE_ID_PATTERN,
    'expected a Route 53 hosted zone id: Z followed by up to 31 upper-case letters or digits',
    warnings,
  );

  const backupVaultLock = parseBackupVaultLock(context.backupVaultLock);
  const eksAdminRoleArns = parseRoleArns(context.eksAdminRoleArns);
  const onCallPrincipalArns = parseOnCallPrincipals(context.onCallPrincipals);
  const kafkaReplicationMode = parseChoice(
    'kafkaReplicationMode',
    context.kafkaReplicationMode,
    KAFKA_REPLICATION_MODES,
    tier.kafka.replicationMode,
  );
  const kafkaReplication = parseChoice('kafkaReplication', context.kafkaReplication, ['on', 'off'], 'on') === 'on';

  const primaryRegionName = optionalString('primaryRegion', context.primaryRegion) ?? (regionNames[0] as string);
  if (!regionNames.includes(primaryRegionName)) {
    throw new ConfigError(
      'primaryRegion',
      primaryRegionName,
      `the primary must be one of -c regions (${regionNames.join(', ')}); a failover changes the primary, not the region list`,
    );
  }
  const regions: RegionPlan[] = regionNames.map((name, index) => {
    const region = findSupportedRegion(name);
    if (!region) throw new Error(`unreachable: ${name} was validated`);
    return {
      name: region.name,
      code: region.code,
      availabilityZones: region.availabilityZones,
      isPrimary: name === primaryRegionName,
      isHome: index === 0,
      vpcCidr: vpcCidrFor(tierName, region),
    };
  });
  const databaseEngine = parseChoice('databaseEngine', context.databaseEngine, DATABASE_ENGINES, tier.database.engine);
  const rebuiltReplicas = parseRebuiltReplicas(context.rebuiltReplicas, regionNames);
  const retiredDatabases = parseList('retiredDatabases', context.retiredDatabases);
  if (databaseEngine === 'aurora-postgresql-global') {
    // Aurora rejoins a former primary to the global database by itself: there are no generations to rebuild or retire.
    for (const [key, value] of [
      ['rebuiltReplicas', rebuiltReplicas],
      ['retiredDatabases', retiredDatabases],
    ] as const) {
      if (value.length > 0)
        throw new ConfigError(
          key,
          String(context[key]),
          'applies to -c databaseEngine=rds-postgresql only: an Aurora global database rejoins its former primary as a secondary by itself',
        );
    }
  }
  const topology = resolveDatabaseTopology({
    tier: tierName,
    regions,
    primaryRegion: primaryRegionName,
    rebuiltReplicas,
    retiredDatabases,
  });
  warnings.push(...topology.warnings);
  const primaryRegion = regions.find((r) => r.isPrimary);
  if (!primaryRegion) throw new Error('unreachable: primaryRegion is one of the regions');
  const witnessRegion = resolveWitnessRegion(context.witnessRegion, tier.defaultWitnessRegion, regionNames, tierName);
  const gameDays = parseChoice('gameDays', context.gameDays, GAME_DAYS_CHOICES, tier.defaultGameDays ? 'on' : 'off') === 'on';

  return {
    config: {
      tier,
      databaseEngine,
      backupVaultLock,
      eksAdminRoleArns,
      onCallPrincipalArns,
      kafkaReplicationMode,
      kafkaReplication,
      account,
      accountIsPlaceholder,
      regions,
      primaryRegion,
      ...(witnessRegion ? { witnessRegion } : {}),
      gameDays,
      rebuiltReplicas,
      retiredDatabases,
      databases: topology.databases,
      domain,
      hostedZoneId,
    },
    warnings,
  };
}

/**
 * `-c witnessRegion`: a two-region deployment's witness, the tier's default unless given, `none` for
 * none. It must be a supported region apart from the deployment's; from three regions on there is
 * none (the regions make a majority themselves), and naming one is an error.
 */
function resolveWitnessRegion(value: unknown, tierDefault: string, regionNames: readonly string[], tier: TierName): RegionPlan | undefined {
  const given = optionalString('witnessRegion', value);
  if (regionNames.length >= 3) {
    if (given !== undefined && given !== 'none') {
      throw new ConfigError(
        'witnessRegion',
        given,
        `a deployment of ${regionNames.length} regions needs no witness (its regions make a majority); give none, or leave it out`,
      );
    }
    return undefined;
  }
  if (given === 'none') return undefined;
  const name = given ?? tierDefault;
  const region = findSupportedRegion(name);
  if (!region) {
    throw new ConfigError('witnessRegion', name, `expected none or one of ${SUPPORTED_REGIONS.map((r) => r.name).join(', ')}`);
  }
  if (regionNames.includes(name)) {
    throw new ConfigError('witnessRegion', name, `the witness must be a region apart from the deployment's (${regionNames.join(', ')})`);
  }
  return {
    name: region.name,
    code: region.code,
    availabilityZones: region.availabilityZones,
    isPrimary: false,
    isHome: false,
    vpcCidr: vpcCidrFor(tier, region),
  };
}

/** The value if it matches `pattern`; the synth-only placeholder, with a warning, if it is absent. */
const ACCOUNT_ALLOWED = 'expected a 12-digit AWS account id';

/**
 * `-c account`, else the CLI's CDK_DEFAULT_ACCOUNT, else the placeholder. A CDK_DEFAULT_ACCOUNT
 * that is set but blank (some shells and CI runners leave it so) counts as unset; an error names
 * the source the bad value came from.
 */
function resolveAccount(
  contextValue: unknown,
  defaultAccount: string | undefined,
  warnings: string[],
): { account: string; isPlaceholder: boolean } {
  const fromContext = optionalString('account', contextValue);
  if (fromContext !== undefined) {
    if (!ACCOUNT_PATTERN.test(fromContext)) throw new ConfigError('account', fromContext, ACCOUNT_ALLOWED);
    return { account: fromContext, isPlaceholder: false };
  }
  const fromEnvironment = defaultAccount?.trim();
  if (fromEnvironment) {
    if (!ACCOUNT_PATTERN.test(fromEnvironment)) {
      throw new ConfigError(
        'account',
        fromEnvironment,
        `${ACCOUNT_ALLOWED} (read because -c account is not given)`,
        'environment CDK_DEFAULT_ACCOUNT',
      );
    }
    return { account: fromEnvironment, isPlaceholder: false };
  }
  warnings.push(`no -c account and no CDK_DEFAULT_ACCOUNT: using placeholder ${PLACEHOLDER_ACCOUNT} (synth only)`);
  return { account: PLACEHOLDER_ACCOUNT, isPlaceholder: true };
}

function valueOrPlaceholder(
  key: string,
  value: string | undefined,
  placeholder: string,
  pattern: RegExp,
  allowed: string,
  warnings: string[],
): string {
  if (value === undefined) {
    warnings.push(`no -c ${key}: using placeholder ${placeholder} (synth only)`);
    return placeholder;
  }
  if (!pattern.test(value)) throw new ConfigError(key, value, allowed);
  return value;
}

function optionalString(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ConfigError(key, JSON.stringify(value), 'expected a string');
  const trimmed = value.trim();
  if (trimmed === '') throw new ConfigError(key, '""', 'expected a non-empty value, or leave the key out to use the default');
  return trimmed;
}

function parseTier(value: unknown): TierName {
  const tier = optionalString('tier', value) ?? DEFAULT_TIER;
  if (!(TIER_NAMES as string[]).includes(tier)) {
    throw new ConfigError('tier', tier, `expected one of ${TIER_NAMES.join(', ')}`);
  }
  return tier as TierName;
}

function parseBackupVaultLock(value: unknown): BackupVaultLockMode {
  return parseChoice('backupVaultLock', value, BACKUP_VAULT_LOCK_MODES, 'off');
}

/** One of `allowed`, or `fallback` when the key is absent. */
function parseChoice<T extends string>(key: string, value: unknown, allowed: readonly T[], fallback: T): T {
  const choice = optionalString(key, value) ?? fallback;
  if (!(allowed as readonly string[]).includes(choice)) {
    throw new ConfigError(key, choice, `expected one of ${allowed.join(', ')}`);
  }
  return choice as T;
}

/** A comma-separated list (or a JSON list from cdk.json); empty when the key is absent. */
function parseList(key: string, value: unknown): string[] {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((v: string) => v.trim());
  const text = optionalString(key, value);
  return text === undefined ? [] : text.split(',').map((v) => v.trim());
}

/** `<region>:<source region>` entries, oldest first: each region rebuilt as a replica of the source. */
function parseRebuiltReplicas(value: unknown, regionNames: readonly string[]): { region: string; source: string }[] {
  const entries = parseList('rebuiltReplicas', value);
  const shown = entries.join(',');
  return entries.map((entry) => {
    const [region, source, ...rest] = entry.split(':');
    if (!region || !source || rest.length > 0) {
      throw new ConfigError(
        'rebuiltReplicas',
        shown,
        `"${entry}" is not <region>:<source region>; expected entries such as us-east-1:us-west-2, oldest first`,
      );
    }
    for (const name of [region, source]) {
      if (!regionNames.includes(name)) {
        throw new ConfigError('rebuiltReplicas', shown, `${name} is not one of -c regions (${regionNames.join(', ')})`);
      }
    }
    if (region === source) {
      throw new ConfigError('rebuiltReplicas', shown, `"${entry}" rebuilds ${region} from itself; a replica's source is another region`);
    }
    return { region, source };
  });
}

function parseRoleArns(value: unknown): string[] {
  const text = optionalString('eksAdminRoleArns', value);
  if (text === undefined) return [];
  const arns = text.split(',').map((arn) => arn.trim());
  for (const arn of arns) {
    if (!ROLE_ARN_PATTERN.test(arn)) {
      throw new ConfigError(
        'eksAdminRoleArns',
        text,
        `"${arn}" is not an IAM role ARN; expected arn:aws:iam::<account>:role/<name>, comma-separated`,
      );
    }
  }
  return arns;
}

/**
 * `-c onCallPrincipals`: who may assume each region's on-call role, as a comma-separated list (or a
 * JSON list from cdk.json) of account roots, roles and users; none given means this account's root.
 */
function parseOnCallPrincipals(value: unknown): string[] {
  const arns = parseList('onCallPrincipals', value);
  for (const arn of arns) {
    if (!ON_CALL_PRINCIPAL_PATTERN.test(arn)) {
      throw new ConfigError(
        'onCallPrincipals',
        arns.join(','),
        `"${arn}" is not an IAM principal ARN; expected arn:aws:iam::<account>:role/<name>, arn:aws:iam::<account>:user/<name> or arn:aws:iam::<account>:root, comma-separated`,
      );
    }
  }
  return [...new Set(arns)];
}

function parseRegions(value: unknown, defaults: readonly string[]): string[] {
  let names: string[];
  let shown: string;
  if (value === undefined || value === null) {
    return [...defaults];
  } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    names = value.map((v: string) => v.trim());
    shown = names.join(',');
  } else if (typeof value === 'string') {
    shown = value;
    names = value.split(',').map((v) => v.trim());
  } else {
    throw new ConfigError('regions', JSON.stringify(value), 'expected a comma-separated list of region names');
  }

  const supported = SUPPORTED_REGIONS.map((r) => r.name).join(', ');
  for (const name of names) {
    if (!REGION_NAME_PATTERN.test(name)) {
      throw new ConfigError(
        'regions',
        shown,
        `"${name}" is not a region name; expected a comma-separated list such as us-east-1,us-west-2`,
      );
    }
    if (!findSupportedRegion(name)) {
      throw new ConfigError('regions', shown, `${name} is not supported; supported regions: ${supported}`);
    }
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      const what = name === names[0] ? `the primary ${name} is listed again` : `${name} is listed twice`;
      throw new ConfigError('regions', shown, `${what}; each region may appear once`);
    }
    seen.add(name);
  }
  if (names.length < MIN_REGIONS || names.length > MAX_REGIONS) {
    throw new ConfigError(
      'regions',
      shown,
      `${names.length} region(s) given; expected ${MIN_REGIONS} to ${MAX_REGIONS}, the first being the primary`,
    );
  }
  return names;
}
