import { type CfnResource, type IAspect, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { NagRuleCompliance, type NagRuleResult, rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The NIST 800-53 rev 5 pack's rule ids, as cdk-nag reports them. */
export const NIST = {
  inlinePolicy: 'NIST.800.53.R5-IAMNoInlinePolicy',
  lambdaConcurrency: 'NIST.800.53.R5-LambdaConcurrency',
  lambdaDlq: 'NIST.800.53.R5-LambdaDLQ',
  lambdaInsideVpc: 'NIST.800.53.R5-LambdaInsideVPC',
} as const;

export const GRANT_POLICY_REASON =
  "A role's policy where CDK writes its grants (grantX, addToPolicy, AwsCustomResourcePolicy): statements " +
  "scoped to this role's resources, each held to AwsSolutions-IAM5. A managed policy would be shared by roles " +
  'that need different resources, which is what the rule is after (reusable, reviewable permissions) but not least privilege.';

export const PROVIDER_FUNCTION_REASONS: Readonly<Record<string, string>> = {
  [NIST.lambdaConcurrency]:
    'A function of a CDK custom resource provider (provider framework, AwsCustomResource, kubectl): it runs only while ' +
    'CloudFormation deploys the stack, one call per resource, and its construct offers no reserved concurrency.',
  [NIST.lambdaDlq]:
    'A function of a CDK custom resource provider: invoked synchronously by CloudFormation or the provider framework, ' +
    'which receives every error and fails the deployment; a DLQ only catches failed asynchronous invocations.',
  [NIST.lambdaInsideVpc]:
    'A function of a CDK custom resource provider that calls only AWS APIs (no resource inside a VPC); its construct ' +
    'places it outside a VPC and a VPC would add NAT or endpoint dependencies to every deployment.',
};

/** The cdk-nag rule behind each acknowledged id: a class acknowledgement is added only where its rule has a finding. */
const RULES: Readonly<Record<string, (node: CfnResource) => NagRuleResult>> = {
  [NIST.inlinePolicy]: rules.iam.IAMNoInlinePolicy,
  [NIST.lambdaConcurrency]: rules.lambda.LambdaConcurrency,
  [NIST.lambdaDlq]: rules.lambda.LambdaDLQ,
  [NIST.lambdaInsideVpc]: rules.lambda.LambdaInsideVPC,
};

const AWS_CUSTOM_RESOURCE_FUNCTION_ID = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;

/**
 * Acknowledges, by exact finding and with a reason, the NIST 800-53 rev 5 findings that belong to a
 * class of resources CDK writes the same way everywhere: the inline policies its grants produce, and
 * the functions of its custom resource providers. Each is acknowledged only on a resource where its
 * rule has a finding (e.g. not LambdaInsideVPC on a kubectl provider the cluster places in its VPC),
 * since an acknowledgement of nothing is a false statement the acknowledgement audit rejects. Anything
 * else, e.g. a hand-made `iam.Policy` or a function of the platform's own, is still reported.
 */
export class CdkProvidedAcknowledgements implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof iam.CfnPolicy && isGrantPolicy(node)) {
      acknowledgeWhereFound(node, NIST.inlinePolicy, GRANT_POLICY_REASON);
    }
    if (node instanceof lambda.CfnFunction && isProviderFunction(node)) {
      for (const [id, reason] of Object.entries(PROVIDER_FUNCTION_REASONS)) acknowledgeWhereFound(node, id, reason);
    }
  }
}

/** Acknowledge `id` on `resource` if its rule has a finding there (a rule that throws reports one too). */
function acknowledgeWhereFound(resource: CfnResource, id: string, reason: string): void {
  const rule = RULES[id];
  if (!rule) throw new Error(`no cdk-nag rule known for ${id}`);
  let result: NagRuleResult;
  try {
    result = rule(resource);
  } catch {
    result = NagRuleCompliance.NON_COMPLIANT;
  }
  if (result === NagRuleCompliance.NON_COMPLIANT) Validations.of(resource).acknowledge({ id, reason });
}

/** The `DefaultPolicy` of a role or user, or the policy of an `AwsCustomResource`. */
function isGrantPolicy(policy: iam.CfnPolicy): boolean {
  const owner = policy.node.scope;
  if (!(owner instanceof iam.Policy)) return false;
  return (
    owner.node.id === 'DefaultPolicy' || (owner.node.id === 'CustomResourcePolicy' && owner.node.scope instanceof cr.AwsCustomResource)
  );
}

function isProviderFunction(fn: lambda.CfnFunction): boolean {
  const owner = fn.node.scope;
  if (!owner) return false;
  if (owner.node.id === AWS_CUSTOM_RESOURCE_FUNCTION_ID) return true;
  return fn.node.scopes.some(
    (scope) => scope instanceof eks.KubectlProvider || (scope instanceof cr.Provider && owner.node.id.startsWith('framework-')),
  );
}
