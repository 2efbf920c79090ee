import { Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { cloudWatchAlarmArnPattern } from '../private/kms';

export interface PagingTopicProps {
  readonly tier: string;
  /** The region's short code, e.g. `usw2`: the topic is `mlp-<tier>-<code>-paging`. */
  readonly regionCode: string;
  /**
   * A key of the topic's own region, so paging depends on nothing outside the region. Its policy
   * must let `cloudwatch.amazonaws.com` use it (`cloudWatchAlarmsKeyStatement`), or CloudWatch's
   * notifications to the topic are dropped.
   */
  readonly masterKey: kms.IKey;
}

/**
 * A region's paging topic: the one place that region's alarms notify, encrypted with a key of the
 * same region, so losing any other region (us-east-1 included) leaves this one able to page.
 * No subscriptions: operators subscribe the on-call channel to the topic ARN, which the resilience
 * stack publishes as the runbook parameter `/mlp/<tier>/operations/paging-topic-arn` and as an output.
 */
export class PagingTopic extends Construct {
  public readonly topic: sns.Topic;
  /** Notifies this topic; use it as an alarm's alarm and OK action. */
  public readonly alarmAction: cloudwatch.IAlarmAction;

  constructor(scope: Construct, id: string, props: PagingTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `mlp-${props.tier}-${props.regionCode}-paging`,
      displayName: `${props.tier} paging in ${stack.region}`,
      masterKey: props.masterKey,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one: CloudWatch is let in explicitly, for this
    // account's alarms of this region only (confused deputy).
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccountAndRegion',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': cloudWatchAlarmArnPattern(this) },
        },
      }),
    );
    this.alarmAction = new cloudwatchActions.SnsAction(this.topic);
  }

  /** Let `grantee` publish to the topic (and use its key to do so). */
  grantPublish(grantee: iam.IGrantable): iam.Grant {
    return this.topic.grantPublish(grantee);
  }
}
