import { Aspects, type Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { AcknowledgementAudit } from './acknowledgement-audit';
import { CdkProvidedAcknowledgements, StatefulResourceGuard } from './aspects';

/**
 * The checks every synthesis runs, in `cdk synth` and in tests alike:
 * - cdk-nag AwsSolutions and NIST 800-53 rev 5 as validation plugins (unacknowledged findings fail
 *   synthesis); the NIST findings that belong to resources CDK writes the same way everywhere (its
 *   grants' inline policies, its custom resource providers' functions) are acknowledged as a class,
 *   by exact finding, with the reason (`CdkProvidedAcknowledgements`);
 * - the acknowledgement audit, after the packs: every cdk-nag acknowledgement must match a finding
 *   (`AcknowledgementAudit`);
 * - the stateful-resource guard (retain + deletion protection on every data store).
 * The built-in CloudFormation validation is on by default; cdk.json's
 * `@aws-cdk/core:validateAgainstDefaultRules` makes its findings errors.
 */
export function addQualityGates(app: Stage): void {
  const audit = new AcknowledgementAudit();
  Validations.of(app).addPlugins(audit.watch(new AwsSolutionsChecks(app)), audit.watch(new NIST80053R5Checks(app)), audit);
  Aspects.of(app).add(new StatefulResourceGuard());
  Aspects.of(app).add(new CdkProvidedAcknowledgements());
}
