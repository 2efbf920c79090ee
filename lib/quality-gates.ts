import { Aspects, type Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { StatefulResourceGuard } from './aspects';

/**
 * The checks every synthesis runs, in `cdk synth` and in tests alike:
 * - cdk-nag AwsSolutions as a validation plugin (unacknowledged findings fail synthesis);
 * - the stateful-resource guard (retain + deletion protection on every data store).
 * The built-in CloudFormation validation is on by default; cdk.json's
 * `@aws-cdk/core:validateAgainstDefaultRules` makes its findings errors.
 */
export function addQualityGates(app: Stage): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  Aspects.of(app).add(new StatefulResourceGuard());
}
