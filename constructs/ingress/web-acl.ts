import { ArnFormat, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';

/** The AWS managed rule groups every regional API web ACL evaluates, in priority order. */
export const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesCommonRuleSet',
] as const;

/** The metric name (and rule name) of the rate-based rule. */
export const RATE_LIMIT_RULE = 'RateLimitPerClientIp';

/** WAF's bounds on a rate-based rule's limit, per evaluation window. */
const RATE_LIMIT_BOUNDS = { min: 10, max: 2_000_000_000 } as const;

export interface RegionalWebAclProps {
  /** Name of the web ACL, also the prefix of its metric names: letters, digits, `-` and `_`, up to 128. */
  readonly webAclName: string;
  /** The load balancers the web ACL protects. */
  readonly loadBalancers: readonly elbv2.IApplicationLoadBalancer[];
  /**
   * Requests one client IP address may send in any 5-minute window before the rate-based rule
   * blocks it (until its rate falls below the limit again).
   */
  readonly requestsPerIpPer5Minutes: number;
  /**
   * Encrypts the web ACL's request log; its policy must admit CloudWatch Logs of this region
   * (`cloudWatchLogsKeyStatement` in constructs/private/kms.ts).
   */
  readonly logEncryptionKey: kms.IKey;
  /**
   * Retention of the request log.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A WAFv2 web ACL for regional load balancers: AWS's IP reputation, known-bad-inputs and common rule
 * groups, and a per-client-IP rate limit. Every rule publishes CloudWatch metrics (`metricBlockedRequests`,
 * `metricCountedRequests`) and sampled requests; every request is logged to an encrypted log group.
 */
export class RegionalWebAcl extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;
  /** The request log; WAF requires the `aws-waf-logs-` prefix, so it has a physical name. */
  public readonly logGroup: logs.LogGroup;
  private readonly webAclName: string;

  constructor(scope: Construct, id: string, props: RegionalWebAclProps) {
    super(scope, id);
    validate(this, props);
    this.webAclName = props.webAclName;
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });

    const rateRule: wafv2.CfnWebACL.RuleProperty = {
      name: RATE_LIMIT_RULE,
      priority: 0,
      action: { block: {} },
      statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: props.requestsPerIpPer5Minutes, evaluationWindowSec: 300 } },
      visibilityConfig: visibility(RATE_LIMIT_RULE),
    };
    const managedRules = MANAGED_RULE_GROUPS.map(
      (name, index): wafv2.CfnWebACL.RuleProperty => ({
        name,
        priority: 10 * (index + 1),
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
        visibilityConfig: visibility(name),
      }),
    );

    this.webAcl = new wafv2.CfnWebACL(this, 'Resource', {
      name: props.webAclName,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      rules: [rateRule, ...managedRules],
      visibilityConfig: visibility(props.webAclName),
    });

    props.loadBalancers.forEach((loadBalancer, index) => {
      new wafv2.CfnWebACLAssociation(this, `Association${index + 1}`, {
        resourceArn: loadBalancer.loadBalancerArn,
        webAclArn: this.webAcl.attrArn,
      });
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `aws-waf-logs-${props.webAclName}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // WAF wants the log group's ARN without the `:*` suffix of its CloudFormation attribute.
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: this.logGroup.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      // Authorization headers and cookies carry credentials; they never reach the log.
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
    });
  }

  /**
   * Requests blocked by the web ACL, or by one of its rules (`RATE_LIMIT_RULE` or a name of
   * `MANAGED_RULE_GROUPS`), summed per period.
   */
  metricBlockedRequests(rule?: string, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('BlockedRequests', rule, options);
  }

  /** Requests a rule matched in count mode (rules of managed groups overridden to count), summed per period. */
  metricCountedRequests(rule?: string, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('CountedRequests', rule, options);
  }

  /** Requests the web ACL let through, summed per period. */
  metricAllowedRequests(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('AllowedRequests', undefined, options);
  }

  private metric(metricName: string, rule: string | undefined, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/WAFV2',
      metricName,
      dimensionsMap: { WebACL: this.webAclName, Region: Stack.of(this).region, Rule: rule ?? 'ALL' },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(1),
      ...options,
    });
  }
}

function validate(scope: Construct, props: RegionalWebAclProps): void {
  if (!Token.isUnresolved(props.webAclName) && !/^[\w-]{1,128}$/.test(props.webAclName)) {
    throw new ValidationError(`webAclName must be 1-128 letters, digits, - or _, got ${props.webAclName}`, scope);
  }
  const limit = props.requestsPerIpPer5Minutes;
  if (!Number.isInteger(limit) || limit < RATE_LIMIT_BOUNDS.min || limit > RATE_LIMIT_BOUNDS.max) {
    throw new ValidationError(
      `requestsPerIpPer5Minutes must be a whole number from ${RATE_LIMIT_BOUNDS.min} to ${RATE_LIMIT_BOUNDS.max}, got ${limit}`,
      scope,
    );
  }
  if (props.loadBalancers.length === 0) throw new ValidationError('loadBalancers must list at least one load balancer', scope);
}
