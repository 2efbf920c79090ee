import { Duration, Stack } from 'aws-cdk-lib';
import type * as fis from 'aws-cdk-lib/aws-fis';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeWildcardResource } from '../private/nag';
import { ValidationError } from '../private/validation-error';

/** The runbooks a game day starts, the region's own (`RunbookSet` is one). */
export interface GameDayRunbooks {
  readonly regionFailover: sfn.IStateMachine;
  readonly failback: sfn.IStateMachine;
  readonly azFailover: sfn.IStateMachine;
}

export interface GameDaysProps {
  readonly tier: string;
  /** The region the schedules run in, and the runbooks act on. */
  readonly region: string;
  /** The region's short code: every schedule is `mlp-<tier>-<code>-game-day-<what>`. */
  readonly regionCode: string;
  /** The region's runbooks. */
  readonly runbooks: GameDayRunbooks;
  /**
   * EventBridge Scheduler expression (UTC) of the planned switchover to this region:
   * `RegionFailover` with `{"mode":"planned","targetRegion":<this region>}`.
   * @default - no switchover starts here
   */
  readonly switchoverSchedule?: string;
  /**
   * The schedule of the switchover away from this region: `Failback` with
   * `{"formerPrimary":<this region>}` starts `failbackDelay` later the same day.
   * @default - no failback starts here
   */
  readonly failbackAfter?: string;
  /**
   * How long after the switchover the failback starts.
   * @default Duration.hours(6) - [ours] room, inside the working day, for what must happen in between: on RDS the deploy that re-protects the former primary (`-c rebuiltReplicas`, a new cross-region replica) and its catching up; on Aurora the former primary rejoining the global database by itself. The failback waits (NotReady) for the replica to catch up within the RPO, and refuses a region not re-protected.
   */
  readonly failbackDelay?: Duration;
  /**
   * Schedule (UTC) of the AZ game day in this region: `faultExperiment` starts then, and the
   * `AzFailover` runbook (`{}`) `runbookDelay` later.
   * @default - no AZ game day here
   */
  readonly azFailoverSchedule?: string;
  /**
   * An AWS FIS experiment template of this region that injects the fault the AZ failover answers
   * (the database's failover to its standby). Started with `aws-sdk:fis:startExperiment`, whose
   * client token is the scheduled time, so a retried invocation cannot start a second experiment.
   * @default - no fault is injected: the runbook starts at `azFailoverSchedule`
   */
  readonly faultExperiment?: fis.CfnExperimentTemplate;
  /**
   * How long after the fault the AZ failover runbook starts.
   * @default Duration.minutes(30) - [ours] well past the injected failover (RDS Multi-AZ 60-120 s, Aurora under a minute, DISASTER-RECOVERY.md facts table) and the 2-3 minute windows of the region's alarms, so the runbook starts on a settled database and its report measures its own failover, not the fault's
   */
  readonly runbookDelay?: Duration;
}

const DEFAULT_FAILBACK_DELAY = Duration.hours(6);
const DEFAULT_RUNBOOK_DELAY = Duration.minutes(30);
const MINUTES_PER_DAY = 24 * 60;

/**
 * `expression`, an EventBridge Scheduler `cron(...)` with a fixed minute and hour, moved `by` later
 * the same day (UTC). Fails when that would cross midnight, which would move the day fields too.
 */
export function laterSameDay(expression: string, by: Duration, scope: IConstruct): string {
  const match = /^cron\((\d{1,2}) (\d{1,2}) (\S+ \S+ \S+ \S+)\)$/.exec(expression);
  if (!match) {
    throw new ValidationError(`${expression} is not a cron(<minute> <hour> ...) expression with a fixed minute and hour`, scope);
  }
  const minutes = by.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < 0) throw new ValidationError(`a delay must be whole minutes, got ${minutes}`, scope);
  const at = Number(match[2]) * 60 + Number(match[1]) + minutes;
  if (at >= MINUTES_PER_DAY) {
    throw new ValidationError(
      `${expression} plus ${minutes} minutes crosses midnight (UTC); the later step must fall on the same day`,
      scope,
    );
  }
  return `cron(${at % 60} ${Math.floor(at / 60)} ${match[3]})`;
}

/**
 * The game days of one region, on EventBridge Scheduler, each step starting the runbook an operator
 * would start, in the region docs/operations.md says to start it in, with the input it documents:
 * - the planned switchover to the home region's successor (`switchoverSchedule`, there), and its
 *   failback `failbackDelay` later the same day (`failbackAfter`, in the home region);
 * - the AZ game day in the primary (`azFailoverSchedule`): the database's failover injected by AWS
 *   FIS (`faultExperiment`, with the region's alarms as stop conditions), then the `AzFailover`
 *   runbook `runbookDelay` later, which fails the database over again and tests the cache's failover,
 *   each measured.
 *
 * Each runbook writes its report where every runbook report goes (`dr-reports/` in the region's
 * artifact bucket) and pages on failure like any execution, so a game day needs nothing of its own
 * to be watched. The other FIS templates (the cache's zone losing power, the cross-region
 * disruption) are not scheduled: which zone holds the cache's primary changes with every failover,
 * and the disruption needs the account's route quota raised first; an operator starts them during a
 * game day. Each schedule has its own role, trusted by Scheduler for this account only, that may
 * start its one target.
 */
export class GameDays extends Construct {
  /** Every schedule, by name. */
  public readonly schedules: ReadonlyMap<string, scheduler.Schedule>;
  private readonly created = new Map<string, scheduler.Schedule>();

  constructor(
    scope: Construct,
    id: string,
    private readonly props: GameDaysProps,
  ) {
    super(scope, id);
    this.schedules = this.created;
    const { region, runbooks } = props;
    if (props.faultExperiment && !props.azFailoverSchedule) {
      throw new ValidationError('faultExperiment needs azFailoverSchedule: the fault is injected on the AZ game day', this);
    }
    if (props.switchoverSchedule) {
      this.startRunbook(
        'Switchover',
        'switchover',
        props.switchoverSchedule,
        runbooks.regionFailover,
        { mode: 'planned', targetRegion: region },
        `Game day: planned switchover of the primary to ${region}`,
      );
    }
    if (props.failbackAfter) {
      this.startRunbook(
        'Failback',
        'failback',
        laterSameDay(props.failbackAfter, props.failbackDelay ?? DEFAULT_FAILBACK_DELAY, this),
        runbooks.failback,
        { formerPrimary: region },
        `Game day: failback of the primary to ${region}, the day's switchover undone`,
      );
    }
    if (props.azFailoverSchedule) {
      let runbookAt = props.azFailoverSchedule;
      if (props.faultExperiment) {
        this.startExperiment(props.azFailoverSchedule, props.faultExperiment);
        runbookAt = laterSameDay(props.azFailoverSchedule, props.runbookDelay ?? DEFAULT_RUNBOOK_DELAY, this);
      }
      this.startRunbook(
        'AzFailover',
        'az-failover',
        runbookAt,
        runbooks.azFailover,
        {},
        `Game day: AZ failover of the database and cache of ${region}`,
      );
    }
  }

  private scheduleName(what: string): string {
    return `mlp-${this.props.tier}-${this.props.regionCode}-game-day-${what}`;
  }

  private role(id: string, what: string): iam.Role {
    return new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Starts the game day step ${this.scheduleName(what)}`,
    });
  }

  private startRunbook(id: string, what: string, expression: string, machine: sfn.IStateMachine, input: object, description: string): void {
    const scheduleName = this.scheduleName(what);
    const schedule = new scheduler.Schedule(this, id, {
      scheduleName,
      schedule: scheduler.ScheduleExpression.expression(expression),
      target: new schedulerTargets.StepFunctionsStartExecution(machine, {
        input: scheduler.ScheduleTargetInput.fromObject(input),
        retryAttempts: 3,
        role: this.role(id, what),
      }),
      description,
    });
    this.created.set(scheduleName, schedule);
  }

  private startExperiment(expression: string, template: fis.CfnExperimentTemplate): void {
    const stack = Stack.of(this);
    const scheduleName = this.scheduleName('fault');
    const templateArn = stack.formatArn({ service: 'fis', resource: 'experiment-template', resourceName: template.ref });
    const experiments = stack.formatArn({ service: 'fis', resource: 'experiment', resourceName: '*' });
    const role = this.role('Fault', 'fault');
    acknowledgeWildcardResource(
      role,
      experiments,
      "fis:StartExperiment authorizes the experiment it creates, whose id does not exist before; the template it may start is named, and this account's experiments of this region are the only others.",
    );
    const schedule = new scheduler.Schedule(this, 'Fault', {
      scheduleName,
      schedule: scheduler.ScheduleExpression.expression(expression),
      target: new schedulerTargets.Universal({
        service: 'fis',
        action: 'startExperiment',
        // The FIS API's own member names (StartExperiment request syntax). The token is the same for
        // every attempt of one invocation and differs between invocations: one experiment per game day.
        input: scheduler.ScheduleTargetInput.fromObject({
          experimentTemplateId: template.ref,
          clientToken: `game-day-${scheduler.ContextAttribute.scheduledTime}`,
        }),
        // StartExperiment authorizes the template and the experiment it creates (Service Authorization Reference).
        policyStatements: [
          new iam.PolicyStatement({
            actions: ['fis:StartExperiment'],
            resources: [templateArn, experiments],
          }),
        ],
        retryAttempts: 3,
        role,
      }),
      description: 'Game day: inject the fault the AZ failover answers (AWS FIS experiment)',
    });
    this.created.set(scheduleName, schedule);
  }
}
