import { resolvePlatformConfig } from '../../lib/config';
import { DeployedAssembly } from '../../runbooks/local/deployed-assembly';
import { SimulatedPlatform } from '../../runbooks/local/simulated-platform';
import { LayoutAssembly } from '../support/assembly';
import { TEST_ACCOUNT } from '../support/layouts';

export const HOME = 'us-east-1';
export const TARGET = 'us-west-2';
/** tier1's witness region: a state table, nothing else. */
export const WITNESS = 'us-east-2';
export const HOME_DB = 'mlp-tier1-pg-use1';
export const TARGET_DB = 'mlp-tier1-pg-usw2';
export const STATE_TABLE = 'mlp-tier1-dr-state';

export interface WorldOptions {
  /** The gated layout whose synthesized stacks the world is built from. @default 'tier1' */
  readonly layoutId?: string;
  /** Context of that layout, for its topology. @default none */
  readonly context?: Readonly<Record<string, string>>;
  /** Changes to the synthesized templates before the world is built (what a code change would synthesize). */
  readonly edit?: (assembly: DeployedAssembly) => void;
}

/** A simulated tier1, built from the gated tier1 layout's synthesized stacks (names, parameters, roles, state machines). */
export class World extends SimulatedPlatform {
  constructor(options: WorldOptions = {}) {
    const assembly = DeployedAssembly.fromDirectory(LayoutAssembly.of(options.layoutId ?? 'tier1').directory);
    options.edit?.(assembly);
    super({ config: resolvePlatformConfig({ tier: 'tier1', account: TEST_ACCOUNT, ...options.context }).config, assembly });
  }

  /**
   * Re-protect us-east-1 after us-west-2 took over, as `cdk deploy -c primaryRegion=us-west-2
   * -c rebuiltReplicas=us-east-1:us-west-2` does (the gated tier1-reprotected layout): returns the
   * new replica's identifier.
   */
  reprotectHome(): string {
    const created = this.redeploy(HOME, DeployedAssembly.fromDirectory(LayoutAssembly.of('tier1-reprotected').directory));
    if (created.length !== 1) throw new Error(`re-protection created ${created.join(', ') || 'nothing'} in ${HOME}; expected one replica`);
    return created[0] as string;
  }
}
