import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as fis from 'aws-cdk-lib/aws-fis';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DatabaseEngine } from '../../lib/config/types';
import { nagResourceName } from '../private/nag';
import { ValidationError } from '../private/validation-error';

/**
 * FIS's quota of stop conditions per experiment template (Service Quotas, AWS Fault Injection
 * Service, L-872EC72B, not adjustable).
 */
export const MAX_STOP_CONDITIONS = 5;

/**
 * The FIS action ids used here, each as the AWS FIS User Guide's actions reference documents it
 * (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html): its resource type,
 * its parameters and the permissions its experiment role needs.
 */
export const FIS_ACTIONS = {
  /**
   * "Interrupts power to nodes in the specified Availability Zone for target ElastiCache replication
   * groups with Multi-AZ enabled"; resource type `aws:elasticache:replicationgroup`, parameter
   * `duration`; permissions `elasticache:InterruptClusterAzPower`, `elasticache:DescribeReplicationGroups`,
   * `tag:GetResources` (#replicationgroup-interrupt-az-power).
   */
  cacheAzPower: 'aws:elasticache:replicationgroup-interrupt-az-power',
  /**
   * Runs `RebootDBInstance` on the target instance; resource type `aws:rds:db`, parameter
   * `forceFailover` ("if instances are Multi-AZ, forces failover from one Availability Zone to
   * another"); permissions `rds:RebootDBInstance`, `rds:DescribeDBInstances`, `tag:GetResources`
   * (#reboot-db-instances).
   */
  rdsRebootWithFailover: 'aws:rds:reboot-db-instances',
  /**
   * Runs `FailoverDBCluster` on the target Aurora cluster; resource type `aws:rds:cluster`, no
   * parameters; permissions `rds:FailoverDBCluster`, `rds:DescribeDBClusters`, `tag:GetResources`
   * (#failover-db-cluster).
   */
  auroraFailover: 'aws:rds:failover-db-cluster',
  /**
   * "Blocks traffic that originates in the target subnets and is destined for the specified Region"
   * by associating route tables FIS creates (tagged `managedByFIS=true`) with them; resource type
   * `aws:ec2:subnet`, parameters `region` and `duration`; the account's quota of routes per route
   * table must first be raised to 250 (350 when `region` is us-east-1) plus the routes of the
   * subnets' own tables (#route-table-disrupt-cross-region-connectivity).
   */
  crossRegionDisruption: 'aws:network:route-table-disrupt-cross-region-connectivity',
} as const;

/** The region's cache, whose nodes in one zone lose power. */
export interface CacheFaultTarget {
  /** The replication group's id, e.g. `mlp-dev-cache-use1`: the experiment role may act on it and on nothing else. */
  readonly replicationGroupId: string;
  /**
   * Tags that select that group, and only it, among this account's groups of this region. FIS
   * resolves this action's target by tags only: it rejects `resourceArns` and filters for
   * `aws:elasticache:replicationgroup` (the AWS sample library's ElastiCache AZ power interruption
   * template, validated against a live group, aws-samples/fis-template-library PR #30). Whatever
   * else the tags matched, the role's only `InterruptClusterAzPower` grant names this group's ARN.
   * The group must carry them in its own `Tags`: CloudFormation does not propagate stack tags to
   * replication groups (cloudformation-coverage-roadmap issues 2009, 2125).
   */
  readonly selectionTags: Readonly<Record<string, string>>;
  /**
   * The zones the group's subnets are in: one template per zone, since the action needs the zone
   * (`availabilityZoneIdentifier`, FIS User Guide, targets, resource parameters) and which zone holds
   * the primary node changes with every failover; the operator starts the one that holds it.
   */
  readonly availabilityZones: readonly string[];
}

/** The region's writable database, failed over to its standby in another zone. */
export interface DatabaseFaultTarget {
  /** `rds-postgresql`: a Multi-AZ instance rebooted with failover; `aurora-postgresql-global`: the region's cluster failed over. */
  readonly engine: DatabaseEngine;
  /** The instance identifier (RDS) or the cluster identifier (Aurora). */
  readonly identifier: string;
}

/** Subnets cut off from another region. */
export interface CrossRegionFaultTarget {
  /** The VPC of the subnets: the route tables the role may create, associate and delete are this VPC's only. */
  readonly vpc: ec2.IVpc;
  /** The subnets whose traffic to `region` is blocked. */
  readonly subnets: readonly ec2.ISubnet[];
  /** The region to isolate them from, e.g. `us-west-2`. */
  readonly region: string;
}

export interface FaultInjectionProps {
  readonly tier: string;
  /** The region's short code: each template is tagged `Name: mlp-<tier>-<code>-<fault>`. */
  readonly regionCode: string;
  /**
   * The stop conditions of every template: alarms of this region, 1 to 5 (FIS's quota). Any of them
   * in ALARM stops a running experiment, and an experiment does not start while one is.
   */
  readonly stopAlarms: readonly cloudwatch.IAlarm[];
  /** @default - no cache experiments */
  readonly cache?: CacheFaultTarget;
  /** @default - no database experiment */
  readonly database?: DatabaseFaultTarget;
  /** @default - no cross-region disruption */
  readonly crossRegion?: CrossRegionFaultTarget;
  /** Encrypts the experiment log group; its policy must admit CloudWatch Logs of this region (`cloudWatchLogsKeyStatement`). */
  readonly logEncryptionKey: kms.IKey;
  /**
   * Retention of the experiment log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How long the cache's zone stays without power and the subnets stay cut off.
   * @default Duration.minutes(10) - [ours] longer than the platform's 3-minute alarm windows and than the 60 s write-lease bound, so a fault that would page or cost the primary its lease does so before it ends; FIS's own example for this cache action uses 10 minutes too
   */
  readonly faultDuration?: Duration;
}

const DEFAULT_FAULT_DURATION = Duration.minutes(10);

/** The tag FIS puts on what it creates for the cross-region disruption, and removes afterwards (actions reference). */
const FIS_MANAGED = 'managedByFIS';

/**
 * AWS FIS experiment templates (L1 `CfnExperimentTemplate`, the only form CDK has) for the faults
 * FIS can inject into one region's platform: the cache's nodes of one zone losing power, the
 * database failing over to its standby, and the region's subnets cut off from another region.
 *
 * Every template targets this tier's resources of this region only: the database and the subnets by
 * ARN, the cache by tags (see `CacheFaultTarget.selectionTags`); each has its own role, trusted by
 * `fis.amazonaws.com` for this account's experiments of this region only, whose every write names
 * those ARNs, or resources FIS itself creates and tags in this VPC, where the Service Authorization
 * Reference allows no narrower resource. Stop conditions are the region's own alarms; no target may
 * resolve empty (`emptyTargetResolutionMode: fail`); experiments log to one log group of the region,
 * encrypted with its key. Nothing here starts an experiment: a game day schedule or an operator does
 * (`aws fis start-experiment --experiment-template-id <id>`).
 */
export class FaultInjection extends Construct {
  /** Where every experiment of these templates logs (FIS log schema 2). */
  public readonly logGroup: logs.LogGroup;
  /** One cache AZ power interruption per zone, by zone name. */
  public readonly cacheAzPower: ReadonlyMap<string, fis.CfnExperimentTemplate>;
  /** The database's failover to its standby. */
  public readonly databaseFailover?: fis.CfnExperimentTemplate;
  /** The subnets cut off from `crossRegion.region`. */
  public readonly crossRegionDisruption?: fis.CfnExperimentTemplate;
  /** Every template, in creation order. */
  public readonly templates: readonly fis.CfnExperimentTemplate[];

  private readonly created: fis.CfnExperimentTemplate[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: FaultInjectionProps,
  ) {
    super(scope, id);
    this.validate();
    this.templates = this.created;
    // A generated name: the group is retained, and the templates follow the primary, so a region that
    // is primary again after a failback must not meet its old group's name.
    this.logGroup = new logs.LogGroup(this, 'Log', {
      encryptionKey: props.logEncryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const cacheAzPower = new Map<string, fis.CfnExperimentTemplate>();
    if (props.cache) {
      for (const [index, zone] of props.cache.availabilityZones.entries()) {
        cacheAzPower.set(zone, this.addCacheAzPower(`CacheAzPower${index + 1}`, props.cache, zone));
      }
    }
    this.cacheAzPower = cacheAzPower;
    if (props.database) this.databaseFailover = this.addDatabaseFailover(props.database);
    if (props.crossRegion) this.crossRegionDisruption = this.addCrossRegionDisruption(props.crossRegion);
  }

  private validate(): void {
    const { stopAlarms, cache, crossRegion } = this.props;
    if (stopAlarms.length < 1 || stopAlarms.length > MAX_STOP_CONDITIONS) {
      throw new ValidationError(
        `stopAlarms must hold 1 to ${MAX_STOP_CONDITIONS} alarms (FIS's quota per template), got ${stopAlarms.length}`,
        this,
      );
    }
    const region = Stack.of(this).region;
    for (const alarm of stopAlarms) {
      const alarmRegion = alarm.env.region;
      if (!Token.isUnresolved(alarmRegion) && !Token.isUnresolved(region) && alarmRegion !== region) {
        throw new ValidationError(
          `stop alarm ${alarm.node.path} is in ${alarmRegion}; a stop condition must be an alarm of ${region}`,
          this,
        );
      }
    }
    if (cache && Object.keys(cache.selectionTags).length === 0) {
      throw new ValidationError('cache.selectionTags must name at least one tag: FIS selects the group by tags only', this);
    }
    if (cache && cache.availabilityZones.length === 0) {
      throw new ValidationError('cache.availabilityZones must name at least one zone', this);
    }
    if (crossRegion && crossRegion.subnets.length === 0) {
      throw new ValidationError('crossRegion.subnets must name at least one subnet', this);
    }
    if (crossRegion && !Token.isUnresolved(region) && crossRegion.region === region) {
      throw new ValidationError(`crossRegion.region must be another region than ${region}`, this);
    }
    const minutes = (this.props.faultDuration ?? DEFAULT_FAULT_DURATION).toMinutes({ integral: false });
    if (minutes < 1 || minutes > 12 * 60 || !Number.isInteger(minutes)) {
      throw new ValidationError(
        `faultDuration must be whole minutes from 1 minute to 12 hours (FIS's action duration), got ${minutes} minutes`,
        this,
      );
    }
  }

  private get duration(): string {
    return (this.props.faultDuration ?? DEFAULT_FAULT_DURATION).toIsoString();
  }

  private addCacheAzPower(id: string, cache: CacheFaultTarget, zone: string): fis.CfnExperimentTemplate {
    const groupArn = Stack.of(this).formatArn({
      service: 'elasticache',
      resource: 'replicationgroup',
      resourceName: cache.replicationGroupId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return this.template(id, {
      name: `cache-az-power-${zone}`,
      description: `Interrupts power to the nodes of ${cache.replicationGroupId} in ${zone} for ${this.duration}; the zone's primary fails over to a replica in another zone`,
      statements: [
        new iam.PolicyStatement({
          actions: ['elasticache:InterruptClusterAzPower', 'elasticache:DescribeReplicationGroups'],
          resources: [groupArn],
        }),
      ],
      targets: {
        ReplicationGroups: {
          resourceType: 'aws:elasticache:replicationgroup',
          resourceTags: { ...cache.selectionTags },
          parameters: { availabilityZoneIdentifier: zone },
          selectionMode: 'ALL',
        },
      },
      action: {
        name: 'InterruptAzPower',
        actionId: FIS_ACTIONS.cacheAzPower,
        parameters: { duration: this.duration },
        target: 'ReplicationGroups',
      },
    });
  }

  private addDatabaseFailover(database: DatabaseFaultTarget): fis.CfnExperimentTemplate {
    const stack = Stack.of(this);
    if (database.engine === 'aurora-postgresql-global') {
      const clusterArn = stack.formatArn({
        service: 'rds',
        resource: 'cluster',
        resourceName: database.identifier,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      return this.template('DatabaseFailover', {
        name: 'database-failover',
        description: `Fails ${database.identifier} over to the other instance of its writer pair (FailoverDBCluster)`,
        statements: [new iam.PolicyStatement({ actions: ['rds:FailoverDBCluster', 'rds:DescribeDBClusters'], resources: [clusterArn] })],
        targets: { Clusters: { resourceType: 'aws:rds:cluster', resourceArns: [clusterArn], selectionMode: 'ALL' } },
        action: { name: 'FailOver', actionId: FIS_ACTIONS.auroraFailover, target: 'Clusters' },
      });
    }
    const instanceArn = stack.formatArn({
      service: 'rds',
      resource: 'db',
      resourceName: database.identifier,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return this.template('DatabaseFailover', {
      name: 'database-failover',
      description: `Reboots ${database.identifier} with a forced Multi-AZ failover to its standby in another zone`,
      statements: [new iam.PolicyStatement({ actions: ['rds:RebootDBInstance', 'rds:DescribeDBInstances'], resources: [instanceArn] })],
      targets: { DBInstances: { resourceType: 'aws:rds:db', resourceArns: [instanceArn], selectionMode: 'ALL' } },
      action: {
        name: 'RebootWithFailover',
        actionId: FIS_ACTIONS.rdsRebootWithFailover,
        parameters: { forceFailover: 'true' },
        target: 'DBInstances',
      },
    });
  }

  /**
   * The permissions the actions reference lists for the action, each on the narrowest resource the
   * Service Authorization Reference allows: the subnets by ARN; route tables, network interfaces
   * and prefix lists that FIS creates only with its `managedByFIS` tag, and route tables only in
   * this VPC (`ec2:Vpc`), which covers the subnets' own tables FIS puts back at the end.
   */
  private addCrossRegionDisruption(target: CrossRegionFaultTarget): fis.CfnExperimentTemplate {
    const stack = Stack.of(this);
    const ec2Arn = (resource: string, resourceName: string, account?: string) =>
      stack.formatArn({ service: 'ec2', resource, resourceName, ...(account ? { account } : {}) });
    const vpcArn = ec2Arn('vpc', target.vpc.vpcId);
    const subnetArns = target.subnets.map((subnet) => ec2Arn('subnet', subnet.subnetId));
    const routeTables = ec2Arn('route-table', '*');
    const networkInterfaces = ec2Arn('network-interface', '*');
    const prefixLists = ec2Arn('prefix-list', '*');
    const requestTagged = { [`aws:RequestTag/${FIS_MANAGED}`]: 'true' };
    const tagged = { [`ec2:ResourceTag/${FIS_MANAGED}`]: 'true' };
    const inVpc = { 'ec2:Vpc': vpcArn };
    const statements = [
      new iam.PolicyStatement({
        actions: [
          'ec2:DescribeManagedPrefixLists',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeRouteTables',
          'ec2:DescribeSubnets',
          'ec2:DescribeVpcPeeringConnections',
          'ec2:DescribeVpcs',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({ actions: ['ec2:CreateRouteTable'], resources: [vpcArn] }),
      new iam.PolicyStatement({ actions: ['ec2:CreateRouteTable'], resources: [routeTables], conditions: { StringEquals: requestTagged } }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateTags'],
        resources: [routeTables, networkInterfaces, prefixLists],
        conditions: {
          StringEquals: { ...requestTagged, 'ec2:CreateAction': ['CreateRouteTable', 'CreateNetworkInterface', 'CreateManagedPrefixList'] },
        },
      }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateRoute', 'ec2:DeleteRouteTable', 'ec2:DisassociateRouteTable'],
        resources: [routeTables],
        conditions: { StringEquals: { ...tagged, ...inVpc } },
      }),
      // The subnets' own route tables too: FIS puts them back when the action ends.
      new iam.PolicyStatement({
        actions: ['ec2:AssociateRouteTable', 'ec2:ReplaceRouteTableAssociation'],
        resources: [routeTables],
        conditions: { StringEquals: inVpc },
      }),
      new iam.PolicyStatement({
        actions: [
          'ec2:AssociateRouteTable',
          'ec2:ReplaceRouteTableAssociation',
          'ec2:DisassociateRouteTable',
          'ec2:CreateNetworkInterface',
        ],
        resources: subnetArns,
      }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [networkInterfaces],
        conditions: { StringEquals: requestTagged },
      }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [ec2Arn('security-group', '*')],
        conditions: { StringEquals: inVpc },
      }),
      new iam.PolicyStatement({
        actions: ['ec2:DeleteNetworkInterface'],
        resources: [networkInterfaces],
        conditions: { StringEquals: { ...tagged, ...inVpc } },
      }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateManagedPrefixList'],
        resources: [prefixLists],
        conditions: { StringEquals: requestTagged },
      }),
      new iam.PolicyStatement({
        actions: ['ec2:ModifyManagedPrefixList', 'ec2:DeleteManagedPrefixList'],
        resources: [prefixLists],
        conditions: { StringEquals: tagged },
      }),
      // The region's prefix lists, AWS-managed ones included (owner `aws`): read only.
      new iam.PolicyStatement({ actions: ['ec2:GetManagedPrefixListEntries'], resources: [ec2Arn('prefix-list', '*', '*')] }),
      // FIS adds the route tables it creates to the VPC's gateway endpoints, and takes them out again;
      // the route tables it may add or remove are its own only.
      new iam.PolicyStatement({ actions: ['ec2:ModifyVpcEndpoint'], resources: [ec2Arn('vpc-endpoint', '*')] }),
      new iam.PolicyStatement({ actions: ['ec2:ModifyVpcEndpoint'], resources: [routeTables], conditions: { StringEquals: tagged } }),
    ];
    return this.template('CrossRegionDisruption', {
      name: `cross-region-disruption-${target.region}`,
      description: `Blocks traffic from ${target.subnets.length} subnets of this region to ${target.region} for ${this.duration}`,
      statements,
      targets: { Subnets: { resourceType: 'aws:ec2:subnet', resourceArns: subnetArns, selectionMode: 'ALL' } },
      action: {
        name: 'DisruptCrossRegion',
        actionId: FIS_ACTIONS.crossRegionDisruption,
        parameters: { region: target.region, duration: this.duration },
        target: 'Subnets',
      },
      wildcardReason:
        'The Service Authorization Reference gives the EC2 Describe calls no resource type, and the route tables, network interfaces and prefix lists this action creates have no ARN before it runs: each is allowed only with the managedByFIS tag FIS sets on what it creates, and route tables and network interfaces only in this VPC (ec2:Vpc). The VPC endpoints FIS adds its route tables to are not in this stack; the route tables it may add to them are its own only. Reading prefix lists (AWS-managed ones are owned by "aws") changes nothing.',
    });
  }

  private template(
    id: string,
    spec: {
      name: string;
      description: string;
      statements: iam.PolicyStatement[];
      targets: Record<string, fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty>;
      action: { name: string; actionId: string; parameters?: Record<string, string>; target: string };
      wildcardReason?: string;
    },
  ): fis.CfnExperimentTemplate {
    const stack = Stack.of(this);
    const name = `mlp-${this.props.tier}-${this.props.regionCode}-${spec.name}`;
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('fis.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'fis', resource: 'experiment', resourceName: '*' }) },
        },
      }),
      description: `AWS FIS experiment role of ${name}`,
    });
    for (const statement of spec.statements) role.addToPrincipalPolicy(statement);
    // Target resolution and experiment logging: the actions reference and the CloudWatch Logs User
    // Guide (logs sent to CloudWatch Logs) list these, and they take no resource type.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'tag:GetResources',
          'logs:CreateLogDelivery',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
        resources: ['*'],
      }),
    );
    const reasons = new Map<string, string>([
      [
        '*',
        'tag:GetResources (FIS resolving targets) and the CloudWatch Logs delivery calls (experiment logging) take no resource type in the Service Authorization Reference; every call that changes a target names its ARN.',
      ],
    ]);
    for (const statement of spec.statements) {
      for (const resource of statement.resources) {
        const rendered = nagResourceName(this, resource);
        if (rendered.includes('*') && !reasons.has(rendered)) {
          if (!spec.wildcardReason) throw new Error(`unreachable: ${rendered} in ${name} has no reason`);
          reasons.set(rendered, spec.wildcardReason);
        }
      }
    }
    for (const [resource, reason] of reasons) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    }

    const template = new fis.CfnExperimentTemplate(this, id, {
      description: spec.description,
      roleArn: role.roleArn,
      stopConditions: this.props.stopAlarms.map((alarm) => ({ source: 'aws:cloudwatch:alarm', value: alarm.alarmArn })),
      targets: spec.targets,
      actions: {
        [spec.action.name]: {
          actionId: spec.action.actionId,
          ...(spec.action.parameters ? { parameters: spec.action.parameters } : {}),
          targets: { [spec.action.target]: spec.action.target },
        },
      },
      experimentOptions: { accountTargeting: 'single-account', emptyTargetResolutionMode: 'fail' },
      // CloudWatchLogsConfiguration is untyped in aws-cdk-lib: CloudFormation's own key names.
      logConfiguration: { logSchemaVersion: 2, cloudWatchLogsConfiguration: { LogGroupArn: this.logGroup.logGroupArn } },
      tags: { Name: name },
    });
    // The role's policy must exist before FIS validates the template against it (the role itself is referenced).
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) template.node.addDependency(policy);
    this.created.push(template);
    return template;
  }
}
