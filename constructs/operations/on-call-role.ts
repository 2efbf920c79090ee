import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { RUNBOOK_NAMES } from '../../lib/config/naming';
import { acknowledgeWildcardResource } from '../private/nag';
import { ValidationError } from '../private/validation-error';
import type { IRunbookSet } from '../runbooks';

/** What `principalArns` accepts: an account root, an IAM role or an IAM user. */
const PRINCIPAL_ARN = /^arn:aws:iam::\d{12}:(root|(role|user)\/[\w+=,.@/-]{1,512})$/;
const ROLE_ARN = /^arn:aws:iam::\d{12}:role\//;

/** How recent the MFA sign-in of a principal that can carry one must be: no older than the longest session. */
const MFA_MAX_AGE_SECONDS = 3600;

export interface OnCallRoleProps {
  readonly tier: string;
  /** The region's short code: the role is `mlp-<tier>-<code>-on-call` (IAM names are global, the code keeps regions apart). */
  readonly regionCode: string;
  /**
   * Who may assume the role, by ARN: account roots (`arn:aws:iam::<account>:root`, any principal of that
   * account whose own policy allows `sts:AssumeRole` on this role), users and roles. Account roots and
   * users must come with MFA signed in within the hour; roles cannot carry MFA (see `OnCallRole`).
   * @default - this account's root, with MFA
   */
  readonly principalArns?: readonly string[];
  /**
   * The longest session.
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
  /**
   * The region's runbooks: the role may start each, stop and read its executions.
   * @default - no runbook permission (the region has no runbooks)
   */
  readonly runbooks?: IRunbookSet;
  /**
   * The rule that starts a failover by itself (`mlp-<tier>-<code>-automatic-failover`): the role may
   * disable it (the kill switch), enable and describe it.
   * @default - none (the tier's failovers are started by an operator)
   */
  readonly automaticStart?: events.IRule;
  /** The region's artifact bucket, by name, which holds the runbook reports under `reportPrefix`. */
  readonly reportBucketName: string;
  /**
   * Where the reports are in the bucket.
   * @default 'dr-reports/'
   */
  readonly reportPrefix?: string;
  /** The key the reports are encrypted with: the role may decrypt with it through S3 in this region only. */
  readonly reportKey: kms.IKey;
  /** Dashboards of this stack the role may read. */
  readonly dashboards: readonly cloudwatch.Dashboard[];
  /**
   * Dashboards of other stacks the role may read, by name: a dashboard's ARN has no region
   * (`arn:aws:cloudwatch::<account>:dashboard/<name>`), e.g. the tier's `mlp-<tier>-dr` in the global stack.
   * @default - none
   */
  readonly dashboardNames?: readonly string[];
  /**
   * The alarms of this region the role may read, by name prefix.
   * @default 'mlp-<tier>-' (every alarm of the tier in this region)
   */
  readonly alarmNamePrefix?: string;
}

/**
 * A region's on-call role, `mlp-<tier>-<code>-on-call`: start and stop the region's runbooks and read
 * their executions, switch the automatic failover off and on, read the runbook reports, the dashboards
 * and the alarms; nothing else (no write to any bucket, no other state machine, no IAM).
 *
 * Trust: account roots and users must have signed in with MFA within the last hour
 * (`aws:MultiFactorAuthPresent` and `aws:MultiFactorAuthAge`), which `aws sts assume-role
 * --serial-number --token-code` gives. A role's session carries no MFA key (an IAM Identity Center or
 * SAML sign-in, or a role chained from another, has none in the request), so a role named in
 * `principalArns` is trusted without that condition: it must be one whose own sign-in enforces MFA.
 */
export class OnCallRole extends Construct {
  public readonly role: iam.IRole;

  constructor(scope: Construct, id: string, props: OnCallRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const principalArns = props.principalArns ?? [];
    for (const arn of principalArns) {
      if (!Token.isUnresolved(arn) && !PRINCIPAL_ARN.test(arn)) {
        throw new ValidationError(
          `principalArns: "${arn}" is not an IAM principal ARN; expected arn:aws:iam::<account>:role/<name>, arn:aws:iam::<account>:user/<name> or arn:aws:iam::<account>:root`,
          this,
        );
      }
    }
    const mfa = {
      Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      NumericLessThan: { 'aws:MultiFactorAuthAge': String(MFA_MAX_AGE_SECONDS) },
    };
    const principals: iam.IPrincipal[] =
      principalArns.length === 0
        ? [new iam.AccountRootPrincipal().withConditions(mfa)]
        : principalArns.map((arn) => (ROLE_ARN.test(arn) ? new iam.ArnPrincipal(arn) : new iam.ArnPrincipal(arn).withConditions(mfa)));

    const role = new iam.Role(this, 'Resource', {
      roleName: `mlp-${props.tier}-${props.regionCode}-on-call`,
      description: `On-call in ${stack.region}: start and stop the ${props.tier} runbooks, read their reports, dashboards and alarms`,
      assumedBy: new iam.CompositePrincipal(...principals),
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
    });
    this.role = role;

    if (props.runbooks) this.allowRunbooks(role, props.runbooks);
    if (props.automaticStart) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'AutomaticFailoverKillSwitch',
          actions: ['events:DisableRule', 'events:EnableRule', 'events:DescribeRule'],
          resources: [props.automaticStart.ruleArn],
        }),
      );
    }
    this.allowReports(role, props);
    this.allowDashboardsAndAlarms(role, props);
  }

  /** Start each runbook, stop and read its executions (their ids are chosen at start, hence `<name>:*`). */
  private allowRunbooks(role: iam.Role, runbooks: IRunbookSet): void {
    const grants = [...RUNBOOK_NAMES.map((runbook) => runbooks.grantStartExecution(role, runbook)), runbooks.grantReadExecutions(role)];
    const executions = new Set(
      grants.flatMap((grant) => grant.principalStatements.flatMap((s) => s.resources)).filter((r) => r.includes('*')),
    );
    for (const arn of executions) {
      acknowledgeWildcardResource(
        role,
        arn,
        "The executions of one of this region's runbook state machines (`execution:<name>:*`): an execution's id is chosen when it starts. Stop, describe and read history only.",
      );
    }
  }

  /** Read the reports: get objects and list under the prefix, decrypt with the key through S3 of this region only. */
  private allowReports(role: iam.Role, props: OnCallRoleProps): void {
    const stack = Stack.of(this);
    const prefix = props.reportPrefix ?? 'dr-reports/';
    const bucketArn = stack.formatArn({
      service: 's3',
      region: '',
      account: '',
      resource: props.reportBucketName,
      arnFormat: ArnFormat.NO_RESOURCE_NAME,
    });
    const reports = `${bucketArn}/${prefix}*`;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadReports', actions: ['s3:GetObject'], resources: [reports] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListReports',
        actions: ['s3:ListBucket'],
        resources: [bucketArn],
        conditions: { StringLike: { 's3:prefix': `${prefix}*` } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptReportsThroughS3',
        actions: ['kms:Decrypt'],
        resources: [props.reportKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.${stack.urlSuffix}` } },
      }),
    );
    acknowledgeWildcardResource(
      role,
      reports,
      `The runbook reports, whose names each execution makes (${prefix}<state machine>/<execution>...); read only, nothing else in the bucket.`,
    );
  }

  /** Read the dashboards and this region's alarms of the tier; the metrics the dashboards graph. */
  private allowDashboardsAndAlarms(role: iam.Role, props: OnCallRoleProps): void {
    const stack = Stack.of(this);
    const dashboardArns = [
      ...props.dashboards.map((dashboard) => dashboard.dashboardArn),
      ...(props.dashboardNames ?? []).map((name) =>
        stack.formatArn({ service: 'cloudwatch', region: '', resource: 'dashboard', resourceName: name }),
      ),
    ];
    if (dashboardArns.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'ReadDashboards', actions: ['cloudwatch:GetDashboard'], resources: dashboardArns }),
      );
    }
    const alarms = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${props.alarmNamePrefix ?? `mlp-${props.tier}-`}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // DescribeAlarms and DescribeAlarmHistory require the alarm resource type (Service Authorization Reference).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAlarms',
        actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
        resources: [alarms],
      }),
    );
    acknowledgeWildcardResource(
      role,
      alarms,
      "This tier's alarms in this region, named by several constructs under one prefix; describe and read history only.",
    );
    // ListDashboards names no resource type in the Service Authorization Reference, and GetMetricData
    // only the optional dataset type: a metric query has no ARN. Both are read-only.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListDashboardsAndReadMetrics',
        actions: ['cloudwatch:ListDashboards', 'cloudwatch:GetMetricData'],
        resources: ['*'],
      }),
    );
    acknowledgeWildcardResource(
      role,
      '*',
      'cloudwatch:ListDashboards and cloudwatch:GetMetricData (metric queries) support no resource-level permission (Service Authorization Reference); both read only.',
    );
  }
}
