import { type DatabaseEngine, type PlatformConfig, resolvePlatformConfig, type TierName } from '../../lib/config';
import { type DrillReport, type DrillScenario, runDrill, SCENARIOS } from '../../runbooks/drill/drill';
import { DeployedAssembly } from '../../runbooks/local/deployed-assembly';
import { synthesizeDeployment } from '../../scripts/support/synthesize';
import { LayoutAssembly } from '../support/assembly';
import { LAYOUTS, layoutContext } from '../support/layouts';

/**
 * Run one scenario as `npm run drill -- --scenario <name>` does with its default layout, on real
 * servers, in the world the gated layout's synthesized stacks describe.
 */
export async function drill(
  scenario: DrillScenario,
  layout: { readonly tier?: TierName; readonly databaseEngine?: DatabaseEngine } = {},
): Promise<DrillReport> {
  const tier = layout.tier ?? SCENARIOS[scenario].defaultLayout.tier;
  const config = resolvePlatformConfig({ tier, account: '111122223333', databaseEngine: layout.databaseEngine }).config;
  return runDrill({ scenario, config, synthesize: synthesizeFor });
}

/** A gated layout's stacks when one has this config (synthesized once for the whole run), else a synthesis of its own. */
function synthesizeFor(config: PlatformConfig): DeployedAssembly {
  const same = JSON.stringify(config);
  const layout = LAYOUTS.filter((l) => l.compute !== false && l.runbooks !== false).find(
    (l) => JSON.stringify(resolvePlatformConfig(layoutContext(l) as never).config) === same,
  );
  return layout ? DeployedAssembly.fromDirectory(LayoutAssembly.of(layout.id).directory) : synthesizeDeployment(config);
}

export const failed = (report: DrillReport) => report.invariants.filter((i) => !i.held);

/** An invariant of the report by (part of) its name: it must be there. */
export function invariant(report: DrillReport, name: string | RegExp) {
  const found = report.invariants.find((i) => (typeof name === 'string' ? i.name === name : name.test(i.name)));
  if (!found) throw new Error(`no invariant ${name} in ${report.invariants.map((i) => i.name).join('; ')}`);
  return found;
}
