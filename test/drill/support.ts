import { resolvePlatformConfig } from '../../lib/config';
import { type DrillReport, type DrillScenario, runDrill, SCENARIOS } from '../../runbooks/drill/drill';
import { DeployedAssembly } from '../../runbooks/local/deployed-assembly';
import { LayoutAssembly } from '../support/assembly';

/**
 * Run one scenario as `npm run drill -- --scenario <name>` does with its default layout, on real
 * servers, in the world the gated layout's synthesized stacks describe.
 */
export async function drill(scenario: DrillScenario): Promise<DrillReport> {
  const { tier } = SCENARIOS[scenario].defaultLayout;
  const config = resolvePlatformConfig({ tier, account: '111122223333' }).config;
  return runDrill({ scenario, config, assembly: DeployedAssembly.fromDirectory(LayoutAssembly.of(tier).directory) });
}

export const failed = (report: DrillReport) => report.invariants.filter((i) => !i.held);
