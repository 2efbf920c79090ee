import { Duration, Size, type Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { BatchSizing, TierName } from '../../lib/config';
import { BatchCompute } from './batch-compute';
import { TrainingJobDefinition } from './training-job-definition';

export interface PipelineBatchProps {
  readonly tier: TierName;
  readonly sizing: BatchSizing;
  readonly vpc: ec2.IVpc;
  /** Encrypts the instances' volumes. */
  readonly volumeEncryptionKey: kms.IKey;
  /** Encrypts the training jobs' logs. */
  readonly logEncryptionKey: kms.IKey;
  /** The training-step image. */
  readonly trainingImage: ecs.ContainerImage;
}

/**
 * AWS Batch for pipeline steps and scheduler jobs: the CPU, GPU and Spot environments behind the
 * tier's queues, and the training-step job definition template.
 *
 * Not a construct: both are created directly in `stack`, under the ids they have always had
 * (`Batch`, `TrainingStep`).
 */
export class PipelineBatch {
  public readonly compute: BatchCompute;
  public readonly trainingStep: TrainingJobDefinition;

  constructor(stack: Stack, props: PipelineBatchProps) {
    const { sizing } = props;
    const types = (names: readonly string[]) => names.map((name) => new ec2.InstanceType(name));
    this.compute = new BatchCompute(stack, 'Batch', {
      vpc: props.vpc,
      cpu: { instanceTypes: types(sizing.cpuInstanceTypes), maxvCpus: sizing.cpuMaxVcpus },
      gpu: { instanceTypes: types(sizing.gpuInstanceTypes), maxvCpus: sizing.gpuMaxVcpus },
      spot: { instanceTypes: types(sizing.cpuInstanceTypes), maxvCpus: sizing.spotMaxVcpus },
      queues: sizing.queues,
      volumeEncryptionKey: props.volumeEncryptionKey,
      rootVolumeSizeGiB: sizing.rootVolumeGiB,
      queueNamePrefix: `mlp-${props.tier}-`,
    });
    this.trainingStep = new TrainingJobDefinition(stack, 'TrainingStep', {
      image: props.trainingImage,
      vcpus: sizing.trainingJob.vcpus,
      memory: Size.mebibytes(sizing.trainingJob.memoryMiB),
      gpus: sizing.trainingJob.gpus,
      retries: sizing.retries,
      logEncryptionKey: props.logEncryptionKey,
      timeout: Duration.hours(sizing.trainingJob.timeoutHours),
    });
  }
}
