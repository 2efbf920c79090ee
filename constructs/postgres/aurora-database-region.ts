import { Duration, RemovalPolicy, type Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  type AuroraSizing,
  type PostgresSizing,
  postgresClusterId,
  postgresGlobalClusterId,
  postgresMasterSecretName,
  postgresReadReplicaId,
  postgresWriterPairId,
  type RunbookParameters,
  type TierName,
} from '../../lib/config';
import { acknowledgeNist } from '../private/nag';
import { AuroraGlobalCluster, AuroraRegionalCluster, GlobalWriterEndpoint } from './aurora-global-database';
import { DatabaseBootstrap } from './database-bootstrap';
import { POSTGRES_PORT } from './instance-support';
import type { IDatabaseRegion } from './regional-database';

/** The master user of the global database, break-glass only: clients and runbooks authenticate with IAM. */
const MASTER_USERNAME = 'mlp_admin';

export interface AuroraDatabaseRegionProps {
  readonly tier: TierName;
  readonly regionCode: string;
  /** The home region creates the global database, its first primary and the master secret. */
  readonly isHome: boolean;
  /** Whether the region holds the platform's primary now (`-c primaryRegion`), for the `role` parameter. */
  readonly isPrimary: boolean;
  readonly aurora: AuroraSizing;
  /** Connections, backups, pooler and the read roles, shared with RDS. */
  readonly sizing: PostgresSizing;
  /** Encrypts the cluster, the master secret and the log groups. */
  readonly encryptionKey: kms.IKey;
  readonly vpc: ec2.IVpc;
  readonly clientCidrs: string[];
  readonly logRetention: logs.RetentionDays;
}

/**
 * A region's cluster of the tier's Aurora global database. The home region creates the global
 * database and its first primary (the only cluster created with a master user); every other region
 * joins it as a secondary. No template names the current writer, so a switchover or failover changes
 * none: `-c primaryRegion` moves only the backup selection.
 *
 * Not a construct: everything is created directly in `stack`, under the ids it has always had
 * (`MetadataGlobal`, `MetadataMasterSecret`, `Metadata`, `MetadataBootstrap`, `MetadataGlobalWriter`).
 */
export class AuroraDatabaseRegion implements IDatabaseRegion {
  public readonly cluster: AuroraRegionalCluster;
  public readonly current: AuroraRegionalCluster;
  public readonly retained: readonly [] = [];
  /** What services write through: Aurora moves it to the new writer in a switchover or failover. */
  public readonly globalWriter: GlobalWriterEndpoint;
  public readonly bootstrap?: DatabaseBootstrap;
  public readonly runbookParameters: RunbookParameters<'postgres'>;

  constructor(stack: Stack, props: AuroraDatabaseRegionProps) {
    const { aurora, sizing } = props;
    const globalClusterIdentifier = postgresGlobalClusterId(props.tier);
    const clusterIdentifier = postgresClusterId(props.tier, props.regionCode);
    const global = props.isHome
      ? new AuroraGlobalCluster(stack, 'MetadataGlobal', { globalClusterIdentifier, engineVersion: aurora.engineVersion })
      : undefined;
    const masterCredentials = props.isHome ? { username: MASTER_USERNAME, secret: masterSecret(stack, props) } : undefined;
    const readers = sizing.readReplicaRoles.map((role, position, roles) => {
      const index = roles.slice(0, position + 1).filter((r) => r === role).length;
      return { role, instanceIdentifier: postgresReadReplicaId(clusterIdentifier, role, index) };
    });
    this.cluster = new AuroraRegionalCluster(stack, 'Metadata', {
      clusterIdentifier,
      globalClusterIdentifier,
      engineVersion: aurora.engineVersion,
      instanceClass: aurora.instanceClass,
      writerInstanceIdentifiers: [postgresWriterPairId(clusterIdentifier, 1), postgresWriterPairId(clusterIdentifier, 2)],
      readers,
      maxConnections: sizing.maxConnections,
      backupRetention: Duration.days(sizing.backupRetentionDays),
      encryptionKey: props.encryptionKey,
      masterCredentials,
      connectionPooler: sizing.connectionPooler,
      vpc: props.vpc,
      clientCidrs: props.clientCidrs,
      logRetention: props.logRetention,
    });
    this.current = this.cluster;
    // The global cluster is created beside it (home) or exists before it (every other region deploys after the home).
    if (global) this.cluster.cluster.addResourceDependency(global.resource);
    if (masterCredentials) {
      this.bootstrap = new DatabaseBootstrap(stack, 'MetadataBootstrap', {
        database: this.cluster,
        masterSecret: masterCredentials.secret,
        vpc: props.vpc,
        logEncryptionKey: props.encryptionKey,
        logRetention: props.logRetention,
      });
    }
    // Aurora moves the global writer endpoint in a switchover or failover: no deploy or DNS change of ours.
    this.globalWriter = new GlobalWriterEndpoint(stack, 'MetadataGlobalWriter', {
      globalClusterIdentifier,
      logEncryptionKey: props.encryptionKey,
    });
    this.globalWriter.resource.node.addDependency(this.cluster.cluster);
    this.runbookParameters = {
      'cluster-id': clusterIdentifier,
      'cluster-arn': this.cluster.databaseArn,
      'global-cluster-id': globalClusterIdentifier,
      endpoint: this.cluster.endpoint,
      'writer-endpoint': `${this.globalWriter.hostname}:${POSTGRES_PORT}`,
      'reader-endpoint': `${this.cluster.readerEndpointAddress}:${POSTGRES_PORT}`,
      role: props.isPrimary ? 'primary' : 'replica',
      ...(this.cluster.pooler ? { 'proxy-endpoint': this.cluster.pooler.proxy.endpoint } : {}),
    };
  }

  /** Allow `grantee` to connect to the region's cluster as `databaseUser`, directly and through the pooler when there is one. */
  public grantClientConnect(grantee: iam.IGrantable, databaseUser: string): iam.Grant {
    return this.cluster.grantClientConnect(grantee, databaseUser);
  }
}

/**
 * The global database's master secret. L1: the L2 Secret would add a key policy statement letting
 * the account create grants on the data key.
 */
function masterSecret(stack: Stack, props: AuroraDatabaseRegionProps): secretsmanager.ISecret {
  const cfnSecret = new secretsmanager.CfnSecret(stack, 'MetadataMasterSecret', {
    name: postgresMasterSecretName(props.tier),
    description: `Master user of the Aurora global database ${postgresGlobalClusterId(props.tier)} (break-glass: clients and runbooks use IAM)`,
    kmsKeyId: props.encryptionKey.keyArn,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username: MASTER_USERNAME }),
      generateStringKey: 'password',
      passwordLength: 40,
      excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
    },
  });
  cfnSecret.applyRemovalPolicy(RemovalPolicy.RETAIN);
  const notRotated =
    'Not rotated by a schedule: Aurora cannot manage the master password of a global database cluster (Aurora User Guide, Secrets Manager limitations), and a rotation function would connect to this cluster, which is read-only whenever the writer is in another region. The password is break-glass only: every client and runbook authenticates with IAM.';
  Validations.of(cfnSecret).acknowledge({ id: 'AwsSolutions-SMG4', reason: notRotated });
  acknowledgeNist(cfnSecret, 'SecretsManagerRotationEnabled', notRotated);
  return secretsmanager.Secret.fromSecretAttributes(stack, 'MetadataMasterSecretRef', {
    secretCompleteArn: cfnSecret.ref,
    encryptionKey: props.encryptionKey,
  });
}
