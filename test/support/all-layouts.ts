import { LAYOUTS, type Layout } from './layouts';
import { transitionMatrix } from './transitions';

/** Every layout the tests read: the gated ones, then the change-safety matrix (ids with an '@'). */
export function allTestLayouts(): Layout[] {
  return [...LAYOUTS, ...transitionMatrix().layouts];
}
