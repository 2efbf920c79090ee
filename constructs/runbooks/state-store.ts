import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { runbookNames } from '../../lib/config/naming';
import { accountKeyPolicy } from '../private/kms';
import { acknowledgeNist } from '../private/nag';

/** One region's runbook state: the key (by the alias every region's runbooks use) and the table it encrypts. */
export interface RunbookStateStore {
  readonly key: kms.Key;
  readonly table: dynamodb.Table;
}

/**
 * The runbook state table of one region (`mlp-<tier>-dr-state`: the lock, the epoch, the write lease,
 * the gate, the primary) and its customer managed key, created in `scope` as `LogsKey` and
 * `StateTable`. Every region's runbooks reach it by name and the key by its alias (access.ts).
 * Retained and protected: it holds locks of executions in flight.
 */
export function addRunbookStateStore(scope: Construct, tier: string, keyDescription: string): RunbookStateStore {
  const key = new kms.Key(scope, 'LogsKey', {
    description: keyDescription,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
    policy: accountKeyPolicy(),
  });
  key.addAlias(runbookNames.runbookKeyAlias(tier));
  const table = new dynamodb.Table(scope, 'StateTable', {
    tableName: runbookNames.stateTable(tier),
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledgeNist(
    table,
    'DynamoDBInBackupPlan',
    'The runbook state table holds locks and progress of executions in flight, with point-in-time recovery; restoring an older backup would bring back stale locks, so it stays out of the backup plan.',
  );
  return { key, table };
}
