import { resolvePlatformConfig } from '../../lib/config';
import { type DrillReport, type DrillScenario, runDrill, SCENARIOS } from '../../runbooks/drill/drill';
import { stateMachinesOf } from '../../runbooks/local/local-runbooks';
import { LayoutAssembly } from '../support/assembly';

/**
 * Run one scenario as `npm run drill -- --scenario <name>` does with its default layout, on real
 * servers, with the state machines of the gated layout's resilience stacks.
 */
export async function drill(scenario: DrillScenario): Promise<DrillReport> {
  const { tier } = SCENARIOS[scenario].defaultLayout;
  const config = resolvePlatformConfig({ tier, account: '111122223333' }).config;
  const assembly = LayoutAssembly.of(tier);
  const machines = Object.fromEntries(
    config.regions.map((r) => [r.name, stateMachinesOf(assembly.template(`Mlp-${tier}-${r.code}-resilience`) as never)]),
  );
  return runDrill({ scenario, config, machines });
}

export const failed = (report: DrillReport) => report.invariants.filter((i) => !i.held);
