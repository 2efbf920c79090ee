import { BatchClient, UpdateJobQueueCommand } from '@aws-sdk/client-batch';
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeNodegroupCommand, EKSClient, ListNodegroupsCommand, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import {
  DescribeGlobalReplicationGroupsCommand,
  DescribeReplicationGroupsCommand,
  DisassociateGlobalReplicationGroupCommand,
  ElastiCacheClient,
  FailoverGlobalReplicationGroupCommand,
  TestFailoverCommand,
} from '@aws-sdk/client-elasticache';
import { DescribeClusterV2Command, KafkaClient } from '@aws-sdk/client-kafka';
import { GetKeyspaceCommand, KeyspacesClient } from '@aws-sdk/client-keyspaces';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeDBInstancesCommand, PromoteReadReplicaCommand, RDSClient, RebootDBInstanceCommand } from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../core/clients';

/**
 * A simulated multi-region AWS control plane behind the real SDK v3 clients: every call the
 * runbooks make reaches a stateful fake of the service in that region, which answers as the service
 * does (states that change over time, the errors AWS returns). Each modelled operation advances a
 * virtual clock by the duration AWS documents; `FakeAws.calls` records every call for the checks.
 *
 * Faults: a region can be made unreachable (every call fails as a network error would), an
 * operation throttled for its next N calls, or a database promotion stuck.
 */

/** Modelled durations, from AWS documentation; the drill prints this table. */
export const MODELLED_SECONDS = {
  rdsPromotion: { seconds: 300, source: 'RDS User Guide, read replicas: promotion takes "several minutes or longer" (modelled at 5 min)' },
  rdsMultiAzFailover: { seconds: 90, source: 'RDS User Guide, Multi-AZ: failover typically 60-120 s' },
  cacheGlobalFailover: { seconds: 60, source: 'ElastiCache Global Datastore: failover about 1 min (AWS workshop figure)' },
  cacheDisassociate: { seconds: 60, source: 'ElastiCache Global Datastore: disassociating a secondary, modelled like a failover' },
  cacheTestFailover: { seconds: 90, source: 'ElastiCache TestFailover of a shard, modelled like a Multi-AZ failover' },
} as const;

/**
 * After a gate opens in AWS and before clients follow it: the gate alarm leaves ALARM (its period),
 * Route 53's health checkers read the alarm, and resolvers drop the answer they cached (the record TTL).
 */
export function dnsTail(recordTtlSeconds: number): readonly { readonly what: string; readonly seconds: number }[] {
  return [
    { what: 'gate alarm leaves ALARM (period 60 s)', seconds: 60 },
    { what: 'Route 53 health checkers read the alarm state (modelled)', seconds: 30 },
    { what: `resolvers drop the cached answer (TTL ${recordTtlSeconds} s, seed 002)`, seconds: recordTtlSeconds },
  ];
}

export interface FakeInstance {
  id: string;
  region: string;
  arn: string;
  status: 'available' | 'modifying' | 'rebooting' | 'backing-up';
  source?: string;
  multiAz: boolean;
  zone: string;
  host: string;
  port: number;
  /** Virtual time at which a pending promotion or reboot completes; never, when stuck. */
  readyAt?: number;
  /** A promotion is under way: when it completes, the data plane is told. */
  promoting?: boolean;
}

export interface FakeCacheGroup {
  id: string;
  region: string;
  status: 'available' | 'modifying';
  readyAt?: number;
}

export interface FakeGlobalDatastore {
  id: string;
  status: 'available' | 'modifying';
  readyAt?: number;
  members: { groupId: string; region: string; role: 'PRIMARY' | 'SECONDARY' }[];
}

export interface FakeAwsCall {
  readonly region: string;
  readonly service: string;
  readonly command: string;
  readonly input: unknown;
  readonly at: number;
  readonly error?: string;
}

type Item = Record<string, AttributeValue>;
// biome-ignore lint/suspicious/noExplicitAny: one stub type for clients of every service
type Stub = AwsStub<any, any, any>;

class NetworkError extends Error {
  readonly code = 'ECONNREFUSED';
  constructor(region: string) {
    super(`connect ECONNREFUSED: ${region} endpoints do not answer`);
    this.name = 'TimeoutError';
  }
}

function awsError(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, $metadata: {}, ...extra });
}

export class FakeAws {
  /** Virtual seconds since the start of the run. */
  public clock = 0;
  public readonly calls: FakeAwsCall[] = [];
  public readonly instances = new Map<string, FakeInstance>();
  public readonly cacheGroups = new Map<string, FakeCacheGroup>();
  public readonly globalDatastores = new Map<string, FakeGlobalDatastore>();
  public readonly parameters = new Map<string, string>();
  public readonly tables = new Map<string, Map<string, Item>>();
  public readonly metrics: { region: string; namespace?: string; name?: string; value?: number; at: number }[] = [];
  public readonly objects = new Map<string, string>();
  public readonly notifications: { region: string; subject?: string; message?: string }[] = [];
  public readonly queues = new Map<string, 'ENABLED' | 'DISABLED'>();
  public readonly nodegroups = new Map<string, { desired: number; max: number; min: number }>();
  /** Execution histories the local runner records, by execution ARN. */
  public readonly executionHistories = new Map<string, HistoryEvent[]>();
  /** Executions the fake Step Functions reports as running. */
  public readonly runningExecutions = new Set<string>();
  public readonly unreachable = new Set<string>();
  public readonly stuckPromotions = new Set<string>();
  /** Told when a promotion completes, so the data plane below can take writes. */
  public onPromoted: (instance: FakeInstance) => void = () => undefined;
  /** Told when a promotion is asked for; the drill starts promoting its real server then. */
  public onPromotionRequested: (instance: FakeInstance) => void = () => undefined;
  /** Whether the data plane under an instance has finished promoting; a promotion completes only then. */
  public dataPlanePromoted: (instance: FakeInstance) => boolean = () => true;
  /** Told when a cache group becomes writable (a Global Datastore failover to it, or its detachment); the drill promotes its real server. */
  public onCachePromoted: (region: string, groupId: string, formerPrimary?: { region: string; groupId: string }) => void = () => undefined;
  /** Told when a reboot is asked for (with failover: a Multi-AZ failover); the drill restarts its real server. */
  public onReboot: (instance: FakeInstance, forceFailover: boolean) => void = () => undefined;
  private readonly throttles = new Map<string, number>();
  private readonly failures = new Map<string, { name: string; message: string; times: number }>();
  private readonly clients = new Map<string, unknown>();
  private readonly stubs: Stub[] = [];

  /** The next `times` calls of `command` (in any region) fail with ThrottlingException. */
  throttle(command: string, times: number): void {
    this.throttles.set(command, times);
  }

  /** The next `times` calls of `command` (in any region) fail with the error AWS would return, `name` and `message`. */
  failNext(command: string, name: string, message: string, times = Number.POSITIVE_INFINITY): void {
    this.failures.set(command, { name, message, times });
  }

  advance(seconds: number): void {
    this.clock += seconds;
  }

  /** Clients of every service and region, each backed by this world. */
  asClients(): AwsClients {
    const of =
      <T extends object>(service: string, Client: new (config: { region: string }) => T, wire: (stub: Stub, region: string) => void) =>
      (region: string): T => {
        const key = `${service}:${region}`;
        let client = this.clients.get(key) as T | undefined;
        if (!client) {
          client = new Client({ region });
          const stub = mockClient(client as never) as unknown as Stub;
          stub.onAnyCommand().callsFake((input: unknown) => {
            throw awsError('UnknownOperationException', `the fake ${service} does not model this call (input ${JSON.stringify(input)})`);
          });
          wire(stub, region);
          this.stubs.push(stub);
          this.clients.set(key, client);
        }
        return client;
      };
    return {
      rds: of('rds', RDSClient, (stub, region) => this.wireRds(stub, region)),
      elasticache: of('elasticache', ElastiCacheClient, (stub, region) => this.wireCache(stub, region)),
      cloudwatch: of('cloudwatch', CloudWatchClient, (stub, region) => this.wireCloudWatch(stub, region)),
      ssm: of('ssm', SSMClient, (stub, region) =>
        this.on(stub, region, 'ssm', GetParameterCommand, (input: { Name: string }) => {
          const value = this.parameters.get(`${region}:${input.Name}`);
          if (value === undefined) throw awsError('ParameterNotFound', `Parameter ${input.Name} not found.`);
          return { Parameter: { Name: input.Name, Value: value } };
        }),
      ),
      sns: of('sns', SNSClient, (stub, region) =>
        this.on(stub, region, 'sns', PublishCommand, (input: { Subject?: string; Message?: string }) => {
          this.notifications.push({ region, subject: input.Subject, message: input.Message });
          return { MessageId: String(this.notifications.length) };
        }),
      ),
      s3: of('s3', S3Client, (stub, region) =>
        this.on(stub, region, 's3', PutObjectCommand, (input: { Bucket: string; Key: string; Body?: unknown }) => {
          this.objects.set(`${input.Bucket}/${input.Key}`, String(input.Body));
          return {};
        }),
      ),
      dynamodb: of('dynamodb', DynamoDBClient, (stub, region) => this.wireDynamo(stub, region)),
      kafka: of('kafka', KafkaClient, (stub, region) =>
        this.on(stub, region, 'kafka', DescribeClusterV2Command, (input: { ClusterArn: string }) => ({
          ClusterInfo: { ClusterArn: input.ClusterArn, State: 'ACTIVE' },
        })),
      ),
      batch: of('batch', BatchClient, (stub, region) =>
        this.on(stub, region, 'batch', UpdateJobQueueCommand, (input: { jobQueue: string; state: 'ENABLED' | 'DISABLED' }) => {
          this.queues.set(`${region}:${input.jobQueue}`, input.state);
          return { jobQueueName: input.jobQueue };
        }),
      ),
      sfn: of('sfn', SFNClient, (stub, region) => {
        this.on(stub, region, 'sfn', DescribeExecutionCommand, (input: { executionArn: string }) => ({
          executionArn: input.executionArn,
          status: this.runningExecutions.has(input.executionArn) ? 'RUNNING' : 'FAILED',
        }));
        this.on(stub, region, 'sfn', GetExecutionHistoryCommand, (input: { executionArn: string }) => {
          const events = this.executionHistories.get(input.executionArn);
          if (!events) throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${input.executionArn}'`);
          return { events: structuredClone(events) };
        });
      }),
      eks: of('eks', EKSClient, (stub, region) => this.wireEks(stub, region)),
      keyspaces: of('keyspaces', KeyspacesClient, (stub, region) =>
        this.on(stub, region, 'keyspaces', GetKeyspaceCommand, (input: { keyspaceName: string }) => ({
          keyspaceName: input.keyspaceName,
          replicationRegions: [...new Set([...this.instances.values()].map((i) => i.region))],
          replicationGroupStatuses: [...new Set([...this.instances.values()].map((i) => i.region))].map((r) => ({
            region: r,
            keyspaceStatus: 'ACTIVE',
          })),
        })),
      ),
      lambda: of('lambda', LambdaClient, () => undefined),
    };
  }

  /** Stop intercepting: restores the clients' real behaviour. */
  restore(): void {
    for (const stub of this.stubs) stub.restore();
  }

  /** A call of `Command` in `region`: recorded, failing when the region is unreachable or the call throttled. */
  private on<I>(stub: Stub, region: string, service: string, Command: unknown, answer: (input: I) => unknown): void {
    stub.on(Command as never).callsFake((input: I) => {
      const command = (Command as { name: string }).name.replace(/Command$/, '');
      const record = (error?: string) => this.calls.push({ region, service, command, input, at: this.clock, error });
      if (this.unreachable.has(region)) {
        record('unreachable');
        throw new NetworkError(region);
      }
      const throttled = this.throttles.get(command) ?? 0;
      if (throttled > 0) {
        this.throttles.set(command, throttled - 1);
        record('ThrottlingException');
        throw awsError('ThrottlingException', 'Rate exceeded', { $retryable: { throttling: true } });
      }
      const failure = this.failures.get(command);
      if (failure && failure.times > 0) {
        failure.times--;
        record(failure.name);
        throw awsError(failure.name, failure.message);
      }
      try {
        const out = answer(input);
        record();
        return out;
      } catch (error) {
        record((error as Error).name);
        throw error;
      }
    });
  }

  private settle(): void {
    for (const instance of this.instances.values()) {
      if (instance.readyAt !== undefined && this.clock >= instance.readyAt && (!instance.promoting || this.dataPlanePromoted(instance))) {
        instance.status = 'available';
        instance.readyAt = undefined;
        if (instance.promoting) {
          instance.promoting = false;
          this.onPromoted(instance);
        }
      }
    }
    for (const group of this.cacheGroups.values()) {
      if (group.readyAt !== undefined && this.clock >= group.readyAt) {
        group.status = 'available';
        group.readyAt = undefined;
      }
    }
    for (const global of this.globalDatastores.values()) {
      if (global.readyAt !== undefined && this.clock >= global.readyAt) {
        global.status = 'available';
        global.readyAt = undefined;
      }
    }
  }

  private instance(region: string, id: string): FakeInstance {
    const instance = this.instances.get(`${region}:${id}`);
    if (!instance) throw awsError('DBInstanceNotFoundFault', `DBInstance ${id} not found.`);
    return instance;
  }

  private wireRds(stub: Stub, region: string): void {
    this.on(stub, region, 'rds', DescribeDBInstancesCommand, (input: { DBInstanceIdentifier: string }) => {
      this.settle();
      const i = this.instance(region, input.DBInstanceIdentifier);
      return {
        DBInstances: [
          {
            DBInstanceIdentifier: i.id,
            DBInstanceArn: i.arn,
            DBInstanceStatus: i.status,
            ReadReplicaSourceDBInstanceIdentifier: i.source,
            MultiAZ: i.multiAz,
            AvailabilityZone: i.zone,
            Endpoint: { Address: i.host, Port: i.port },
          },
        ],
      };
    });
    this.on(stub, region, 'rds', PromoteReadReplicaCommand, (input: { DBInstanceIdentifier: string }) => {
      this.settle();
      const i = this.instance(region, input.DBInstanceIdentifier);
      if (!i.source) throw awsError('InvalidDBInstanceStateFault', 'DB Instance is not a read replica.');
      if (i.status !== 'available') throw awsError('InvalidDBInstanceStateFault', `DB Instance ${i.id} is ${i.status}.`);
      i.source = undefined;
      i.promoting = true;
      i.status = 'modifying';
      i.readyAt = this.stuckPromotions.has(i.id) ? undefined : this.clock + MODELLED_SECONDS.rdsPromotion.seconds;
      this.onPromotionRequested(i);
      return { DBInstance: { DBInstanceIdentifier: i.id } };
    });
    this.on(stub, region, 'rds', RebootDBInstanceCommand, (input: { DBInstanceIdentifier: string; ForceFailover?: boolean }) => {
      this.settle();
      const i = this.instance(region, input.DBInstanceIdentifier);
      if (i.status !== 'available') throw awsError('InvalidDBInstanceStateFault', `DB Instance ${i.id} is ${i.status}.`);
      if (input.ForceFailover && !i.multiAz)
        throw awsError('InvalidDBInstanceStateFault', 'Cannot force a failover of a Single-AZ instance.');
      i.status = 'rebooting';
      i.readyAt = this.clock + MODELLED_SECONDS.rdsMultiAzFailover.seconds;
      if (input.ForceFailover) i.zone = i.zone.endsWith('a') ? i.zone.replace(/a$/, 'b') : i.zone.replace(/.$/, 'a');
      this.onReboot(i, input.ForceFailover === true);
      return { DBInstance: { DBInstanceIdentifier: i.id } };
    });
  }

  private wireCache(stub: Stub, region: string): void {
    const global = (id: string) => {
      const found = this.globalDatastores.get(id);
      if (!found) throw awsError('GlobalReplicationGroupNotFoundFault', `Global replication group ${id} not found.`);
      return found;
    };
    this.on(stub, region, 'elasticache', DescribeGlobalReplicationGroupsCommand, (input: { GlobalReplicationGroupId: string }) => {
      this.settle();
      const g = global(input.GlobalReplicationGroupId);
      return {
        GlobalReplicationGroups: [
          {
            GlobalReplicationGroupId: g.id,
            Status: g.status,
            Members: g.members.map((m) => ({
              ReplicationGroupId: m.groupId,
              ReplicationGroupRegion: m.region,
              Role: m.role,
              Status: 'associated',
            })),
          },
        ],
      };
    });
    this.on(stub, region, 'elasticache', DescribeReplicationGroupsCommand, (input: { ReplicationGroupId: string }) => {
      this.settle();
      const group = this.cacheGroups.get(`${region}:${input.ReplicationGroupId}`);
      if (!group) throw awsError('ReplicationGroupNotFoundFault', `Replication group ${input.ReplicationGroupId} not found.`);
      return { ReplicationGroups: [{ ReplicationGroupId: group.id, Status: group.status }] };
    });
    this.on(
      stub,
      region,
      'elasticache',
      FailoverGlobalReplicationGroupCommand,
      (input: { GlobalReplicationGroupId: string; PrimaryRegion: string; PrimaryReplicationGroupId: string }) => {
        this.settle();
        const g = global(input.GlobalReplicationGroupId);
        if (g.status !== 'available')
          throw awsError('InvalidGlobalReplicationGroupStateFault', `Global replication group ${g.id} is ${g.status}.`);
        const target = g.members.find((m) => m.groupId === input.PrimaryReplicationGroupId && m.region === input.PrimaryRegion);
        if (!target) throw awsError('InvalidParameterValueException', `${input.PrimaryReplicationGroupId} is not a member of ${g.id}.`);
        const former = g.members.find((m) => m.role === 'PRIMARY');
        for (const member of g.members) member.role = member === target ? 'PRIMARY' : 'SECONDARY';
        g.status = 'modifying';
        this.onCachePromoted(target.region, target.groupId, former && former !== target ? former : undefined);
        g.readyAt = this.clock + MODELLED_SECONDS.cacheGlobalFailover.seconds;
        return { GlobalReplicationGroup: { GlobalReplicationGroupId: g.id } };
      },
    );
    this.on(
      stub,
      region,
      'elasticache',
      DisassociateGlobalReplicationGroupCommand,
      (input: { GlobalReplicationGroupId: string; ReplicationGroupId: string; ReplicationGroupRegion: string }) => {
        this.settle();
        const g = global(input.GlobalReplicationGroupId);
        const member = g.members.find((m) => m.groupId === input.ReplicationGroupId && m.region === input.ReplicationGroupRegion);
        if (!member || member.role === 'PRIMARY')
          throw awsError('InvalidParameterValueException', `${input.ReplicationGroupId} is not a secondary of ${g.id}.`);
        g.members = g.members.filter((m) => m !== member);
        const group = this.cacheGroups.get(`${member.region}:${member.groupId}`);
        if (group) {
          group.status = 'modifying';
          group.readyAt = this.clock + MODELLED_SECONDS.cacheDisassociate.seconds;
        }
        this.onCachePromoted(member.region, member.groupId);
        return { GlobalReplicationGroup: { GlobalReplicationGroupId: g.id } };
      },
    );
    this.on(stub, region, 'elasticache', TestFailoverCommand, (input: { ReplicationGroupId: string }) => {
      this.settle();
      const group = this.cacheGroups.get(`${region}:${input.ReplicationGroupId}`);
      if (!group) throw awsError('ReplicationGroupNotFoundFault', `Replication group ${input.ReplicationGroupId} not found.`);
      if (group.status !== 'available') throw awsError('InvalidReplicationGroupStateFault', `${group.id} is ${group.status}.`);
      group.status = 'modifying';
      group.readyAt = this.clock + MODELLED_SECONDS.cacheTestFailover.seconds;
      return { ReplicationGroup: { ReplicationGroupId: group.id } };
    });
  }

  private wireCloudWatch(stub: Stub, region: string): void {
    this.on(
      stub,
      region,
      'cloudwatch',
      PutMetricDataCommand,
      (input: { Namespace?: string; MetricData?: { MetricName?: string; Value?: number }[] }) => {
        for (const datum of input.MetricData ?? []) {
          this.metrics.push({ region, namespace: input.Namespace, name: datum.MetricName, value: datum.Value, at: this.clock });
        }
        return {};
      },
    );
    this.on(stub, region, 'cloudwatch', GetMetricDataCommand, () => ({ MetricDataResults: [] }));
  }

  private wireEks(stub: Stub, region: string): void {
    const groupsOf = (cluster: string) =>
      [...this.nodegroups.keys()].filter((k) => k.startsWith(`${region}:${cluster}:`)).map((k) => k.split(':')[2] as string);
    this.on(stub, region, 'eks', ListNodegroupsCommand, (input: { clusterName: string }) => ({ nodegroups: groupsOf(input.clusterName) }));
    this.on(stub, region, 'eks', DescribeNodegroupCommand, (input: { clusterName: string; nodegroupName: string }) => {
      const group = this.nodegroups.get(`${region}:${input.clusterName}:${input.nodegroupName}`);
      if (!group) throw awsError('ResourceNotFoundException', `No node group ${input.nodegroupName}.`);
      return {
        nodegroup: {
          nodegroupName: input.nodegroupName,
          scalingConfig: { desiredSize: group.desired, maxSize: group.max, minSize: group.min },
        },
      };
    });
    this.on(
      stub,
      region,
      'eks',
      UpdateNodegroupConfigCommand,
      (input: { clusterName: string; nodegroupName: string; scalingConfig: { desiredSize: number } }) => {
        const group = this.nodegroups.get(`${region}:${input.clusterName}:${input.nodegroupName}`);
        if (!group) throw awsError('ResourceNotFoundException', `No node group ${input.nodegroupName}.`);
        group.desired = input.scalingConfig.desiredSize;
        return { update: { status: 'InProgress' } };
      },
    );
  }

  private wireDynamo(stub: Stub, region: string): void {
    const table = (name: string) => {
      const key = `${region}:${name}`;
      if (!this.tables.has(key)) this.tables.set(key, new Map());
      return this.tables.get(key) as Map<string, Item>;
    };
    type Expression = { ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item };
    const check = (existing: Item | undefined, input: Expression) => {
      if (!input.ConditionExpression) return;
      if (
        !conditionHolds(input.ConditionExpression, existing, input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues ?? {})
      ) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
    };
    this.on(stub, region, 'dynamodb', GetItemCommand, (input: { TableName: string; Key: Item }) => {
      const item = table(input.TableName).get(input.Key.pk?.S ?? '');
      return item ? { Item: structuredClone(item) } : {};
    });
    this.on(stub, region, 'dynamodb', PutItemCommand, (input: { TableName: string; Item: Item } & Expression) => {
      const rows = table(input.TableName);
      const pk = input.Item.pk?.S ?? '';
      check(rows.get(pk), input);
      rows.set(pk, structuredClone(input.Item));
      return {};
    });
    this.on(stub, region, 'dynamodb', DeleteItemCommand, (input: { TableName: string; Key: Item } & Expression) => {
      const rows = table(input.TableName);
      const pk = input.Key.pk?.S ?? '';
      check(rows.get(pk), input);
      rows.delete(pk);
      return {};
    });
    this.on(
      stub,
      region,
      'dynamodb',
      UpdateItemCommand,
      (
        input: {
          TableName: string;
          Key: Item;
          UpdateExpression: string;
        } & Expression,
      ) => {
        const match = /^(ADD|SET) (#\w+) =? ?(:\w+)$/.exec(input.UpdateExpression);
        if (!match)
          throw awsError('ValidationException', `the fake DynamoDB models ADD #a :v and SET #a = :v, got ${input.UpdateExpression}`);
        const [, action, name, value] = match as unknown as [string, 'ADD' | 'SET', string, string];
        const attribute = input.ExpressionAttributeNames?.[name] as string;
        const given = input.ExpressionAttributeValues?.[value] as AttributeValue;
        const rows = table(input.TableName);
        const pk = input.Key.pk?.S ?? '';
        check(rows.get(pk), input);
        const item = rows.get(pk) ?? { pk: { S: pk } };
        item[attribute] = action === 'ADD' ? { N: String(Number(item[attribute]?.N ?? 0) + Number(given.N)) } : structuredClone(given);
        rows.set(pk, item);
        return { Attributes: { [attribute]: item[attribute] } };
      },
    );
  }
}

/**
 * The condition expressions the runbooks use, and nothing else (an unknown one is an error, not a
 * pass): `attribute_not_exists(pk)`, `#a = :v`, `epoch <= :v`, joined by `OR`.
 */
export function conditionHolds(expression: string, item: Item | undefined, names: Record<string, string>, values: Item): boolean {
  return expression.split(/\s+OR\s+/).some((clause) => {
    const trimmed = clause.trim();
    if (trimmed === 'attribute_not_exists(pk)') return item === undefined;
    const match = /^(#?\w+)\s*(=|<=)\s*(:\w+)$/.exec(trimmed);
    if (!match) throw new Error(`the fake DynamoDB does not model the condition ${trimmed}`);
    const [, left, op, right] = match as unknown as [string, string, string, string];
    const attribute = left.startsWith('#') ? (names[left] as string) : left;
    const have = item?.[attribute];
    const want = values[right];
    if (!have || !want) return false;
    if (op === '=') return JSON.stringify(have) === JSON.stringify(want);
    return Number(have.N) <= Number(want.N);
  });
}
