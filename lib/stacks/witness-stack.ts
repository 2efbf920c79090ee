import type { Construct } from 'constructs';
import { addRunbookStateStore, type RunbookStateStore } from '../../constructs/runbooks';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

/**
 * The witness of a two-region deployment: a third region's runbook state table and its key, and
 * nothing else. With it the runbook lock and the write lease are majorities of three tables, so a
 * primary cut off from the other region loses its lease and fences itself, and two failovers cannot
 * both take the lock, which two tables alone cannot decide.
 */
export class WitnessStack extends RegionalStack {
  public readonly state: RunbookStateStore;

  constructor(scope: Construct, props: RegionalStackProps) {
    super(scope, 'witness', props);
    this.state = addRunbookStateStore(
      this,
      this.config.tier.name,
      `Encrypts the ${this.config.tier.name} runbooks' witness state table in ${this.region}`,
    );
  }
}
