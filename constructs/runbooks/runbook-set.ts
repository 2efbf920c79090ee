import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RUNBOOK_TIMEOUT_SECONDS, type RunbookName, runbookNames, WRITE_GATE_METRIC } from '../../lib/config/naming';
import type { DatabaseEngine } from '../../lib/config/types';
import { type Access, type DeclaredResource, declaredCalls } from '../../runbooks/definitions/access';
import { KEEP_ACTIVE_EVENT, PRIMARY_WATCH, STEP_SPECS, WRITE_LEASE } from '../../runbooks/definitions/catalogue';
import type { StepName } from '../../runbooks/steps';
import { cloudWatchLogsKeyStatement } from '../private/kms';
import { acknowledgeNist, nagResourceName } from '../private/nag';
import { azFailoverDefinition, failbackDefinition, regionFailoverDefinition, type StepFunctions } from './state-machines';
import { addRunbookStateStore } from './state-store';

/** The Amazon root CAs (RDS's among them) every Lambda Node.js runtime ships, loaded only when named. */
const LAMBDA_AMAZON_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/** Where the runbook code lives; one esbuild bundle of `lambda.ts` serves every function. */
const RUNBOOKS_DIR = join(import.meta.dirname, '..', '..', 'runbooks');

export interface RunbookSetProps {
  readonly tier: string;
  /** Every region of the deployment in home order; the runbooks act on any of them. */
  readonly regions: readonly string[];
  /**
   * A two-region deployment's witness region, whose state table joins the lock's and the lease's majorities.
   * @default none
   */
  readonly witnessRegion?: string;
  /** This region's short code, e.g. `usw2`. */
  readonly regionCode: string;
  /** The region's VPC: the steps that reach a database run in its private subnets. */
  readonly vpc: ec2.IVpc;
  /** The region's artifact bucket, by name: reports go under `dr-reports/`. */
  readonly reportBucketName: string;
  /** The artifact bucket's key: reports written under `dr-reports/` are encrypted with it. */
  readonly reportBucketKey: kms.IKey;
  readonly rpoSeconds: number;
  readonly rtoSeconds: number;
  /** The platform's domain: the watchdog asks the primary's write gate at `https://api.<code>.<domain>/write-gate`. */
  readonly domain: string;
  /**
   * Start an unplanned RegionFailover in this region by itself when the primary is lost and this
   * region is its successor (the watchdog's composite alarm, through an EventBridge rule).
   * @default false: an operator starts it
   */
  readonly automaticStart?: boolean;
  /**
   * Database user the data-plane steps authenticate as (IAM), and the platform database.
   * @default 'mlp_dr', 'mlp'
   */
  readonly databaseUser?: string;
  /**
   * What serves the tier's PostgreSQL: the steps' roles grant that engine's calls only.
   * @default 'rds-postgresql'
   */
  readonly databaseEngine?: DatabaseEngine;
  readonly databaseName?: string;
  /**
   * Retention of the runbooks' logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The disaster-recovery runbooks of one region: the `RegionFailover`, `Failback` and `AzFailover`
 * state machines with a Lambda function per step (each with only its own step's permissions), the
 * region's DR state table (lock, epoch, write gate, primary), the write gate's lease (renewed every
 * 20 s) and its endpoint (what Route 53's write-gate check probes), the heartbeat writer, the database agent other
 * regions fence through, and the report topic. Deployed in every region, so a surviving region
 * can recover alone.
 */
/** The DR runbooks of one region, as operators, alarms and dashboards use them. */
export interface IRunbookSet {
  /** The state machine of a runbook. */
  stateMachine(runbook: RunbookName): sfn.IStateMachine;
  /** Let `grantee` start (and stop) executions of a runbook. */
  grantStartExecution(grantee: iam.IGrantable, runbook: RunbookName): iam.Grant;
  /** Let `grantee` read the executions of every runbook and their histories (the reports' source). */
  grantReadExecutions(grantee: iam.IGrantable): iam.Grant;
  /** Executions of a runbook that failed, per period (sum). */
  metricExecutionsFailed(runbook: RunbookName, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Executions of a runbook that timed out, per period (sum). */
  metricExecutionsTimedOut(runbook: RunbookName, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Executions of a runbook that were aborted, per period (sum). */
  metricExecutionsAborted(runbook: RunbookName, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

export class RunbookSet extends Construct implements IRunbookSet {
  public readonly functions: StepFunctions;
  public readonly databaseAgent: lambda.Function;
  public readonly stateTable: dynamodb.Table;
  public readonly reportTopic: sns.Topic;
  public readonly logsKey: kms.Key;
  /**
   * The region's write-gate endpoint (`ServeWriteGate`): serve it on the region's API name at
   * `WRITE_GATE_PATH`, where Route 53's write-gate health check probes it.
   */
  public readonly writeGateEndpoint: lambda.IFunction;
  public readonly regionFailover: sfn.StateMachine;
  public readonly failback: sfn.StateMachine;
  public readonly azFailover: sfn.StateMachine;
  /**
   * In ALARM while this region is the primary's successor and the primary looks lost: its write lease
   * stale in a majority of the state tables and its write gate not answering (the watchdog's metrics).
   */
  public readonly primaryLostAlarm: cloudwatch.CompositeAlarm;
  /** The rule that starts RegionFailover here on `primaryLostAlarm`, when the tier starts failovers automatically. */
  public readonly automaticFailover?: events.Rule;
  private readonly tier: string;

  constructor(scope: Construct, id: string, props: RunbookSetProps) {
    super(scope, id);
    this.tier = props.tier;
    const stack = Stack.of(this);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const databaseUser = props.databaseUser ?? 'mlp_dr';
    const databaseName = props.databaseName ?? 'mlp';

    const store = addRunbookStateStore(
      this,
      props.tier,
      `Encrypts the ${props.tier} runbooks' state table, logs and report topic in ${stack.region}`,
    );
    this.logsKey = store.key;
    this.stateTable = store.table;
    this.logsKey.addToResourcePolicy(cloudWatchLogsKeyStatement(this));
    const logGroup = (logId: string) =>
      new logs.LogGroup(this, logId, { retention, encryptionKey: this.logsKey, removalPolicy: RemovalPolicy.RETAIN });

    this.reportTopic = new sns.Topic(this, 'ReportTopic', {
      displayName: `${props.tier} disaster-recovery runbook reports`,
      masterKey: this.logsKey,
      enforceSSL: true,
    });

    const securityGroup = new ec2.SecurityGroup(this, 'DataPlaneSecurityGroup', {
      vpc: props.vpc,
      description: 'Runbook steps that reach a database: PostgreSQL inside the VPC, HTTPS to AWS APIs',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(5432), 'PostgreSQL in the VPC');
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs of every region, through NAT or endpoints');

    const code = lambda.Code.fromAsset(RUNBOOKS_DIR, {
      bundling: {
        image: lambda.Runtime.NODEJS_24_X.bundlingImage,
        local: { tryBundle: (outputDir) => bundleLocally(outputDir) },
      },
    });
    const environment = {
      MLP_TIER: props.tier,
      MLP_REGIONS: props.regions.join(','),
      ...(props.witnessRegion ? { MLP_WITNESS_REGION: props.witnessRegion } : {}),
      MLP_STATE_TABLE: runbookNames.stateTable(props.tier),
      MLP_RPO_SECONDS: String(props.rpoSeconds),
      MLP_RTO_SECONDS: String(props.rtoSeconds),
      MLP_REPORT_BUCKET: props.reportBucketName,
      MLP_REPORT_TOPIC_ARN: this.reportTopic.topicArn,
      MLP_DATABASE_USER: databaseUser,
      MLP_DATABASE_NAME: databaseName,
      MLP_DOMAIN: props.domain,
      MLP_AUTOMATIC_START: String(props.automaticStart ?? false),
    };
    const grants = new AccessGrants(this, props, databaseUser);
    // One log group for every step's function (each writes its own streams): what a reader follows
    // during an execution, and one resource instead of two dozen.
    const functionLogs = logGroup('FunctionLogs');
    const makeFunction = (name: StepName | 'DatabaseAgent', timeoutSeconds: number, inVpc: boolean, functionName?: string) => {
      // A role of its own, with no AWS managed policy for logging: it writes to its own log group only.
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Runbook step ${name}: only what this step calls`,
      });
      functionLogs.grantWrite(role);
      // Lambda creates the network interfaces of a function in a VPC with its role: without these
      // permissions it refuses to create or update the function (Lambda Developer Guide, VPC access).
      if (inVpc) role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
      const fn = new lambda.Function(this, `${name}Function`, {
        functionName,
        code,
        handler: 'index.handler',
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(timeoutSeconds),
        environment: {
          ...environment,
          MLP_STEP: name,
          // Node.js 20+ runtimes load no Amazon CA by default (Lambda Developer Guide, "CA certificate
          // loading"): without this bundle, TLS to RDS with the server verified fails.
          ...(inVpc ? { NODE_EXTRA_CA_CERTS: LAMBDA_AMAZON_CA_BUNDLE } : {}),
        },
        description:
          name === 'DatabaseAgent'
            ? 'Runs the runbooks’ narrow database operations in this region'
            : STEP_SPECS[name as StepName].summary.slice(0, 256),
        logGroup: functionLogs,
        role,
        tracing: lambda.Tracing.ACTIVE,
        ...(inVpc
          ? { vpc: props.vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [securityGroup] }
          : {}),
      });
      acknowledgeFunctionIam(fn, inVpc);
      acknowledgeFunctionNist(fn, name, inVpc);
      return fn;
    };
    const functions = {} as Record<StepName, lambda.Function>;
    for (const spec of Object.values(STEP_SPECS)) {
      const fn = makeFunction(spec.name, spec.timeoutSeconds, spec.inVpc);
      for (const access of spec.access) grants.grant(fn, access);
      functions[spec.name] = fn;
    }
    this.functions = functions;
    this.writeGateEndpoint = functions.ServeWriteGate;
    this.databaseAgent = makeFunction('DatabaseAgent', 30, true, runbookNames.databaseAgent(props.tier));
    grants.grant(this.databaseAgent, 'database-connect');
    this.keepActive([
      ...Object.values(STEP_SPECS)
        .filter((spec) => spec.inVpc && !SCHEDULED_STEPS.has(spec.name))
        .map((spec) => [spec.name, functions[spec.name]] as const),
      ['DatabaseAgent', this.databaseAgent] as const,
    ]);

    for (const [scheduleId, step] of [
      ['RefreshGateEveryMinute', 'RefreshGate'],
      ['WriteHeartbeatsEveryMinute', 'WriteHeartbeats'],
      ['WatchPrimaryEveryMinute', 'WatchPrimary'],
    ] as const) {
      const role = new iam.Role(this, `${scheduleId}Role`, {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
        description: `Invokes the ${step} runbook step every minute`,
      });
      new scheduler.Schedule(this, scheduleId, {
        // A minute, EventBridge Scheduler's shortest rate: each RefreshGate invocation renews the lease passesPerInvocation times.
        schedule: scheduler.ScheduleExpression.rate(Duration.seconds(WRITE_LEASE.renewalSeconds * WRITE_LEASE.passesPerInvocation)),
        target: new schedulerTargets.LambdaInvoke(functions[step], { retryAttempts: 0, role }),
        description: STEP_SPECS[step].summary.slice(0, 512),
      });
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResourceName(role, functions[step].functionArn)}:*]`,
        reason: 'aws-cdk-lib grants the schedule its one function and that function’s versions and aliases (":*"); nothing else.',
      });
    }

    const machine = (machineId: string, runbook: 'region-failover' | 'failback' | 'az-failover', definition: sfn.IChainable) =>
      new sfn.StateMachine(this, machineId, {
        stateMachineName: runbookNames.stateMachine(props.tier, runbook),
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromChainable(definition),
        queryLanguage: sfn.QueryLanguage.JSON_PATH,
        tracingEnabled: true,
        logs: { destination: logGroup(`${machineId}Logs`), level: sfn.LogLevel.ALL, includeExecutionData: true },
        timeout: Duration.seconds(RUNBOOK_TIMEOUT_SECONDS[runbook]),
      });
    this.regionFailover = machine(
      'RegionFailover',
      'region-failover',
      regionFailoverDefinition(new Construct(this, 'RegionFailoverStates'), functions),
    );
    // The failback starts the failover of its own region by name: no reference between the two.
    const regionFailoverByName = sfn.StateMachine.fromStateMachineName(
      this,
      'RegionFailoverByName',
      runbookNames.stateMachine(props.tier, 'region-failover'),
    );
    this.failback = machine(
      'Failback',
      'failback',
      failbackDefinition(new Construct(this, 'FailbackStates'), functions, regionFailoverByName),
    );
    this.failback.node.addDependency(this.regionFailover);
    Validations.of(this.failback.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${runbookNames.stateMachine(props.tier, 'region-failover')}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })}]`,
      reason:
        'aws-cdk-lib lets a .sync StartExecution task describe and stop the executions it starts, of this region’s RegionFailover only.',
    });
    this.azFailover = machine('AzFailover', 'az-failover', azFailoverDefinition(new Construct(this, 'AzFailoverStates'), functions));
    this.primaryLostAlarm = this.watchThePrimary(props);
    for (const stateMachine of [this.regionFailover, this.failback, this.azFailover]) acknowledgeStateMachineIam(stateMachine);
  }

  /**
   * The watchdog's alarms: each of its metrics (10-second periods) and their composite, and in an
   * automatic tier the EventBridge rule that starts an unplanned RegionFailover in this region when
   * the composite goes to ALARM. Disabling the rule switches the automatic start off.
   */
  private watchThePrimary(props: RunbookSetProps): cloudwatch.CompositeAlarm {
    const region = Stack.of(this).region;
    const name = (what: string) => `mlp-${props.tier}-${props.regionCode}-${what}`;
    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: WRITE_GATE_METRIC.namespace,
        metricName,
        dimensionsMap: { Tier: props.tier, Region: region },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.seconds(PRIMARY_WATCH.intervalSeconds),
      });
    const alarm = (id: string, alarmName: string, metricName: string, datapoints: number, description: string) =>
      new cloudwatch.Alarm(this, id, {
        alarmName,
        alarmDescription: description,
        metric: metric(metricName),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: datapoints,
        datapointsToAlarm: datapoints,
        // No watchdog, no evidence: a failed watchdog never starts a failover.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const stale = alarm(
      'PrimaryLeaseStaleAlarm',
      name('primary-lease-stale'),
      PRIMARY_WATCH.metrics.leaseStale,
      1,
      `This region is the primary's successor and the primary's write lease has not been renewed for ${PRIMARY_WATCH.staleLeaseSeconds} s in a majority of the state tables.`,
    );
    const unreachable = alarm(
      'PrimaryGateUnreachableAlarm',
      name('primary-gate-unreachable'),
      PRIMARY_WATCH.metrics.gateUnreachable,
      2,
      "This region is the primary's successor and the primary's write-gate endpoint has not answered open for two passes in a row (20 s).",
    );
    const lost = new cloudwatch.CompositeAlarm(this, 'PrimaryLostAlarm', {
      compositeAlarmName: name('primary-lost'),
      alarmDescription: `The primary looks lost from ${region}, its successor: its lease is stale and its write gate does not answer.${props.automaticStart ? ` An unplanned RegionFailover starts here (rule ${name('automatic-failover')}).` : ' Start the unplanned RegionFailover here (docs/operations.md).'}`,
      alarmRule: cloudwatch.AlarmRule.allOf(
        cloudwatch.AlarmRule.fromAlarm(stale, cloudwatch.AlarmState.ALARM),
        cloudwatch.AlarmRule.fromAlarm(unreachable, cloudwatch.AlarmState.ALARM),
      ),
    });
    for (const watched of [stale, unreachable]) {
      acknowledgeNist(
        watched,
        'CloudWatchAlarmAction',
        'Evidence for the primary-lost composite alarm, which is what acts; on its own it acts on nothing by design.',
      );
    }
    if (props.automaticStart) {
      const rule = new events.Rule(this, 'AutomaticFailoverRule', {
        ruleName: name('automatic-failover'),
        description: `Starts an unplanned RegionFailover in ${region} when ${name('primary-lost')} goes to ALARM. Disable it to switch automatic failover off.`,
        eventPattern: {
          source: ['aws.cloudwatch'],
          detailType: ['CloudWatch Alarm State Change'],
          resources: [lost.alarmArn],
          detail: { state: { value: ['ALARM'] } },
        },
      });
      rule.addTarget(
        new eventsTargets.SfnStateMachine(this.regionFailover, {
          input: events.RuleTargetInput.fromObject({ mode: 'unplanned', targetRegion: region, startedBy: 'automatic' }),
          retryAttempts: 3,
        }),
      );
      (this as { automaticFailover?: events.Rule }).automaticFailover = rule;
    }
    return lost;
  }

  /**
   * A daily no-op invocation (`KEEP_ACTIVE_EVENT`) of every VPC function that only a runbook
   * execution calls, so none has gone Inactive when a failover needs it (the schedule's own retries
   * carry it through the one failed invocation that reactivates a function that went Inactive anyway).
   */
  private keepActive(targets: readonly (readonly [string, lambda.Function])[]): void {
    const role = new iam.Role(this, 'KeepActiveRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Invokes the runbook functions in the VPC daily with a no-op event, so none goes Inactive',
    });
    for (const [name, fn] of targets) {
      new scheduler.Schedule(this, `${name}KeepActive`, {
        schedule: scheduler.ScheduleExpression.rate(Duration.days(1)),
        target: new schedulerTargets.LambdaInvoke(fn, {
          input: scheduler.ScheduleTargetInput.fromObject(KEEP_ACTIVE_EVENT),
          retryAttempts: 3,
          role,
        }),
        description: `Keeps the ${name} runbook function Active: Lambda reclaims an idle VPC function's network interface`,
      });
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResourceName(role, fn.functionArn)}:*]`,
        reason:
          'aws-cdk-lib grants the schedule each runbook function in the VPC and that function’s versions and aliases (":*"); nothing else.',
      });
    }
  }

  stateMachine(runbook: RunbookName): sfn.IStateMachine {
    return { 'region-failover': this.regionFailover, failback: this.failback, 'az-failover': this.azFailover }[runbook];
  }

  grantStartExecution(grantee: iam.IGrantable, runbook: RunbookName): iam.Grant {
    const machine = this.stateMachine(runbook);
    const start = machine.grantStartExecution(grantee);
    // Stopping an execution names the execution, not the state machine.
    const stop = iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:StopExecution'],
      resourceArns: [this.executionArns(runbook)],
    });
    return start.combine(stop);
  }

  grantReadExecutions(grantee: iam.IGrantable): iam.Grant {
    const runbooks: RunbookName[] = ['region-failover', 'failback', 'az-failover'];
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
      resourceArns: runbooks.map((runbook) => this.executionArns(runbook)),
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['states:ListExecutions', 'states:DescribeStateMachine'],
        resourceArns: runbooks.map((runbook) => this.stateMachine(runbook).stateMachineArn),
      }),
    );
  }

  metricExecutionsFailed(runbook: RunbookName, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine(runbook).metricFailed({ statistic: cloudwatch.Stats.SUM, ...props });
  }

  metricExecutionsTimedOut(runbook: RunbookName, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine(runbook).metricTimedOut({ statistic: cloudwatch.Stats.SUM, ...props });
  }

  metricExecutionsAborted(runbook: RunbookName, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine(runbook).metricAborted({ statistic: cloudwatch.Stats.SUM, ...props });
  }

  private executionArns(runbook: RunbookName): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${runbookNames.stateMachine(this.tier, runbook)}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}

/** How the one bundle of `lambda.ts` is built: minified CommonJS; the Lambda runtime provides the AWS SDK. */
export function runbookBundleOptions(outfile: string) {
  return {
    entryPoints: [join(RUNBOOKS_DIR, 'lambda.ts')],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node' as const,
    target: 'node24',
    format: 'cjs' as const,
    external: ['@aws-sdk/*', 'pg-native'],
    logLevel: 'error' as const,
  };
}

/** esbuild, in-process. */
function bundleLocally(outputDir: string): boolean {
  // Loaded only when bundling runs, so synthesis without bundling never needs esbuild.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  esbuild.buildSync(runbookBundleOptions(join(outputDir, 'index.js')));
  return true;
}

/** The IAM statements of each `Access`, generated from the steps' declared calls (runbooks/definitions/access.ts). */
class AccessGrants {
  constructor(
    private readonly scope: RunbookSet,
    private readonly props: RunbookSetProps,
    private readonly databaseUser: string,
  ) {}

  grant(fn: lambda.Function, access: Access): void {
    const names = {
      tier: this.props.tier,
      regionCode: this.props.regionCode,
      databaseUser: this.databaseUser,
      engine: this.props.databaseEngine ?? 'rds-postgresql',
    };
    for (const call of declaredCalls(access, names)) {
      const resources = call.resources.flatMap((resource) => this.arnsOf(resource));
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...call.actions], resources, conditions: call.conditions as never }));
      if (call.wildcardReason) {
        for (const resource of resources.filter((r) => r.includes('*'))) acknowledgeWildcard(fn, resource, call.wildcardReason);
      }
    }
  }

  private arnsOf(resource: DeclaredResource): string[] {
    const stack = Stack.of(this.scope);
    if ('any' in resource) return ['*'];
    if ('own' in resource) return this.ownArns(resource.own);
    const { service, resource: type, resourceName, separator, reach } = resource.arn;
    const arnFormat =
      separator === '/' ? ArnFormat.SLASH_RESOURCE_NAME : separator === ':' ? ArnFormat.COLON_RESOURCE_NAME : ArnFormat.NO_RESOURCE_NAME;
    const regions =
      reach === 'no-region'
        ? ['']
        : reach === 'own-region'
          ? [stack.region]
          : reach === 'every-state-region'
            ? [...this.props.regions, ...(this.props.witnessRegion ? [this.props.witnessRegion] : [])]
            : this.props.regions.filter((r) => reach === 'every-region' || r !== stack.region);
    return regions.map((region) => stack.formatArn({ service, region, resource: type, resourceName, arnFormat }));
  }

  private ownArns(own: Extract<DeclaredResource, { own: unknown }>['own']): string[] {
    const stack = Stack.of(this.scope);
    switch (own) {
      case 'report-objects':
        return [`arn:${stack.partition}:s3:::${this.props.reportBucketName}/dr-reports/*`];
      case 'report-bucket-key':
        return [this.props.reportBucketKey.keyArn];
      case 'report-topic':
        return [this.scope.reportTopic.topicArn];
      case 'report-topic-key':
        return [this.scope.logsKey.keyArn];
      case 'runbook-executions':
        // By name: the state machines' definitions refer to the functions, not the other way.
        return (['region-failover', 'failback', 'az-failover'] as const).map((runbook) =>
          stack.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${runbookNames.stateMachine(this.props.tier, runbook)}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        );
    }
  }
}

/** What aws-cdk-lib adds to a function's role that cdk-nag flags, each with why it is needed as it is. */
function acknowledgeFunctionIam(fn: lambda.Function, inVpc: boolean): void {
  const role = fn.role as iam.Role;
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and CloudWatch GetMetricData/PutMetricData support no resource-level permissions; PutMetricData is limited to the MLP/DR namespace by condition.',
  });
  if (inVpc) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'AWS-maintained policy with only the network-interface permissions Lambda needs to place the function in the VPC, where the databases are.',
    });
  }
}

function acknowledgeStateMachineIam(stateMachine: sfn.StateMachine): void {
  Validations.of(stateMachine.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray tracing and CloudWatch Logs delivery for Step Functions support no resource-level permissions (AWS documents Resource "*" for both).',
  });
  const policy = stateMachine.role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  const document = policy
    ? (Stack.of(stateMachine).resolve((policy.node.defaultChild as iam.CfnPolicy).policyDocument) as { Statement: { Resource: unknown }[] })
    : undefined;
  for (const statement of document?.Statement ?? []) {
    for (const resource of [statement.Resource].flat()) {
      const name =
        typeof resource === 'object' && resource && 'Fn::Join' in resource
          ? renderJoin(resource as { 'Fn::Join': [string, unknown[]] })
          : undefined;
      if (name?.endsWith(':*')) {
        Validations.of(stateMachine.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${name}]`,
          reason: 'aws-cdk-lib grants a LambdaInvoke task its one function and that function’s versions and aliases (":*"); nothing else.',
        });
      }
    }
  }
}

function renderJoin(value: { 'Fn::Join': [string, unknown[]] }): string {
  const [separator, parts] = value['Fn::Join'];
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const object = part as Record<string, unknown>;
    if (typeof object.Ref === 'string') return `<${object.Ref}>`;
    if (Array.isArray(object['Fn::GetAtt'])) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
    return JSON.stringify(part);
  };
  return parts.map(render).join(separator);
}

function acknowledgeWildcard(grantee: lambda.Function | iam.Role, resource: string, reason: string): void {
  const role = grantee instanceof lambda.Function ? grantee.role : grantee;
  Validations.of(role ?? grantee).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagResourceName(grantee, resource)}]`, reason });
}

/** Steps EventBridge Scheduler invokes every minute (asynchronously), not a state machine. */
const SCHEDULED_STEPS: ReadonlySet<string> = new Set(['RefreshGate', 'WriteHeartbeats', 'WatchPrimary']);

/** NIST 800-53 rev 5 findings on a runbook function, each with the reason it does not apply. */
function acknowledgeFunctionNist(fn: lambda.Function, name: string, inVpc: boolean): void {
  acknowledgeNist(
    fn,
    'LambdaConcurrency',
    'A runbook step: a few calls per execution, and executions are serialised by the runbook lock; reserving concurrency would hold account capacity for the rare failover and could only throttle it.',
  );
  acknowledgeNist(
    fn,
    'LambdaDLQ',
    SCHEDULED_STEPS.has(name)
      ? 'Invoked every minute by EventBridge Scheduler: a failed run is superseded a minute later, and missed minutes are what the write gate alarm is built to notice; a queue of stale refreshes would serve nothing.'
      : 'Invoked synchronously (by the runbook state machines, or by a runbook step for the database agent): the caller receives every error and retries or catches it; a DLQ only receives failed asynchronous invocations.',
  );
  if (!inVpc) {
    acknowledgeNist(
      fn,
      'LambdaInsideVPC',
      'This step calls only AWS APIs (no resource inside a VPC), in this and other regions; outside a VPC it does not depend on the NAT gateways or endpoints of a region that may be failing.',
    );
  }
}
