import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { type ContainerResources, NAME_LABEL, resourceRequirements } from '../private/k8s';
import { appMetadata, CONTAINER_SECURITY, POD_SECURITY, tlsVolume } from './k8s';
import { BACKUP_SCRIPT_FILE, backupScript, CLIENT_CONFIG_FILE, JOBS_DIR, SCHEMA_FILE, SCHEMA_SCRIPT_FILE, schemaScript } from './scripts';
import { ADMIN_TLS_SECRET, adminClientXml, CLIENT_TLS_DIR } from './security';
import type { ClickHouseTopology } from './topology';

/** The ConfigMap of the schema Job and the backup CronJob: their scripts, the schema and the client configuration. */
export const JOBS_CONFIG_NAME = 'clickhouse-jobs';
/** What a Job's container requests, ours. */
const JOB_RESOURCES: ContainerResources = { cpuMillicores: 100, memoryMiB: 512 };

export interface ClickHouseJobsConfigProps {
  readonly namespace: string;
  readonly topology: ClickHouseTopology;
  /** The schema the schema Job runs. */
  readonly schemaSql: string;
}

/** The Jobs' ConfigMap (`JOBS_CONFIG_NAME`), mounted at `JOBS_DIR`. */
export class ClickHouseJobsConfig extends Construct {
  public readonly configMap: kplus.k8s.KubeConfigMap;

  constructor(scope: Construct, id: string, props: ClickHouseJobsConfigProps) {
    super(scope, id);
    this.configMap = new kplus.k8s.KubeConfigMap(this, 'JobsConfig', {
      metadata: appMetadata(JOBS_CONFIG_NAME, props.namespace, JOBS_CONFIG_NAME),
      data: {
        [SCHEMA_FILE]: props.schemaSql,
        [CLIENT_CONFIG_FILE]: adminClientXml(),
        [SCHEMA_SCRIPT_FILE]: schemaScript(),
        [BACKUP_SCRIPT_FILE]: backupScript(props.topology, props.namespace),
      },
    });
  }
}

/** What every ClickHouse Job takes. */
export interface ClickHouseJobProps {
  readonly namespace: string;
  /** The ClickHouse server image, for its `clickhouse-client`. */
  readonly image: string;
  /** Node labels of the pool the Job's pods run on. */
  readonly nodeSelector: Readonly<Record<string, string>>;
}

export interface JobPodOptions extends Omit<ClickHouseJobProps, 'namespace'> {
  /** `NAME_LABEL` of the pod. */
  readonly app: string;
  readonly container: string;
  /** Script in the jobs ConfigMap. */
  readonly script: string;
}

/** Pod of a Job: `sh <script>` from the jobs ConfigMap with the server image's clickhouse-client, as the admin. */
export function jobPod(options: JobPodOptions): kplus.k8s.PodTemplateSpec {
  return {
    metadata: { labels: { [NAME_LABEL]: options.app } },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      securityContext: POD_SECURITY,
      nodeSelector: { ...options.nodeSelector },
      containers: [
        {
          name: options.container,
          image: options.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', `${JOBS_DIR}/${options.script}`],
          env: [{ name: 'HOME', value: '/tmp' }],
          resources: resourceRequirements(JOB_RESOURCES, '1'),
          securityContext: CONTAINER_SECURITY,
          volumeMounts: [
            { name: 'jobs', mountPath: JOBS_DIR },
            { name: 'tls', mountPath: CLIENT_TLS_DIR, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
      ],
      volumes: [{ name: 'jobs', configMap: { name: JOBS_CONFIG_NAME } }, tlsVolume('tls', ADMIN_TLS_SECRET), { name: 'tmp', emptyDir: {} }],
    },
  };
}
