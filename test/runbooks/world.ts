import { stateMachinesOf } from '../../runbooks/local/local-runbooks';
import { SimulatedPlatform } from '../../runbooks/local/simulated-platform';
import { LayoutAssembly } from '../support/assembly';

export { HOME, HOME_DB, STATE_TABLE, TARGET, TARGET_DB } from '../../runbooks/local/simulated-platform';

/** A simulated tier1 whose runbooks are the state machines of the gated tier1 layout's us-west-2 resilience stack. */
export class World extends SimulatedPlatform {
  constructor() {
    super(stateMachinesOf(LayoutAssembly.of('tier1').template('Mlp-tier1-usw2-resilience') as never));
  }
}
