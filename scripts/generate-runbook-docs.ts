/**
 * Writes runbooks/RUNBOOKS.md from the runbook definitions. `npm test` fails while it is out of date.
 *
 *   npm run docs:runbooks
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderRunbookDocument } from '../runbooks/definitions/documents';

export const RUNBOOKS_DOCUMENT = join(import.meta.dirname, '..', 'runbooks', 'RUNBOOKS.md');

writeFileSync(RUNBOOKS_DOCUMENT, renderRunbookDocument());
console.log(`wrote ${RUNBOOKS_DOCUMENT}`);
