import { Stack, Validations } from 'aws-cdk-lib';
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

/** Acknowledge one wildcard resource of an IAM policy (AwsSolutions-IAM5), with the reason. */
export function acknowledgeWildcardResource(scope: IConstruct, arn: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagResourceName(scope, arn)}]`, reason });
}
