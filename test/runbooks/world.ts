import { resolvePlatformConfig } from '../../lib/config';
import { DeployedAssembly } from '../../runbooks/local/deployed-assembly';
import { SimulatedPlatform } from '../../runbooks/local/simulated-platform';
import { LayoutAssembly } from '../support/assembly';
import { LAYOUTS, layoutContext } from '../support/layouts';

export const HOME = 'us-east-1';
export const TARGET = 'us-west-2';
/** tier1's witness region: a state table, nothing else. */
export const WITNESS = 'us-east-2';
export const HOME_DB = 'mlp-tier1-pg-use1';
export const TARGET_DB = 'mlp-tier1-pg-usw2';
export const STATE_TABLE = 'mlp-tier1-dr-state';

export interface WorldOptions {
  /** The gated layout whose synthesized stacks (and context) the world is built from. @default 'tier1-rds' */
  readonly layoutId?: string;
  /** Changes to the synthesized templates before the world is built (what a code change would synthesize). */
  readonly edit?: (assembly: DeployedAssembly) => void;
}

/**
 * A simulated tier1 on RDS PostgreSQL (the engine whose runbook path has the most steps), built from
 * the gated tier1-rds layout's synthesized stacks (names, parameters, roles, state machines); another
 * gated layout with its context when given.
 */
export class World extends SimulatedPlatform {
  constructor(options: WorldOptions = {}) {
    const layoutId = options.layoutId ?? 'tier1-rds';
    const layout = LAYOUTS.find((l) => l.id === layoutId);
    if (!layout) throw new Error(`no gated layout ${layoutId}: one of ${LAYOUTS.map((l) => l.id).join(', ')}`);
    const assembly = DeployedAssembly.fromDirectory(LayoutAssembly.of(layoutId).directory);
    options.edit?.(assembly);
    super({ config: resolvePlatformConfig(layoutContext(layout) as never).config, assembly });
  }

  /**
   * Re-protect us-east-1 after us-west-2 took over, as `cdk deploy -c primaryRegion=us-west-2
   * -c rebuiltReplicas=us-east-1:us-west-2` does (the gated tier1-rds-reprotected layout): returns the
   * new replica's identifier.
   */
  reprotectHome(): string {
    const created = this.redeploy(HOME, DeployedAssembly.fromDirectory(LayoutAssembly.of('tier1-rds-reprotected').directory));
    if (created.length !== 1) throw new Error(`re-protection created ${created.join(', ') || 'nothing'} in ${HOME}; expected one replica`);
    return created[0] as string;
  }

  /**
   * A split brain as the two-write-gates-open alarm sees it: after a planned failover to us-west-2,
   * us-east-1's own table says its gate is open, updated a second ago, under a lease valid for another minute.
   */
  async splitBrain(): Promise<void> {
    this.heartbeats(20);
    const run = await this.run('mlp-tier1-region-failover', { mode: 'planned', targetRegion: TARGET });
    if (run.status !== 'SUCCEEDED') throw new Error(`the planned failover to ${TARGET} ended ${run.status}`);
    const now = this.now().getTime();
    this.aws.tables.get(`${HOME}:${STATE_TABLE}`)?.set('gate', {
      pk: { S: 'gate' },
      open: { BOOL: true },
      epoch: { N: '0' },
      updatedAt: { S: new Date(now - 1000).toISOString() },
      openUntil: { S: new Date(now + 60_000).toISOString() },
    });
  }
}
