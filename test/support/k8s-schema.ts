import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { formats } from '@kubernetes-models/validate';
import Ajv from 'ajv';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as coordination from 'kubernetes-models/coordination.k8s.io/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as storage from 'kubernetes-models/storage.k8s.io/v1';
import * as core from 'kubernetes-models/v1';

/**
 * Schema validation of Kubernetes manifests, offline: built-in kinds and KEDA's against the
 * kubernetes-models schemas, other CRDs against their vendored openAPIV3Schema (test/support/schemas):
 * cert-manager's from the release the cluster runs, as the cert-manager models that support Node 20
 * predate fields the Certificates use (keystores.pkcs12 password and profile). An apiVersion/kind
 * with neither is an error, so nothing passes unvalidated. Only structure is checked: values may be CloudFormation tokens.
 */

interface KubernetesModel {
  readonly apiVersion: string;
  readonly kind: string;
  new (data: object): { validate(): void };
}

/** Model modules by apiVersion; a module's kinds are its classes with a matching static apiVersion and kind. */
const MODEL_MODULES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  v1: core,
  'apps/v1': apps,
  'autoscaling/v2': autoscaling,
  'batch/v1': batch,
  'coordination.k8s.io/v1': coordination,
  'networking.k8s.io/v1': networking,
  'policy/v1': policy,
  'rbac.authorization.k8s.io/v1': rbac,
  'storage.k8s.io/v1': storage,
  'keda.sh/v1alpha1': keda,
};

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
// Kubernetes' structural-schema annotations: no validation meaning beyond the schema they annotate.
ajv.addVocabulary([
  'x-kubernetes-int-or-string',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  // CEL rules: the API server evaluates them; offline they are annotations.
  'x-kubernetes-validations',
]);
for (const [name, format] of Object.entries(formats)) ajv.addFormat(name, format);

/** Vendored CRD schemas by `apiVersion kind`. */
const CRD_VALIDATORS = {
  'cert-manager.io/v1 Certificate': ajv.compile(
    JSON.parse(readFileSync(join(import.meta.dirname, 'schemas', 'cert-manager.io_v1_certificate.json'), 'utf8')),
  ),
  'cert-manager.io/v1 ClusterIssuer': ajv.compile(
    JSON.parse(readFileSync(join(import.meta.dirname, 'schemas', 'cert-manager.io_v1_clusterissuer.json'), 'utf8')),
  ),
  'elbv2.k8s.aws/v1beta1 TargetGroupBinding': ajv.compile(
    JSON.parse(readFileSync(join(import.meta.dirname, 'schemas', 'elbv2.k8s.aws_v1beta1_targetgroupbinding.json'), 'utf8')),
  ),
  'karpenter.sh/v1 NodePool': ajv.compile(
    JSON.parse(readFileSync(join(import.meta.dirname, 'schemas', 'karpenter.sh_v1_nodepool.json'), 'utf8')),
  ),
  'karpenter.k8s.aws/v1 EC2NodeClass': ajv.compile(
    JSON.parse(readFileSync(join(import.meta.dirname, 'schemas', 'karpenter.k8s.aws_v1_ec2nodeclass.json'), 'utf8')),
  ),
} as const;

function modelFor(apiVersion: string, kind: string): KubernetesModel | undefined {
  const candidate: unknown = MODEL_MODULES[apiVersion]?.[kind];
  if (typeof candidate !== 'function') return undefined;
  const model = candidate as KubernetesModel;
  return model.apiVersion === apiVersion && model.kind === kind ? model : undefined;
}

/** Schema errors of one manifest; empty when it is valid. */
export function validateKubernetesObject(obj: unknown): string[] {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return [`not an object: ${JSON.stringify(obj)}`];
  const { apiVersion, kind, metadata } = obj as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['apiVersion and kind must be strings'];
  const name = typeof metadata?.name === 'string' ? metadata.name : '';
  const where = `${apiVersion} ${kind} '${name}'`;
  const errors: string[] = [];
  if (name === '') errors.push(`${where}: metadata.name is required`);

  const Model = modelFor(apiVersion, kind);
  const crd = CRD_VALIDATORS[`${apiVersion} ${kind}` as keyof typeof CRD_VALIDATORS];
  if (Model !== undefined) {
    try {
      new Model(obj).validate();
    } catch (error) {
      errors.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else if (crd !== undefined) {
    if (!crd(obj)) errors.push(...(crd.errors ?? []).map((e) => `${where}: data${e.instancePath} ${e.message}`));
  } else {
    errors.push(`${where}: no schema for ${apiVersion} ${kind}; add its model or vendor its CRD schema`);
  }
  return errors;
}

/** Throws with every schema error of the given manifests. */
export function assertValidKubernetesObjects(objs: readonly unknown[]): void {
  const errors = objs.flatMap((obj) => validateKubernetesObject(obj));
  if (errors.length > 0) throw new Error(`Invalid Kubernetes manifests:\n${errors.join('\n')}`);
}
