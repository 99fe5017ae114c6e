import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { splitShellWords, wrapCommand } from '../../src/report/wrap.js';
import { fillPlaceholders, pasteIntoBash, pastable } from '../lab/commands.js';
import { GOLDEN_DIR, goldenText, loadGoldenReports, WIDTHS } from '../lab/goldens.js';

/**
 * The human report of every cause, locked: real reports (kept by DBDOCTOR_REPORT_DIR from the
 * integration tests' real servers and faults, test/golden/reports) rendered at 80 and 100 columns
 * without colour must be exactly the text in test/golden/human, which was read by eye when it was
 * written. `npm run goldens -- <name>…` rewrites the named ones on purpose; never all at once.
 *
 * And, for every report: no line is wider than the terminal unless it is one word that cannot be
 * broken (a long URL or path, printed whole so that it can be pasted); a command that had to be
 * wrapped still runs exactly as the unwrapped one (pasted into bash, every program a stub).
 */
const reports = loadGoldenReports();

describe('golden human reports', () => {
  test('there is a locked report for every cause the integration tests produce (at least 40)', () => {
    expect(reports.length).toBeGreaterThanOrEqual(40);
  });

  for (const { name, report } of reports) {
    for (const width of WIDTHS) {
      test(`${name} at ${width} columns`, () => {
        const file = join(GOLDEN_DIR, 'human', `${name}.${width}.txt`);
        expect(existsSync(file), `no golden ${file}: write it with npm run goldens -- ${name}`).toBe(true);
        const text = goldenText(report, width);
        expect(text).toBe(readFileSync(file, 'utf8'));
        // A snippet (file lines, a manifest) is printed verbatim, as it must be pasted: its lines are not wrapped.
        const snippetLines = new Set(
          report.targets
            .flatMap((target) => [target.verdict.remediation, ...target.steps.map((step) => step.remediation)].flat())
            .flatMap((fix) => (fix.command && fix.language === undefined ? fix.command.split('\n').map((part) => part.trim()) : [])),
        );
        for (const line of text.split('\n')) {
          if ([...line].length <= width || snippetLines.has(line.trim())) continue;
          // Only one word that cannot be broken may pass the edge (a URL, a path, a quoted SQL with no space outside its literals).
          expect(splitShellWords(line.trim().replace(/ \\$/, '')), `line wider than ${width}: ${line}`).toHaveLength(1);
        }
      });
    }
  }
});

/**
 * The SQL after psql's -c may be wrapped inside its quotes: a line break and indentation where a
 * space was, which PostgreSQL reads alike. Only there is white space compared loosely (outside
 * the SQL's own literals and quoted names); every other argument must be byte for byte the same.
 */
function sqlWhitespace(invocation: { program: string; args: readonly string[] }): { program: string; args: string[] } {
  return { program: invocation.program, args: invocation.args.map((arg, index) => (invocation.args[index - 1] === '-c' ? collapseOutsideQuotes(arg) : arg)) };
}

function collapseOutsideQuotes(sql: string): string {
  return sql
    .split(/('(?:[^']|'')*'|"(?:[^"]|"")*")/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/\s+/g, ' ')))
    .join('');
}

describe('wrapped commands run as the unwrapped ones', () => {
  test('every shell command of every golden report, wrapped at 80 and 100 columns, pastes into bash as the same programs and arguments', async () => {
    const commands = [
      ...new Set(
        reports
          .flatMap(({ report }) => report.targets.flatMap((target) => [target.verdict.remediation, ...target.steps.map((step) => step.remediation)].flat()))
          .filter((fix) => fix.command && fix.language !== 'sql' && fix.language !== 'powershell')
          .map((fix) => fix.command ?? ''),
      ),
    ];
    const shell = commands.map((command) => pastable(command)).filter((command): command is string => command !== undefined && !command.includes('\n'));
    expect(shell.length).toBeGreaterThan(20);
    // Pasted as printed, indentation included.
    const variants = shell.flatMap((command) => WIDTHS.map((width) => ({ command, wrapped: wrapCommand(command, width, '       ', 'shell').join('\n') })));
    const runs = await pasteIntoBash([...shell, ...variants.map((variant) => variant.wrapped)].map(fillPlaceholders));
    const byCommand = new Map(shell.map((command, index) => [command, runs[index]]));
    variants.forEach((variant, index) => {
      const original = byCommand.get(variant.command);
      const wrapped = runs[shell.length + index];
      expect(wrapped?.syntaxError, variant.wrapped).toBe(false);
      // The stages of a pipeline run at once: calls are compared program by program, in order within each.
      const byProgram = (calls: readonly { program: string; args: readonly string[] }[] | undefined): { program: string; args: string[] }[] =>
        [...(calls ?? [])].sort((a, b) => a.program.localeCompare(b.program)).map(sqlWhitespace);
      expect(byProgram(wrapped?.invocations), variant.wrapped).toEqual(byProgram(original?.invocations));
    });
  }, 120_000);
});
