import { createHash } from 'node:crypto';
import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { type AwsClients, awsClients } from '../core/clients';
import { globalWriterEndpoint } from './deployed-assembly';
import type { AuthorizationRequest, Authorizer, Principal } from './iam';

/**
 * A simulated multi-region AWS control plane behind the real SDK v3 clients: every call the
 * runbooks make goes through the client's own middleware (its retries included) and reaches, in
 * place of the HTTP transport, a stateful fake of the service in that region, which answers as
 * the service does (states that change over time, the errors AWS returns). Every call is first
 * authorized as AWS would: the caller's role as synthesized, for the IAM action and resource ARN
 * of that API, and the key policy of a KMS key the call uses. Each modelled operation advances a
 * virtual clock by the duration AWS documents; `FakeAws.calls` records every call for the checks.
 *
 * Faults: a region can be made unreachable (every call fails as a network error would), an
 * operation throttled for its next N calls, or a database promotion (of an RDS
 * instance, or an Aurora global database's switchover or failover) stuck.
 */

/** Modelled durations, from AWS documentation; the drill prints this table. */
export const MODELLED_SECONDS = {
  rdsPromotion: { seconds: 300, source: 'RDS User Guide, read replicas: promotion takes "several minutes or longer" (modelled at 5 min)' },
  rdsPromotionReboot: {
    seconds: 30,
    source:
      'RDS User Guide, promoting a read replica: "RDS reboots the DB instance before making it available" (the last 30 s of the promotion, modelled)',
  },
  rdsMultiAzFailover: { seconds: 90, source: 'RDS User Guide, Multi-AZ: failover typically 60-120 s' },
  lambdaColdStart: {
    seconds: 1,
    source:
      'AWS Compute Blog, "Operating Lambda: Performance optimization, part 1": a cold start "varies from under 100 ms to over 1 second" (each runbook function\'s first invocation in a failover, modelled at 1 s; only the scheduled gate keeper and heartbeat writer are kept warm)',
  },
  auroraClusterFailover: {
    seconds: 60,
    source:
      'Aurora in-region failover (FailoverDBCluster): the API reference gives no Aurora figure (its 35 s is for Multi-AZ DB clusters); modelled at the low end of the RDS Multi-AZ 60-120 s',
  },
  cacheGlobalFailover: { seconds: 60, source: 'ElastiCache Global Datastore: failover about 1 min (AWS workshop figure)' },
  cacheDisassociate: { seconds: 60, source: 'ElastiCache Global Datastore: disassociating a secondary, modelled like a failover' },
  cacheTestFailover: { seconds: 90, source: 'ElastiCache TestFailover of a shard, modelled like a Multi-AZ failover' },
  auroraGlobalFailoverOptimistic: {
    seconds: 60,
    source:
      'Aurora FAQ and User Guide, Aurora Global Database: a secondary Region can be promoted "to take full read/write workloads in under a minute" (the optimistic end of a managed failover, modelled at 1 min)',
  },
  auroraGlobalFailoverPessimistic: {
    seconds: 180,
    source:
      'Aurora User Guide, managed failover: "Typically, the chosen secondary cluster assumes the primary role within a few minutes"; "For Aurora Global Database, RTO can be in the order of minutes" (the pessimistic end, modelled at 3 min: "a few" read as three)',
  },
  auroraGlobalSwitchover: {
    seconds: 120,
    source:
      'RDS API Reference, SwitchoverGlobalCluster: the database "is unavailable for a short time while the primary and selected secondary clusters are assuming their new roles", after Aurora waits for the target "to be fully synchronized" (User Guide); no figure documented: modelled at 2 min, the 1-min promotion plus as long again to synchronize and demote the old primary',
  },
  auroraGlobalVerification: {
    seconds: 10,
    source:
      'RDS API Reference, FailoverState: pending while "the global cluster\'s primary DB cluster and the specified secondary DB cluster are being verified before the operation starts"; no figure documented: the first 10 s of each switchover or failover (and how long a cancelled one takes to return), modelled',
  },
  crossRegionCall: {
    seconds: 0.1,
    source:
      "a call from a function in one region to an API in another crosses the AWS backbone: no AWS figure for the added round trip; modelled at 100 ms per call (each runbook call to another region's state table, RDS, ElastiCache or CloudWatch)",
  },
  eventBridgeDelivery: {
    seconds: 5,
    source:
      'EventBridge user guide, "Alarm events and EventBridge": no figure for how soon an alarm state-change event reaches a rule\'s target and Step Functions starts the execution; modelled at 5 s',
  },
  route53Propagation: {
    seconds: 10,
    source:
      'Route 53 developer guide, "How Route 53 determines whether a health check is healthy": no figure for how soon a calculated check and the DNS answers follow its children; modelled at 10 s',
  },
  auroraGlobalRebuild: {
    seconds: 1800,
    source:
      'Aurora User Guide, managed failover: rebuilding a secondary Region cluster "can take a few minutes to several hours, depending on the size of the storage volume and the distance between the Regions" (modelled at 30 min, SynchronizationStatus pending-resync until then)',
  },
} as const;

export interface FakeInstance {
  id: string;
  region: string;
  arn: string;
  /** `DbiResourceId`: what IAM database authentication names (`rds-db:connect` on `dbuser:<id>/<user>`). */
  resourceId: string;
  status: 'available' | 'modifying' | 'rebooting' | 'backing-up';
  /**
   * The source's ARN while a replica. A promotion keeps it while `modifying` and clears it when the
   * reboot that ends the promotion starts (when exactly is not documented: modelled so that a caller
   * sees a replica until replication has stopped).
   */
  source?: string;
  multiAz: boolean;
  zone: string;
  host: string;
  port: number;
  /** Virtual time at which a pending promotion or reboot completes; never, when stuck. */
  readyAt?: number;
  /** A promotion is under way: when it completes, the data plane is told. */
  promoting?: boolean;
  /** Virtual time at which a promotion's closing reboot starts. */
  rebootAt?: number;
}

export interface FakeCacheGroup {
  id: string;
  region: string;
  status: 'available' | 'modifying';
  readyAt?: number;
}

/**
 * A Global Datastore. `primary-only` once its secondaries are gone; failover is refused unless it is
 * `available` (InvalidGlobalReplicationGroupStateFault: "not available or in primary-only state").
 */
export interface FakeGlobalDatastore {
  id: string;
  status: 'available' | 'modifying' | 'primary-only';
  readyAt?: number;
  members: {
    groupId: string;
    region: string;
    role: 'PRIMARY' | 'SECONDARY';
    /** The membership: `disassociating` until a disassociation completes, then the member is gone. */
    status?: 'associated' | 'disassociating';
  }[];
}

/**
 * An Aurora DB cluster (a member of a global cluster, or standalone). Its statuses are those of the
 * Aurora User Guide, "DB cluster status". A switchover or failover of its global cluster does not
 * change it: what that operation is doing is the global cluster's `FailoverState` (the AWS CLI
 * examples of both operations show the global cluster's state only), so a caller cannot take the
 * cluster's `available` for the promotion's end.
 */
export interface FakeDbCluster {
  id: string;
  region: string;
  arn: string;
  status: 'available' | 'backing-up' | 'failing-over' | 'modifying' | 'promoting' | 'stopped';
  /** `DbClusterResourceId` (`cluster-…`): what IAM database authentication names (`rds-db:connect` on `dbuser:<id>/<user>`). */
  resourceId: string;
  /** The cluster (writer) endpoint host, `<id>.cluster-<suffix>.<region>.rds.amazonaws.com`. */
  endpoint: string;
  /** The reader endpoint host, `<id>.cluster-ro-<suffix>.<region>.rds.amazonaws.com`. */
  readerEndpoint: string;
  port: number;
  /** Its engine version; its global cluster's when not set. */
  engineVersion?: string;
  /** A secondary without DB instances: "Before you can perform a switchover or failover to a headless secondary Aurora DB cluster, you must add a DB instance to it" (User Guide). */
  headless?: boolean;
  globalClusterId?: string;
  /**
   * Its DB instances as deployed, with the one that writes while the cluster is the primary (Aurora
   * fails over to the lowest promotion tier). Absent: one instance, `<id>-instance-1`.
   */
  instances?: { id: string; promotionTier: number; writer: boolean }[];
  /** Virtual time at which an in-region failover (FailoverDBCluster) completes, and the instance it promotes. */
  failover?: { readyAt: number; to: string };
  /**
   * `false`: Aurora cannot reach the cluster though its Region's endpoints answer (a service-level
   * outage of the cluster). A cluster in an unreachable, partitioned or blackholed Region is unreachable too.
   */
  reachable?: boolean;
}

export interface FakeGlobalClusterMember {
  clusterArn: string;
  region: string;
  isWriter: boolean;
  /** `pending-resync` while Aurora rebuilds a secondary after a failover (the SDK's GlobalClusterMemberSynchronizationStatus). */
  synchronizationStatus: 'connected' | 'pending-resync';
  /** Virtual time at which a rebuild completes. */
  resyncAt?: number;
}

/**
 * An Aurora global database. Its `Status` values are those the AWS CLI examples show:
 * `available` (describe-global-clusters), `switching-over` (switchover-global-cluster),
 * `failing-over` (failover-global-cluster).
 */
export interface FakeGlobalCluster {
  id: string;
  status: 'available' | 'failing-over' | 'switching-over';
  engine: 'aurora-postgresql';
  engineVersion: string;
  /** The global writer endpoint, `<id>.global-<suffix>.global.rds.amazonaws.com`: the same name whichever cluster writes (User Guide, connecting). */
  endpoint: string;
  members: FakeGlobalClusterMember[];
  /**
   * The operation under way (RDS API Reference, FailoverState): `pending` while verified (and, for a
   * switchover, while the secondaries synchronize), then `failing-over` or `switching-over`; `cancelling`
   * while a cancelled one returns to the previous roles. Absent once done: DescribeGlobalClusters
   * answers the empty object ("This data type is empty unless a switchover or failover operation is
   * scheduled or is in progress").
   */
  failoverState?: {
    status: 'pending' | 'failing-over' | 'switching-over' | 'cancelling';
    fromDbClusterArn: string;
    toDbClusterArn: string;
    isDataLossAllowed: boolean;
  };
  /** Virtual time at which `pending` ends. */
  startsAt?: number;
  /** Virtual time at which the operation completes (when the data plane has promoted); never, when stuck. */
  readyAt?: number;
  /** When the operation under way was asked for: a failover's snapshot of the old primary is named after it. */
  requestedAt?: Date;
  /** Former primaries an unplanned failover left out of the global cluster, until their Region is healthy again. */
  awaitingRejoin: { clusterArn: string; region: string; failedAt: Date }[];
}

/** A DB cluster snapshot Aurora took on its own (the old primary's volume after an unplanned failover). */
export interface FakeClusterSnapshot {
  /** `rds:unplanned-global-failover-<old primary>-<timestamp>`. */
  readonly id: string;
  readonly region: string;
  readonly clusterArn: string;
  readonly globalClusterId: string;
  /** Virtual time at which Aurora took it: when the old primary's Region was healthy again. */
  readonly at: number;
}

export interface FakeAwsCall {
  readonly region: string;
  readonly service: string;
  readonly command: string;
  readonly input: unknown;
  readonly at: number;
  readonly error?: string;
  /** The step (or function) whose role made the call. */
  readonly caller?: string;
  /** The IAM actions AWS authorized for it. */
  readonly actions?: readonly string[];
  /** Wall time an attempt at a blackholed endpoint waited before the transport gave up. */
  readonly waitedMs?: number;
}

/** A KMS key a call uses, with what IAM evaluates besides the caller's policies. */
export interface UsedKey {
  readonly arn: string;
  readonly policy: { readonly Statement: readonly Record<string, unknown>[] };
  readonly aliases: readonly string[];
}

type Item = Record<string, AttributeValue>;
type Input = Record<string, unknown>;

/** One API of one service: what AWS authorizes for it, and what the fake answers. */
interface Operation {
  authorize(input: Input, region: string): AuthorizationRequest[];
  answer(input: Input, region: string): unknown;
}

class NetworkError extends Error {
  readonly code = 'ECONNREFUSED';
  readonly $metadata = {};
  constructor(region: string) {
    super(`connect ECONNREFUSED: ${region} endpoints do not answer`);
    this.name = 'TimeoutError';
  }
}

function awsError(name: string, message: string, status = 400, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    ...extra,
  });
}

/** The error code each service returns when IAM denies a call (their API references). */
const ACCESS_DENIED: Readonly<Record<string, string>> = {
  rds: 'AccessDenied',
  elasticache: 'AccessDenied',
  cloudwatch: 'AccessDenied',
  sns: 'AuthorizationError',
  s3: 'AccessDenied',
  kafka: 'ForbiddenException',
};

/** The service a client belongs to, as IAM names it. */
const IAM_SERVICE: Readonly<Record<string, string>> = { keyspaces: 'cassandra', sfn: 'states' };

export interface FakeAwsOptions {
  /** The account every simulated resource lives in. */
  readonly account: string;
  /** Authorizes every call; the simulation is never more lenient than IAM. */
  readonly authorizer: Authorizer;
  /** The simulated wall time: metric datapoints are stamped with it. @default the real clock */
  readonly now?: () => Date;
  /**
   * Which documented end of an Aurora global failover's duration to model: `optimistic`, under a
   * minute (Aurora FAQ); `pessimistic`, "within a few minutes" (User Guide). @default 'pessimistic'
   */
  readonly auroraFailoverEnd?: 'optimistic' | 'pessimistic';
}

/** One CloudWatch datapoint, as a service publishes it (one per period). */
export interface FakeDatapoint {
  readonly region: string;
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp: Date;
}

export class FakeAws {
  /** Virtual seconds since the start of the run. */
  public clock = 0;
  public readonly calls: FakeAwsCall[] = [];
  public readonly instances = new Map<string, FakeInstance>();
  public readonly cacheGroups = new Map<string, FakeCacheGroup>();
  public readonly globalDatastores = new Map<string, FakeGlobalDatastore>();
  /** ElastiCache RBAC users by `<region>:<userId>` (a user is regional), with their access strings. */
  public readonly cacheUsers = new Map<string, { accessString: string }>();
  /** A user's access string changed: the drill applies it to the region's real cache server. */
  public onCacheAccess: (region: string, userId: string, accessString: string) => Promise<void> | void = () => undefined;
  public readonly parameters = new Map<string, string>();
  public readonly tables = new Map<string, Map<string, Item>>();
  /** The runbooks' datapoints: `at` on the modelled clock (s), `time` on the platform's (ms). */
  public readonly metrics: {
    region: string;
    namespace?: string;
    name?: string;
    value?: number;
    at: number;
    time?: number;
    dimensions?: Readonly<Record<string, string>>;
  }[] = [];
  public readonly objects = new Map<string, string>();
  public readonly notifications: { region: string; subject?: string; message?: string }[] = [];
  /** Batch job queues by `<region>:<name>`. */
  public readonly queues = new Map<string, 'ENABLED' | 'DISABLED'>();
  /** MSK clusters by ARN. */
  public readonly kafkaClusters = new Map<string, { state: string }>();
  /** Multi-Region keyspaces by name: their regions and tables. */
  public readonly keyspaces = new Map<string, { regions: string[]; tables: string[]; statuses?: Record<string, string> }>();
  /** EKS node groups by `<region>:<cluster>:<name>`, with the uuid of their ARN. */
  public readonly nodegroups = new Map<string, { desired: number; max: number; min: number; uuid: string }>();
  /** Execution histories the local runner records, by execution ARN. */
  public readonly executionHistories = new Map<string, HistoryEvent[]>();
  /** Executions the fake Step Functions reports as running. */
  public readonly runningExecutions = new Set<string>();
  public readonly unreachable = new Set<string>();
  /**
   * Regions cut off from the others, each still answering its own callers: a call from a caller in a
   * partitioned region to any other region, or from any other region to it, fails as a network error.
   */
  public readonly partitioned = new Set<string>();
  /**
   * Regions whose endpoints drop every packet, by the loopback port of a blackhole standing in for
   * them (runbooks/drill/blackhole.ts): calls go out through the clients' real transport and fail
   * only when its timeouts give up, as they would in Lambda.
   */
  public readonly blackholed = new Map<string, number>();
  public readonly stuckPromotions = new Set<string>();
  /** Told when a promotion completes, so the data plane below can take writes. */
  public onPromoted: (instance: FakeInstance) => void = () => undefined;
  /** Told when a promotion is asked for; the drill starts promoting its real server then. */
  public onPromotionRequested: (instance: FakeInstance) => void = () => undefined;
  /** Whether the data plane under an instance has finished promoting; a promotion completes only then. */
  public dataPlanePromoted: (instance: FakeInstance) => boolean = () => true;
  /** Told when a cache group becomes writable (a Global Datastore failover to it, or its detachment); the drill promotes its real server. */
  public onCachePromoted: (region: string, groupId: string, formerPrimary?: { region: string; groupId: string }) => void = () => undefined;
  /** Aurora DB clusters by `<region>:<id>`. */
  public readonly dbClusters = new Map<string, FakeDbCluster>();
  /** Aurora global databases by identifier (a global cluster has no Region). */
  public readonly globalClusters = new Map<string, FakeGlobalCluster>();
  /** Snapshots Aurora took on its own: the old primary's volume after an unplanned global failover. */
  public readonly clusterSnapshots: FakeClusterSnapshot[] = [];
  /** Which documented end of a global failover's duration is modelled (see FakeAwsOptions); the drill runs both. */
  public auroraFailoverEnd: 'optimistic' | 'pessimistic';
  /** Global clusters whose switchover or failover never completes once started. */
  public readonly stuckGlobalFailovers = new Set<string>();
  /** Told when a global switchover or failover is asked for, with the cluster to promote; the drill starts promoting its real server then. */
  public onGlobalPromotionRequested: (cluster: FakeDbCluster) => void = () => undefined;
  /** Told when a global switchover or failover completes, with the new writer and the cluster that was writer. */
  public onGlobalPromoted: (cluster: FakeDbCluster, former?: FakeDbCluster) => void = () => undefined;
  /** Whether the data plane under a cluster being promoted has finished promoting; the operation completes only then. */
  public globalDataPlanePromoted: (cluster: FakeDbCluster) => boolean = () => true;
  /** Told when an Aurora cluster's in-region failover is asked for; the drill restarts its real server. */
  public onClusterFailover: (cluster: FakeDbCluster, toInstance: string) => void = () => undefined;
  /** Told when Aurora adds a former primary back as a secondary of `writer` (its new volume is a copy of the writer's). */
  public onGlobalRejoined: (cluster: FakeDbCluster, writer: FakeDbCluster) => void = () => undefined;
  /** Told when a reboot is asked for (with failover: a Multi-AZ failover); the drill restarts its real server. */
  public onReboot: (instance: FakeInstance, forceFailover: boolean) => void = () => undefined;
  /** Runs a Lambda function of a region (the database agent) for `Invoke`; its result or its error. */
  public invokeFunction: (region: string, functionName: string, payload: unknown) => Promise<unknown> = async (region, name) => {
    throw awsError('ResourceNotFoundException', `Function not found: arn:aws:lambda:${region}:${this.account}:function:${name}`, 404);
  };
  /** The customer managed key a resource is encrypted with (DynamoDB table, SNS topic, S3 bucket), if any. */
  public keyOf: (service: 'dynamodb' | 'sns' | 's3', region: string, resourceArn: string) => UsedKey | undefined = () => undefined;
  /** Series `GetMetricData` answers, by `<region>:<namespace>:<metric>`: newest first. */
  /** Datapoints the services published (the runbooks' own PutMetricData land in `metrics`). */
  public readonly datapoints: FakeDatapoint[] = [];
  /**
   * The IAM actions each caller declared (runbooks/definitions/access.ts): a call whose action its
   * step did not declare is a defect of the step, whatever its role allows.
   */
  public declaredActions: (caller: string) => ReadonlySet<string> | undefined = () => undefined;
  /** Every authorization made, IAM database authentication included: which caller used which action. */
  public readonly authorizations: { readonly caller: string; readonly action: string; readonly resource: string }[] = [];
  readonly account: string;
  private readonly authorizer: Authorizer;
  private readonly now: () => Date;
  private readonly throttles = new Map<string, number>();
  private readonly failures = new Map<string, { name: string; message: string; times: number }>();
  private readonly operations = new Map<string, Operation>();

  constructor(options: FakeAwsOptions) {
    this.account = options.account;
    this.authorizer = options.authorizer;
    this.now = options.now ?? (() => new Date());
    this.auroraFailoverEnd = options.auroraFailoverEnd ?? 'pessimistic';
    this.defineRds();
    this.defineAurora();
    this.defineCache();
    this.defineCloudWatch();
    this.defineDynamo();
    this.defineOthers();
  }

  /** The next `times` calls of `command` (in any region) fail with ThrottlingException. */
  /** An automated backup of `id` in `region` under way for the next `seconds` (its status `backing-up`). */
  backUp(region: string, id: string, seconds: number): void {
    const instance = this.instance(region, id);
    instance.status = 'backing-up';
    instance.readyAt = this.clock + seconds;
  }

  /** A datapoint a service publishes now in `region` (RDS `ReplicaLag`, ElastiCache, MSK Replicator metrics). */
  publish(region: string, namespace: string, name: string, dimensions: Record<string, string>, value: number): void {
    this.datapoints.push({ region, namespace, name, dimensions, value, timestamp: this.now() });
  }

  /**
   * An Aurora DB cluster, available, with the endpoints RDS names: `<id>.cluster-<suffix>.<region>.rds.amazonaws.com`
   * and `<id>.cluster-ro-…` (the suffix one per account and Region).
   */
  addDbCluster(spec: {
    id: string;
    region: string;
    port?: number;
    engineVersion?: string;
    headless?: boolean;
    resourceId?: string;
  }): FakeDbCluster {
    const id = spec.id.toLowerCase();
    const arn = this.arn('rds', spec.region, `cluster:${id}`);
    const suffix = digest(`${this.account}:${spec.region}`).slice(0, 12);
    const cluster: FakeDbCluster = {
      id,
      region: spec.region,
      arn,
      status: 'available',
      resourceId: spec.resourceId ?? `cluster-${digest(arn).slice(0, 26).toUpperCase()}`,
      endpoint: `${id}.cluster-${suffix}.${spec.region}.rds.amazonaws.com`,
      readerEndpoint: `${id}.cluster-ro-${suffix}.${spec.region}.rds.amazonaws.com`,
      port: spec.port ?? 5432,
      ...(spec.engineVersion ? { engineVersion: spec.engineVersion } : {}),
      ...(spec.headless ? { headless: true } : {}),
    };
    this.dbClusters.set(`${spec.region}:${id}`, cluster);
    return cluster;
  }

  /** An available Aurora global database of `primary` (its writer) and `secondaries`, all connected. */
  addGlobalCluster(spec: { id: string; engineVersion: string; primary: FakeDbCluster; secondaries?: FakeDbCluster[] }): FakeGlobalCluster {
    const id = spec.id.toLowerCase();
    const member = (cluster: FakeDbCluster, isWriter: boolean): FakeGlobalClusterMember => {
      cluster.globalClusterId = id;
      return { clusterArn: cluster.arn, region: cluster.region, isWriter, synchronizationStatus: 'connected' };
    };
    const global: FakeGlobalCluster = {
      id,
      status: 'available',
      engine: 'aurora-postgresql',
      engineVersion: spec.engineVersion,
      endpoint: globalWriterEndpoint(this.account, id),
      members: [member(spec.primary, true), ...(spec.secondaries ?? []).map((c) => member(c, false))],
      awaitingRejoin: [],
    };
    this.globalClusters.set(id, global);
    return global;
  }

  /**
   * The cluster a global writer endpoint routes to now: "a writer endpoint that is automatically
   * updated by Aurora to route requests to the current writer instance of the primary DB cluster"
   * (User Guide, connecting). It moves when a switchover or failover completes.
   */
  resolveGlobalEndpoint(host: string): FakeDbCluster | undefined {
    this.settle();
    const global = [...this.globalClusters.values()].find((g) => g.endpoint === host);
    const writer = global?.members.find((m) => m.isWriter);
    return writer ? this.clusterByArn(writer.clusterArn) : undefined;
  }

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

  /** An authorization AWS makes outside an API call of this fake (IAM database authentication). */
  authorize(principal: Principal, request: AuthorizationRequest) {
    const declared = this.declaredActions(principal.name);
    if (declared && !request.action.startsWith('kms:') && !declared.has(request.action)) {
      throw new Error(`${principal.name} calls ${request.action} on ${request.resource}, which it does not declare (runbooks/definitions)`);
    }
    this.authorizations.push({ caller: principal.name, action: request.action, resource: request.resource });
    return this.authorizer.authorize(principal, request);
  }

  /**
   * Clients of every service and region for one caller: the runbooks' own client factory (its
   * retries and timeouts), with this world answering in place of the HTTP transport.
   */
  asClients(principal: Principal, home?: string): AwsClients {
    return awsClients({
      credentials: { accessKeyId: 'ASIASIMULATED000000', secretAccessKey: 'simulated', sessionToken: principal.name },
      onClient: (client, service, region) => {
        const stack = client.middlewareStack as {
          addRelativeTo(middleware: unknown, options: { relation: 'after'; toMiddleware: string; name: string }): void;
        };
        stack.addRelativeTo(
          (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
            async (args: { input: Input; request: Record<string, unknown> }) => {
              const command = String(context.commandName).replace(/Command$/, '');
              const blackhole = this.blackholed.get(region);
              if (blackhole !== undefined) {
                const startedAt = Date.now();
                try {
                  return await next({
                    ...args,
                    request: Object.assign(args.request, {
                      protocol: 'http:',
                      hostname: '127.0.0.1',
                      port: blackhole,
                      headers: { ...(args.request.headers as object), host: `127.0.0.1:${blackhole}` },
                    }),
                  });
                } finally {
                  this.calls.push({
                    region,
                    service,
                    command,
                    input: args.input,
                    at: this.clock,
                    error: 'blackholed',
                    caller: principal.name,
                    waitedMs: Date.now() - startedAt,
                  });
                }
              }
              const output = (await this.call(principal, service, region, command, args.input, home)) as Record<string, unknown>;
              return {
                response: { statusCode: 200, headers: {} },
                output: { ...output, $metadata: { httpStatusCode: 200, requestId: requestId(this.calls.length), attempts: 1 } },
              };
            },
          { relation: 'after', toMiddleware: 'retryMiddleware', name: 'simulatedAwsTransport' },
        );
      },
    });
  }

  /** One attempt of a call, as the service would take it: reachable, not throttled, authorized, then answered. */
  private async call(
    principal: Principal,
    service: string,
    region: string,
    command: string,
    input: Input,
    home?: string,
  ): Promise<unknown> {
    let actions: string[] | undefined;
    const record = (error?: string) =>
      this.calls.push({ region, service, command, input, at: this.clock, error, caller: principal.name, actions });
    const cut = home !== undefined && home !== region && (this.partitioned.has(region) || this.partitioned.has(home));
    if (this.unreachable.has(region) || cut) {
      record('unreachable');
      throw new NetworkError(region);
    }
    // The round trip to another region's endpoint, on the clock every caller shares (pessimistic for parallel branches).
    if (home !== undefined && home !== region) this.advance(MODELLED_SECONDS.crossRegionCall.seconds);
    const operation = this.operations.get(`${service}:${command}`);
    if (!operation) {
      record('UnknownOperation');
      throw new Error(`the simulated ${service} does not model ${command}: add it to FakeAws with its IAM authorization`);
    }
    const throttled = this.throttles.get(command) ?? 0;
    if (throttled > 0) {
      this.throttles.set(command, throttled - 1);
      record('ThrottlingException');
      throw awsError('ThrottlingException', 'Rate exceeded', 400, { $retryable: { throttling: true } });
    }
    const requests = operation.authorize(input, region);
    actions = requests.map((r) => r.action);
    for (const request of requests) {
      const decision = await this.authorize(principal, request);
      if (!decision.allowed) {
        const name = request.action.startsWith('kms:') ? 'KMSAccessDeniedException' : (ACCESS_DENIED[service] ?? 'AccessDeniedException');
        record(name);
        throw awsError(name, decision.reason, 403);
      }
    }
    const failure = this.failures.get(command);
    if (failure && failure.times > 0) {
      failure.times--;
      record(failure.name);
      throw awsError(failure.name, failure.message);
    }
    try {
      const out = await operation.answer(input, region);
      record();
      return out;
    } catch (error) {
      record((error as Error).name);
      throw error;
    }
  }

  private define(service: string, command: string, operation: Operation): void {
    this.operations.set(`${service}:${command}`, operation);
  }

  /** `action` on `resource`, the IAM service prefix taken from the client's service. */
  private request(service: string, action: string, resource: string, context?: AuthorizationRequest['context']): AuthorizationRequest {
    return { action: `${IAM_SERVICE[service] ?? service}:${action}`, resource, ...(context ? { context } : {}) };
  }

  private arn(service: string, region: string, resource: string): string {
    return `arn:aws:${service}:${region}:${this.account}:${resource}`;
  }

  /** What AWS checks of a KMS key a service uses on the caller's behalf (the key policy included). */
  private keyUse(key: UsedKey | undefined, actions: string[], viaService: string, region: string): AuthorizationRequest[] {
    if (!key) return [];
    return actions.map((action) => ({
      action,
      resource: key.arn,
      resourcePolicy: key.policy,
      context: {
        'kms:ViaService': `${viaService}.${region}.amazonaws.com`,
        'kms:CallerAccount': this.account,
        ...(key.aliases.length > 0 ? { 'kms:ResourceAliases': [...key.aliases] } : {}),
      },
    }));
  }

  private settle(): void {
    for (const instance of this.instances.values()) {
      if (instance.rebootAt !== undefined && this.clock >= instance.rebootAt) {
        instance.status = 'rebooting';
        instance.source = undefined;
        instance.rebootAt = undefined;
      }
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
        global.members = global.members.filter((m) => m.status !== 'disassociating');
        global.status = global.members.length > 1 ? 'available' : 'primary-only';
        global.readyAt = undefined;
      }
    }
    for (const cluster of this.dbClusters.values()) {
      if (cluster.failover && this.clock >= cluster.failover.readyAt) {
        for (const instance of cluster.instances ?? []) instance.writer = instance.id === cluster.failover.to;
        cluster.failover = undefined;
        cluster.status = 'available';
      }
    }
    for (const global of this.globalClusters.values()) this.settleGlobalCluster(global);
  }

  /** Time moves an Aurora global database on: its switchover or failover, rejoins and rebuilds. */
  private settleGlobalCluster(g: FakeGlobalCluster): void {
    const op = g.failoverState;
    const verification = MODELLED_SECONDS.auroraGlobalVerification.seconds;
    if (op?.status === 'pending' && g.startsAt !== undefined && this.clock >= g.startsAt) {
      const from = this.clusterByArn(op.fromDbClusterArn);
      if (!op.isDataLossAllowed && !(from && this.clusterReachable(from))) {
        // A switchover first "waits for the target secondary Region clusters to be fully synchronized with the primary
        // Region cluster" (User Guide): with the primary's Region lost it cannot, and the request is cancelled, the clusters
        // "returning to their previous states" (FailoverState, cancelling). That a lost primary cancels it, rather than
        // leaving it pending, is modelled (not documented), so that a failover can follow.
        op.status = 'cancelling';
        g.readyAt = this.clock + verification;
      } else {
        op.status = op.isDataLossAllowed ? 'failing-over' : 'switching-over';
      }
      g.startsAt = undefined;
    }
    if (op && op.status !== 'pending' && g.readyAt !== undefined && this.clock >= g.readyAt) {
      const target = this.clusterByArn(op.toDbClusterArn);
      if (op.status === 'cancelling') this.endGlobalOperation(g);
      else if (target && this.globalDataPlanePromoted(target)) this.completeGlobalOperation(g, op, target);
    }
    // "As soon as that old primary Region is healthy and available again, Aurora automatically adds it back to the global
    // cluster as a secondary Region. Before creating the new storage volume in the old primary Region, Aurora tries to take a
    // snapshot of the old storage volume at the point of failure ... named rds:unplanned-global-failover-name-of-old-primary-
    // DB-cluster-timestamp" (User Guide, managed failover). Its new volume is then built: pending-resync until rebuilt.
    for (const former of [...g.awaitingRejoin]) {
      const cluster = this.clusterByArn(former.clusterArn);
      if (!cluster || !this.clusterReachable(cluster)) continue;
      g.awaitingRejoin.splice(g.awaitingRejoin.indexOf(former), 1);
      this.clusterSnapshots.push({
        id: `rds:unplanned-global-failover-${cluster.id}-${snapshotTime(former.failedAt)}`,
        region: cluster.region,
        clusterArn: cluster.arn,
        globalClusterId: g.id,
        at: this.clock,
      });
      g.members.push({
        clusterArn: cluster.arn,
        region: cluster.region,
        isWriter: false,
        synchronizationStatus: 'pending-resync',
        resyncAt: this.clock + MODELLED_SECONDS.auroraGlobalRebuild.seconds,
      });
      const writer = g.members.find((m) => m.isWriter);
      const writerCluster = writer ? this.clusterByArn(writer.clusterArn) : undefined;
      if (writerCluster) this.onGlobalRejoined(cluster, writerCluster);
    }
    for (const member of g.members) {
      if (member.resyncAt !== undefined && this.clock >= member.resyncAt) {
        member.synchronizationStatus = 'connected';
        member.resyncAt = undefined;
      }
    }
  }

  private completeGlobalOperation(g: FakeGlobalCluster, op: NonNullable<FakeGlobalCluster['failoverState']>, target: FakeDbCluster): void {
    for (const member of g.members) member.isWriter = member.clusterArn === target.arn;
    const former = this.clusterByArn(op.fromDbClusterArn);
    if (op.isDataLossAllowed) {
      // The old primary is out of the global cluster until its Region is healthy again (then rejoins, above); "After Aurora
      // promotes the new primary cluster, it automatically rebuilds all additional secondary Region clusters" (User Guide).
      g.members = g.members.filter((m) => m.clusterArn !== op.fromDbClusterArn);
      const region = former?.region ?? op.fromDbClusterArn.split(':')[3] ?? '';
      g.awaitingRejoin.push({ clusterArn: op.fromDbClusterArn, region, failedAt: g.requestedAt ?? this.now() });
      for (const member of g.members) {
        if (member.isWriter) continue;
        member.synchronizationStatus = 'pending-resync';
        member.resyncAt = this.clock + MODELLED_SECONDS.auroraGlobalRebuild.seconds;
      }
    }
    // A switchover "maintains your global database's existing replication topology": the old primary is a connected secondary.
    this.endGlobalOperation(g);
    this.onGlobalPromoted(target, former);
  }

  private endGlobalOperation(g: FakeGlobalCluster): void {
    g.status = 'available';
    g.failoverState = undefined;
    g.startsAt = undefined;
    g.readyAt = undefined;
    g.requestedAt = undefined;
  }

  /** Whether Aurora can reach a cluster: its Region's endpoints answer and are not cut off from the others. */
  private clusterReachable(cluster: FakeDbCluster): boolean {
    const region = cluster.region;
    return cluster.reachable !== false && !this.unreachable.has(region) && !this.partitioned.has(region) && !this.blackholed.has(region);
  }

  private clusterByArn(arn: string): FakeDbCluster | undefined {
    const match = /^arn:aws:rds:([^:]+):[^:]*:cluster:(.+)$/.exec(arn);
    return match ? this.dbClusters.get(`${match[1]}:${String(match[2]).toLowerCase()}`) : undefined;
  }

  /**
   * The cluster an identifier names: an ARN in any Region, a bare identifier in the caller's Region
   * (SwitchoverGlobalCluster: "Use the Amazon Resource Name (ARN) for the identifier so that Aurora can
   * locate the cluster in its Amazon Web Services Region").
   */
  private cluster(identifier: string, region: string): FakeDbCluster {
    const found = identifier.startsWith('arn:')
      ? this.clusterByArn(identifier)
      : this.dbClusters.get(`${region}:${identifier.toLowerCase()}`);
    // "DBClusterIdentifier doesn't refer to an existing DB cluster" (RDS API Reference, DBClusterNotFoundFault: HTTP 404).
    if (!found) throw awsError('DBClusterNotFoundFault', `DBCluster ${identifier} not found.`, 404);
    return found;
  }

  private instance(region: string, id: string): FakeInstance {
    const instance = this.instances.get(`${region}:${id}`);
    if (!instance) throw awsError('DBInstanceNotFoundFault', `DBInstance ${id} not found.`, 404);
    return instance;
  }

  private defineRds(): void {
    const db = (action: string) => (input: Input, region: string) => [
      this.request('rds', action, this.arn('rds', region, `db:${String(input.DBInstanceIdentifier)}`)),
    ];
    this.define('rds', 'DescribeDBInstances', {
      authorize: db('DescribeDBInstances'),
      answer: (input, region) => {
        this.settle();
        const i = this.instance(region, String(input.DBInstanceIdentifier));
        return {
          DBInstances: [
            {
              DBInstanceIdentifier: i.id,
              DBInstanceArn: i.arn,
              DBInstanceStatus: i.status,
              DbiResourceId: i.resourceId,
              ReadReplicaSourceDBInstanceIdentifier: i.source,
              MultiAZ: i.multiAz,
              AvailabilityZone: i.zone,
              Endpoint: { Address: i.host, Port: i.port },
            },
          ],
        };
      },
    });
    this.define('rds', 'PromoteReadReplica', {
      authorize: db('PromoteReadReplica'),
      answer: (input, region) => {
        this.settle();
        const i = this.instance(region, String(input.DBInstanceIdentifier));
        if (!i.source) throw awsError('InvalidDBInstanceStateFault', 'DB Instance is not a read replica.');
        // "a read replica cannot be promoted ... when it is in the backing-up status" (API reference, PromoteReadReplica).
        if (i.status !== 'available') throw awsError('InvalidDBInstanceStateFault', `DB Instance ${i.id} is ${i.status}.`);
        i.promoting = true;
        i.status = 'modifying';
        if (!this.stuckPromotions.has(i.id)) {
          i.readyAt = this.clock + MODELLED_SECONDS.rdsPromotion.seconds;
          i.rebootAt = i.readyAt - MODELLED_SECONDS.rdsPromotionReboot.seconds;
        }
        this.onPromotionRequested(i);
        return { DBInstance: { DBInstanceIdentifier: i.id } };
      },
    });
    this.define('rds', 'RebootDBInstance', {
      authorize: db('RebootDBInstance'),
      answer: (input, region) => {
        this.settle();
        const i = this.instance(region, String(input.DBInstanceIdentifier));
        if (i.status !== 'available') throw awsError('InvalidDBInstanceStateFault', `DB Instance ${i.id} is ${i.status}.`);
        if (input.ForceFailover && !i.multiAz)
          throw awsError('InvalidDBInstanceStateFault', 'Cannot force a failover of a Single-AZ instance.');
        i.status = 'rebooting';
        i.readyAt = this.clock + MODELLED_SECONDS.rdsMultiAzFailover.seconds;
        if (input.ForceFailover) i.zone = i.zone.endsWith('a') ? i.zone.replace(/a$/, 'b') : i.zone.replace(/.$/, 'a');
        this.onReboot(i, input.ForceFailover === true);
        return { DBInstance: { DBInstanceIdentifier: i.id } };
      },
    });
  }

  /**
   * Aurora global databases (RDS API Reference: DescribeGlobalClusters, DescribeDBClusters,
   * SwitchoverGlobalCluster, FailoverGlobalCluster). Each is a regional call: made in a Region that
   * answers, it works whatever the state of the others (the User Guide has a failover run in the
   * Region of the secondary to promote).
   */
  private defineAurora(): void {
    // Global clusters have no Region in their ARN (Service Authorization Reference, Amazon RDS: global-cluster).
    const globalArn = (id: string) => `arn:aws:rds::${this.account}:global-cluster:${id.toLowerCase()}`;
    const clusterArn = (identifier: string, region: string) =>
      identifier.startsWith('arn:') ? identifier : this.arn('rds', region, `cluster:${identifier.toLowerCase()}`);
    const global = (id: string) => {
      const found = this.globalClusters.get(id.toLowerCase());
      // "The GlobalClusterIdentifier doesn't refer to an existing global database cluster" (GlobalClusterNotFoundFault, HTTP 404).
      if (!found) throw awsError('GlobalClusterNotFoundFault', `Global cluster ${id} not found.`, 404);
      return found;
    };
    const describe = (g: FakeGlobalCluster) => ({
      GlobalClusterIdentifier: g.id,
      GlobalClusterArn: globalArn(g.id),
      Status: g.status,
      Engine: g.engine,
      EngineVersion: g.engineVersion,
      Endpoint: g.endpoint,
      // The writer lists the secondaries as its Readers (AWS CLI examples, switchover-global-cluster).
      GlobalClusterMembers: g.members.map((m) => ({
        DBClusterArn: m.clusterArn,
        Readers: m.isWriter ? g.members.filter((o) => o !== m).map((o) => o.clusterArn) : [],
        IsWriter: m.isWriter,
        SynchronizationStatus: m.synchronizationStatus,
      })),
      FailoverState: g.failoverState
        ? {
            Status: g.failoverState.status,
            FromDbClusterArn: g.failoverState.fromDbClusterArn,
            ToDbClusterArn: g.failoverState.toDbClusterArn,
            IsDataLossAllowed: g.failoverState.isDataLossAllowed,
          }
        : {},
    });
    const majorMinor = (version: string) => version.split('.').slice(0, 2).join('.');

    // DescribeGlobalClusters: global-cluster (Service Authorization Reference); without an identifier, every global cluster.
    this.define('rds', 'DescribeGlobalClusters', {
      authorize: (input) => [
        this.request(
          'rds',
          'DescribeGlobalClusters',
          input.GlobalClusterIdentifier ? globalArn(String(input.GlobalClusterIdentifier)) : globalArn('*'),
        ),
      ],
      answer: (input) => {
        this.settle();
        const found = input.GlobalClusterIdentifier ? [global(String(input.GlobalClusterIdentifier))] : [...this.globalClusters.values()];
        return { GlobalClusters: found.map(describe) };
      },
    });
    // DescribeDBClusters: cluster (Service Authorization Reference). "The user-supplied DB cluster identifier or the
    // Amazon Resource Name (ARN) of the DB cluster"; a cluster of another Region is not found in this one.
    this.define('rds', 'DescribeDBClusters', {
      authorize: (input, region) => [this.request('rds', 'DescribeDBClusters', clusterArn(String(input.DBClusterIdentifier), region))],
      answer: (input, region) => {
        this.settle();
        const c = this.cluster(String(input.DBClusterIdentifier), region);
        if (c.region !== region) throw awsError('DBClusterNotFoundFault', `DBCluster ${String(input.DBClusterIdentifier)} not found.`, 404);
        const g = c.globalClusterId ? this.globalClusters.get(c.globalClusterId) : undefined;
        const writes = g ? g.members.some((m) => m.isWriter && m.clusterArn === c.arn) : true;
        return {
          DBClusters: [
            {
              DBClusterIdentifier: c.id,
              DBClusterArn: c.arn,
              Status: c.status,
              DbClusterResourceId: c.resourceId,
              Engine: 'aurora-postgresql',
              EngineVersion: c.engineVersion ?? g?.engineVersion,
              Endpoint: c.endpoint,
              ReaderEndpoint: c.readerEndpoint,
              Port: c.port,
              ...(c.globalClusterId ? { GlobalClusterIdentifier: c.globalClusterId } : {}),
              // A secondary cluster has no writer instance; a headless one has no instance at all.
              DBClusterMembers: c.headless
                ? []
                : (c.instances ?? [{ id: `${c.id}-instance-1`, promotionTier: 0, writer: true }]).map((i) => ({
                    DBInstanceIdentifier: i.id,
                    IsClusterWriter: writes && i.writer,
                    PromotionTier: i.promotionTier,
                  })),
            },
          ],
        };
      },
    });

    // Aurora's in-region failover: "promotes one of the Aurora Replicas (read-only instances) in the DB cluster to be the
    // primary DB instance (the cluster writer)"; the cluster is failing-over, then available (API reference, FailoverDBCluster;
    // User Guide, failing over an Aurora DB cluster).
    this.define('rds', 'FailoverDBCluster', {
      authorize: (input, region) => [this.request('rds', 'FailoverDBCluster', clusterArn(String(input.DBClusterIdentifier), region))],
      answer: (input, region) => {
        this.settle();
        const c = this.cluster(String(input.DBClusterIdentifier), region);
        if (c.status !== 'available') throw awsError('InvalidDBClusterStateFault', `DB cluster ${c.id} is ${c.status}.`);
        const g = c.globalClusterId ? this.globalClusters.get(c.globalClusterId) : undefined;
        // A global database's secondary has no writer to fail over from (modelled: its instances are all read-only).
        if (g && !g.members.some((m) => m.isWriter && m.clusterArn === c.arn))
          throw awsError('InvalidDBClusterStateFault', `DB cluster ${c.id} is a secondary cluster of global cluster ${g.id}.`);
        const instances = c.instances ?? [];
        const target = input.TargetDBInstanceIdentifier
          ? instances.find((i) => i.id === input.TargetDBInstanceIdentifier)
          : [...instances].filter((i) => !i.writer).sort((a, b) => a.promotionTier - b.promotionTier)[0];
        if (!target || target.writer)
          throw awsError('InvalidParameterValue', `${String(input.TargetDBInstanceIdentifier ?? 'no reader')} is not a reader of ${c.id}.`);
        c.status = 'failing-over';
        c.failover = { readyAt: this.clock + MODELLED_SECONDS.auroraClusterFailover.seconds, to: target.id };
        this.onClusterFailover(c, target.id);
        return { DBCluster: { DBClusterIdentifier: c.id, Status: c.status } };
      },
    });

    // Both need the two resource types, cluster* and global-cluster* (Service Authorization Reference, Amazon RDS):
    // the cluster to promote and the global cluster.
    const onGlobalOperation = (action: string) => (input: Input, region: string) => [
      this.request('rds', action, clusterArn(String(input.TargetDbClusterIdentifier), region)),
      this.request('rds', action, globalArn(String(input.GlobalClusterIdentifier))),
    ];
    /** Starts a switchover (no data loss) or a failover (data loss allowed) of a global cluster to `target`. */
    const start = (input: Input, region: string, allowDataLoss: boolean) => {
      this.settle();
      const g = global(String(input.GlobalClusterIdentifier));
      const target = this.cluster(String(input.TargetDbClusterIdentifier), region);
      const member = g.members.find((m) => m.clusterArn === target.arn);
      // Not documented which error names a cluster outside the global cluster or already its writer: InvalidParameterValue (RDS common errors).
      if (!member) throw awsError('InvalidParameterValue', `${target.arn} is not a member of global cluster ${g.id}.`);
      if (member.isWriter)
        throw awsError('InvalidParameterValue', `${target.arn} is already the primary cluster of global cluster ${g.id}.`);
      // "The global cluster is in an invalid state and can't perform the requested operation" (InvalidGlobalClusterStateFault):
      // another switchover or failover under way.
      if (g.status !== 'available' || g.failoverState)
        throw awsError('InvalidGlobalClusterStateFault', `Global cluster ${g.id} is ${g.status}; a switchover or failover is in progress.`);
      // "The requested operation can't be performed while the cluster is in this state" (InvalidDBClusterStateFault).
      if (target.status !== 'available') throw awsError('InvalidDBClusterStateFault', `DB cluster ${target.id} is ${target.status}.`);
      // "Before you can perform a switchover or failover to a headless secondary Aurora DB cluster, you must add a DB
      // instance to it" (User Guide; which error is not documented: InvalidDBClusterStateFault).
      if (target.headless) throw awsError('InvalidDBClusterStateFault', `DB cluster ${target.id} has no DB instance (headless).`);
      // "You can perform managed cross-Region switchovers [and failovers] with Aurora Global Database only if the primary and
      // secondary DB clusters have the same major and minor engine versions" (User Guide; error not documented).
      const writer = g.members.find((m) => m.isWriter) as FakeGlobalClusterMember;
      const writerCluster = this.clusterByArn(writer.clusterArn);
      const [from, to] = [writerCluster?.engineVersion ?? g.engineVersion, target.engineVersion ?? g.engineVersion];
      if (majorMinor(from) !== majorMinor(to))
        throw awsError(
          'InvalidDBClusterStateFault',
          `DB cluster ${target.id} runs ${to}, the primary ${from}: a managed switchover or failover needs the same major and minor version.`,
        );
      // A secondary being rebuilt has no consistent copy to promote (modelled: not documented).
      if (member.synchronizationStatus !== 'connected')
        throw awsError(
          'InvalidGlobalClusterStateFault',
          `DB cluster ${target.id} is ${member.synchronizationStatus} in global cluster ${g.id}.`,
        );
      if (!allowDataLoss) {
        // A switchover is for a global database "where all the Aurora clusters and other services they interact with are in a
        // healthy state" (User Guide): it synchronizes every secondary with the primary first. A Region lost, a secondary being
        // rebuilt or a rejoin pending: refused. (Whether AWS refuses it or leaves it pending is not documented; refusing is the
        // conservative model, and the User Guide has it run in the primary's Region, which a lost Region does not answer.)
        const unhealthy = g.members.find((m) => {
          const c = this.clusterByArn(m.clusterArn);
          return !c || !this.clusterReachable(c) || m.synchronizationStatus !== 'connected';
        });
        if (unhealthy || g.awaitingRejoin.length > 0)
          throw awsError(
            'InvalidGlobalClusterStateFault',
            `Global cluster ${g.id} is not healthy (${unhealthy ? `${unhealthy.clusterArn} unreachable or not synchronized` : 'a former primary has not rejoined'}): switch over only a healthy global database; fail over (AllowDataLoss) to recover from an outage.`,
          );
      }
      g.status = allowDataLoss ? 'failing-over' : 'switching-over';
      g.failoverState = {
        status: 'pending',
        fromDbClusterArn: writer.clusterArn,
        toDbClusterArn: target.arn,
        isDataLossAllowed: allowDataLoss,
      };
      g.requestedAt = this.now();
      g.startsAt = this.clock + MODELLED_SECONDS.auroraGlobalVerification.seconds;
      const total = allowDataLoss
        ? MODELLED_SECONDS[this.auroraFailoverEnd === 'optimistic' ? 'auroraGlobalFailoverOptimistic' : 'auroraGlobalFailoverPessimistic']
            .seconds
        : MODELLED_SECONDS.auroraGlobalSwitchover.seconds;
      g.readyAt = this.stuckGlobalFailovers.has(g.id) ? undefined : this.clock + total;
      this.onGlobalPromotionRequested(target);
      return { GlobalCluster: describe(g) };
    };
    this.define('rds', 'SwitchoverGlobalCluster', {
      authorize: onGlobalOperation('SwitchoverGlobalCluster'),
      answer: (input, region) => start(input, region, false),
    });
    // "Allowing data loss triggers a global failover operation. If you don't specify AllowDataLoss, the global database
    // cluster operation defaults to a switchover"; AllowDataLoss "Can't be specified together with the Switchover parameter"
    // (RDS API Reference, FailoverGlobalCluster).
    this.define('rds', 'FailoverGlobalCluster', {
      authorize: onGlobalOperation('FailoverGlobalCluster'),
      answer: (input, region) => {
        if (input.AllowDataLoss !== undefined && input.Switchover !== undefined)
          throw awsError('InvalidParameterCombination', 'AllowDataLoss and Switchover cannot be specified together.');
        return start(input, region, input.AllowDataLoss === true);
      },
    });
  }

  private defineCache(): void {
    const global = (id: string) => {
      const found = this.globalDatastores.get(id);
      if (!found) throw awsError('GlobalReplicationGroupNotFoundFault', `Global replication group ${id} not found.`, 404);
      return found;
    };
    const groupIn = (region: string, id: string) => {
      const found = this.cacheGroups.get(`${region}:${id}`);
      if (!found) throw awsError('ReplicationGroupNotFoundFault', `Replication group ${id} not found.`, 404);
      return found;
    };
    /** A global datastore an operation may change: only while `available`. */
    const changeable = (id: string) => {
      const g = global(id);
      if (g.status !== 'available')
        throw awsError('InvalidGlobalReplicationGroupStateFault', `Global replication group ${g.id} is ${g.status}.`);
      return g;
    };
    // Global replication groups have no region in their ARN (Service Authorization Reference, ElastiCache).
    const onGlobal = (action: string) => (input: Input) => [
      this.request(
        'elasticache',
        action,
        `arn:aws:elasticache::${this.account}:globalreplicationgroup:${String(input.GlobalReplicationGroupId)}`,
      ),
    ];
    const onGroup = (action: string) => (input: Input, region: string) => [
      this.request('elasticache', action, this.arn('elasticache', region, `replicationgroup:${String(input.ReplicationGroupId)}`)),
    ];
    this.define('elasticache', 'DescribeGlobalReplicationGroups', {
      authorize: onGlobal('DescribeGlobalReplicationGroups'),
      answer: (input) => {
        this.settle();
        const g = global(String(input.GlobalReplicationGroupId));
        return {
          GlobalReplicationGroups: [
            {
              GlobalReplicationGroupId: g.id,
              Status: g.status,
              Members: g.members.map((m) => ({
                ReplicationGroupId: m.groupId,
                ReplicationGroupRegion: m.region,
                Role: m.role,
                Status: m.status ?? 'associated',
              })),
            },
          ],
        };
      },
    });
    this.define('elasticache', 'DescribeReplicationGroups', {
      authorize: onGroup('DescribeReplicationGroups'),
      answer: (input, region) => {
        this.settle();
        const group = groupIn(region, String(input.ReplicationGroupId));
        return { ReplicationGroups: [{ ReplicationGroupId: group.id, Status: group.status }] };
      },
    });
    this.define('elasticache', 'FailoverGlobalReplicationGroup', {
      authorize: onGlobal('FailoverGlobalReplicationGroup'),
      answer: (input) => {
        this.settle();
        const g = changeable(String(input.GlobalReplicationGroupId));
        const target = g.members.find((m) => m.groupId === input.PrimaryReplicationGroupId && m.region === input.PrimaryRegion);
        if (!target)
          throw awsError('InvalidParameterValueException', `${String(input.PrimaryReplicationGroupId)} is not a member of ${g.id}.`);
        const former = g.members.find((m) => m.role === 'PRIMARY');
        for (const member of g.members) member.role = member === target ? 'PRIMARY' : 'SECONDARY';
        g.status = 'modifying';
        this.onCachePromoted(target.region, target.groupId, former && former !== target ? former : undefined);
        g.readyAt = this.clock + MODELLED_SECONDS.cacheGlobalFailover.seconds;
        return { GlobalReplicationGroup: { GlobalReplicationGroupId: g.id } };
      },
    });
    this.define('elasticache', 'DisassociateGlobalReplicationGroup', {
      authorize: onGlobal('DisassociateGlobalReplicationGroup'),
      answer: (input) => {
        this.settle();
        const g = changeable(String(input.GlobalReplicationGroupId));
        const member = g.members.find((m) => m.groupId === input.ReplicationGroupId && m.region === input.ReplicationGroupRegion);
        if (!member || member.role === 'PRIMARY')
          throw awsError('InvalidParameterValueException', `${String(input.ReplicationGroupId)} is not a secondary of ${g.id}.`);
        member.status = 'disassociating';
        g.status = 'modifying';
        g.readyAt = this.clock + MODELLED_SECONDS.cacheDisassociate.seconds;
        const group = this.cacheGroups.get(`${member.region}:${member.groupId}`);
        if (group) {
          group.status = 'modifying';
          group.readyAt = this.clock + MODELLED_SECONDS.cacheDisassociate.seconds;
        }
        this.onCachePromoted(member.region, member.groupId);
        return { GlobalReplicationGroup: { GlobalReplicationGroupId: g.id } };
      },
    });
    // Applied to the user's groups before the call returns: how long ElastiCache takes to push an
    // access string to the nodes is not documented, so the model does not invent a delay.
    this.define('elasticache', 'ModifyUser', {
      authorize: (input, region) => [
        this.request('elasticache', 'ModifyUser', this.arn('elasticache', region, `user:${String(input.UserId)}`)),
      ],
      answer: async (input, region) => {
        const user = this.cacheUsers.get(`${region}:${String(input.UserId)}`);
        if (!user) throw awsError('UserNotFoundFault', `User ${String(input.UserId)} not found.`, 404);
        if (input.AccessString !== undefined) user.accessString = String(input.AccessString);
        await this.onCacheAccess(region, String(input.UserId), user.accessString);
        return { UserId: input.UserId, Status: 'active', AccessString: user.accessString };
      },
    });
    this.define('elasticache', 'TestFailover', {
      authorize: onGroup('TestFailover'),
      answer: (input, region) => {
        this.settle();
        const group = groupIn(region, String(input.ReplicationGroupId));
        if (group.status !== 'available') throw awsError('InvalidReplicationGroupStateFault', `${group.id} is ${group.status}.`);
        group.status = 'modifying';
        group.readyAt = this.clock + MODELLED_SECONDS.cacheTestFailover.seconds;
        return { ReplicationGroup: { ReplicationGroupId: group.id } };
      },
    });
  }

  private defineCloudWatch(): void {
    // Neither supports resource-level permissions; PutMetricData is scoped by the cloudwatch:namespace condition key.
    this.define('cloudwatch', 'PutMetricData', {
      authorize: (input) => [this.request('cloudwatch', 'PutMetricData', '*', { 'cloudwatch:namespace': String(input.Namespace) })],
      answer: (input, region) => {
        for (const datum of (input.MetricData ?? []) as {
          MetricName?: string;
          Value?: number;
          Dimensions?: { Name: string; Value: string }[];
        }[]) {
          this.metrics.push({
            region,
            namespace: input.Namespace as string,
            name: datum.MetricName,
            value: datum.Value,
            at: this.clock,
            time: this.now().getTime(),
            dimensions: Object.fromEntries((datum.Dimensions ?? []).map((d) => [d.Name, d.Value])),
          });
        }
        return {};
      },
    });
    // A query matches a metric by namespace, name and every dimension, exactly; datapoints newest first
    // (ScanBy defaults to TimestampDescending), within [StartTime, EndTime).
    this.define('cloudwatch', 'GetMetricData', {
      authorize: () => [this.request('cloudwatch', 'GetMetricData', '*')],
      answer: (input, region) => {
        type Query = {
          Id: string;
          MetricStat?: { Metric?: { Namespace?: string; MetricName?: string; Dimensions?: { Name?: string; Value?: string }[] } };
        };
        const [start, end] = [new Date(input.StartTime as Date).getTime(), new Date(input.EndTime as Date).getTime()];
        return {
          MetricDataResults: ((input.MetricDataQueries ?? []) as Query[]).map((query) => {
            const metric = query.MetricStat?.Metric ?? {};
            const wanted = Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
            const points = this.datapoints
              .filter(
                (p) =>
                  p.region === region &&
                  p.namespace === metric.Namespace &&
                  p.name === metric.MetricName &&
                  JSON.stringify(Object.entries(p.dimensions).sort()) === JSON.stringify(Object.entries(wanted).sort()) &&
                  p.timestamp.getTime() >= start &&
                  p.timestamp.getTime() < end,
              )
              .sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime());
            return { Id: query.Id, StatusCode: 'Complete', Values: points.map((p) => p.value), Timestamps: points.map((p) => p.timestamp) };
          }),
        };
      },
    });
  }

  private defineDynamo(): void {
    const table = (region: string, name: string) => {
      const key = `${region}:${name}`;
      if (!this.tables.has(key)) throw awsError('ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
      return this.tables.get(key) as Map<string, Item>;
    };
    type Expression = { ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Item };
    const check = (existing: Item | undefined, input: Expression) => {
      if (!input.ConditionExpression) return;
      if (
        !conditionHolds(input.ConditionExpression, existing, input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues ?? {})
      ) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
      }
    };
    // A table under a customer managed key: DynamoDB decrypts its table key with the caller's permissions (DynamoDB Developer Guide, encryption at rest).
    const authorize = (action: string) => (input: Input, region: string) => {
      const arn = this.arn('dynamodb', region, `table/${String(input.TableName)}`);
      return [
        this.request('dynamodb', action, arn),
        ...this.keyUse(this.keyOf('dynamodb', region, arn), ['kms:Decrypt'], 'dynamodb', region),
      ];
    };
    const pkOf = (item: Item | undefined) => item?.pk?.S ?? '';
    this.define('dynamodb', 'GetItem', {
      authorize: authorize('GetItem'),
      answer: (input, region) => {
        const item = table(region, String(input.TableName)).get(pkOf(input.Key as Item));
        return item ? { Item: structuredClone(item) } : {};
      },
    });
    this.define('dynamodb', 'PutItem', {
      authorize: authorize('PutItem'),
      answer: (input, region) => {
        const rows = table(region, String(input.TableName));
        const pk = pkOf(input.Item as Item);
        check(rows.get(pk), input as Expression);
        rows.set(pk, structuredClone(input.Item as Item));
        return {};
      },
    });
    this.define('dynamodb', 'DeleteItem', {
      authorize: authorize('DeleteItem'),
      answer: (input, region) => {
        const rows = table(region, String(input.TableName));
        const pk = pkOf(input.Key as Item);
        check(rows.get(pk), input as Expression);
        rows.delete(pk);
        return {};
      },
    });
    this.define('dynamodb', 'UpdateItem', {
      authorize: authorize('UpdateItem'),
      answer: (input, region) => {
        const expression = String(input.UpdateExpression);
        const match = /^(ADD|SET) (#\w+) =? ?(:\w+)$/.exec(expression);
        if (!match) throw awsError('ValidationException', `the fake DynamoDB models ADD #a :v and SET #a = :v, got ${expression}`);
        const [, action, name, value] = match as unknown as [string, 'ADD' | 'SET', string, string];
        const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
        const values = (input.ExpressionAttributeValues ?? {}) as Item;
        const attribute = names[name] as string;
        const given = values[value] as AttributeValue;
        const rows = table(region, String(input.TableName));
        const pk = pkOf(input.Key as Item);
        check(rows.get(pk), input as Expression);
        const item = rows.get(pk) ?? { pk: { S: pk } };
        item[attribute] = action === 'ADD' ? { N: String(Number(item[attribute]?.N ?? 0) + Number(given.N)) } : structuredClone(given);
        rows.set(pk, item);
        return { Attributes: { [attribute]: item[attribute] } };
      },
    });
  }

  private defineOthers(): void {
    this.define('ssm', 'GetParameter', {
      authorize: (input, region) => [
        this.request('ssm', 'GetParameter', this.arn('ssm', region, `parameter/${String(input.Name).replace(/^\//, '')}`)),
      ],
      answer: (input, region) => {
        const value = this.parameters.get(`${region}:${String(input.Name)}`);
        if (value === undefined) throw awsError('ParameterNotFound', `Parameter ${String(input.Name)} not found.`);
        return { Parameter: { Name: input.Name, Value: value } };
      },
    });
    // An encrypted topic: the publisher needs kms:GenerateDataKey* and kms:Decrypt (SNS Developer Guide, encryption at rest).
    this.define('sns', 'Publish', {
      authorize: (input, region) => [
        this.request('sns', 'Publish', String(input.TopicArn)),
        ...this.keyUse(this.keyOf('sns', region, String(input.TopicArn)), ['kms:GenerateDataKey', 'kms:Decrypt'], 'sns', region),
      ],
      answer: (input, region) => {
        this.notifications.push({ region, subject: input.Subject as string, message: input.Message as string });
        return { MessageId: String(this.notifications.length) };
      },
    });
    // SSE-KMS by the bucket's default encryption: the writer needs kms:GenerateDataKey (S3 User Guide, SSE-KMS).
    this.define('s3', 'PutObject', {
      authorize: (input, region) => [
        this.request('s3', 'PutObject', `arn:aws:s3:::${String(input.Bucket)}/${String(input.Key)}`),
        ...this.keyUse(this.keyOf('s3', region, `arn:aws:s3:::${String(input.Bucket)}`), ['kms:GenerateDataKey'], 's3', region),
      ],
      answer: (input) => {
        this.objects.set(`${String(input.Bucket)}/${String(input.Key)}`, String(input.Body));
        return {};
      },
    });
    this.define('kafka', 'DescribeClusterV2', {
      authorize: (input) => [this.request('kafka', 'DescribeClusterV2', String(input.ClusterArn))],
      answer: (input) => {
        const cluster = this.kafkaClusters.get(String(input.ClusterArn));
        if (!cluster) throw awsError('NotFoundException', `Cluster ${String(input.ClusterArn)} not found.`, 404);
        return { ClusterInfo: { ClusterArn: input.ClusterArn, State: cluster.state } };
      },
    });
    const queueName = (jobQueue: string) => jobQueue.split('/').pop() as string;
    this.define('batch', 'UpdateJobQueue', {
      authorize: (input, region) => [
        this.request('batch', 'UpdateJobQueue', this.arn('batch', region, `job-queue/${queueName(String(input.jobQueue))}`)),
      ],
      answer: (input, region) => {
        const key = `${region}:${queueName(String(input.jobQueue))}`;
        if (!this.queues.has(key)) throw awsError('ClientException', `JobQueue ${String(input.jobQueue)} does not exist`);
        this.queues.set(key, input.state as 'ENABLED' | 'DISABLED');
        return { jobQueueName: queueName(String(input.jobQueue)) };
      },
    });
    // DescribeJobQueues names no resource (Service Authorization Reference): authorized on `*`; a name
    // Batch does not know is left out of the answer, not an error (Batch API Reference).
    this.define('batch', 'DescribeJobQueues', {
      authorize: () => [this.request('batch', 'DescribeJobQueues', '*')],
      answer: (input, region) => ({
        jobQueues: ((input.jobQueues as string[] | undefined) ?? [])
          .map(queueName)
          .filter((name) => this.queues.has(`${region}:${name}`))
          .map((name) => ({
            jobQueueName: name,
            jobQueueArn: this.arn('batch', region, `job-queue/${name}`),
            state: this.queues.get(`${region}:${name}`),
            status: 'VALID',
          })),
      }),
    });
    this.define('sfn', 'DescribeExecution', {
      authorize: (input) => [this.request('sfn', 'DescribeExecution', String(input.executionArn))],
      // Its status from its history's closing event; an ARN Step Functions never ran is ExecutionDoesNotExist.
      answer: (input) => {
        const arn = String(input.executionArn);
        if (this.runningExecutions.has(arn)) return { executionArn: arn, status: 'RUNNING' };
        const events = this.executionHistories.get(arn);
        if (!events) throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
        const closing = [...events].reverse().find((e) => e.type && e.type in EXECUTION_STATUS);
        return { executionArn: arn, status: closing ? EXECUTION_STATUS[closing.type as keyof typeof EXECUTION_STATUS] : 'RUNNING' };
      },
    });
    this.define('sfn', 'GetExecutionHistory', {
      authorize: (input) => [this.request('sfn', 'GetExecutionHistory', String(input.executionArn))],
      answer: (input) => {
        const events = this.executionHistories.get(String(input.executionArn));
        if (!events) throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(input.executionArn)}'`);
        return { events: structuredClone(events) };
      },
    });
    const nodegroup = (region: string, cluster: string, name: string) => {
      const group = this.nodegroups.get(`${region}:${cluster}:${name}`);
      if (!group) throw awsError('ResourceNotFoundException', `No node group found for name: ${name}.`, 404);
      return group;
    };
    const onNodegroup = (action: string) => (input: Input, region: string) => {
      const group = this.nodegroups.get(`${region}:${String(input.clusterName)}:${String(input.nodegroupName)}`);
      return [
        this.request(
          'eks',
          action,
          this.arn(
            'eks',
            region,
            `nodegroup/${String(input.clusterName)}/${String(input.nodegroupName)}/${group?.uuid ?? uuid(`${input.nodegroupName}`)}`,
          ),
        ),
      ];
    };
    this.define('eks', 'ListNodegroups', {
      authorize: (input, region) => [
        this.request('eks', 'ListNodegroups', this.arn('eks', region, `cluster/${String(input.clusterName)}`)),
      ],
      answer: (input, region) => ({
        nodegroups: [...this.nodegroups.keys()]
          .filter((k) => k.startsWith(`${region}:${String(input.clusterName)}:`))
          .map((k) => k.split(':')[2] as string),
      }),
    });
    this.define('eks', 'DescribeNodegroup', {
      authorize: onNodegroup('DescribeNodegroup'),
      answer: (input, region) => {
        const group = nodegroup(region, String(input.clusterName), String(input.nodegroupName));
        return {
          nodegroup: {
            nodegroupName: input.nodegroupName,
            scalingConfig: { desiredSize: group.desired, maxSize: group.max, minSize: group.min },
          },
        };
      },
    });
    this.define('eks', 'UpdateNodegroupConfig', {
      authorize: onNodegroup('UpdateNodegroupConfig'),
      answer: (input, region) => {
        const group = nodegroup(region, String(input.clusterName), String(input.nodegroupName));
        group.desired = (input.scalingConfig as { desiredSize: number }).desiredSize;
        return { update: { status: 'InProgress' } };
      },
    });
    // GetKeyspace is authorized as cassandra:Select (Service Authorization Reference, Amazon Keyspaces), whose
    // only resource type is a table: every table of the keyspace.
    this.define('keyspaces', 'GetKeyspace', {
      authorize: (input, region) => {
        const name = String(input.keyspaceName);
        const tables = this.keyspaces.get(name)?.tables ?? [];
        return tables.map((t) => this.request('keyspaces', 'Select', this.arn('cassandra', region, `/keyspace/${name}/table/${t}`)));
      },
      answer: (input, region) => {
        const keyspace = this.keyspaces.get(String(input.keyspaceName));
        if (!keyspace) throw awsError('ResourceNotFoundException', `Keyspace ${String(input.keyspaceName)} not found.`, 404);
        return {
          keyspaceName: input.keyspaceName,
          resourceArn: this.arn('cassandra', region, `/keyspace/${String(input.keyspaceName)}/`),
          replicationStrategy: keyspace.regions.length > 1 ? 'MULTI_REGION' : 'SINGLE_REGION',
          replicationRegions: [...keyspace.regions],
          replicationGroupStatuses: keyspace.regions.map((r) => ({ region: r, keyspaceStatus: keyspace.statuses?.[r] ?? 'ACTIVE' })),
        };
      },
    });
    // The function runs for real (the database agent); its own calls are authorized as its own role.
    this.define('lambda', 'Invoke', {
      authorize: (input, region) => [this.request('lambda', 'InvokeFunction', this.functionArn(region, String(input.FunctionName)))],
      answer: async (input, region) => {
        const name = this.functionArn(region, String(input.FunctionName)).split(':').pop() as string;
        const payload = input.Payload ? JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)) : {};
        try {
          const result = await this.invokeFunction(region, name, payload);
          return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(result ?? null)) };
        } catch (error) {
          if ((error as { $metadata?: unknown }).$metadata && (error as Error).name === 'ResourceNotFoundException') throw error;
          const e = error as Error;
          return {
            StatusCode: 200,
            FunctionError: 'Unhandled',
            Payload: new TextEncoder().encode(JSON.stringify({ errorType: e.name, errorMessage: e.message })),
          };
        }
      },
    });
  }

  private functionArn(region: string, nameOrArn: string): string {
    return nameOrArn.startsWith('arn:') ? nameOrArn : this.arn('lambda', region, `function:${nameOrArn}`);
  }
}

/** A snapshot name's timestamp, as RDS names its automated snapshots: `YYYY-MM-DD-HH-MM` (UTC). */
function snapshotTime(at: Date): string {
  return at.toISOString().slice(0, 16).replace(/[T:]/g, '-');
}

const EXECUTION_STATUS = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionAborted: 'ABORTED',
  ExecutionTimedOut: 'TIMED_OUT',
} as const;

const requestId = (n: number) => uuid(`request-${n}`);
const digest = (seed: string) => createHash('sha256').update(seed).digest('hex');
function uuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The condition expressions the runbooks use, and nothing else (an unknown one is an error, not a
 * pass): `attribute_not_exists(pk)`, `#a = :v`, `epoch <= :v`, joined by `OR`.
 */
export function conditionHolds(expression: string, item: Item | undefined, names: Record<string, string>, values: Item): boolean {
  // Clauses joined by OR, each a comparison or a parenthesised AND of comparisons (what the runbooks write).
  return splitTopLevel(expression, 'OR').some((clause) => {
    const inner = clause.trim().replace(/^\((.*)\)$/s, '$1');
    return splitTopLevel(inner, 'AND').every((part) => comparisonHolds(part.trim(), item, names, values));
  });
}

function splitTopLevel(expression: string, word: 'OR' | 'AND'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  const separator = ` ${word} `;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && expression.startsWith(separator, i)) {
      parts.push(expression.slice(from, i));
      from = i + separator.length;
      i += separator.length - 1;
    }
  }
  parts.push(expression.slice(from));
  return parts;
}

function comparisonHolds(trimmed: string, item: Item | undefined, names: Record<string, string>, values: Item): boolean {
  if (trimmed === 'attribute_not_exists(pk)') return item === undefined;
  const match = /^(#?\w+)\s*(=|<=|<)\s*(:\w+)$/.exec(trimmed);
  if (!match) throw new Error(`the fake DynamoDB does not model the condition ${trimmed}`);
  const [, left, op, right] = match as unknown as [string, string, string, string];
  const attribute = left.startsWith('#') ? (names[left] as string) : left;
  const have = item?.[attribute];
  const want = values[right];
  if (!have || !want) return false;
  if (op === '=') return JSON.stringify(have) === JSON.stringify(want);
  return op === '<' ? Number(have.N) < Number(want.N) : Number(have.N) <= Number(want.N);
}
