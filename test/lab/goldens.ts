import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunReportSchema, type RunReport } from '../../src/engine/schema.js';
import { renderHuman } from '../../src/report/human.js';
import { ROOT } from './dbdoctor.js';

/** Where the golden human reports live: the real reports, and their text at each width. */
export const GOLDEN_DIR = join(ROOT, 'test', 'golden');
export const WIDTHS = [80, 100] as const;

export function loadGoldenReports(): { name: string; report: RunReport }[] {
  const dir = join(GOLDEN_DIR, 'reports');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: file.replace(/\.json$/, ''), report: RunReportSchema.parse(JSON.parse(readFileSync(join(dir, file), 'utf8'))) }));
}

export function goldenText(report: RunReport, width: number): string {
  return renderHuman(report, { verbose: false, color: false, width });
}
