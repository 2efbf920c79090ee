import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * The form cdk-nag prints a resource ARN in: intrinsics become `<AWS::Partition>` or
 * `<LogicalId.Attribute>`, literals stay as they are.
 */
export function nagResourceName(scope: IConstruct, arn: string): string {
  return render(Stack.of(scope).resolve(arn));
}

function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (Array.isArray(object['Fn::Join'])) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    if (typeof object.Ref === 'string') return `<${object.Ref}>`;
    if (Array.isArray(object['Fn::GetAtt'])) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
  }
  throw new Error(`cannot render ${JSON.stringify(value)} as a cdk-nag resource name`);
}

/** Acknowledge one NIST 800-53 rev 5 rule (`NIST.800.53.R5-<rule>`) on `scope` and below, with the reason. */
export function acknowledgeNist(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `NIST.800.53.R5-${rule}`, reason });
}

/** Acknowledge one wildcard resource of an IAM policy (AwsSolutions-IAM5), with the reason. */
export function acknowledgeWildcardResource(scope: IConstruct, arn: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagResourceName(scope, arn)}]`, reason });
}

/**
 * Acknowledge, under `scope`, every AWS managed policy (IAM4) of every role and every wildcard
 * (IAM5) of every policy, with one reason. Only for IAM that a vetted AWS module creates and the
 * platform cannot change; the IDs are exact, so anything added later is still reported.
 */
export function acknowledgeModuleIam(scope: IConstruct, reason: string): void {
  const stack = Stack.of(scope);
  for (const child of scope.node.findAll()) {
    if (child instanceof iam.CfnRole) {
      const arns = (stack.resolve(child.managedPolicyArns) ?? []) as unknown[];
      for (const arn of arns) {
        const name = typeof arn === 'object' && arn && 'Fn::If' in arn ? JSON.stringify(arn) : render(arn);
        Validations.of(child).acknowledge({ id: `AwsSolutions-IAM4[Policy::${name}]`, reason });
      }
    }
    if (child instanceof iam.CfnPolicy) {
      const document = stack.resolve(child.policyDocument) as { Statement?: Record<string, unknown>[] };
      for (const statement of document.Statement ?? []) {
        for (const action of toList(statement.Action)) {
          if (typeof action === 'string' && action.includes('*')) {
            Validations.of(child).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason });
          }
        }
        for (const resource of toList(statement.Resource)) {
          const name = render(resource);
          if (name.includes('*')) Validations.of(child).acknowledge({ id: `AwsSolutions-IAM5[Resource::${name}]`, reason });
        }
      }
    }
  }
}

function toList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}
