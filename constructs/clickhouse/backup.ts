import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { resourceRequirements } from '../private/k8s';
import { type ClickHouseJobProps, jobPod } from './jobs';
import { appMetadata, CONTAINER_SECURITY, DATA_PATH } from './k8s';
import { BACKUP_SCRIPT_FILE } from './scripts';
import { SERVER_TLS_DIR, TLS_CA_FILE } from './security';
import { BACKUP_SIDECAR_RESOURCES, NATIVE_SECURE_PORT } from './topology';
import type { ClickHouseBackupSpec } from './types';

/** The sidecars' environment ConfigMap, and the CronJob (also the `NAME_LABEL` of both). */
export const BACKUP_ENV_NAME = 'clickhouse-backup-env';
export const BACKUP_CRONJOB_NAME = 'clickhouse-backup';
/** Where the backup sidecar's REST API listens: inside the pod only, for the server's integration tables. */
const BACKUP_API_ADDRESS = '127.0.0.1:7171';
/** Ours: how long one backup of every shard may run. */
const BACKUP_DEADLINE_SECONDS = 20 * 3_600;

export interface ClickHouseBackupConfigProps {
  readonly namespace: string;
  /** AWS region of the bucket. */
  readonly region: string;
  readonly backup: ClickHouseBackupSpec;
}

/**
 * The configuration of the clickhouse-backup sidecars (`BACKUP_ENV_NAME`), which read it all from
 * the environment: S3, retention, and the local server's `default` user over TLS.
 */
export class ClickHouseBackupConfig extends Construct {
  public readonly configMap: kplus.k8s.KubeConfigMap;

  constructor(scope: Construct, id: string, props: ClickHouseBackupConfigProps) {
    super(scope, id);
    this.configMap = new kplus.k8s.KubeConfigMap(this, 'BackupEnv', {
      metadata: appMetadata(BACKUP_ENV_NAME, props.namespace, BACKUP_CRONJOB_NAME),
      data: {
        REMOTE_STORAGE: 's3',
        S3_BUCKET: props.backup.bucketName,
        S3_REGION: props.region,
        // Keep the local copy (hard links) only until it is uploaded.
        BACKUPS_TO_KEEP_LOCAL: '-1',
        BACKUPS_TO_KEEP_REMOTE: String(props.backup.retentionDays),
        API_LISTEN: BACKUP_API_ADDRESS,
        API_CREATE_INTEGRATION_TABLES: 'true',
        API_INTEGRATION_TABLES_HOST: BACKUP_API_ADDRESS.split(':')[0] as string,
        // The server's `default` user, which answers on localhost only, over TLS.
        CLICKHOUSE_HOST: 'localhost',
        CLICKHOUSE_PORT: String(NATIVE_SECURE_PORT),
        CLICKHOUSE_USERNAME: 'default',
        CLICKHOUSE_SECURE: 'true',
        CLICKHOUSE_SKIP_VERIFY: 'false',
        CLICKHOUSE_TLS_CA: `${SERVER_TLS_DIR}/${TLS_CA_FILE}`,
        ALLOW_EMPTY_BACKUPS: 'true',
        LOG_LEVEL: 'info',
      },
    });
  }
}

/**
 * The clickhouse-backup sidecar of a server replica: it must read the server's data volume, so it
 * cannot run in a separate pod. It uploads under `<prefix>/shard-<shard>`.
 */
export function backupSidecar(backup: ClickHouseBackupSpec, shard: number): kplus.k8s.Container {
  return {
    name: 'backup',
    image: backup.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['clickhouse-backup', 'server'],
    envFrom: [{ configMapRef: { name: BACKUP_ENV_NAME } }],
    env: [{ name: 'S3_PATH', value: `${backup.prefix}/shard-${shard}` }],
    resources: resourceRequirements(BACKUP_SIDECAR_RESOURCES, '1'),
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [
      { name: 'data', mountPath: DATA_PATH },
      { name: 'tls', mountPath: SERVER_TLS_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

export interface ClickHouseBackupCronJobProps extends ClickHouseJobProps {
  /** Kubernetes CronJob schedule, UTC. */
  readonly schedule: string;
}

/** The daily CronJob that asks one sidecar per shard to back its shard up (see `backupScript`). */
export class ClickHouseBackupCronJob extends Construct {
  public readonly cronJob: kplus.k8s.KubeCronJob;

  constructor(scope: Construct, id: string, props: ClickHouseBackupCronJobProps) {
    super(scope, id);
    this.cronJob = new kplus.k8s.KubeCronJob(this, 'BackupCronJob', {
      metadata: appMetadata(BACKUP_CRONJOB_NAME, props.namespace, BACKUP_CRONJOB_NAME),
      spec: {
        schedule: props.schedule,
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3_600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            // A retry starts a new backup of every shard; one is enough before the next day's run.
            backoffLimit: 1,
            activeDeadlineSeconds: BACKUP_DEADLINE_SECONDS,
            template: jobPod({
              app: BACKUP_CRONJOB_NAME,
              container: 'backup',
              script: BACKUP_SCRIPT_FILE,
              image: props.image,
              nodeSelector: props.nodeSelector,
            }),
          },
        },
      },
    });
  }
}
