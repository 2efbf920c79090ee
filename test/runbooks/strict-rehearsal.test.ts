import { describe, expect, test } from 'vitest';
import { resolvePlatformConfig } from '../../lib/config';
import { type CfnTemplate, DeployedAssembly } from '../../runbooks/local/deployed-assembly';
import { Authorizer } from '../../runbooks/local/iam';
import { SimulatedPlatform } from '../../runbooks/local/simulated-platform';
import { LayoutAssembly } from '../support/assembly';
import { LAYOUTS, layoutContext } from '../support/layouts';
import { HOME, TARGET, World } from './world';

const FAILOVER = 'mlp-tier1-region-failover';
const ACCOUNT = '111122223333';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** The role policy statements of one step's function in a region's resilience stack, editable in place. */
function statementsOf(assembly: DeployedAssembly, region: string, step: string): Statement[] {
  const stack = assembly.stack(`Mlp-tier1-${region === HOME ? 'use1' : 'usw2'}-resilience`);
  const template = stack.template as CfnTemplate;
  const [, fn] = Object.entries(template.Resources).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      (r.Properties?.Environment as { Variables?: Record<string, string> } | undefined)?.Variables?.MLP_STEP === step,
  ) as unknown as [string, { Properties: { Role: { 'Fn::GetAtt': [string] } } }];
  const role = fn.Properties.Role['Fn::GetAtt'][0];
  const policy = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::IAM::Policy' && ((r.Properties?.Roles ?? []) as { Ref: string }[]).some((ref) => ref.Ref === role),
  );
  if (!policy?.Properties) throw new Error(`no policy for the role of ${step} in ${region}`);
  return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

const actions = (statement: Statement) => [statement.Action].flat();

async function unplannedFailover(w: World) {
  w.heartbeats(30, 1);
  w.aws.unreachable.add(HOME);
  w.db.unreachable.add(HOME);
  return w.run(FAILOVER, { mode: 'unplanned', targetRegion: TARGET });
}

describe('every simulated call is authorized against the calling step’s synthesized role', () => {
  test('a failover makes no call its step’s role does not allow', async () => {
    const w = new World();
    const result = await unplannedFailover(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const denied = w.aws.calls.filter((c) => /AccessDenied|AuthorizationError|Forbidden/.test(c.error ?? ''));
    expect(denied).toEqual([]);
    expect(new Set(w.aws.calls.map((c) => c.caller))).toContain('ScaleTarget');
  });

  test('removing one statement from one step’s policy fails the failover with AccessDenied naming the step, action and ARN', async () => {
    // GIVEN PromotePostgres without its rds:PromoteReadReplica statement
    const w = new World({
      edit: (assembly) => {
        const statements = statementsOf(assembly, TARGET, 'PromotePostgres');
        const index = statements.findIndex((s) => actions(s).includes('rds:PromoteReadReplica'));
        expect(index).toBeGreaterThanOrEqual(0);
        statements.splice(index, 1);
      },
    });
    // WHEN
    const result = await unplannedFailover(w);
    // THEN
    expect(result.status).toBe('FAILED');
    const denial = w.aws.calls.find((c) => c.error === 'AccessDenied');
    expect(denial).toMatchObject({ caller: 'PromotePostgres', command: 'PromoteReadReplica', region: TARGET });
    expect(result.cause).toContain('is not authorized to perform: rds:PromoteReadReplica');
    expect(result.cause).toContain('rds:PromoteReadReplica');
    expect(result.cause).toContain(`arn:aws:rds:${TARGET}:${ACCOUNT}:db:mlp-tier1-pg-usw2`);
    expect(result.cause).toContain('PromotePostgres');
    expect(w.gate(TARGET)).not.toBe(true);
  });

  test('ScaleTarget reads and writes the state table it records its scaling in (it held no DynamoDB permission)', async () => {
    const w = new World();
    const result = await unplannedFailover(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const scaleCalls = w.aws.calls.filter((c) => c.caller === 'ScaleTarget' && c.service === 'dynamodb');
    expect(scaleCalls.map((c) => `${c.command}:${c.error ?? 'ok'}`)).toEqual(expect.arrayContaining(['GetItem:ok', 'PutItem:ok']));
  });

  test('PromoteCache may fail over and detach the global datastore, whose ARN has no region', async () => {
    // The policy as synthesized, evaluated for the ARN IAM authorizes (Service Authorization Reference).
    const w = new World();
    const principal = w.functions.get(`${TARGET}:PromoteCache`)?.principal;
    if (!principal) throw new Error('no PromoteCache function in the us-west-2 resilience stack');
    const arn = `arn:aws:elasticache::${ACCOUNT}:globalreplicationgroup:${w.globalDatastoreId}`;
    for (const action of ['elasticache:FailoverGlobalReplicationGroup', 'elasticache:DisassociateGlobalReplicationGroup']) {
      expect(await new Authorizer().authorize(principal, { action, resource: arn })).toEqual({ allowed: true });
    }
    const result = await unplannedFailover(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(w.order('DisassociateGlobalReplicationGroup')).toEqual([`DisassociateGlobalReplicationGroup@${TARGET}`]);
  });
});

test('the state tables are under each region’s runbook key: a step writing another region’s table decrypts with that region’s key through DynamoDB', async () => {
  const w = new World();
  w.heartbeats(20);
  const result = await w.run(FAILOVER, { mode: 'planned', targetRegion: TARGET });
  expect(result.status, result.cause).toBe('SUCCEEDED');
  const fenceUsesHomeKey = w.aws.authorizations.some(
    (a) => a.caller === 'FenceSource' && a.action === 'kms:Decrypt' && a.resource.startsWith(`arn:aws:kms:${HOME}:${ACCOUNT}:key/`),
  );
  expect(fenceUsesHomeKey).toBe(true);
});

describe('the simulated world takes every name from the synthesized stacks', () => {
  test('the compute stack publishes the names of the Batch queues it creates, and the failover enables them', async () => {
    const w = new World();
    const published = w.aws.parameters.get(`${TARGET}:/mlp/tier1/compute/batch-queues`)?.split(',') ?? [];
    const created = [...w.aws.queues.keys()].filter((k) => k.startsWith(`${TARGET}:`)).map((k) => k.split(':')[1]);
    expect(published.length).toBeGreaterThan(0);
    expect(published.sort()).toEqual(created.sort());
    for (const key of w.aws.queues.keys()) w.aws.queues.set(key, 'DISABLED');
    const result = await unplannedFailover(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    for (const name of published) expect(w.aws.queues.get(`${TARGET}:${name}`)).toBe('ENABLED');
  });

  test('a queue renamed in the compute stack reaches the rehearsal under its new name', async () => {
    const w = new World({
      edit: (assembly) => {
        const compute = assembly.stack('Mlp-tier1-usw2-compute').template;
        const queue = Object.values(compute.Resources).find(
          (r) => r.Type === 'AWS::Batch::JobQueue' && r.Properties?.JobQueueName === 'mlp-tier1-spot',
        ) as { Properties: Record<string, unknown> };
        queue.Properties.JobQueueName = 'mlp-tier1-spot-renamed';
        const parameter = Object.values(compute.Resources).find(
          (r) => r.Type === 'AWS::SSM::Parameter' && r.Properties?.Name === '/mlp/tier1/compute/batch-queues',
        ) as { Properties: Record<string, unknown> };
        parameter.Properties.Value = String(parameter.Properties.Value).replace('mlp-tier1-spot', 'mlp-tier1-spot-renamed');
      },
    });
    const result = await unplannedFailover(w);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect(w.aws.queues.get(`${TARGET}:mlp-tier1-spot-renamed`)).toBe('ENABLED');
    expect(w.aws.queues.has(`${TARGET}:mlp-tier1-spot`)).toBe(false);
  });

  test('a parameter naming a queue that no stack creates fails the failover', async () => {
    // GIVEN the parameter as it was published before: the construct keys, not the queue names
    const w = new World({
      edit: (assembly) => {
        const compute = assembly.stack('Mlp-tier1-usw2-compute').template;
        const parameter = Object.values(compute.Resources).find(
          (r) => r.Type === 'AWS::SSM::Parameter' && r.Properties?.Name === '/mlp/tier1/compute/batch-queues',
        ) as { Properties: Record<string, unknown> };
        parameter.Properties.Value = 'priority-high,gpu-training,standard,long-running,spot';
      },
    });
    const result = await unplannedFailover(w);
    expect(result.status).toBe('FAILED');
    expect(w.aws.calls.filter((c) => c.command === 'UpdateJobQueue' && c.region === TARGET).map((c) => c.error)).toContain(
      'AccessDeniedException',
    );
  });
});

describe('the simulated world of every layout', () => {
  test.each(LAYOUTS.filter((l) => (l.compute ?? true) && (l.runbooks ?? true)).map((l) => l.id))(
    '%s: built from its stacks, every parameter resolved',
    (id) => {
      const layout = LAYOUTS.find((l) => l.id === id) as (typeof LAYOUTS)[number];
      const platform = new SimulatedPlatform({
        config: resolvePlatformConfig(layoutContext(layout)).config,
        assembly: DeployedAssembly.fromDirectory(LayoutAssembly.of(id).directory),
      });
      const aurora = platform.aws.globalClusters.size > 0;
      for (const region of platform.regions) {
        for (const name of [
          aurora ? 'postgres/cluster-id' : 'postgres/instance-id',
          'redis/global-datastore-id',
          'kafka/cluster-arn',
          'compute/batch-queues',
          'compute/cluster-name',
        ]) {
          expect(platform.aws.parameters.get(`${region}:/mlp/${platform.tier}/${name}`), `${region} ${name}`).toMatch(/^[\w:/.,-]+$/);
        }
        expect(Object.keys(platform.machines[region] ?? {})).toHaveLength(3);
      }
      if (aurora) {
        const [global] = platform.aws.globalClusters.values();
        // Every region's services write through the global writer endpoint: the one the simulated global database answers on.
        for (const region of platform.regions) {
          expect(platform.aws.parameters.get(`${region}:/mlp/${platform.tier}/postgres/writer-endpoint`)).toBe(`${global?.endpoint}:5432`);
        }
        const roles = (members: [string, boolean][]) => members.sort(([a], [b]) => a.localeCompare(b));
        expect(roles(global?.members.map((m) => [m.region, m.isWriter]) ?? [])).toEqual(
          roles(platform.regions.map((r) => [r, r === platform.primaryRegion])),
        );
      }
    },
  );
});
