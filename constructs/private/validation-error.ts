import type { IConstruct } from 'constructs';

/**
 * Invalid construct props, found at synth time. Same role as aws-cdk-lib's own `ValidationError`
 * (which is internal to that package): the message names the received value and what is allowed,
 * and the error carries the construct path.
 */
export class ValidationError extends Error {
  public readonly constructPath: string;

  constructor(message: string, scope: IConstruct) {
    super(`${scope.node.path}: ${message}`);
    this.name = 'ValidationError';
    this.constructPath = scope.node.path;
  }
}
