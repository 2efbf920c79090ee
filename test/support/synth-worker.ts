/**
 * Synthesizes one share of the test layouts into `<root>/<layout id>`, so the global setup can use
 * both cores. Prints one JSON line: synthesis errors by layout id.
 *
 *   node --import tsx test/support/synth-worker.ts <share> <shares> <root>
 */
import { join } from 'node:path';
import { allTestLayouts } from './all-layouts';
import { synthLayout } from './synth';

const [share, shares, root] = process.argv.slice(2);
const errors: Record<string, string> = {};
allTestLayouts()
  .filter((_, index) => index % Number(shares) === Number(share))
  .forEach((layout) => {
    try {
      synthLayout(layout, join(root as string, layout.id));
    } catch (error) {
      errors[layout.id] = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
    }
  });
process.stdout.write(`${JSON.stringify(errors)}\n`);
