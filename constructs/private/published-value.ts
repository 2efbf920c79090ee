import { CfnOutput, Fn, Stack } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import { ValidationError } from './validation-error';

/**
 * A value derived in its own stack (a part of an ARN, say), published as a stack output that other
 * stacks of the same account and region read with `Fn::GetStackOutput`.
 *
 * CDK carries one resource attribute across stacks at a time, so an expression over an attribute
 * (`Fn::Select` of an `Fn::Split`) is evaluated in the consuming stack. With the app's weak
 * cross-stack references the attribute arrives there as `Fn::GetStackOutput`, which CloudFormation
 * does not accept inside `Fn::Split` (cfn-lint E1022). Evaluated here, the expression crosses as
 * its result.
 */
export class PublishedValue extends Construct {
  private readonly output: CfnOutput;

  constructor(scope: Construct, id: string, value: string, description: string) {
    super(scope, id);
    this.output = new CfnOutput(this, 'Output', { value, description });
  }

  /** The value as `consumer`'s stack reads it: the expression itself in this stack, the output elsewhere. */
  public valueFor(consumer: IConstruct): string {
    const producer = Stack.of(this);
    const reader = Stack.of(consumer);
    if (reader === producer) return this.output.value as string;
    if (reader.account !== producer.account || reader.region !== producer.region) {
      throw new ValidationError(
        `${reader.stackName} (${reader.account}/${reader.region}) cannot read this value: it is published for stacks of ${producer.account}/${producer.region} only`,
        this,
      );
    }
    reader.addStackDependency(producer, `reads ${this.node.path}`);
    return Fn.getStackOutput(producer.stackName, this.output.logicalId, producer.region);
  }
}
