// Regenerates the parts of README.md that come from the code (between their markers): the cause
// table from the catalogue, the lab table from the lab's scenarios. Run `npm run docs` after adding
// either; test/unit/catalogue.test.ts fails while the README is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { reportJsonSchema } from '../src/docs/schema.js';
import { generatedReadme, SCHEMA_FILE } from '../test/lab/readme.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const updated = generatedReadme(readme);
writeFileSync(path, updated);
process.stdout.write(updated === readme ? 'README.md: up to date\n' : 'README.md: regenerated\n');

writeFileSync(new URL(`../${SCHEMA_FILE}`, import.meta.url), reportJsonSchema());
process.stdout.write(`${SCHEMA_FILE}: written\n`);
