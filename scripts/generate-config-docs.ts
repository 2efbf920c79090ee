/**
 * Writes the tier table of docs/configuration.md from the tier presets. `npm test` fails while it is out of date.
 *
 *   npm run docs:config
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTierTable } from '../lib/config/tier-table';

const document = join(import.meta.dirname, '..', 'docs', 'configuration.md');
writeFileSync(document, withTierTable(readFileSync(document, 'utf8')));
console.log(`wrote the tier table of ${document}`);
