import { cacheApplicationUser, postgresGlobalClusterId, runbookNames, WRITE_GATE_METRIC } from '../../lib/config/naming';
import type { DatabaseEngine, TierName } from '../../lib/config/types';

/**
 * The AWS calls the runbook steps make, declared as data: the CDK side generates each step's role
 * from these declarations (`constructs/runbooks`), and the rehearsal checks every call a step makes
 * against them. Resource ARNs follow the IAM Service Authorization Reference for each action.
 */

/**
 * Where a declared resource is: the runbook's own region, the tier's other regions, all of them, all of
 * them and a two-region deployment's witness region (the state tables), or no region in its ARN.
 */
export type Reach = 'own-region' | 'other-regions' | 'every-region' | 'every-state-region' | 'no-region';

/** A resource of the platform, by ARN parts (`Stack.formatArn`), in the regions `reach` says. */
export interface ArnResource {
  readonly service: string;
  readonly resource: string;
  readonly resourceName?: string;
  /** How the resource name joins the resource type in the ARN. */
  readonly separator: '/' | ':' | 'none';
  readonly reach: Reach;
}

/** A resource of the runbook set itself, known only to the construct that creates it. */
export type OwnResource =
  | 'report-objects' // dr-reports/* of the region's artifact bucket
  | 'report-bucket-key' // the key that bucket encrypts with
  | 'report-topic'
  | 'report-topic-key'
  | 'runbook-executions'; // executions of this tier's runbooks in this region

export type DeclaredResource = { readonly arn: ArnResource } | { readonly own: OwnResource } | { readonly any: true };

export interface DeclaredCall {
  readonly actions: readonly string[];
  readonly resources: readonly DeclaredResource[];
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Why a resource holds a wildcard (or is `*`): what a reviewer checks, and the cdk-nag acknowledgement's reason. */
  readonly wildcardReason?: string;
}

/** The names a declaration depends on. */
export interface AccessNames {
  readonly tier: string;
  readonly regionCode: string;
  readonly databaseUser: string;
  /** What serves PostgreSQL: the database groups grant that engine's calls only. */
  readonly engine: DatabaseEngine;
}

/** Named groups of calls; each step's catalogue entry lists the groups it needs. */
export type Access =
  | 'read-parameters'
  | 'describe-databases'
  | 'promote-database'
  | 'reboot-database'
  | 'database-connect'
  | 'database-agents'
  | 'read-metrics'
  | 'publish-dr-metrics'
  | 'state-read'
  | 'gate-read'
  | 'state-write'
  | 'state-count'
  | 'state-delete'
  | 'lock-release'
  | 'describe-executions'
  | 'read-execution-history'
  | 'cache-promote'
  | 'cache-describe'
  | 'cache-test-failover'
  | 'cache-check'
  | 'cache-fence-source'
  | 'cache-fence-own'
  | 'kafka-describe'
  | 'batch-queues'
  | 'describe-batch-queues'
  | 'keyspace-describe'
  | 'scale-nodes'
  | 'write-report';

const arn = (parts: ArnResource): DeclaredResource => ({ arn: parts });

/** RDS instances: describe them anywhere, promote and reboot only this region's. */
function rdsInstanceCalls(
  access: 'describe-databases' | 'promote-database' | 'reboot-database',
  names: AccessNames,
): readonly DeclaredCall[] {
  const databases = (reach: Reach) =>
    arn({ service: 'rds', resource: 'db', resourceName: `mlp-${names.tier}-pg-*`, separator: ':', reach });

  const [action, reach] = (
    {
      'describe-databases': ['rds:DescribeDBInstances', 'every-region'],
      'promote-database': ['rds:PromoteReadReplica', 'own-region'],
      'reboot-database': ['rds:RebootDBInstance', 'own-region'],
    } as const
  )[access];
  return [
    {
      actions: [action],
      resources: [databases(reach)],
      wildcardReason: `The platform’s database instances of this tier${reach === 'own-region' ? ' in this region only' : ''}: their generation suffix is the only wildcard.`,
    },
  ];
}

/**
 * An Aurora global database: its clusters and the global database itself, whose ARN has no region
 * (Service Authorization Reference, Amazon RDS). A switchover or failover is authorized on both the
 * target cluster (this region's) and the global database. The AZ runbook's counterpart of an RDS
 * reboot with failover is FailoverDBCluster on this region's cluster.
 */
function auroraCalls(access: 'describe-databases' | 'promote-database' | 'reboot-database', names: AccessNames): readonly DeclaredCall[] {
  const global = arn({
    service: 'rds',
    resource: 'global-cluster',
    resourceName: postgresGlobalClusterId(names.tier as TierName),
    separator: ':',
    reach: 'no-region',
  });
  const clusters = (reach: Reach) =>
    arn({ service: 'rds', resource: 'cluster', resourceName: `mlp-${names.tier}-pg-*`, separator: ':', reach });
  const reason = (reach: Reach) =>
    `The clusters of this tier's global database${reach === 'own-region' ? ' in this region only' : ''}: the region code is the only wildcard.`;
  switch (access) {
    case 'describe-databases':
      return [
        { actions: ['rds:DescribeDBClusters'], resources: [clusters('every-region')], wildcardReason: reason('every-region') },
        { actions: ['rds:DescribeGlobalClusters'], resources: [global] },
      ];
    case 'promote-database':
      return [
        {
          actions: ['rds:SwitchoverGlobalCluster', 'rds:FailoverGlobalCluster'],
          resources: [clusters('own-region'), global],
          wildcardReason: reason('own-region'),
        },
      ];
    case 'reboot-database':
      return [{ actions: ['rds:FailoverDBCluster'], resources: [clusters('own-region')], wildcardReason: reason('own-region') }];
  }
}

/** The tier's cache in this region: its replication group, the member of the global datastore. */
const ownCacheGroup = ({ tier, regionCode }: AccessNames): DeclaredResource =>
  arn({
    service: 'elasticache',
    resource: 'replicationgroup',
    resourceName: `mlp-${tier}-cache-${regionCode}`,
    separator: ':',
    reach: 'own-region',
  });

/** The calls behind each access group, on the platform's own resources only. */
export function declaredCalls(access: Access, names: AccessNames): readonly DeclaredCall[] {
  const { tier, regionCode } = names;
  switch (access) {
    case 'read-parameters':
      return [
        {
          actions: ['ssm:GetParameter'],
          resources: [arn({ service: 'ssm', resource: 'parameter', resourceName: `mlp/${tier}/*`, separator: '/', reach: 'every-region' })],
          wildcardReason: 'Runbook parameters of this tier, in any region: parameter names are the only wildcard.',
        },
      ];
    case 'describe-databases':
    case 'promote-database':
    case 'reboot-database':
      return names.engine === 'aurora-postgresql-global' ? auroraCalls(access, names) : rdsInstanceCalls(access, names);
    case 'database-agents':
      // Databases sit in isolated subnets no other region routes to: another region's are reached through its agent.
      return [
        {
          actions: ['lambda:InvokeFunction'],
          resources: [
            arn({
              service: 'lambda',
              resource: 'function',
              resourceName: runbookNames.databaseAgent(tier),
              separator: ':',
              reach: 'other-regions',
            }),
          ],
        },
      ];
    case 'database-connect':
      return [
        {
          actions: ['rds-db:connect'],
          resources: [
            arn({ service: 'rds-db', resource: 'dbuser', resourceName: `*/${names.databaseUser}`, separator: ':', reach: 'own-region' }),
          ],
          wildcardReason:
            'Only the runbook database user, on this region’s instances: the instance resource id changes with each generation.',
        },
      ];
    case 'read-metrics':
      return [
        {
          actions: ['cloudwatch:GetMetricData'],
          resources: [{ any: true }],
          wildcardReason: 'CloudWatch GetMetricData supports no resource-level permissions; read-only.',
        },
      ];
    case 'publish-dr-metrics':
      return [
        {
          actions: ['cloudwatch:PutMetricData'],
          resources: [{ any: true }],
          conditions: { StringEquals: { 'cloudwatch:namespace': WRITE_GATE_METRIC.namespace } },
          wildcardReason: 'PutMetricData supports no resource-level permissions; the condition limits it to the MLP/DR namespace.',
        },
      ];
    case 'state-read':
    case 'gate-read':
    case 'state-write':
    case 'state-count':
    case 'state-delete':
    case 'lock-release': {
      // The lock, its epoch counter, the write lease, every gate and primary span the tier's tables (tier-lock.ts);
      // only an owed fence is deleted in the own region alone.
      const action = {
        'state-read': 'GetItem',
        'gate-read': 'GetItem',
        'state-write': 'PutItem',
        'state-count': 'UpdateItem',
        'state-delete': 'DeleteItem',
        'lock-release': 'DeleteItem',
      }[access];
      // The write-gate endpoint answers for its own region's gate only, and an owed fence is deleted where it is owed.
      const reach: Reach = access === 'state-delete' || access === 'gate-read' ? 'own-region' : 'every-state-region';
      return [
        {
          actions: [`dynamodb:${action}`],
          resources: [arn({ service: 'dynamodb', resource: 'table', resourceName: runbookNames.stateTable(tier), separator: '/', reach })],
        },
        {
          // The tables are encrypted with each region's runbook key, whose id no other region knows: the key
          // by its alias, used through DynamoDB only, which decrypts the table key as the caller (DynamoDB
          // Developer Guide, how DynamoDB uses AWS KMS).
          actions: ['kms:Decrypt'],
          resources: [arn({ service: 'kms', resource: 'key', resourceName: '*', separator: '/', reach })],
          conditions: {
            StringLike: { 'kms:ViaService': 'dynamodb.*.amazonaws.com' },
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': runbookNames.runbookKeyAlias(tier) },
          },
          wildcardReason: 'Each region’s runbook key by its alias (the key id is generated), through DynamoDB only.',
        },
      ];
    }
    case 'describe-executions':
      // A lock's owner is a RegionFailover execution of any region: Step Functions answers for it only in its own region.
      return [
        {
          actions: ['states:DescribeExecution'],
          resources: [
            arn({
              service: 'states',
              resource: 'execution',
              resourceName: `${runbookNames.stateMachine(tier, 'region-failover')}:*`,
              separator: ':',
              reach: 'every-region',
            }),
          ],
          wildcardReason: 'Executions of this tier’s RegionFailover in each region (lock owners); execution names are the only wildcard.',
        },
      ];
    case 'read-execution-history':
      return [
        {
          actions: ['states:GetExecutionHistory'],
          resources: [{ own: 'runbook-executions' }],
          wildcardReason: 'Executions of this tier’s runbooks in this region; execution names are the only wildcard.',
        },
      ];
    case 'cache-promote':
    case 'cache-describe': {
      // A global replication group's ARN has no region (Service Authorization Reference, ElastiCache).
      const global = arn({
        service: 'elasticache',
        resource: 'globalreplicationgroup',
        resourceName: `*-mlp-${tier}-cache`,
        separator: ':',
        reach: 'no-region',
      });
      const reason = 'The tier’s global datastore: ElastiCache chooses its id prefix.';
      if (access === 'cache-promote') {
        return [
          {
            actions: [
              'elasticache:DescribeGlobalReplicationGroups',
              'elasticache:FailoverGlobalReplicationGroup',
              'elasticache:DisassociateGlobalReplicationGroup',
            ],
            resources: [global],
            wildcardReason: reason,
          },
        ];
      }
      return [
        { actions: ['elasticache:DescribeGlobalReplicationGroups'], resources: [global], wildcardReason: reason },
        {
          actions: ['elasticache:DescribeReplicationGroups'],
          resources: [ownCacheGroup(names)],
        },
      ];
    }
    case 'cache-test-failover':
    case 'cache-check':
      return [
        {
          actions: [access === 'cache-test-failover' ? 'elasticache:TestFailover' : 'elasticache:DescribeReplicationGroups'],
          resources: [ownCacheGroup(names)],
        },
      ];
    case 'cache-fence-source':
    case 'cache-fence-own':
      return [
        {
          actions: ['elasticache:ModifyUser'],
          resources: [
            arn({
              service: 'elasticache',
              resource: 'user',
              resourceName: cacheApplicationUser(tier),
              separator: ':',
              reach: access === 'cache-fence-source' ? 'other-regions' : 'own-region',
            }),
          ],
        },
      ];
    case 'kafka-describe':
      return [
        {
          actions: ['kafka:DescribeClusterV2'],
          resources: [
            arn({
              service: 'kafka',
              resource: 'cluster',
              resourceName: `mlp-${tier}-${regionCode}/*`,
              separator: '/',
              reach: 'own-region',
            }),
          ],
          wildcardReason: 'This region’s MSK cluster by name; the uuid MSK appends is the wildcard.',
        },
      ];
    case 'batch-queues':
      return [
        {
          actions: ['batch:UpdateJobQueue'],
          resources: [
            arn({ service: 'batch', resource: 'job-queue', resourceName: `mlp-${tier}-*`, separator: '/', reach: 'every-region' }),
          ],
          wildcardReason: 'The tier’s Batch job queues, named by pool.',
        },
      ];
    case 'describe-batch-queues':
      return [
        {
          actions: ['batch:DescribeJobQueues'],
          resources: [{ any: true }],
          wildcardReason:
            'DescribeJobQueues supports no resource-level permissions (Service Authorization Reference); it reads queue states only.',
        },
      ];
    case 'keyspace-describe':
      // GetKeyspace is authorized as cassandra:Select, whose resource type is a table of the keyspace.
      return [
        {
          actions: ['cassandra:Select'],
          resources: [
            arn({ service: 'cassandra', resource: `/keyspace/mlp_${tier}_features/table/*`, separator: 'none', reach: 'own-region' }),
          ],
          wildcardReason: 'The tables of the feature keyspace: GetKeyspace is authorized on them, and their names are the wildcard.',
        },
      ];
    case 'scale-nodes':
      return [
        {
          actions: ['eks:ListNodegroups'],
          resources: [
            arn({ service: 'eks', resource: 'cluster', resourceName: `mlp-${tier}-${regionCode}`, separator: '/', reach: 'own-region' }),
          ],
        },
        {
          actions: ['eks:DescribeNodegroup', 'eks:UpdateNodegroupConfig'],
          resources: [
            arn({
              service: 'eks',
              resource: 'nodegroup',
              resourceName: `mlp-${tier}-${regionCode}/*`,
              separator: '/',
              reach: 'own-region',
            }),
          ],
          wildcardReason: 'The node groups of this region’s one cluster; their names and uuids are the wildcard.',
        },
      ];
    case 'write-report':
      return [
        {
          actions: ['s3:PutObject'],
          resources: [{ own: 'report-objects' }],
          wildcardReason: 'Reports are written under dr-reports/ of the region’s artifact bucket only.',
        },
        { actions: ['kms:GenerateDataKey'], resources: [{ own: 'report-bucket-key' }] },
        { actions: ['sns:Publish'], resources: [{ own: 'report-topic' }] },
        { actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [{ own: 'report-topic-key' }] },
      ];
  }
}

/** Every IAM action of a set of access groups. */
export function declaredActions(access: readonly Access[], names: AccessNames): Set<string> {
  return new Set(access.flatMap((a) => declaredCalls(a, names).flatMap((call) => call.actions)));
}
