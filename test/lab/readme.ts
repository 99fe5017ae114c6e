import { causesTable, labTable, replaceBetween } from '../../src/docs/readme.js';
import { SCENARIOS } from './scenarios.js';

/** The report's JSON Schema as checked in (scripts/docs.ts writes it, a test checks it). */
export const SCHEMA_FILE = 'schema/report.schema.json';

/** The README with its generated sections rewritten (scripts/docs.ts writes it, a test checks it). */
export function generatedReadme(readme: string): string {
  const lab = labTable(SCENARIOS.map((scenario) => ({ name: scenario.name, title: scenario.title, verdicts: scenario.shows })));
  return replaceBetween(replaceBetween(readme, 'causes', causesTable()), 'lab', lab);
}
