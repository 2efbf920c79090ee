import { Token, Validations } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { pascalCase } from '../private/ids';
import { ValidationError } from '../private/validation-error';

/** The compute environments a job queue can name. */
export type BatchEnvironmentKey = 'cpu' | 'gpu' | 'spot';

export const BATCH_ENVIRONMENT_KEYS: readonly BatchEnvironmentKey[] = ['cpu', 'gpu', 'spot'];

/** The queue of seed 003's priority-high pool; it may only use on-demand environments. */
export const PRIORITY_HIGH_QUEUE = 'priority-high';

/** AWS Batch attaches at most this many compute environments to one job queue. */
export const MAX_ENVIRONMENTS_PER_QUEUE = 3;

/** Instance families of GPU instances (p4d, p5, g5, g6e, gr6, ...). */
const GPU_FAMILY_PATTERN = /^[pg][a-z]*\d/;
const INSTANCE_TYPE_PATTERN = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const QUEUE_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
const PHYSICAL_QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** Root device of the ECS-optimized Amazon Linux 2023 AMIs, standard and NVIDIA. */
const ROOT_DEVICE = '/dev/xvda';

/** Size and instance types of one managed EC2 compute environment. */
export interface BatchEnvironmentSpec {
  /** Instance types Batch may launch, e.g. `new ec2.InstanceType('c6i.4xlarge')`. */
  readonly instanceTypes: readonly ec2.InstanceType[];
  /** vCPUs the environment scales up to. */
  readonly maxvCpus: number;
  /**
   * vCPUs the environment keeps running when idle.
   * @default 0
   */
  readonly minvCpus?: number;
}

/** One job queue: a worker pool of seed 003, or the GPU training queue of seed 002. */
export interface JobQueueSpec {
  /** Pool name, e.g. `priority-high`: lower-case letters, digits and hyphens. */
  readonly name: string;
  /** Scheduling preference among queues sharing an environment; higher goes first. */
  readonly priority: number;
  /** Environments the queue places jobs on, in order of preference (at most 3). */
  readonly computeEnvironments: readonly BatchEnvironmentKey[];
}

export interface BatchComputeProps {
  readonly vpc: ec2.IVpc;
  /**
   * Where the instances run.
   * @default { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** On-demand CPU environment (allocation BEST_FIT_PROGRESSIVE). */
  readonly cpu: BatchEnvironmentSpec;
  /**
   * On-demand GPU environment (allocation BEST_FIT_PROGRESSIVE, ECS AL2023 NVIDIA image); p* and g*
   * instance families only.
   * @default - no GPU environment
   */
  readonly gpu?: BatchEnvironmentSpec;
  /**
   * Spot CPU environment for interruptible work (allocation SPOT_PRICE_CAPACITY_OPTIMIZED).
   * @default - no Spot environment
   */
  readonly spot?: BatchEnvironmentSpec;
  /** Job queues; names and priorities unique, `priority-high` never on Spot. */
  readonly queues: readonly JobQueueSpec[];
  /**
   * Encrypts the instances' root volumes. Its key policy must let the EC2 Auto Scaling service-linked
   * role use it (see `autoScalingEbsKeyStatements` in constructs/private/kms), as Batch launches the instances through Auto
   * Scaling groups; without that, instances fail to launch.
   */
  readonly volumeEncryptionKey: kms.IKey;
  /**
   * Size of each instance's gp3 root volume, which also holds the Docker images and container layers.
   * @default 100
   */
  readonly rootVolumeSizeGiB?: number;
  /**
   * Prefix of the job queues' physical names; the queue's `name` follows it, e.g. `mlp-tier2-` gives
   * `mlp-tier2-priority-high`.
   * @default - CloudFormation generates the names
   */
  readonly queueNamePrefix?: string;
}

/**
 * AWS Batch for the platform's pipelines and job scheduler: managed EC2 compute environments (ECS
 * orchestration) for on-demand CPU, on-demand GPU and Spot CPU in private subnets, and job queues
 * over them with their order and priority.
 *
 * Instances use one launch template (IMDSv2 only, encrypted gp3 root volume), one instance role with
 * only what the ECS agent needs, and one security group that admits no inbound traffic. Batch acts
 * through its service-linked role, so no service role is created.
 */
export class BatchCompute extends Construct {
  /** The environments that exist, by key. */
  public readonly environments: Readonly<Partial<Record<BatchEnvironmentKey, batch.ManagedEc2EcsComputeEnvironment>>>;
  /** Job queues by `name`. */
  public readonly queues: Readonly<Record<string, batch.JobQueue>>;
  /** The job queues' physical names, in `queues` order: literal with a `queueNamePrefix`, tokens without one. */
  public readonly queueNames: readonly string[];
  public readonly launchTemplate: ec2.LaunchTemplate;
  /** Role of the container instances (the ECS agent), not of the jobs. */
  public readonly instanceRole: iam.Role;
  /** Attached to every instance; admits no inbound traffic. */
  public readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: BatchComputeProps) {
    super(scope, id);
    validate(this, props);

    // Outbound stays open: jobs reach S3, ECR and the AWS APIs (mostly through VPC endpoints), the
    // metadata service and data stores on their own ports. Nothing connects in.
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'AWS Batch container instances: no inbound traffic',
      allowAllOutbound: true,
    });

    // No AmazonSSMManagedInstanceCore: instances are disposable (replaced on every AMI or template
    // update), jobs log to CloudWatch, and a shell on a shared host would reach other jobs' containers.
    this.instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'AWS Batch container instances: ECS agent registration, image pulls and log delivery',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEC2ContainerServiceforEC2Role')],
    });
    Validations.of(this.instanceRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]',
      reason:
        'The AWS-maintained policy AWS Batch and ECS document for container instances: it lets the ECS agent register, poll for tasks, pull images and ship logs, and tracks agent changes.',
    });

    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      requireImdsv2: true,
      // One hop: processes on the host (the ECS agent) reach the instance metadata service, containers
      // behind Docker's bridge do not, so jobs cannot borrow the instance role; they get the job role's
      // credentials from the ECS agent instead.
      httpPutResponseHopLimit: 1,
      blockDevices: [
        {
          deviceName: ROOT_DEVICE,
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeSizeGiB ?? 100, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            kmsKey: props.volumeEncryptionKey,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    const environments: Partial<Record<BatchEnvironmentKey, batch.ManagedEc2EcsComputeEnvironment>> = {};
    const common = {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      instanceRole: this.instanceRole,
      launchTemplate: this.launchTemplate,
      updateToLatestImageVersion: true,
      useOptimalInstanceClasses: false,
    } satisfies Partial<batch.ManagedEc2EcsComputeEnvironmentProps>;
    const environment = (key: BatchEnvironmentKey, spec: BatchEnvironmentSpec, options: EnvironmentOptions) => {
      const created = new batch.ManagedEc2EcsComputeEnvironment(this, `${key.charAt(0).toUpperCase()}${key.slice(1)}`, {
        ...common,
        instanceTypes: [...spec.instanceTypes],
        minvCpus: spec.minvCpus ?? 0,
        maxvCpus: spec.maxvCpus,
        spot: options.spot,
        allocationStrategy: options.allocationStrategy,
        images: [{ imageType: options.imageType }],
      });
      pinLaunchTemplateVersion(created, this.launchTemplate);
      environments[key] = created;
    };
    environment('cpu', props.cpu, {
      allocationStrategy: batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
      imageType: batch.EcsMachineImageType.ECS_AL2023,
    });
    if (props.gpu) {
      environment('gpu', props.gpu, {
        allocationStrategy: batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
        imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA,
      });
    }
    if (props.spot) {
      environment('spot', props.spot, {
        spot: true,
        allocationStrategy: batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
        imageType: batch.EcsMachineImageType.ECS_AL2023,
      });
    }
    this.environments = environments;

    const queues: Record<string, batch.JobQueue> = {};
    const physicalName = (name: string) => (props.queueNamePrefix === undefined ? undefined : `${props.queueNamePrefix}${name}`);
    for (const spec of props.queues) {
      queues[spec.name] = new batch.JobQueue(this, `Queue${pascalCase(spec.name)}`, {
        jobQueueName: physicalName(spec.name),
        priority: spec.priority,
        computeEnvironments: spec.computeEnvironments.map((key, index) => ({
          // Validated above: every key names an environment that exists.
          computeEnvironment: environments[key] as batch.ManagedEc2EcsComputeEnvironment,
          order: index + 1,
        })),
      });
    }
    this.queues = queues;
    this.queueNames = props.queues.map((spec) => physicalName(spec.name) ?? (queues[spec.name] as batch.JobQueue).jobQueueName);
  }
}

interface EnvironmentOptions {
  readonly spot?: boolean;
  readonly allocationStrategy: batch.AllocationStrategy;
  readonly imageType: batch.EcsMachineImageType;
}

/**
 * Name the launch template's latest version instead of the L2's implicit `$Default`, which Batch
 * resolves once at creation: with a version number, a template change updates the environment,
 * and Batch replaces its instances. L1 override because the L2 only passes the template id.
 */
function pinLaunchTemplateVersion(environment: batch.ManagedEc2EcsComputeEnvironment, template: ec2.LaunchTemplate): void {
  const resource = environment.node.defaultChild as batch.CfnComputeEnvironment;
  resource.addPropertyOverride('ComputeResources.LaunchTemplate.Version', template.versionNumber);
}

function validate(scope: Construct, props: BatchComputeProps): void {
  const fail = (message: string): never => {
    throw new ValidationError(message, scope);
  };
  const specs = { cpu: props.cpu, gpu: props.gpu, spot: props.spot };
  for (const key of BATCH_ENVIRONMENT_KEYS) {
    const spec = specs[key];
    if (!spec) continue;
    const min = spec.minvCpus ?? 0;
    if (!Number.isInteger(spec.maxvCpus) || spec.maxvCpus < 0) {
      fail(`${key}.maxvCpus must be a non-negative integer, got ${spec.maxvCpus}`);
    }
    if (!Number.isInteger(min) || min < 0 || min > spec.maxvCpus) {
      fail(`${key}.minvCpus must be an integer from 0 to maxvCpus (${spec.maxvCpus}), got ${min}`);
    }
    if (spec.instanceTypes.length === 0) fail(`${key}.instanceTypes must list at least one instance type`);
    for (const type of spec.instanceTypes.map(String)) {
      if (!Token.isUnresolved(type) && !INSTANCE_TYPE_PATTERN.test(type)) {
        fail(`${key}.instanceTypes: "${type}" is not an instance type such as c6i.xlarge`);
      }
      if (key === 'gpu' && !GPU_FAMILY_PATTERN.test(type)) {
        fail(`gpu.instanceTypes must be GPU instances (p* or g* families), got ${type}`);
      }
    }
  }

  if (props.rootVolumeSizeGiB !== undefined && (!Number.isInteger(props.rootVolumeSizeGiB) || props.rootVolumeSizeGiB < 30)) {
    fail(`rootVolumeSizeGiB must be an integer of at least 30 (the ECS AMI's own root volume), got ${props.rootVolumeSizeGiB}`);
  }

  if (props.queues.length === 0) fail('queues must list at least one job queue');
  const names = props.queues.map((queue) => queue.name);
  const duplicateName = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicateName !== undefined) fail(`queue names must be unique, "${duplicateName}" appears more than once`);
  const priorities = props.queues.map((queue) => queue.priority);
  const duplicatePriority = priorities.find((priority, index) => priorities.indexOf(priority) !== index);
  if (duplicatePriority !== undefined) {
    fail(
      `queue priorities must be unique, ${duplicatePriority} is used by ${props.queues
        .filter((q) => q.priority === duplicatePriority)
        .map((q) => q.name)
        .join(' and ')}`,
    );
  }
  for (const queue of props.queues) {
    if (!QUEUE_NAME_PATTERN.test(queue.name)) {
      fail(`queue name "${queue.name}" is invalid: expected lower-case letters, digits and hyphens, starting with a letter`);
    }
    const physicalName = `${props.queueNamePrefix ?? ''}${queue.name}`;
    if (props.queueNamePrefix !== undefined && !PHYSICAL_QUEUE_NAME_PATTERN.test(physicalName)) {
      fail(`job queue name "${physicalName}" is invalid: expected up to 128 letters, digits, hyphens and underscores`);
    }
    if (!Number.isInteger(queue.priority) || queue.priority < 0) {
      fail(`queue ${queue.name}: priority must be a non-negative integer, got ${queue.priority}`);
    }
    const keys = queue.computeEnvironments;
    if (keys.length === 0 || keys.length > MAX_ENVIRONMENTS_PER_QUEUE) {
      fail(`queue ${queue.name} must name 1 to ${MAX_ENVIRONMENTS_PER_QUEUE} compute environments, got ${keys.length}`);
    }
    if (new Set(keys).size !== keys.length) fail(`queue ${queue.name} names an environment twice: ${keys.join(', ')}`);
    for (const key of keys) {
      if (!BATCH_ENVIRONMENT_KEYS.includes(key)) {
        fail(`queue ${queue.name} names unknown environment "${key}": expected one of ${BATCH_ENVIRONMENT_KEYS.join(', ')}`);
      }
      if (!specs[key]) fail(`queue ${queue.name} names the ${key} environment, which is not configured`);
    }
    if (queue.name === PRIORITY_HIGH_QUEUE && keys.includes('spot')) {
      fail(`queue ${PRIORITY_HIGH_QUEUE} must run on on-demand capacity only, but names the spot environment`);
    }
  }
}
