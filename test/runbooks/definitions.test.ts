import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, test } from 'vitest';
import { STEP_SPECS } from '../../runbooks/definitions/catalogue';
import { RUNBOOK_OUTLINES, renderRunbookDocument, SEED_STEP_MAPPING } from '../../runbooks/definitions/documents';
import { stateMachinesOf } from '../../runbooks/local/local-runbooks';
import { LayoutAssembly } from '../support/assembly';
import { LAYOUTS } from '../support/layouts';

/** Every IAM action any role of a stack may perform. */
function actionsOf(template: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }): string[] {
  const actions: string[] = [];
  for (const resource of Object.values(template.Resources)) {
    const documents =
      resource.Type === 'AWS::IAM::Policy'
        ? [resource.Properties?.PolicyDocument]
        : resource.Type === 'AWS::IAM::Role'
          ? ((resource.Properties?.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((p) => p.PolicyDocument)
          : [];
    for (const document of documents as { Statement: { Action: string | string[] }[] }[]) {
      for (const statement of document?.Statement ?? []) actions.push(...[statement.Action].flat());
    }
  }
  return actions;
}

describe.each(LAYOUTS)('runbooks of layout $id', ({ id }) => {
  const assembly = LayoutAssembly.of(id);
  const resilience = assembly.stackNames.filter((name) => name.endsWith('-resilience'));

  test.each(resilience)('%s holds the three state machines, each valid ASL in JSONPath, every Task with a local handler', (stackName) => {
    const machines = stateMachinesOf(assembly.template(stackName) as never);
    const tier = stackName.split('-')[1];
    expect(Object.keys(machines).sort()).toEqual([`mlp-${tier}-az-failover`, `mlp-${tier}-failback`, `mlp-${tier}-region-failover`]);
    for (const machine of Object.values(machines)) {
      const { isValid, errorsText } = aslValidator(machine.definition as never);
      expect(isValid, `${machine.name}: ${errorsText()}`).toBe(true);
      expect(JSON.stringify(machine.definition)).not.toContain('JSONata');
      expect(Object.keys(machine.tasks).length).toBeGreaterThan(0);
    }
  });

  test.each(resilience)('%s: no runbook role can change Route 53 records or health checks', (stackName) => {
    const actions = actionsOf(assembly.template(stackName));
    expect(actions.filter((a) => /^route53:|^route53-recovery/.test(a) || a === '*')).toEqual([]);
  });

  test.each(resilience)('%s: state machines are Standard, traced and log every event to an encrypted log group', (stackName) => {
    const template = assembly.template(stackName);
    const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(3);
    for (const machine of machines) {
      expect(machine.Properties).toMatchObject({
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL' },
      });
      const logGroupArn = JSON.stringify(
        (machine.Properties?.LoggingConfiguration as { Destinations?: unknown[] } | undefined)?.Destinations,
      );
      const logGroupId = /"Fn::GetAtt":\["(\w+)","Arn"\]/.exec(logGroupArn)?.[1] as string;
      expect(template.Resources[logGroupId]?.Properties).toHaveProperty('KmsKeyId');
    }
  });
});

describe('generated runbook documents', () => {
  test('runbooks/RUNBOOKS.md is up to date (npm run docs:runbooks)', () => {
    const written = readFileSync(join(import.meta.dirname, '..', '..', 'runbooks', 'RUNBOOKS.md'), 'utf8');
    expect(written).toBe(renderRunbookDocument());
  });

  test('each outline lists the steps of its synthesized state machine, in the order they are defined', () => {
    const machines = stateMachinesOf(LayoutAssembly.of('tier1').template('Mlp-tier1-usw2-resilience') as never);
    for (const [runbook, outline] of Object.entries(RUNBOOK_OUTLINES)) {
      const machine = machines[`mlp-tier1-${runbook}`];
      const steps = [...new Set(Object.values(machine?.tasks ?? {}).flatMap((t) => (t.step ? [t.step] : [])))];
      expect(new Set(steps), runbook).toEqual(new Set(outline.steps));
    }
  });

  test('every step of the seeds’ manual runbooks is mapped', () => {
    expect(new Set(SEED_STEP_MAPPING.map((row) => row.seed))).toEqual(new Set(['000', '002', '003', '004']));
    const steps = Object.keys(STEP_SPECS);
    for (const row of SEED_STEP_MAPPING) {
      // Each names the step that replaces it, or says why none does.
      const named = steps.some((step) => row.automated.includes(step)) || /^(None|Nothing|Route 53)/.test(row.automated);
      expect(named, `${row.seed}: ${row.manual}`).toBe(true);
    }
  });
});
