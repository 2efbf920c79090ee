/**
 * Audits the default layout and tier3 x 5 regions against cdk-nag packs beyond the gated ones, and
 * counts the log groups that carry no KMS key. Nothing fails: it prints the unacknowledged findings
 * per pack (errors and warnings), so an audit can be compared before and after a change.
 *
 *   npx tsx scripts/audit-nag-packs.ts            # summary per layout and pack
 *   AUDIT_RULES=1 npx tsx scripts/audit-nag-packs.ts   # plus the findings per rule
 *
 * The packs run through `NagPack.validateScope` after synthesis (cdk-nag 3 packs are validation
 * plugins, not aspects), so acknowledgements made with `Validations.of(...).acknowledge` count, and so
 * do the gates' class acknowledgements (`CdkProvidedAcknowledgements`, NIST ids only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, type NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { CdkProvidedAcknowledgements } from '../lib/aspects';
import { resolvePlatformConfig } from '../lib/config';
import { buildPlatform } from '../lib/platform';
import { scriptApp } from './support/app';

const LAYOUTS: { name: string; context: Record<string, string> }[] = [
  { name: 'default (tier1, 2 regions)', context: {} },
  { name: 'tier3 x 5 regions', context: { tier: 'tier3', regions: 'us-east-1,us-west-2,eu-west-1,ap-southeast-2,eu-central-1' } },
];

const PACKS: { name: string; create: () => NagPack }[] = [
  { name: 'AwsSolutions', create: () => new AwsSolutionsChecks() },
  { name: 'NIST.800.53.R5', create: () => new NIST80053R5Checks() },
  { name: 'HIPAA.Security', create: () => new HIPAASecurityChecks() },
  { name: 'PCI.DSS.321', create: () => new PCIDSS321Checks() },
];

interface Violation {
  ruleName: string;
  severity?: string;
  violatingResources: unknown[];
}

const showRules = process.env.AUDIT_RULES === '1';
const root = mkdtempSync(join(tmpdir(), 'mlp-audit-'));
try {
  for (const layout of LAYOUTS) {
    const app = scriptApp(join(root, String(LAYOUTS.indexOf(layout))));
    const { config } = resolvePlatformConfig({ account: '111122223333', ...layout.context });
    buildPlatform(app, config);
    // The gates' class acknowledgements (NIST ids only), as `addQualityGates` adds them.
    Aspects.of(app).add(new CdkProvidedAcknowledgements());
    const assembly = app.synth();

    let logGroups = 0;
    let unencrypted = 0;
    for (const stack of assembly.stacks) {
      const resources = (stack.template as { Resources?: Record<string, { Type: string; Properties?: { KmsKeyId?: unknown } }> }).Resources;
      for (const resource of Object.values(resources ?? {})) {
        if (resource.Type !== 'AWS::Logs::LogGroup') continue;
        logGroups++;
        if (resource.Properties?.KmsKeyId === undefined) unencrypted++;
      }
    }
    console.log(`\n${layout.name}: ${logGroups} log groups, ${unencrypted} without KmsKeyId`);
    console.log('pack              errors  warnings');
    for (const pack of PACKS) {
      const report = pack.create().validateScope(app);
      const violations = report.violations as unknown as Violation[];
      const count = (severity: string) =>
        violations.filter((v) => v.severity === severity).reduce((sum, v) => sum + v.violatingResources.length, 0);
      console.log(`${pack.name.padEnd(18)}${String(count('error')).padStart(6)}${String(count('warning')).padStart(10)}`);
      if (showRules) {
        const byRule = new Map<string, number>();
        for (const v of violations) {
          const rule = v.ruleName.replace(/\[.*$/, '');
          byRule.set(rule, (byRule.get(rule) ?? 0) + v.violatingResources.length);
        }
        for (const [rule, n] of [...byRule].sort((a, b) => b[1] - a[1])) console.log(`    ${rule.padEnd(48)}${n}`);
      }
    }
    if (assembly.stacks.length === 0) throw new Error(`${layout.name}: no stacks synthesized`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
