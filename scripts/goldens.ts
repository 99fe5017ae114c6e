/**
 * The golden human reports (test/unit/golden.test.ts), rewritten on purpose, never in bulk:
 *   npm run goldens -- --collect      run the integration tests, keep the first real report of each
 *                                     engine/step/cause that has no golden yet (test/golden/reports)
 *   npm run goldens -- <name> …       render those reports at 80 and 100 columns into test/golden/human,
 *                                     to be read by eye before committing
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN_DIR, goldenText, loadGoldenReports, WIDTHS } from '../test/lab/goldens.js';

const args = process.argv.slice(2);
if (args[0] === '--collect') {
  const kept = mkdtempSync(join(tmpdir(), 'dbdoctor-goldens-'));
  execFileSync('npx', ['vitest', 'run', 'test/integration', ...args.slice(1)], { stdio: 'inherit', env: { ...process.env, DBDOCTOR_REPORT_DIR: kept } });
  const added: string[] = [];
  for (const file of readdirSync(kept)) {
    const target = join(GOLDEN_DIR, 'reports', file);
    if (existsSync(target)) continue;
    copyFileSync(join(kept, file), target);
    added.push(file.replace(/\.json$/, ''));
  }
  console.log(added.length > 0 ? `new reports (render and read them: npm run goldens -- ${added.join(' ')})` : 'no cause without a golden');
} else if (args.length > 0) {
  mkdirSync(join(GOLDEN_DIR, 'human'), { recursive: true });
  const reports = new Map(loadGoldenReports().map(({ name, report }) => [name, report]));
  for (const name of args) {
    const report = reports.get(name);
    if (!report) throw new Error(`no report ${name} in ${join(GOLDEN_DIR, 'reports')}`);
    for (const width of WIDTHS) writeFileSync(join(GOLDEN_DIR, 'human', `${name}.${width}.txt`), goldenText(report, width));
    console.log(`wrote ${name} at ${WIDTHS.join(' and ')} columns`);
  }
} else {
  console.error('usage: npm run goldens -- --collect | <name> …');
  process.exitCode = 3;
}
