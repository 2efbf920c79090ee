import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, test } from 'vitest';
import { BatchCompute, type BatchComputeProps, type JobQueueSpec } from '../../../constructs/batch';
import { autoScalingEbsKeyStatements } from '../../../constructs/private/kms';
import { addQualityGates } from '../../../lib/quality-gates';
import { stackWithVpc } from '../../support/fixtures';
import { testApp } from '../../support/synth';

const AUTO_SCALING_ROLE = 'arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling';

const types = (...names: string[]) => names.map((name) => new ec2.InstanceType(name));

const QUEUES: JobQueueSpec[] = [
  { name: 'priority-high', priority: 100, computeEnvironments: ['cpu'] },
  { name: 'gpu-training', priority: 60, computeEnvironments: ['gpu'] },
  { name: 'standard', priority: 50, computeEnvironments: ['cpu', 'spot'] },
  { name: 'long-running', priority: 40, computeEnvironments: ['cpu'] },
  { name: 'spot', priority: 10, computeEnvironments: ['spot'] },
];

function build(overrides: Partial<BatchComputeProps> = {}, withGates = false) {
  const app = testApp();
  const { stack, vpc } = stackWithVpc(app, 'Compute');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  for (const statement of autoScalingEbsKeyStatements(stack)) key.addToResourcePolicy(statement);
  const compute = new BatchCompute(stack, 'Batch', {
    vpc,
    volumeEncryptionKey: key,
    cpu: { instanceTypes: types('c6i.xlarge', 'c6i.4xlarge', 'c6i.8xlarge'), maxvCpus: 10_000 },
    gpu: { instanceTypes: types('p4d.24xlarge', 'g5.xlarge'), maxvCpus: 2000 },
    spot: { instanceTypes: types('c6i.xlarge', 'c6i.4xlarge', 'c6i.8xlarge'), maxvCpus: 5000 },
    queues: QUEUES,
    ...overrides,
  });
  if (withGates) addQualityGates(app);
  return { app, stack, vpc, key, compute };
}

describe('BatchCompute', () => {
  const { stack, vpc, key, compute } = build();
  const template = Template.fromStack(stack);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as batch.CfnComputeEnvironment);
  const environments = template.findResources('AWS::Batch::ComputeEnvironment');
  const resources = (key: 'cpu' | 'gpu' | 'spot') => {
    const environment = compute.environments[key];
    if (!environment) throw new Error(`no ${key} environment`);
    return environments[logicalId(environment)]?.Properties.ComputeResources;
  };
  const privateSubnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds.map((id) => stack.resolve(id));
  const groupId = stack.resolve(compute.securityGroup.securityGroupId);

  test('creates exactly the three managed environments', () => {
    expect(Object.keys(environments)).toHaveLength(3);
    for (const environment of Object.values(environments)) {
      expect(environment.Properties).toMatchObject({ Type: 'managed', State: 'ENABLED' });
      // No service role: Batch uses its service-linked role.
      expect(environment.Properties).not.toHaveProperty('ServiceRole');
    }
  });

  test('the CPU environment is on-demand c6i with best-fit-progressive, 0 to 10000 vCPUs, on AL2023', () => {
    expect(resources('cpu')).toMatchObject({
      Type: 'EC2',
      InstanceTypes: ['c6i.xlarge', 'c6i.4xlarge', 'c6i.8xlarge'],
      AllocationStrategy: 'BEST_FIT_PROGRESSIVE',
      MinvCpus: 0,
      MaxvCpus: 10_000,
      Ec2Configuration: [{ ImageType: 'ECS_AL2023' }],
      UpdateToLatestImageVersion: true,
    });
  });

  test('the GPU environment is on-demand p4d/g5 with best-fit-progressive, 0 to 2000 vCPUs, on the AL2023 NVIDIA image', () => {
    expect(resources('gpu')).toMatchObject({
      Type: 'EC2',
      InstanceTypes: ['p4d.24xlarge', 'g5.xlarge'],
      AllocationStrategy: 'BEST_FIT_PROGRESSIVE',
      MinvCpus: 0,
      MaxvCpus: 2000,
      Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
    });
  });

  test('the Spot environment uses price-capacity-optimized Spot, 0 to its maximum, with no Spot Fleet role', () => {
    const spot = resources('spot');
    expect(spot).toMatchObject({
      Type: 'SPOT',
      InstanceTypes: ['c6i.xlarge', 'c6i.4xlarge', 'c6i.8xlarge'],
      AllocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED',
      MinvCpus: 0,
      MaxvCpus: 5000,
      Ec2Configuration: [{ ImageType: 'ECS_AL2023' }],
    });
    expect(spot).not.toHaveProperty('SpotIamFleetRole');
  });

  test('every environment runs in the private subnets with the one security group, instance role and launch template', () => {
    const templateId = stack.getLogicalId(compute.launchTemplate.node.defaultChild as ec2.CfnLaunchTemplate);
    const profiles = template.findResources('AWS::IAM::InstanceProfile');
    for (const key of ['cpu', 'gpu', 'spot'] as const) {
      const computeResources = resources(key);
      expect(computeResources.Subnets).toEqual(privateSubnets);
      expect(computeResources.SecurityGroupIds).toEqual([groupId]);
      expect(computeResources.LaunchTemplate).toEqual({
        LaunchTemplateId: { Ref: templateId },
        Version: { 'Fn::GetAtt': [templateId, 'LatestVersionNumber'] },
      });
      const profileId = computeResources.InstanceRole['Fn::GetAtt'][0];
      expect(profiles[profileId]?.Properties.Roles).toEqual([
        { Ref: stack.getLogicalId(compute.instanceRole.node.defaultChild as iam.CfnRole) },
      ]);
    }
    expect(privateSubnets).toHaveLength(3);
  });

  test('the security group admits no inbound traffic', () => {
    const groups = template.findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: 'AWS Batch container instances: no inbound traffic' },
    });
    expect(Object.values(groups)).toHaveLength(1);
    expect(Object.values(groups)[0]?.Properties).not.toHaveProperty('SecurityGroupIngress');
    template.resourcePropertiesCountIs('AWS::EC2::SecurityGroupIngress', { GroupId: groupId }, 0);
  });

  test('the launch template requires IMDSv2 and encrypts the gp3 root volume with the given key', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [
          {
            DeviceName: '/dev/xvda',
            Ebs: {
              Encrypted: true,
              KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
              VolumeType: 'gp3',
              VolumeSize: 100,
              DeleteOnTermination: true,
            },
          },
        ],
      },
    });
  });

  test('the instance role holds only the ECS container instance policy', () => {
    const role = template.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'ec2.amazonaws.com' } }] } },
    });
    expect(Object.values(role)).toHaveLength(1);
    expect(Object.values(role)[0]?.Properties.ManagedPolicyArns).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role']] },
    ]);
    const roleId = Object.keys(role)[0];
    template.resourcePropertiesCountIs('AWS::IAM::Policy', { Roles: [{ Ref: roleId }] }, 0);
  });

  test('each queue has its priority and its environments in order', () => {
    const envIds = {
      cpu: logicalId(compute.environments.cpu as batch.ManagedEc2EcsComputeEnvironment),
      gpu: logicalId(compute.environments.gpu as batch.ManagedEc2EcsComputeEnvironment),
      spot: logicalId(compute.environments.spot as batch.ManagedEc2EcsComputeEnvironment),
    };
    const queues = template.findResources('AWS::Batch::JobQueue');
    expect(Object.keys(queues)).toHaveLength(QUEUES.length);
    for (const spec of QUEUES) {
      const queue = compute.queues[spec.name];
      expect(queue, spec.name).toBeDefined();
      const properties = queues[stack.getLogicalId(queue?.node.defaultChild as batch.CfnJobQueue)]?.Properties;
      expect(properties.Priority, spec.name).toBe(spec.priority);
      expect(properties.State).toBe('ENABLED');
      expect(properties.ComputeEnvironmentOrder, spec.name).toEqual(
        spec.computeEnvironments.map((key, index) => ({
          ComputeEnvironment: { 'Fn::GetAtt': [envIds[key], 'ComputeEnvironmentArn'] },
          Order: index + 1,
        })),
      );
      expect(properties).not.toHaveProperty('JobQueueName');
    }
    const high = queues[stack.getLogicalId(compute.queues['priority-high']?.node.defaultChild as batch.CfnJobQueue)];
    expect(JSON.stringify(high?.Properties.ComputeEnvironmentOrder)).not.toContain(envIds.spot);
  });

  test('a name prefix gives the queues physical names', () => {
    const { stack: named } = build({ queueNamePrefix: 'mlp-tier2-' });
    const names = Object.values(Template.fromStack(named).findResources('AWS::Batch::JobQueue')).map((q) => q.Properties.JobQueueName);
    expect(names).toEqual(QUEUES.map((q) => `mlp-tier2-${q.name}`));
  });

  test('without GPU and Spot specs only the CPU environment exists', () => {
    const { stack: small, compute: cpuOnly } = build({
      gpu: undefined,
      spot: undefined,
      queues: [{ name: 'standard', priority: 50, computeEnvironments: ['cpu'] }],
    });
    Template.fromStack(small).resourceCountIs('AWS::Batch::ComputeEnvironment', 1);
    expect(Object.keys(cpuOnly.environments)).toEqual(['cpu']);
  });

  test('the key statements let the Auto Scaling service-linked role use the key for EBS', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AutoScalingUseForEbs',
            Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
            Principal: { AWS: AUTO_SCALING_ROLE },
          }),
          Match.objectLike({
            Sid: 'AutoScalingGrantsForEbs',
            Action: 'kms:CreateGrant',
            Condition: { Bool: { 'kms:GrantIsForAWSResource': true } },
            Principal: { AWS: AUTO_SCALING_ROLE },
          }),
        ]),
      },
    });
  });

  test('passes the quality gates with only reasoned acknowledgements', () => {
    const { app } = build({}, true);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('invalid Batch compute props fail with a clear ValidationError', () => {
  const cpu = { instanceTypes: types('c6i.xlarge'), maxvCpus: 256 };
  test.each<[string, Partial<BatchComputeProps>, string]>([
    ['a negative maximum', { cpu: { ...cpu, maxvCpus: -1 } }, 'cpu.maxvCpus must be a non-negative integer, got -1'],
    [
      'a minimum above the maximum',
      { cpu: { ...cpu, minvCpus: 512 } },
      'cpu.minvCpus must be an integer from 0 to maxvCpus (256), got 512',
    ],
    ['no CPU instance types', { cpu: { ...cpu, instanceTypes: [] } }, 'cpu.instanceTypes must list at least one instance type'],
    ['no Spot instance types', { spot: { ...cpu, instanceTypes: [] } }, 'spot.instanceTypes must list at least one instance type'],
    [
      'a CPU family in the GPU environment',
      { gpu: { instanceTypes: types('g5.xlarge', 'c6i.xlarge'), maxvCpus: 64 } },
      'gpu.instanceTypes must be GPU instances (p* or g* families), got c6i.xlarge',
    ],
    ['a malformed instance type', { cpu: { ...cpu, instanceTypes: types('c6i') } }, 'cpu.instanceTypes: "c6i" is not an instance type'],
    [
      'an unknown environment key',
      { queues: [{ name: 'standard', priority: 50, computeEnvironments: ['cpu', 'fargate' as never] }] },
      'queue standard names unknown environment "fargate": expected one of cpu, gpu, spot',
    ],
    [
      'an environment that is not configured',
      { gpu: undefined, queues: [{ name: 'gpu-training', priority: 60, computeEnvironments: ['gpu'] }] },
      'queue gpu-training names the gpu environment, which is not configured',
    ],
    [
      'priority-high on Spot',
      { queues: [{ name: 'priority-high', priority: 100, computeEnvironments: ['cpu', 'spot'] }] },
      'queue priority-high must run on on-demand capacity only, but names the spot environment',
    ],
    [
      'duplicate queue names',
      {
        queues: [
          { name: 'standard', priority: 50, computeEnvironments: ['cpu'] },
          { name: 'standard', priority: 40, computeEnvironments: ['cpu'] },
        ],
      },
      'queue names must be unique, "standard" appears more than once',
    ],
    [
      'duplicate priorities',
      {
        queues: [
          { name: 'standard', priority: 50, computeEnvironments: ['cpu'] },
          { name: 'long-running', priority: 50, computeEnvironments: ['cpu'] },
        ],
      },
      'queue priorities must be unique, 50 is used by standard and long-running',
    ],
    ['no queues', { queues: [] }, 'queues must list at least one job queue'],
    [
      'a queue with no environment',
      { queues: [{ name: 'standard', priority: 50, computeEnvironments: [] }] },
      'queue standard must name 1 to 3 compute environments, got 0',
    ],
    [
      'an environment twice in one queue',
      { queues: [{ name: 'standard', priority: 50, computeEnvironments: ['cpu', 'cpu'] }] },
      'queue standard names an environment twice: cpu, cpu',
    ],
    [
      'an upper-case queue name',
      { queues: [{ name: 'Standard', priority: 50, computeEnvironments: ['cpu'] }] },
      'queue name "Standard" is invalid',
    ],
    [
      'a negative priority',
      { queues: [{ name: 'standard', priority: -1, computeEnvironments: ['cpu'] }] },
      'queue standard: priority must be a non-negative integer, got -1',
    ],
    ['a root volume smaller than the AMI', { rootVolumeSizeGiB: 8 }, 'rootVolumeSizeGiB must be an integer of at least 30'],
  ])('%s', (_what, overrides, message) => {
    expect(() => build(overrides)).toThrow(message);
  });

  test('errors carry the construct path', () => {
    expect(() => build({ queues: [] })).toThrow(/^Compute\/Batch: /);
  });
});
