import { type DatabaseEngine, findSupportedRegion, type PlatformConfig } from '../../lib/config';
import type { AwsClients } from '../core/clients';
import { type DatabaseEndpoint, type DatabasePlane, routedDatabasePlane, runAgentOperation } from '../core/database';
import { envFromVariables, type RunbookDeps, type RunbookEnv } from '../core/env';
import { ERROR, RunbookError } from '../core/errors';
import type { GateItem } from '../core/state-table';
import { type Access, declaredActions } from '../definitions/access';
import { STEP_SPECS } from '../definitions/catalogue';
import { STEPS, type StepName } from '../steps';
import { type DeployedAssembly, type DeployedStack, uuidOf } from './deployed-assembly';
import { FakeAws, MODELLED_SECONDS, type UsedKey } from './fake-aws';
import { Authorizer, type Principal, principalOf } from './iam';
import { type LocalRunResult, type LocalStateMachine, runLocally, stateMachinesOf, VirtualScheduler } from './local-runbooks';
import { MemoryDatabasePlane } from './memory-database';

const T0 = Date.parse('2026-12-01T12:00:00Z');

export interface SimulatedPlatformOptions {
  /** The deployment as resolved from its context: tier, regions, the primary and the database generations. */
  readonly config: PlatformConfig;
  /** Its synthesized stacks: every name, parameter, policy and state machine of the simulated world comes from them. */
  readonly assembly: DeployedAssembly;
  /** The data plane under the runbooks. @default an in-memory one */
  readonly database?: DatabasePlane;
  /**
   * `virtual`: time stands still but for the modelled durations (tests, from a fixed instant);
   * `wall`: the wall clock plus the modelled durations, so real servers' timestamps compare with it (the drill).
   * @default 'virtual'
   */
  readonly clock?: 'virtual' | 'wall';
}

/** A runbook function as deployed: which step it runs, its environment and the role it assumes. */
interface DeployedFunction {
  readonly name: string;
  readonly stack: DeployedStack;
  readonly env: RunbookEnv;
  readonly principal: Principal;
  /** Attached to the region's VPC: Lambda reclaims its network interface when it stays idle. */
  readonly inVpc: boolean;
}

/**
 * How long a function reactivated from Inactive stays Pending while Lambda attaches its network
 * interface again: "several minutes" (Lambda Developer Guide, VPC configuration), modelled as 5.
 */
const LAMBDA_REACTIVATION_SECONDS = 300;

type FunctionName = StepName | 'DatabaseAgent';

/**
 * A simulated deployment, as its synthesized stacks describe it: the runbook parameters each region
 * publishes (names and values from the templates, intrinsics resolved), each region's database
 * (generations from the templates, replication state from the config's topology), the cache's
 * Global Datastore, Kafka, Batch queues, node groups, keyspace and the DR state tables; each runbook
 * function with its environment and its role, whose policies authorize every call it makes. In the
 * in-memory data plane, heartbeats are written to the primary.
 */
export class SimulatedPlatform {
  readonly aws: FakeAws;
  readonly db = new MemoryDatabasePlane();
  readonly config: PlatformConfig;
  readonly assembly: DeployedAssembly;
  readonly tier: string;
  readonly regions: readonly string[];
  readonly account: string;
  /** The state machines of each region's resilience stack. */
  readonly machines: Readonly<Record<string, Readonly<Record<string, LocalStateMachine>>>>;
  /** Runbook functions by `<region>:<step>`. */
  readonly functions = new Map<string, DeployedFunction>();
  private readonly database?: DatabasePlane;
  private readonly origin: number;
  private readonly clients = new Map<string, AwsClients>();
  /** One virtual timeline for every execution of this world (executions may run at the same time). */
  private readonly scheduler: VirtualScheduler;
  private seq = 0;

  constructor(options: SimulatedPlatformOptions) {
    this.config = options.config;
    this.assembly = options.assembly;
    this.database = options.database;
    this.origin = options.clock === 'wall' ? Date.now() : T0;
    this.tier = this.config.tier.name;
    this.regions = this.config.regions.map((r) => r.name);
    this.account = this.config.account;
    this.aws = new FakeAws({ account: this.account, authorizer: new Authorizer(), now: () => this.now() });
    if (options.clock === 'wall') this.now = () => new Date(Date.now() + this.aws.clock * 1000);
    this.scheduler = new VirtualScheduler(this.now, (seconds) => this.aws.advance(seconds));
    const machines: Record<string, Record<string, LocalStateMachine>> = {};
    for (const region of this.regions) {
      this.deployRegion(region);
      const resilience = this.stackOf(region, 'resilience');
      if (resilience) machines[region] = stateMachinesOf(resilience.template as never);
    }
    this.machines = machines;
    // A two-region deployment's witness: its state table and key.
    if (this.config.witnessRegion) this.deployRegion(this.config.witnessRegion.name);
    this.deployGlobalDatastore();
    this.deployGlobalDatabase();
    this.aws.onPromoted = (instance) => this.db.promote(instance.id);
    this.aws.invokeFunction = (region, name, payload) => this.invoke(region, name, payload);
    this.aws.keyOf = (service, region, arn) => this.keyOf(service, region, arn);
    // Only the runbook functions declare their calls; another role (an EventBridge rule's) answers to its policies alone.
    this.aws.declaredActions = (caller) =>
      caller === 'DatabaseAgent' || caller in STEP_SPECS
        ? declaredActionsOf(caller as FunctionName, this.tier, this.config.databaseEngine)
        : undefined;
  }

  /** The region whose database the config makes primary. */
  get primaryRegion(): string {
    return this.config.primaryRegion.name;
  }

  /** The first region other than the primary: where runbooks start unless told otherwise. */
  get defaultTarget(): string {
    return this.regions.find((r) => r !== this.primaryRegion) as string;
  }

  /** The current database generation of a region, as the config's topology gives it. */
  databaseOf(region: string) {
    const databases = this.config.databases[region];
    if (!databases) throw new Error(`${region} is not a region of this deployment (${this.regions.join(', ')})`);
    return databases.current;
  }

  stackOf(region: string, layer: 'network' | 'data' | 'compute' | 'resilience'): DeployedStack | undefined {
    const name = `Mlp-${this.tier}-${codeOf(region)}-${layer}`;
    return this.assembly.hasStack(name) ? this.assembly.stack(name) : undefined;
  }

  private regionStacks(region: string, assembly = this.assembly): DeployedStack[] {
    return (['network', 'data', 'compute', 'resilience', 'witness'] as const).flatMap((layer) => {
      const name = `Mlp-${this.tier}-${codeOf(region)}-${layer}`;
      return assembly.hasStack(name) ? [assembly.stack(name)] : [];
    });
  }

  /**
   * The Aurora global database, once every region's member cluster exists: the cluster of the
   * configured primary region writes, the others are secondaries (the templates name no writer).
   */
  private deployGlobalDatabase(): void {
    // Each cluster's instances as synthesized; the first of the lowest promotion tier writes.
    for (const { stack, logicalId } of this.assembly.resourcesOfType('AWS::RDS::DBInstance')) {
      const clusterRef = this.assembly.property(stack, logicalId, 'DBClusterIdentifier');
      if (clusterRef === undefined) continue;
      const cluster = this.aws.dbClusters.get(`${stack.region}:${String(clusterRef)}`);
      if (!cluster) continue;
      if (!cluster.instances) cluster.instances = [];
      const instances = cluster.instances;
      const promotionTier = Number(this.assembly.property(stack, logicalId, 'PromotionTier') ?? 1);
      instances.push({ id: String(this.assembly.ref(stack, logicalId)), promotionTier, writer: false });
    }
    for (const cluster of this.aws.dbClusters.values()) {
      const first = [...(cluster.instances ?? [])].sort((a, b) => a.promotionTier - b.promotionTier)[0];
      if (first) first.writer = true;
    }
    const global = this.assembly.resourcesOfType('AWS::RDS::GlobalCluster')[0];
    if (!global) return;
    const id = String(this.assembly.ref(global.stack, global.logicalId));
    const members = [...this.aws.dbClusters.values()];
    const primary = members.find((c) => c.region === this.primaryRegion);
    if (!primary) throw new Error(`the global database ${id} has no member cluster in the primary region ${this.primaryRegion}`);
    this.aws.addGlobalCluster({
      id,
      engineVersion: String(this.assembly.property(global.stack, global.logicalId, 'EngineVersion')),
      primary,
      secondaries: members.filter((c) => c !== primary),
    });
    // The data plane: Aurora's storage replication copies the writer's volume to every secondary.
    for (const cluster of members)
      if (!this.db.instances.has(cluster.id)) this.db.add(cluster.id, cluster === primary ? undefined : primary.id);
    // A switchover or failover completes: the target writes, and the members the global database lists follow it
    // (after a failover, the old writer is not among them until its region is back and Aurora rejoins it).
    this.aws.onGlobalPromoted = (target) => {
      this.db.promote(target.id);
      const listed = new Set([...this.aws.globalClusters.values()].flatMap((g) => g.members.map((m) => m.clusterArn)));
      for (const cluster of this.aws.dbClusters.values()) {
        if (cluster !== target && listed.has(cluster.arn)) this.db.follow(cluster.id, target.id);
      }
    };
    this.aws.onGlobalRejoined = (cluster, writer) => this.db.follow(cluster.id, writer.id);
  }

  /** What the region's stacks create, as AWS would hold it once they are deployed. */
  private deployRegion(region: string): void {
    const { aws, assembly } = this;
    const primary = this.primaryRegion;
    for (const stack of this.regionStacks(region)) {
      const resources = Object.entries(stack.template.Resources);
      for (const [logicalId, resource] of resources) {
        const prop = (key: string) => assembly.property(stack, logicalId, key);
        switch (resource.Type) {
          case 'AWS::SSM::Parameter': {
            const name = String(prop('Name') ?? '');
            if (name.startsWith('/mlp/')) aws.parameters.set(`${region}:${name}`, String(prop('Value')));
            break;
          }
          case 'AWS::RDS::DBCluster':
            aws.addDbCluster({
              id: String(assembly.ref(stack, logicalId)),
              region,
              port: Number(prop('Port') ?? 5432),
              engineVersion: String(prop('EngineVersion')),
              resourceId: String(assembly.attribute(stack, logicalId, 'DBClusterResourceId')),
            });
            break;
          case 'AWS::RDS::DBInstance': {
            // An Aurora instance is compute of its cluster, which the global database's model holds.
            if (prop('DBClusterIdentifier') !== undefined) break;
            const id = String(assembly.ref(stack, logicalId));
            // Replication as the topology leaves it (a template keeps its source after a runbook promoted it):
            // the region's current instance replicates while the config has it a replica; in-region read
            // replicas follow their primary; older generations kept for reconciliation replicate nothing.
            const current = this.databaseOf(region);
            const sourceArn = prop('SourceDBInstanceIdentifier') as string | undefined;
            const crossRegion = prop('SourceRegion') !== undefined;
            const replicating =
              id === current.instanceIdentifier
                ? current.role === 'replica' && region !== primary
                : sourceArn !== undefined && !crossRegion;
            this.addInstance(region, id, replicating ? sourceArn : undefined, {
              multiAz: prop('MultiAZ') === true || prop('MultiAZ') === 'true',
              resourceId: String(assembly.attribute(stack, logicalId, 'DbiResourceId')),
              port: Number(prop('Port') ?? 5432),
            });
            break;
          }
          case 'AWS::ElastiCache::ReplicationGroup': {
            const id = String(assembly.ref(stack, logicalId));
            aws.cacheGroups.set(`${region}:${id}`, { id, region, status: 'available' });
            break;
          }
          case 'AWS::ElastiCache::User':
            aws.cacheUsers.set(`${region}:${String(prop('UserId'))}`, { accessString: String(prop('AccessString')) });
            break;
          case 'AWS::MSK::Cluster':
            aws.kafkaClusters.set(String(assembly.attribute(stack, logicalId, 'Arn')), { state: 'ACTIVE' });
            break;
          case 'AWS::Batch::JobQueue':
            aws.queues.set(
              `${region}:${String(assembly.ref(stack, logicalId)).split('/').pop()}`,
              (prop('State') as 'ENABLED') ?? 'ENABLED',
            );
            break;
          case 'AWS::EKS::Nodegroup': {
            const [cluster, name] = String(assembly.ref(stack, logicalId)).split('/') as [string, string];
            const scaling = prop('ScalingConfig') as { DesiredSize: number; MaxSize: number; MinSize: number };
            aws.nodegroups.set(`${region}:${cluster}:${name}`, {
              desired: scaling.DesiredSize,
              max: scaling.MaxSize,
              min: scaling.MinSize,
              uuid: uuidOf(`${stack.name}/${logicalId}`),
            });
            break;
          }
          case 'AWS::Cassandra::Keyspace': {
            const name = String(prop('KeyspaceName'));
            const tables = assembly
              .resourcesOfType('AWS::Cassandra::Table')
              .filter((t) => assembly.property(t.stack, t.logicalId, 'KeyspaceName') === name)
              .map((t) => String(assembly.property(t.stack, t.logicalId, 'TableName')));
            // Regions beyond its own are added by the platform's custom resource (UpdateKeyspace), once deployed.
            const extended = assembly
              .resourcesOfType('Custom::KeyspaceRegions')
              .find((r) => assembly.property(r.stack, r.logicalId, 'KeyspaceName') === name);
            const regions = extended ? (assembly.property(extended.stack, extended.logicalId, 'Regions') as string[]) : [region];
            aws.keyspaces.set(name, { regions, tables });
            break;
          }
          case 'AWS::DynamoDB::Table':
            aws.tables.set(`${region}:${String(assembly.ref(stack, logicalId))}`, new Map());
            break;
          case 'AWS::Lambda::Function': {
            const variables = (prop('Environment') as { Variables?: Record<string, string> } | undefined)?.Variables;
            const step = variables?.MLP_STEP as FunctionName | undefined;
            if (!step || !(step in STEPS || step === 'DatabaseAgent')) break;
            const role = resource.Properties?.Role as { 'Fn::GetAtt': [string, string] };
            const roleLogicalId = role['Fn::GetAtt'][0];
            this.functions.set(`${region}:${step}`, {
              name: String(assembly.ref(stack, logicalId)),
              stack,
              env: envFromVariables({ ...variables, AWS_REGION: region }),
              principal: principalOf(assembly, stack, roleLogicalId, step),
              inVpc: prop('VpcConfig') !== undefined,
            });
            break;
          }
        }
      }
    }
  }

  /** The Global Datastore: the home region's group, and every group that joined it, the config's primary as its primary. */
  private deployGlobalDatastore(): void {
    for (const { stack, logicalId } of this.assembly.resourcesOfType('AWS::ElastiCache::GlobalReplicationGroup')) {
      const id = String(this.assembly.ref(stack, logicalId));
      const members = this.assembly
        .resourcesOfType('AWS::ElastiCache::ReplicationGroup')
        .filter(({ stack: s, logicalId: l }) => {
          const joined = this.assembly.resource(s, l).Properties?.GlobalReplicationGroupId;
          const isPrimary = ((this.assembly.property(stack, logicalId, 'Members') ?? []) as { ReplicationGroupId: string }[]).some(
            (m) => m.ReplicationGroupId === this.assembly.ref(s, l),
          );
          return isPrimary || (joined !== undefined && this.assembly.property(s, l, 'GlobalReplicationGroupId') === id);
        })
        .map(({ stack: s, logicalId: l }) => ({
          groupId: String(this.assembly.ref(s, l)),
          region: s.region,
          role: (s.region === this.primaryRegion ? 'PRIMARY' : 'SECONDARY') as 'PRIMARY' | 'SECONDARY',
        }));
      this.aws.globalDatastores.set(id, { id, status: 'available', members });
    }
  }

  /** The id of the tier's Global Datastore, as ElastiCache named it. */
  get globalDatastoreId(): string {
    return [...this.aws.globalDatastores.keys()][0] as string;
  }

  /** The customer managed key a resource is encrypted with, its policy and aliases; nothing for an AWS managed key. */
  private keyOf(service: 'dynamodb' | 'sns' | 's3', region: string, arn: string): UsedKey | undefined {
    const { assembly } = this;
    let keyRef: unknown;
    for (const stack of this.regionStacks(region)) {
      for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
        const matches =
          (service === 'dynamodb' && resource.Type === 'AWS::DynamoDB::Table' && assembly.attribute(stack, logicalId, 'Arn') === arn) ||
          (service === 'sns' && resource.Type === 'AWS::SNS::Topic' && assembly.ref(stack, logicalId) === arn) ||
          (service === 's3' && resource.Type === 'AWS::S3::Bucket' && `arn:aws:s3:::${String(assembly.ref(stack, logicalId))}` === arn);
        if (!matches) continue;
        const props = resource.Properties ?? {};
        const spec =
          service === 'dynamodb'
            ? (props.SSESpecification as { KMSMasterKeyId?: unknown } | undefined)?.KMSMasterKeyId
            : service === 'sns'
              ? props.KmsMasterKeyId
              : (
                  props.BucketEncryption as
                    | { ServerSideEncryptionConfiguration?: { ServerSideEncryptionByDefault?: { KMSMasterKeyID?: unknown } }[] }
                    | undefined
                )?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.KMSMasterKeyID;
        if (spec !== undefined) keyRef = { stack, value: spec };
      }
    }
    if (!keyRef) return undefined;
    const { stack: owner, value } = keyRef as { stack: DeployedStack; value: unknown };
    const keyArn = String(assembly.resolve(owner, value));
    for (const { stack, logicalId } of assembly.resourcesOfType('AWS::KMS::Key', region)) {
      if (assembly.attribute(stack, logicalId, 'Arn') !== keyArn && assembly.ref(stack, logicalId) !== keyArn) continue;
      const aliases = assembly
        .resourcesOfType('AWS::KMS::Alias', region)
        .filter(({ stack: s, logicalId: l }) => {
          const target = String(assembly.property(s, l, 'TargetKeyId'));
          return target === keyArn || target === assembly.ref(stack, logicalId);
        })
        .map(({ stack: s, logicalId: l }) => String(assembly.property(s, l, 'AliasName')));
      return {
        arn: String(assembly.attribute(stack, logicalId, 'Arn')),
        policy: assembly.property(stack, logicalId, 'KeyPolicy') as UsedKey['policy'],
        aliases,
      };
    }
    // A key named by alias or managed by AWS (aws/sns): nothing of ours to evaluate.
    if (/alias\/aws\//.test(keyArn)) return undefined;
    throw new Error(`${arn} is encrypted with ${keyArn}, which no stack of ${region} creates`);
  }

  /** `Invoke` of a runbook function: the database agent runs its real operation as its own role. */
  private async invoke(region: string, name: string, payload: unknown): Promise<unknown> {
    const agent = this.functions.get(`${region}:DatabaseAgent`);
    if (!agent || agent.name !== name) {
      throw Object.assign(new Error(`Function not found: arn:aws:lambda:${region}:${this.account}:function:${name}`), {
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 404 },
      });
    }
    const notReady = this.invocationRefused(region, 'DatabaseAgent');
    if (notReady) throw Object.assign(new Error(notReady), { name: 'ResourceNotReadyException', $metadata: { httpStatusCode: 502 } });
    // Its first invocation in this world is a cold start, like a step's (the invoke's cross-region round trip is FakeAws's).
    if (!this.warmFunctions.has(`${region}:DatabaseAgent`)) {
      this.warmFunctions.add(`${region}:DatabaseAgent`);
      this.aws.advance(MODELLED_SECONDS.lambdaColdStart.seconds);
    }
    return runAgentOperation(this.authorizedPlane(agent.principal, region), region, payload as never);
  }

  private addInstance(
    region: string,
    id: string,
    sourceArn: string | undefined,
    spec: { multiAz: boolean; resourceId: string; port: number },
  ) {
    this.aws.instances.set(`${region}:${id}`, {
      id,
      region,
      arn: `arn:aws:rds:${region}:${this.account}:db:${id}`,
      resourceId: spec.resourceId,
      status: 'available',
      source: sourceArn,
      multiAz: spec.multiAz,
      zone: `${region}a`,
      host: `${id}.local`,
      port: spec.port,
    });
    if (!this.db.instances.has(id)) this.db.add(id, sourceArn?.split(':').pop());
  }

  /** Where the fake RDS says each instance answers, by instance identifier (the drill points them at its servers). */
  setEndpoint(instanceIdentifier: string, host: string, port: number): void {
    for (const instance of this.aws.instances.values()) {
      if (instance.id === instanceIdentifier) {
        instance.host = host;
        instance.port = port;
      }
    }
    // An Aurora cluster: its writer and reader endpoints both reach the one server standing for it.
    for (const cluster of this.aws.dbClusters.values()) {
      if (cluster.id === instanceIdentifier) {
        cluster.endpoint = host;
        cluster.readerEndpoint = host;
        cluster.port = port;
      }
    }
  }

  now = (): Date => new Date(this.origin + this.aws.clock * 1000);

  private deployed(region: string, step: FunctionName): DeployedFunction {
    const fn = this.functions.get(`${region}:${step}`);
    if (!fn) throw new Error(`the ${region} resilience stack has no function for ${step}`);
    return fn;
  }

  /** The environment of a step's function as synthesized. */
  env(region = this.defaultTarget, step: FunctionName = 'Preflight'): RunbookEnv {
    return this.deployed(region, step).env;
  }

  /**
   * The dependencies a step's function has in `region`: its environment, clients that act as its
   * role, and a database plane that connects with IAM authentication (`rds-db:connect`, authorized)
   * in its own region and goes through the other regions' database agents (`lambda:InvokeFunction`).
   */
  deps(region = this.defaultTarget, step: FunctionName = 'Preflight'): RunbookDeps {
    const fn = this.deployed(region, step);
    let clients = this.clients.get(fn.principal.sessionArn + region);
    if (!clients) {
      clients = this.aws.asClients(fn.principal, region);
      this.clients.set(fn.principal.sessionArn + region, clients);
    }
    const database = routedDatabasePlane(this.authorizedPlane(fn.principal, region), region, this.tier, clients);
    return { env: fn.env, clients, database, now: this.now, probe: (url) => this.probeFrom(region, url) };
  }

  /**
   * An HTTPS GET from `from` of a region's write-gate endpoint (`https://api.<code>.<domain>/write-gate`):
   * that region's ServeWriteGate answers, as its role; no answer when either region is unreachable,
   * blackholed, or cut off from the other. Any other URL has no answer here.
   */
  private async probeFrom(from: string, url: string): Promise<number | undefined> {
    const match = /^https:\/\/api\.([a-z0-9-]+)\.[^/]+\/write-gate$/.exec(url);
    const region = match ? this.regions.find((r) => codeOf(r) === match[1]) : undefined;
    if (!region) return undefined;
    const cut = (r: string) => this.aws.unreachable.has(r) || this.aws.blackholed.has(r);
    if (cut(region) || cut(from) || (from !== region && (this.aws.partitioned.has(region) || this.aws.partitioned.has(from))))
      return undefined;
    const answer = await STEPS.ServeWriteGate({} as never, this.deps(region, 'ServeWriteGate')).catch(() => undefined);
    return answer?.statusCode;
  }

  /** The local data plane, each connection authorized as IAM database authentication would (`rds-db:connect`). */
  private authorizedPlane(principal: Principal, region: string): DatabasePlane {
    const local = this.database ?? this.db;
    const user = this.deployed(region, 'DatabaseAgent').env.databaseUser;
    const connect = async (endpoint: DatabaseEndpoint) => {
      const instance =
        this.aws.instances.get(`${endpoint.region}:${endpoint.instanceIdentifier}`) ??
        this.aws.dbClusters.get(`${endpoint.region}:${endpoint.instanceIdentifier}`);
      if (!instance)
        throw new RunbookError(
          ERROR.unreachable,
          `database ${endpoint.instanceIdentifier} in ${endpoint.region} did not answer: no such instance`,
        );
      const resource = `arn:aws:rds-db:${endpoint.region}:${this.account}:dbuser:${instance.resourceId}/${user}`;
      const decision = await this.aws.authorize(principal, { action: 'rds-db:connect', resource });
      if (!decision.allowed)
        throw new RunbookError(
          ERROR.unreachable,
          `database ${endpoint.instanceIdentifier} in ${endpoint.region} did not answer: PAM authentication failed for user "${user}" (${decision.reason})`,
        );
    };
    /** Each operation opens a connection: authorized first, as RDS does before it admits the session. */
    const authorized =
      <A extends unknown[], R>(operation: (endpoint: DatabaseEndpoint, ...args: A) => Promise<R>) =>
      async (endpoint: DatabaseEndpoint, ...args: A): Promise<R> => {
        await connect(endpoint);
        return operation(endpoint, ...args);
      };
    return {
      latestHeartbeat: authorized((endpoint, writer?: string) => local.latestHeartbeat(endpoint, writer)),
      writeHeartbeat: authorized((endpoint, writer: string, seq: number, writtenAt: string) =>
        local.writeHeartbeat(endpoint, writer, seq, writtenAt),
      ),
      fence: authorized((endpoint) => local.fence(endpoint)),
      unfence: authorized((endpoint) => local.unfence(endpoint)),
    };
  }

  /** `seconds` of heartbeats on the primary, one a second; the replica has everything but the last `lagSeconds`. */
  heartbeats(seconds: number, lagSeconds = 0, primary = this.databaseOf(this.primaryRegion).instanceIdentifier): void {
    for (let i = 0; i < seconds; i++) {
      this.aws.advance(1);
      this.db.write(primary, 'platform', ++this.seq, this.now().toISOString());
      if (i === seconds - 1 - lagSeconds) this.db.replicate();
    }
    if (lagSeconds === 0) this.db.replicate();
  }

  /**
   * The runbook functions in a VPC that nothing invokes on a schedule (every minute, or the daily
   * keep-active): the deployment is taken to have stood idle long enough, as a standby region's
   * does between failovers, for Lambda to have reclaimed their network interfaces. Lambda Developer
   * Guide, "Lambda function states": an Inactive function's next invocation fails, and the function
   * is Pending until its network interface is attached again; invocations meanwhile fail too.
   */
  private lambdaStates?: Map<string, { inactive: boolean; pendingUntil?: number }>;
  /** Functions with a warm execution environment: invoked before in this world (Lambda keeps one for a while). */
  private readonly warmFunctions = new Set<string>();

  private functionStates(): Map<string, { inactive: boolean; pendingUntil?: number }> {
    if (this.lambdaStates) return this.lambdaStates;
    const scheduled = new Set(
      this.assembly.resourcesOfType('AWS::Scheduler::Schedule').map(({ stack, logicalId }) => {
        const target = this.assembly.property(stack, logicalId, 'Target') as { Arn?: unknown } | undefined;
        return String(target?.Arn ?? '');
      }),
    );
    this.lambdaStates = new Map();
    for (const [key, fn] of this.functions) {
      const arn = `arn:aws:lambda:${fn.stack.region}:${this.account}:function:${fn.name}`;
      this.lambdaStates.set(key, { inactive: fn.inVpc && !scheduled.has(arn) });
    }
    return this.lambdaStates;
  }

  /** Why Lambda refuses to invoke a region's function now (Inactive, or Pending after reactivation), or nothing. */
  private invocationRefused(region: string, step: FunctionName): string | undefined {
    const state = this.functionStates().get(`${region}:${step}`);
    if (!state) return undefined;
    const now = this.now().getTime();
    if (state.inactive) {
      state.inactive = false;
      state.pendingUntil = now + LAMBDA_REACTIVATION_SECONDS * 1000;
      return `The function ${this.deployed(region, step).name} is inactive and its VPC connection is no longer available: it was idle, and Lambda reclaimed its network interface`;
    }
    if (state.pendingUntil !== undefined && now < state.pendingUntil) {
      return `The function ${this.deployed(region, step).name} is Pending: Lambda is attaching its network interface again`;
    }
    return undefined;
  }

  /** Run a runbook as started in `region` (by default the first secondary), each step as its own function's role. */
  run(
    machine: string,
    input: unknown,
    options: Partial<Parameters<typeof runLocally>[2]> = {},
    region = this.defaultTarget,
  ): Promise<LocalRunResult> {
    const machines = this.machines[region] ?? {};
    const stateMachine = machines[machine];
    if (!stateMachine) throw new Error(`no state machine ${machine} in ${region}; have ${Object.keys(machines).join(', ')}`);
    return runLocally(stateMachine, input, {
      deps: (step) => this.deps(region, step),
      clock: this.now,
      machines,
      advance: (s) => this.aws.advance(s),
      scheduler: this.scheduler,
      history: this.aws.executionHistories,
      executionArnPrefix: `arn:aws:states:${region}:${this.account}:execution`,
      // The Lambda service, before a Task's function runs: Step Functions names its errors `Lambda.<exception>`.
      beforeInvoke: (step) => {
        const refused = this.invocationRefused(region, step);
        if (refused) throw Object.assign(new Error(refused), { name: 'Lambda.ResourceNotReadyException' });
        // A function's first invocation starts a new execution environment (a cold start) before its handler runs.
        if (this.warmFunctions.has(`${region}:${step}`)) return undefined;
        this.warmFunctions.add(`${region}:${step}`);
        return MODELLED_SECONDS.lambdaColdStart.seconds;
      },
      ...options,
    });
  }

  /**
   * A later `cdk deploy` of `region`'s stacks as `assembly` synthesizes them (for example with
   * `-c rebuiltReplicas=<region>:<source>`): the database instances it adds are created (a new
   * replica generation replicates its source), and the region's runbook parameters take the values
   * it publishes. Returns the instances created.
   */
  redeploy(region: string, assembly: DeployedAssembly): string[] {
    const created: string[] = [];
    for (const stack of this.regionStacks(region, assembly)) {
      for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
        const prop = (key: string) => assembly.property(stack, logicalId, key);
        if (resource.Type === 'AWS::SSM::Parameter') {
          const name = String(prop('Name') ?? '');
          if (name.startsWith('/mlp/')) this.aws.parameters.set(`${region}:${name}`, String(prop('Value')));
        } else if (resource.Type === 'AWS::RDS::DBInstance') {
          const id = String(assembly.ref(stack, logicalId));
          if (this.aws.instances.has(`${region}:${id}`)) continue;
          this.addInstance(region, id, prop('SourceDBInstanceIdentifier') as string | undefined, {
            multiAz: prop('MultiAZ') === true || prop('MultiAZ') === 'true',
            resourceId: String(assembly.attribute(stack, logicalId, 'DbiResourceId')),
            port: Number(prop('Port') ?? 5432),
          });
          created.push(id);
        }
      }
    }
    return created;
  }

  /**
   * Run `work` every `seconds` of this platform's clock, `times` times, in step with the executions
   * running meanwhile (the same virtual scheduler): an EventBridge Scheduler rule, as the drill needs one.
   */
  async repeat(seconds: number, times: number, work: () => Promise<void>): Promise<void> {
    this.scheduler.enter();
    try {
      for (let i = 0; i < times; i++) {
        this.scheduler.leave();
        await this.scheduler.sleepUntil(this.now().getTime() + seconds * 1000);
        await work();
      }
    } finally {
      this.scheduler.leave();
    }
  }

  /**
   * Run `main` (executions on this platform's scheduler) with `work` every `seconds` of the clock
   * beside it, as a schedule in AWS keeps running during a runbook: the first at `firstAt` (ms),
   * none once `main` has settled (the clock does not move for a run that is no longer due).
   */
  async alongside<T>(seconds: number, firstAt: number, work: () => Promise<void>, main: () => Promise<T>): Promise<T> {
    let done = false;
    let next = firstAt;
    const loop = (async () => {
      while (await this.scheduler.sleepUntilUnless(next, () => done)) {
        try {
          await work();
        } finally {
          next += seconds * 1000;
          this.scheduler.leave();
        }
      }
    })();
    try {
      return await main();
    } finally {
      done = true;
      this.scheduler.poke();
      await loop;
    }
  }

  /** The order in which calls of these commands reached AWS. */
  order(...commands: string[]): string[] {
    return this.aws.calls.filter((c) => !c.error && commands.includes(c.command)).map((c) => `${c.command}@${c.region}`);
  }

  /** The state table of a region, as its resilience stack names it. */
  stateTable(region: string): string {
    return this.env(region).stateTable;
  }

  gate(region: string): boolean | undefined {
    return this.aws.tables.get(`${region}:${this.stateTable(region)}`)?.get('gate')?.open?.BOOL;
  }

  /** A region's gate item as its state table holds it. */
  gateItem(region: string): GateItem | undefined {
    const item = this.aws.tables.get(`${region}:${this.stateTable(region)}`)?.get('gate');
    if (!item) return undefined;
    const openUntil = item.openUntil?.S;
    return {
      open: item.open?.BOOL === true,
      epoch: Number(item.epoch?.N ?? 0),
      updatedAt: item.updatedAt?.S ?? '',
      ...(openUntil ? { openUntil } : {}),
    };
  }
}

const codeOf = (region: string) => findSupportedRegion(region)?.code ?? region;

/** The IAM actions a function declares: a step's from the catalogue, the database agent's its connections. */
export function declaredActionsOf(fn: FunctionName, tier: string, engine: DatabaseEngine = 'rds-postgresql'): ReadonlySet<string> {
  const access: readonly Access[] = fn === 'DatabaseAgent' ? ['database-connect'] : STEP_SPECS[fn].access;
  return declaredActions(access, { tier, regionCode: '', databaseUser: '', engine });
}
