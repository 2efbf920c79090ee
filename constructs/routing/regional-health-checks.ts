import { Duration, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { accountKeyPolicy } from '../private/kms';
import { ValidationError } from '../private/validation-error';
import { DNS_LABEL_PATTERN, regionalApiDomainName } from './host-names';
import { validateRegions } from './validation';

/** The only region where Route 53 publishes its CloudWatch metrics, so the only place to alarm on them. */
export const ROUTE53_METRICS_REGION = 'us-east-1';
/** Route 53 health checkers probe every 10 s ("fast") or every 30 s ("standard"); nothing else. */
export const HEALTH_CHECK_INTERVALS_SECONDS: readonly number[] = [10, 30];
/** Route 53's range for the consecutive results that flip a health check's status. */
export const MIN_FAILURE_THRESHOLD = 1;
export const MAX_FAILURE_THRESHOLD = 10;
/** Path every region's load balancer answers with 2xx while the region can serve. */
export const HEALTH_PATH = '/health';
export const HTTPS_PORT = 443;

/** A region that serves the platform's endpoints. */
export interface RoutedRegion {
  /** Region name, e.g. `us-east-1`. */
  readonly name: string;
  /** Short code in the region's DNS names, e.g. `use1` in `api.use1.<domain>`. */
  readonly code: string;
}

/** Where one region answers, and the health check that says whether it can. */
export interface RegionalEndpoint {
  /** Region name, e.g. `us-east-1`. */
  readonly region: string;
  /** `api.<code>.<domain>`, the region's load balancer. */
  readonly domainName: string;
  readonly healthCheck: route53.IHealthCheck;
}

export interface RegionalHealthChecksProps {
  /** The regions to check, in failover order: the first is the primary. */
  readonly regions: readonly RoutedRegion[];
  /** Domain the regional API names live under, e.g. `ml.example.com`. */
  readonly domain: string;
  /** Prefix of the health checks' `Name` tags and of the alarm names, e.g. `mlp-tier1`. */
  readonly namePrefix: string;
  /** Time between two probes of each Route 53 health checker: 10 or 30 seconds. */
  readonly requestInterval: Duration;
  /** Consecutive failed (or passed) probes that make a region unhealthy (or healthy again): 1 to 10. */
  readonly failureThreshold: number;
  /**
   * Period of the unhealthy alarm; the alarm fires when the check was unhealthy during one period.
   * @default Duration.minutes(1), the resolution Route 53 publishes `HealthCheckStatus` at
   */
  readonly alarmPeriod?: Duration;
}

/**
 * One Route 53 HTTPS health check per region on `https://api.<code>.<domain>/health`, and an alarm
 * per check that notifies a KMS-encrypted SNS topic when the region turns unhealthy and when it
 * recovers. Subscribe the on-call channel to `alarmTopic`.
 *
 * Must live in us-east-1: Route 53 publishes its metrics there only.
 */
export class RegionalHealthChecks extends Construct {
  /** One per region, in the order of `regions`. */
  public readonly endpoints: readonly RegionalEndpoint[];
  /** One per region, in the order of `regions`. */
  public readonly alarms: readonly cloudwatch.Alarm[];
  public readonly alarmTopic: sns.Topic;
  public readonly alarmTopicKey: kms.Key;

  constructor(scope: Construct, id: string, props: RegionalHealthChecksProps) {
    super(scope, id);
    validate(this, props);

    // The AWS-managed alias/aws/sns key has a fixed policy that does not let CloudWatch use it, so
    // alarm notifications to a topic encrypted with it would be dropped.
    this.alarmTopicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts ${props.namePrefix} regional health notifications`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: accountKeyPolicy(),
    });
    // No confused-deputy conditions here: the key encrypts only this topic, and the topic policy
    // below already limits publishing to this stack's alarms. AWS documents the unconditioned form
    // for service principals publishing to encrypted topics.
    this.alarmTopicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${props.namePrefix} regional health`,
      masterKey: this.alarmTopicKey,
      enforceSSL: true,
    });

    const period = props.alarmPeriod ?? Duration.minutes(1);
    const endpoints: RegionalEndpoint[] = [];
    const alarms: cloudwatch.Alarm[] = [];
    for (const region of props.regions) {
      const scope = new Construct(this, region.name);
      const domainName = regionalApiDomainName(region.code, props.domain);
      const name = `${props.namePrefix}-api-${region.code}`;
      const healthCheck = new route53.HealthCheck(scope, 'HealthCheck', {
        type: route53.HealthCheckType.HTTPS,
        fqdn: domainName,
        port: HTTPS_PORT,
        enableSNI: true,
        resourcePath: HEALTH_PATH,
        requestInterval: props.requestInterval,
        failureThreshold: props.failureThreshold,
        measureLatency: true,
      });
      Tags.of(healthCheck).add('Name', name);

      const alarm = new cloudwatch.Alarm(scope, 'UnhealthyAlarm', {
        alarmName: `${name}-unhealthy`,
        alarmDescription: `Route 53 health check of https://${domainName}${HEALTH_PATH} failed: ${region.name} is out of DNS answers.`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Route53',
          metricName: 'HealthCheckStatus',
          dimensionsMap: { HealthCheckId: healthCheck.healthCheckId },
          statistic: cloudwatch.Stats.MINIMUM,
          period,
        }),
        // HealthCheckStatus is 1 while healthy and 0 while unhealthy.
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        // Missing data is not an outage (a new check has none yet): the alarm waits in INSUFFICIENT_DATA.
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
      alarm.addOkAction(new cloudwatchActions.SnsAction(this.alarmTopic));

      endpoints.push({ region: region.name, domainName, healthCheck });
      alarms.push(alarm);
    }
    this.endpoints = endpoints;
    this.alarms = alarms;

    // The topic policy replaces SNS's default one, so CloudWatch needs an explicit grant; it is
    // limited to this construct's alarms.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowHealthAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': alarms.map((alarm) => alarm.alarmArn) },
        },
      }),
    );
  }

  /** The endpoint of `region` (a region name). */
  endpoint(region: string): RegionalEndpoint {
    const endpoint = this.endpoints.find((e) => e.region === region);
    if (!endpoint) throw new ValidationError(`no health check for region ${region}`, this);
    return endpoint;
  }
}

function validate(scope: Construct, props: RegionalHealthChecksProps): void {
  const fail = (message: string) => {
    throw new ValidationError(message, scope);
  };
  const stackRegion = Stack.of(scope).region;
  if (!Token.isUnresolved(stackRegion) && stackRegion !== ROUTE53_METRICS_REGION) {
    fail(`must be deployed in ${ROUTE53_METRICS_REGION}, where Route 53 publishes health check metrics; this stack is in ${stackRegion}`);
  }
  validateRegions(scope, props.regions);
  for (const region of props.regions) {
    if (!DNS_LABEL_PATTERN.test(region.code)) {
      fail(`region code "${region.code}" of ${region.name} is not a DNS label: expected 1-63 lower-case letters, digits and inner hyphens`);
    }
  }
  const interval = props.requestInterval.toSeconds({ integral: false });
  if (!HEALTH_CHECK_INTERVALS_SECONDS.includes(interval)) {
    fail(`requestInterval must be 10 or 30 seconds (the only intervals Route 53 offers), got ${interval} seconds`);
  }
  const threshold = props.failureThreshold;
  if (!Number.isInteger(threshold) || threshold < MIN_FAILURE_THRESHOLD || threshold > MAX_FAILURE_THRESHOLD) {
    fail(`failureThreshold must be an integer from ${MIN_FAILURE_THRESHOLD} to ${MAX_FAILURE_THRESHOLD}, got ${threshold}`);
  }
}
