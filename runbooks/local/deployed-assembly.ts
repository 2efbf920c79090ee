import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = Record<string, unknown>;

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Json;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown }>;
}

/** One synthesized stack, as a deployment would see it: where it goes and what it holds. */
export interface DeployedStack {
  readonly name: string;
  readonly region: string;
  readonly account: string;
  readonly template: CfnTemplate;
}

/**
 * The types whose Ref is their name, and the property that names them (CloudFormation Template Reference,
 * each type's return values); a resource without that property has a generated physical name.
 */
const REF_IS_NAME: ReadonlyMap<string, string> = new Map([
  ['AWS::RDS::DBInstance', 'DBInstanceIdentifier'],
  ['AWS::RDS::DBProxy', 'DBProxyName'],
  ['AWS::RDS::DBCluster', 'DBClusterIdentifier'],
  ['AWS::RDS::GlobalCluster', 'GlobalClusterIdentifier'],
  ['AWS::ElastiCache::ReplicationGroup', 'ReplicationGroupId'],
  ['AWS::DynamoDB::Table', 'TableName'],
  ['AWS::Lambda::Function', 'FunctionName'],
  ['AWS::IAM::Role', 'RoleName'],
  ['AWS::IAM::Policy', 'PolicyName'],
  ['AWS::KMS::Alias', 'AliasName'],
  ['AWS::Logs::LogGroup', 'LogGroupName'],
  ['AWS::CloudWatch::Alarm', 'AlarmName'],
  ['AWS::CloudWatch::CompositeAlarm', 'AlarmName'],
  ['AWS::EKS::Cluster', 'Name'],
  ['AWS::Cassandra::Keyspace', 'KeyspaceName'],
  ['AWS::SSM::Parameter', 'Name'],
]);

/**
 * The stacks of one synthesized layout as CloudFormation would deploy them: every `Ref`,
 * `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split` and `Fn::GetStackOutput` resolved
 * to the physical names and ARNs AWS would give. Names the templates fix are taken as they are;
 * names AWS generates (a role's name, a key id, an MSK cluster's uuid, a global datastore's prefix)
 * are generated in AWS's format, deterministically, so the same value flows everywhere it is used.
 * Fails closed: an intrinsic or an attribute it cannot resolve is an error, never a guess.
 */
export class DeployedAssembly {
  private readonly stacks = new Map<string, DeployedStack>();
  private readonly cache = new Map<string, unknown>();

  constructor(stacks: readonly DeployedStack[]) {
    for (const stack of stacks) this.stacks.set(stack.name, stack);
  }

  /** Every stack of a cloud assembly directory (`cdk.out`), with its environment from the manifest. */
  static fromDirectory(directory: string): DeployedAssembly {
    const manifest = JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string; environment?: string; properties?: { templateFile?: string } }>;
    };
    const stacks: DeployedStack[] = [];
    for (const [name, artifact] of Object.entries(manifest.artifacts)) {
      if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
      const [account, region] = (artifact.environment ?? '').replace('aws://', '').split('/');
      const file = join(directory, artifact.properties.templateFile);
      if (!existsSync(file)) continue;
      stacks.push({
        name,
        region: region as string,
        account: account as string,
        template: JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate,
      });
    }
    return new DeployedAssembly(stacks);
  }

  get stackNames(): string[] {
    return [...this.stacks.keys()];
  }

  stack(name: string): DeployedStack {
    const stack = this.stacks.get(name);
    if (!stack) throw new Error(`the synthesized layout has no stack ${name} (stacks: ${this.stackNames.join(', ')})`);
    return stack;
  }

  hasStack(name: string): boolean {
    return this.stacks.has(name);
  }

  /** Resources of one type across the stacks of `region` (every region when absent). */
  resourcesOfType(type: string, region?: string): { stack: DeployedStack; logicalId: string; resource: CfnResource }[] {
    const found: { stack: DeployedStack; logicalId: string; resource: CfnResource }[] = [];
    for (const stack of this.stacks.values()) {
      if (region && stack.region !== region) continue;
      for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
        if (resource.Type === type) found.push({ stack, logicalId, resource });
      }
    }
    return found;
  }

  resource(stack: DeployedStack, logicalId: string): CfnResource {
    const resource = stack.template.Resources[logicalId];
    if (!resource) throw new Error(`${stack.name} has no resource ${logicalId}`);
    return resource;
  }

  /** A property of a resource, resolved. */
  property(stack: DeployedStack, logicalId: string, path: string): unknown {
    const value = this.resource(stack, logicalId).Properties?.[path];
    return value === undefined ? undefined : this.resolve(stack, value);
  }

  /** Resolve a template value (any intrinsic inside) as CloudFormation would in `stack`. */
  resolve(stack: DeployedStack, value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    const object = value as Json;
    const keys = Object.keys(object);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = object[key];
      switch (key) {
        case 'Ref':
          return this.ref(stack, arg as string);
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = (typeof arg === 'string' ? arg.split(/\.(.*)/) : arg) as [string, string];
          return this.attribute(stack, logicalId, attribute);
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return (this.resolve(stack, parts) as unknown[]).flat().map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          const items = this.resolve(stack, list) as unknown[];
          const at = Number(this.resolve(stack, index));
          if (!Array.isArray(items) || at >= items.length) throw new Error(`Fn::Select ${at} out of ${JSON.stringify(items)}`);
          return items[at];
        }
        case 'Fn::Split': {
          const [separator, source] = arg as [string, unknown];
          return String(this.resolve(stack, source)).split(separator);
        }
        case 'Fn::Sub':
          return this.sub(stack, arg as string | [string, Json]);
        case 'Fn::GetStackOutput': {
          const { StackName, OutputName } = arg as { StackName: string; OutputName: string };
          const other = this.stack(StackName);
          const output = other.template.Outputs?.[OutputName];
          if (!output) throw new Error(`${StackName} has no output ${OutputName}`);
          return this.resolve(other, output.Value);
        }
        case 'Fn::ImportValue':
        case 'Fn::If':
        case 'Fn::FindInMap':
          throw new Error(`${key} is not used by this platform's templates and is not resolved`);
      }
    }
    return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, this.resolve(stack, v)]));
  }

  private sub(stack: DeployedStack, arg: string | [string, Json]): string {
    const [text, variables] = typeof arg === 'string' ? [arg, {}] : arg;
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name in variables) return String(this.resolve(stack, variables[name]));
      if (name.includes('.')) {
        const [logicalId, attribute] = name.split(/\.(.*)/) as [string, string];
        return String(this.attribute(stack, logicalId, attribute));
      }
      return String(this.ref(stack, name));
    });
  }

  private pseudo(stack: DeployedStack, name: string): string | undefined {
    switch (name) {
      case 'AWS::Region':
        return stack.region;
      case 'AWS::AccountId':
        return stack.account;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack.name;
      case 'AWS::NoValue':
        return undefined;
    }
    return undefined;
  }

  /** `Ref` as CloudFormation documents it per resource type. */
  ref(stack: DeployedStack, name: string): unknown {
    if (name.startsWith('AWS::')) return this.pseudo(stack, name);
    return this.memo(`${stack.name}/${name}/Ref`, () => {
      const resource = this.resource(stack, name);
      const props = resource.Properties ?? {};
      const named = (key: string) => (props[key] !== undefined ? String(this.resolve(stack, props[key])) : this.physicalName(stack, name));
      const arn = (service: string, resourcePart: string, region = stack.region) =>
        `arn:aws:${service}:${region}:${stack.account}:${resourcePart}`;
      const nameProperty = REF_IS_NAME.get(resource.Type);
      if (nameProperty) return named(nameProperty);
      switch (resource.Type) {
        case 'AWS::SecretsManager::Secret':
          // Ref of a secret is its ARN (CloudFormation Template Reference, AWS::SecretsManager::Secret).
          return arn('secretsmanager', `secret:${named('Name')}-${base32(`${stack.name}/${name}`, 6)}`);
        case 'AWS::ElastiCache::GlobalReplicationGroup':
          // ElastiCache puts a prefix of its own before the suffix (its API reference: GlobalReplicationGroupIdSuffix).
          return `${globalDatastorePrefix(stack.region)}-${String(this.resolve(stack, props.GlobalReplicationGroupIdSuffix))}`;
        case 'AWS::KMS::Key':
          return uuidOf(`${stack.name}/${name}`);
        case 'AWS::SNS::Topic':
          return arn('sns', named('TopicName'));
        case 'AWS::SQS::Queue':
          return `https://sqs.${stack.region}.amazonaws.com/${stack.account}/${named('QueueName')}`;
        case 'AWS::StepFunctions::StateMachine':
          return arn('states', `stateMachine:${named('StateMachineName')}`);
        case 'AWS::S3::Bucket':
          return named('BucketName').toLowerCase();
        case 'AWS::EKS::Nodegroup':
          return `${String(this.resolve(stack, props.ClusterName))}/${named('NodegroupName')}`;
        case 'AWS::Batch::JobQueue':
          return arn('batch', `job-queue/${named('JobQueueName')}`);
        case 'AWS::Batch::ComputeEnvironment':
          return arn('batch', `compute-environment/${named('ComputeEnvironmentName')}`);
        case 'AWS::MSK::Cluster':
          return this.attribute(stack, name, 'Arn');
        case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
          return arn(
            'elasticloadbalancing',
            `loadbalancer/app/${this.physicalName(stack, name).slice(0, 32)}/${hex(`${stack.name}/${name}`, 16)}`,
          );
        case 'AWS::EC2::VPC':
          return `vpc-${hex(`${stack.name}/${name}`, 17)}`;
        case 'AWS::EC2::Subnet':
          return `subnet-${hex(`${stack.name}/${name}`, 17)}`;
        case 'AWS::EC2::SecurityGroup':
          return `sg-${hex(`${stack.name}/${name}`, 17)}`;
        case 'AWS::EC2::RouteTable':
          return `rtb-${hex(`${stack.name}/${name}`, 17)}`;
      }
      return this.physicalName(stack, name);
    });
  }

  /** `Fn::GetAtt` as CloudFormation documents it, for the attributes this platform's templates read. */
  attribute(stack: DeployedStack, logicalId: string, attribute: string): unknown {
    return this.memo(`${stack.name}/${logicalId}/${attribute}`, () => {
      const resource = this.resource(stack, logicalId);
      const readAtDeploy = this.customResourceAttribute(stack, logicalId, resource, attribute);
      if (readAtDeploy !== undefined) return readAtDeploy;
      const props = resource.Properties ?? {};
      const ref = () => String(this.ref(stack, logicalId));
      const key = `${resource.Type}.${attribute}`;
      const arn = (service: string, resourcePart: string, region = stack.region) =>
        `arn:aws:${service}:${region}:${stack.account}:${resourcePart}`;
      switch (key) {
        case 'AWS::EC2::SecurityGroup.GroupId':
        case 'AWS::EC2::VPC.VpcId':
        case 'AWS::EC2::Subnet.SubnetId':
          return ref();
        case 'AWS::EC2::VPC.CidrBlock':
          return String(this.resolve(stack, props.CidrBlock));
        case 'AWS::IAM::Role.Arn':
          return `arn:aws:iam::${stack.account}:role${String(this.resolve(stack, props.Path ?? '/'))}${ref()}`;
        case 'AWS::IAM::Role.RoleId':
          return `AROA${hex(`${stack.name}/${logicalId}`, 17).toUpperCase()}`;
        case 'AWS::KMS::Key.Arn':
          return arn('kms', `key/${ref()}`);
        case 'AWS::KMS::Key.KeyId':
          return ref();
        case 'AWS::DynamoDB::Table.Arn':
          return arn('dynamodb', `table/${ref()}`);
        case 'AWS::Lambda::Function.Arn':
          return arn('lambda', `function:${ref()}`);
        case 'AWS::SNS::Topic.TopicArn':
          return ref();
        case 'AWS::SNS::Topic.TopicName':
          return ref().split(':').pop();
        case 'AWS::SQS::Queue.Arn':
          return arn('sqs', ref().split('/').pop() as string);
        case 'AWS::StepFunctions::StateMachine.Arn':
          return ref();
        case 'AWS::StepFunctions::StateMachine.Name':
          return ref().split(':').pop();
        case 'AWS::Logs::LogGroup.Arn':
          return arn('logs', `log-group:${ref()}:*`);
        case 'AWS::S3::Bucket.Arn':
          return `arn:aws:s3:::${ref()}`;
        case 'AWS::CloudWatch::Alarm.Arn':
        case 'AWS::CloudWatch::CompositeAlarm.Arn':
          return arn('cloudwatch', `alarm:${ref()}`);
        case 'AWS::RDS::DBInstance.Endpoint.Address':
          return `${ref()}.${hex(`${stack.account}/${stack.region}`, 12)}.${stack.region}.rds.amazonaws.com`;
        case 'AWS::RDS::DBInstance.Endpoint.Port':
          return String(this.resolve(stack, props.Port ?? '5432'));
        case 'AWS::RDS::DBInstance.DbiResourceId':
          return `db-${base32(`${stack.name}/${logicalId}`, 26)}`;
        case 'AWS::RDS::DBInstance.MasterUserSecret.SecretArn':
          return arn('secretsmanager', `secret:rds!db-${uuidOf(`${stack.name}/${logicalId}`)}-${base32(`${stack.name}/${logicalId}`, 6)}`);
        // CloudFormation Template Reference, AWS::RDS::DBCluster return values.
        case 'AWS::RDS::DBCluster.Endpoint.Address':
          return `${ref()}.cluster-${hex(`${stack.account}/${stack.region}`, 12)}.${stack.region}.rds.amazonaws.com`;
        case 'AWS::RDS::DBCluster.ReadEndpoint.Address':
          return `${ref()}.cluster-ro-${hex(`${stack.account}/${stack.region}`, 12)}.${stack.region}.rds.amazonaws.com`;
        case 'AWS::RDS::DBCluster.Endpoint.Port':
          return String(this.resolve(stack, props.Port ?? '5432'));
        case 'AWS::RDS::DBCluster.DBClusterResourceId':
          return `cluster-${base32(`${stack.name}/${logicalId}`, 26)}`;
        case 'AWS::RDS::DBCluster.DBClusterArn':
          return arn('rds', `cluster:${ref()}`);
        case 'AWS::RDS::DBProxy.Endpoint':
          return `${ref()}.proxy-${hex(`${stack.account}/${stack.region}`, 12)}.${stack.region}.rds.amazonaws.com`;
        case 'AWS::RDS::DBProxy.DBProxyArn':
          return arn('rds', `db-proxy:prx-${hex(`${stack.name}/${logicalId}`, 17)}`);
        case 'AWS::RDS::DBInstance.DBInstanceArn':
          return arn('rds', `db:${ref()}`);
        case 'AWS::ElastiCache::ReplicationGroup.ConfigurationEndPoint.Address':
          return `clustercfg.${ref()}.${hex(`${stack.account}/${stack.region}`, 6)}.${regionShort(stack.region)}.cache.amazonaws.com`;
        case 'AWS::ElastiCache::ReplicationGroup.ConfigurationEndPoint.Port':
          return String(this.resolve(stack, props.Port ?? '6379'));
        case 'AWS::MSK::Cluster.Arn':
          return arn('kafka', `cluster/${String(this.resolve(stack, props.ClusterName))}/${uuidOf(`${stack.name}/${logicalId}`)}-3`);
        case 'AWS::MSK::Replicator.ReplicatorArn':
          return arn('kafka', `replicator/${String(this.resolve(stack, props.ReplicatorName))}/${uuidOf(`${stack.name}/${logicalId}`)}`);
        case 'AWS::Batch::JobQueue.JobQueueArn':
          return ref();
        case 'AWS::EKS::Cluster.Arn':
          return arn('eks', `cluster/${ref()}`);
        case 'AWS::EKS::Nodegroup.NodegroupName':
          return ref().split('/').pop();
        case 'AWS::Backup::BackupVault.BackupVaultName':
          return String(this.resolve(stack, props.BackupVaultName));
        case 'AWS::Backup::BackupPlan.BackupPlanId':
          return uuidOf(`${stack.name}/${logicalId}`);
        case 'AWS::Events::Rule.Arn': {
          // rule/<name> on the default event bus, rule/<bus>/<name> on another (Service Authorization Reference, EventBridge).
          const bus = props.EventBusName === undefined ? 'default' : String(this.resolve(stack, props.EventBusName));
          const name = props.Name === undefined ? this.physicalName(stack, logicalId) : String(this.resolve(stack, props.Name));
          return arn('events', bus === 'default' ? `rule/${name}` : `rule/${bus}/${name}`);
        }
        case 'AWS::ElasticLoadBalancingV2::LoadBalancer.DNSName':
          return `internal-${ref().split('/')[2]}.${stack.region}.elb.amazonaws.com`;
      }
      throw new Error(`${stack.name}: cannot resolve Fn::GetAtt ${logicalId}.${attribute} (${resource.Type})`);
    });
  }

  /**
   * What a custom resource answers at deploy time: an `AwsCustomResource` reading an SSM parameter
   * of a region (`Custom::RemoteParameter`) reads the value the owner's stack publishes; MSK's
   * bootstrap brokers are generated in MSK's format.
   */
  private customResourceAttribute(stack: DeployedStack, logicalId: string, resource: CfnResource, attribute: string): string | undefined {
    if (!resource.Type.startsWith('Custom::')) return undefined;
    const create = this.property(stack, logicalId, 'Create');
    const call =
      typeof create === 'string'
        ? (JSON.parse(create) as { action?: string; region?: string; parameters?: Record<string, string> })
        : undefined;
    if (call?.action === 'getParameter' && attribute === 'Parameter.Value') {
      const name = call.parameters?.Name;
      const region = call.region ?? stack.region;
      for (const { stack: owner, logicalId: parameter } of this.resourcesOfType('AWS::SSM::Parameter', region)) {
        if (this.property(owner, parameter, 'Name') === name) return String(this.property(owner, parameter, 'Value'));
      }
      throw new Error(`${stack.name}/${logicalId} reads ${name} in ${region}, which no stack of the layout publishes`);
    }
    if (call?.action === 'describeGlobalClusters' && attribute === 'GlobalClusters.0.Endpoint') {
      return globalWriterEndpoint(stack.account, String(call.parameters?.GlobalClusterIdentifier));
    }
    if (call?.action === 'getBootstrapBrokers') {
      return [1, 2, 3].map((b) => `b-${b}.${hex(`${stack.name}/${logicalId}`, 8)}.kafka.${stack.region}.amazonaws.com:9098`).join(',');
    }
    return undefined;
  }

  /**
   * The name CloudFormation generates for a resource without one: the stack name and the logical
   * id, shortened, then 12 characters of its own (AWS CloudFormation User Guide, resource names).
   */
  physicalName(stack: DeployedStack, logicalId: string): string {
    return `${stack.name.slice(0, 24)}-${logicalId.slice(0, 26)}-${base32(`${stack.name}/${logicalId}`, 12)}`;
  }

  private memo<T>(key: string, work: () => T): T {
    if (this.cache.has(key)) return this.cache.get(key) as T;
    const value = work();
    this.cache.set(key, value);
    return value;
  }
}

const digest = (seed: string) => createHash('sha256').update(seed).digest();
const hex = (seed: string, length: number) => digest(seed).toString('hex').slice(0, length);
const base32 = (seed: string, length: number) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...digest(seed)]
    .slice(0, length)
    .map((byte) => alphabet[byte % 32])
    .join('');
};

/**
 * The global writer endpoint Aurora gives a global database: `<id>.global-<suffix>.global.rds.amazonaws.com`
 * (Aurora User Guide, connecting to a global database), its suffix generated.
 */
export function globalWriterEndpoint(account: string, globalClusterIdentifier: string): string {
  return `${globalClusterIdentifier}.global-${hex(`${account}:${globalClusterIdentifier}`, 10)}.global.rds.amazonaws.com`;
}

/** A version-4-shaped uuid from a seed: the format of KMS key ids and MSK cluster suffixes. */
export function uuidOf(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The prefix ElastiCache gives a global datastore's id, which depends on the primary's region
 * (ElastiCache User Guide, "Creating a global datastore": the full id is prefix + suffix). The
 * prefixes AWS uses are not listed per region; five letters in its format, fixed per region.
 */
function globalDatastorePrefix(region: string): string {
  return [...digest(`global-datastore/${region}`)]
    .slice(0, 5)
    .map((byte) => 'abcdefghijklmnopqrstuvwxyz'[byte % 26])
    .join('');
}

/** `use1`-style short region in ElastiCache endpoints. */
function regionShort(region: string): string {
  const [area, direction, number] = region.split('-') as [string, string, string];
  return `${area}${direction.slice(0, 1)}${number}`;
}
