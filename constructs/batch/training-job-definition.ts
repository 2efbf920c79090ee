import { type Duration, RemovalPolicy, type Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../private/nag';
import { ValidationError } from '../private/validation-error';
import { type JobRetryBudgets, type JobRetryPlan, jobRetryPlan, retryBudgetProblem } from './retry-strategy';

/** AWS Batch's shortest job attempt timeout. */
export const MIN_JOB_TIMEOUT_SECONDS = 60;

export interface TrainingJobDefinitionProps {
  /** The step's container image. */
  readonly image: ecs.ContainerImage;
  /** vCPUs reserved for the job. */
  readonly vcpus: number;
  /** Memory reserved for the job; the container is killed (OOM) above it. */
  readonly memory: Size;
  /**
   * GPUs reserved for the job; needs a queue on the GPU environment when above 0.
   * @default 0
   */
  readonly gpus?: number;
  /** Attempt budgets by failure class (seed 002); see `jobRetryPlan` for what Batch applies. */
  readonly retries: JobRetryBudgets;
  /** Run time of one attempt after which Batch stops it; a timed-out attempt is not retried. */
  readonly timeout: Duration;
  /**
   * Role the job's code runs as.
   * @default - a role with no permissions, for the stack to grant to
   */
  readonly jobRole?: iam.IRole;
  /**
   * Size of `/dev/shm`, which PyTorch data loader workers share tensors through.
   * @default - Docker's default of 64 MiB
   */
  readonly sharedMemorySize?: Size;
  /**
   * Command; job submissions usually override it.
   * @default - the image's command
   */
  readonly command?: string[];
  /**
   * Physical name of the job definition.
   * @default - CloudFormation generates the name
   */
  readonly jobDefinitionName?: string;
  /**
   * Retention of the job logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Encrypts the job log group; its policy must admit CloudWatch Logs of this region
   * (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * The job definition template for training steps: an ECS-on-EC2 container with the given vCPUs,
 * memory and GPUs, its own log group, a job role, a timeout per attempt, and a retry strategy that
 * applies the seed's retry table as far as AWS Batch can (see `jobRetryPlan`).
 */
export class TrainingJobDefinition extends Construct {
  public readonly jobDefinition: batch.EcsJobDefinition;
  public readonly jobRole: iam.IRole;
  public readonly logGroup: logs.LogGroup;
  /** The attempts and exit rules given to Batch, and whether OOM kills are retried. */
  public readonly retryPlan: JobRetryPlan;

  constructor(scope: Construct, id: string, props: TrainingJobDefinitionProps) {
    super(scope, id);
    validate(this, props);
    this.retryPlan = jobRetryPlan(props.retries);

    this.jobRole =
      props.jobRole ??
      new iam.Role(this, 'JobRole', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        description: 'Training job steps; permissions are granted by the stack that uses them',
      });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const gpus = props.gpus ?? 0;

    const container = new batch.EcsEc2ContainerDefinition(this, 'Container', {
      image: props.image,
      cpu: props.vcpus,
      memory: props.memory,
      gpu: gpus > 0 ? gpus : undefined,
      command: props.command,
      jobRole: this.jobRole,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'training' }),
      linuxParameters: props.sharedMemorySize
        ? new batch.LinuxParameters(this, 'LinuxParameters', { sharedMemorySize: props.sharedMemorySize })
        : undefined,
    });

    if (props.image instanceof ecs.EcrImage) {
      acknowledgeWildcardResource(
        container.executionRole,
        '*',
        'ecr:GetAuthorizationToken, which the execution role needs to pull the step image from ECR, has no resource-level permissions; the pull itself is granted on the one repository.',
      );
    }

    this.jobDefinition = new batch.EcsJobDefinition(this, 'Resource', {
      jobDefinitionName: props.jobDefinitionName,
      container,
      timeout: props.timeout,
      retryAttempts: this.retryPlan.attempts,
      retryStrategies: this.retryPlan.strategies,
    });
  }
}

function validate(scope: Construct, props: TrainingJobDefinitionProps): void {
  const fail = (message: string): never => {
    throw new ValidationError(message, scope);
  };
  if (!Token.isUnresolved(props.vcpus) && (!Number.isInteger(props.vcpus) || props.vcpus < 1)) {
    fail(`vcpus must be a positive integer on EC2, got ${props.vcpus}`);
  }
  const memoryMiB = props.memory.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(memoryMiB) || memoryMiB < 4) fail(`memory must be a whole number of MiB, at least 4, got ${memoryMiB} MiB`);
  const gpus = props.gpus ?? 0;
  if (!Number.isInteger(gpus) || gpus < 0) fail(`gpus must be a non-negative integer, got ${gpus}`);
  const timeoutSeconds = props.timeout.toSeconds();
  if (timeoutSeconds < MIN_JOB_TIMEOUT_SECONDS) {
    fail(`timeout must be at least ${MIN_JOB_TIMEOUT_SECONDS} seconds, got ${timeoutSeconds}`);
  }
  const retryProblem = retryBudgetProblem(props.retries);
  if (retryProblem) fail(retryProblem);
}
