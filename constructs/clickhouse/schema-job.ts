import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { contentHash, maskTokens } from '../private/k8s';
import { type ClickHouseJobProps, jobPod } from './jobs';
import { appMetadata } from './k8s';
import { SCHEMA_SCRIPT_FILE } from './scripts';

/** The schema Job is named after its SQL, so a changed schema is a new Job (a Job's pod template is immutable). */
export const SCHEMA_JOB_PREFIX = 'clickhouse-schema-';
const SCHEMA_APP = 'clickhouse-schema';
/** Ours: how long the Job may run, and how long a finished one stays for its logs. */
const SCHEMA_JOB_DEADLINE_SECONDS = 3_600;
const SCHEMA_JOB_TTL_SECONDS = 86_400;

export interface ClickHouseSchemaJobProps extends ClickHouseJobProps {
  /** The SQL the Job runs (from the jobs ConfigMap); only its hash is used here, to name the Job. */
  readonly schemaSql: string;
}

/** The Job that applies the schema (idempotent DDL, `ON CLUSTER`) once the servers answer. */
export class ClickHouseSchemaJob extends Construct {
  public readonly job: kplus.k8s.KubeJob;

  constructor(scope: Construct, id: string, props: ClickHouseSchemaJobProps) {
    super(scope, id);
    this.job = new kplus.k8s.KubeJob(this, 'SchemaJob', {
      metadata: appMetadata(`${SCHEMA_JOB_PREFIX}${schemaHash(props.schemaSql)}`, props.namespace, SCHEMA_APP),
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: SCHEMA_JOB_DEADLINE_SECONDS,
        ttlSecondsAfterFinished: SCHEMA_JOB_TTL_SECONDS,
        template: jobPod({
          app: SCHEMA_APP,
          container: 'schema',
          script: SCHEMA_SCRIPT_FILE,
          image: props.image,
          nodeSelector: props.nodeSelector,
        }),
      },
    });
  }
}

/** Short hash of the schema; CloudFormation tokens in it count by position, not by their per-synth number. */
function schemaHash(sql: string): string {
  return contentHash(maskTokens(sql, 'TOKEN'));
}
