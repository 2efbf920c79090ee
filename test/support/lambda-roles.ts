/**
 * What Lambda needs of a function's execution role, read from the synthesized templates: that Lambda
 * may assume it, that the function can write its logs, and, for a function in a VPC, that Lambda can
 * manage the function's network interfaces with it (without those permissions Lambda refuses to create
 * or update the function).
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html
 */
import { AWS_MANAGED_POLICIES } from '../../runbooks/local/iam';
import type { CfnTemplate } from './assembly';

/** The ENI actions Lambda performs with the role of a function in a VPC, as AWSLambdaVPCAccessExecutionRole (v3) allows them. */
export const ENI_ACTIONS = [AWS_MANAGED_POLICIES['service-role/AWSLambdaVPCAccessExecutionRole']?.Statement[0]?.Action ?? []]
  .flat()
  .map(String)
  .filter((action) => action.startsWith('ec2:'));

/** AWS's managed policies for this, either of which lets Lambda manage a function's network interfaces. */
const ENI_MANAGED_POLICIES = ['AWSLambdaVPCAccessExecutionRole', 'AWSLambdaENIManagementAccess'];

/** Writing to a log group: its streams are created by the function's runtime, then written to. */
export const LOG_WRITE_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

/** The AWS managed policies that let a function write any log group of its account ("*"), per the AWS Managed Policy Reference. */
const LOG_MANAGED_POLICIES = ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole'];

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: { Service?: unknown };
  Condition?: unknown;
}
type Resources = CfnTemplate['Resources'];

const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Whether an action pattern of a policy (`ec2:*`, `ec2:*NetworkInterface*`, ...) matches `action`, as IAM compares them. */
function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
  return regex.test(action);
}

/**
 * A resource or ARN of a template as text: `Ref` becomes `<Id>`, `Fn::GetAtt` `<Id.Attribute>`,
 * `Fn::Join` joins, and `Fn::Sub` writes its `${...}` the same way.
 */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = (value ?? {}) as Record<string, unknown>;
  const sub = Array.isArray(object['Fn::Sub']) ? (object['Fn::Sub'] as unknown[])[0] : object['Fn::Sub'];
  if (typeof sub === 'string') return sub.replace(/\$\{([^}]+)\}/g, '<$1>');
  if (Array.isArray(object['Fn::Join'])) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  if (typeof object.Ref === 'string') return `<${object.Ref}>`;
  if (Array.isArray(object['Fn::GetAtt'])) return `<${(object['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(value);
}

/** Everything a role is allowed: its statements, and the names of the AWS managed policies it has. */
interface RolePermissions {
  readonly statements: Statement[];
  readonly awsManagedPolicies: string[];
}

function permissionsOf(resources: Resources, roleId: string): RolePermissions {
  const role = resources[roleId]?.Properties ?? {};
  const attachedTo = (policy: Resources[string]) => list(policy.Properties?.Roles).some((r) => (r as { Ref?: string }).Ref === roleId);
  const statementsOf = (document: unknown) => list((document as { Statement?: unknown } | undefined)?.Statement) as Statement[];
  const managedArns = list(role.ManagedPolicyArns);
  const customerManaged = Object.entries(resources).filter(
    ([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && (attachedTo(r) || managedArns.some((arn) => (arn as { Ref?: string }).Ref === id)),
  );
  return {
    statements: [
      ...list(role.Policies).flatMap((p) => statementsOf((p as { PolicyDocument?: unknown }).PolicyDocument)),
      ...Object.values(resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy' && attachedTo(r))
        .flatMap((r) => statementsOf(r.Properties?.PolicyDocument)),
      ...customerManaged.flatMap(([, r]) => statementsOf(r.Properties?.PolicyDocument)),
    ],
    awsManagedPolicies: managedArns
      .map((arn) => /^arn:(?:<AWS::Partition>|aws[\w-]*):iam::aws:policy\/(?:service-role\/)?([\w+=,.@-]+)$/.exec(render(arn))?.[1])
      .filter((name): name is string => name !== undefined),
  };
}

const names = (statement: Statement, action: string) =>
  list(statement.Action).some((pattern) => typeof pattern === 'string' && actionMatches(pattern, action));

/** Whether a Deny of the statements names `action` (on any resource: the check does not narrow it down). */
function denies(statements: Statement[], action: string): boolean {
  return statements.some((s) => s.Effect === 'Deny' && names(s, action));
}

/** Whether the statements allow `action` on a resource `resourceOk` accepts: an Allow without conditions names both, and no Deny the action. */
function allows(statements: Statement[], action: string, resourceOk: (resource: string) => boolean): boolean {
  if (denies(statements, action)) return false;
  return statements.some(
    (s) => s.Effect === 'Allow' && s.Condition === undefined && names(s, action) && list(s.Resource).map(render).some(resourceOk),
  );
}

const ANY = (resource: string) => resource === '*';

/** The missing parts of what Lambda needs of one function's role, empty when it has them all. */
function roleDefects(resources: Resources, functionId: string): string[] {
  const fn = resources[functionId]?.Properties ?? {};
  const roleRef = fn.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const roleId = roleRef?.['Fn::GetAtt']?.[0];
  if (!roleId || resources[roleId]?.Type !== 'AWS::IAM::Role') return [`its role ${render(fn.Role)} is not a role of its template`];
  const defects: string[] = [];
  const role = resources[roleId]?.Properties ?? {};
  const trust = list((role.AssumeRolePolicyDocument as { Statement?: unknown } | undefined)?.Statement) as Statement[];
  const trustsLambda = trust.some(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).includes('sts:AssumeRole') &&
      list(s.Principal?.Service).map(render).includes('lambda.amazonaws.com'),
  );
  if (!trustsLambda) defects.push(`its role ${roleId} does not trust lambda.amazonaws.com`);

  const { statements, awsManagedPolicies } = permissionsOf(resources, roleId);
  const managedLogs = awsManagedPolicies.some((name) => LOG_MANAGED_POLICIES.includes(name));
  const logGroup = (fn.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
  // A log group of the template is named by its Ref, and its ARN is `<Id.Arn>` or contains `<Id>`;
  // otherwise the function writes the group its name gives, `/aws/lambda/<function name>` by default.
  const logGroupId = (logGroup as { Ref?: string } | undefined)?.Ref;
  const logGroupName =
    typeof logGroup === 'string' ? logGroup : typeof fn.FunctionName === 'string' ? `/aws/lambda/${fn.FunctionName}` : undefined;
  const ofLogGroup = (resource: string) =>
    ANY(resource) ||
    (logGroupId !== undefined && (resource.startsWith(`<${logGroupId}.Arn>`) || resource.includes(`:log-group:<${logGroupId}>:`))) ||
    (logGroupName !== undefined && resource.includes(`:log-group:${logGroupName}:`));
  const cannotWrite = LOG_WRITE_ACTIONS.filter(
    (action) => denies(statements, action) || (!managedLogs && !allows(statements, action, ofLogGroup)),
  );
  if (cannotWrite.length > 0) {
    const target = logGroupId ?? logGroupName ?? 'its default log group (/aws/lambda/<generated name>)';
    defects.push(`its role ${roleId} cannot write ${target}: no ${cannotWrite.join(', ')}`);
  }

  if (fn.VpcConfig !== undefined) {
    const managedEni = awsManagedPolicies.some((name) => ENI_MANAGED_POLICIES.includes(name));
    const missing = ENI_ACTIONS.filter((action) => denies(statements, action) || (!managedEni && !allows(statements, action, ANY)));
    if (missing.length > 0) {
      const why = managedEni
        ? `it denies ${missing.join(', ')}`
        : `no ${ENI_MANAGED_POLICIES.join(' or ')}, and no ${missing.join(', ')} on "*"`;
      defects.push(`it is in a VPC and its role ${roleId} cannot manage its network interfaces: ${why}`);
    }
  }
  return defects;
}

/** Every function of a template with what its role lacks, as `<function>: <defect>`. */
export function functionDefects(template: CfnTemplate): string[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .flatMap(([id]) => roleDefects(template.Resources, id).map((defect) => `${id}: ${defect}`));
}
