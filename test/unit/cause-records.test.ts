import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { answerOf, CAUSE_CODES, CAUSES, waitingFor } from '../../src/engine/causes.js';
import { EXIT_CODES, exitForSeverity } from '../../src/engine/exit.js';
import { ROOT } from '../lab/dbdoctor.js';

/**
 * Issue 16: one record per cause. Everything dbdoctor says about a cause — where it appears, its
 * severity, what `wait` does about it, the exit code its verdict gives, where the README
 * documents it — is read from src/engine/causes.ts, and no other module keeps a table of causes.
 */
describe('the record of each cause', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  test.each(CAUSE_CODES)('%s: its record names itself, says what wait does, and gives the exit code of its severity', (code) => {
    const record = CAUSES[code];
    expect(record.code).toBe(code);
    expect(['heals', 'permanent', 'retries']).toContain(record.waiting);
    expect(waitingFor(code)).toBe(record.waiting);
    expect(['answered', 'refused', 'silent', 'starting']).toContain(answerOf(code));
    expect(record.exit).toBe({ pass: EXIT_CODES.healthy, warn: EXIT_CODES.degraded, fail: EXIT_CODES.unhealthy }[record.severity]);
  });

  test.each(CAUSE_CODES)('%s: its anchor is in the README, once, on its own row of the catalogue', (code) => {
    const { anchor } = CAUSES[code];
    expect(anchor).toMatch(/^[a-z0-9_-]+$/);
    const tag = `<a id="${anchor}"></a>`;
    expect(readme.split(tag).length - 1).toBe(1);
    const row = readme.split('\n').find((line) => line.includes(tag));
    expect(row?.startsWith(`| \`${code}\` |`)).toBe(true);
    expect(row).toContain(`(exit ${CAUSES[code].exit})`);
  });

  test('anchors are distinct, and none is a heading anchor of the README', () => {
    const anchors = CAUSE_CODES.map((code) => CAUSES[code].anchor);
    expect(new Set(anchors).size).toBe(anchors.length);
    const headings = readme
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) =>
        line
          .replace(/^#+ /, '')
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replace(/ /g, '-'),
      );
    for (const anchor of anchors) expect(headings).not.toContain(anchor);
  });

  test("wait's pacing is said only of failures: a warning is ready, and wait never paces by it", () => {
    for (const code of CAUSE_CODES) if (answerOf(code) !== 'answered') expect(CAUSES[code].severity, code).toBe('fail');
  });

  test('a cause that may be reported as a warning gives degraded then: the exit follows the status', () => {
    const warnable = CAUSE_CODES.filter((code) => 'warnWhen' in CAUSES[code]);
    expect(warnable.length).toBeGreaterThan(0);
    for (const code of warnable) {
      expect(CAUSES[code].exit).toBe(EXIT_CODES.unhealthy);
      expect(exitForSeverity('warn')).toBe(EXIT_CODES.degraded);
    }
  });
});

/** Where a second table of causes would mean a second truth: wait, the CLI, the renderers, the docs, the exporter. */
const READERS = ['src/api', 'src/cli', 'src/report', 'src/docs', 'src/exporter', 'src/explain', 'src/engine'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.generated.ts') ? [path] : [];
  });
}

describe('no other table of causes', () => {
  const quoted = new RegExp(`['"\`](${CAUSE_CODES.join('|')})['"\`]`, 'g');

  test.each(READERS)('%s lists no set or list of cause codes (read the record instead)', (dir) => {
    const found: string[] = [];
    for (const file of sources(join(ROOT, dir))) {
      if (file.endsWith(join('engine', 'causes.ts'))) continue;
      // Comments name causes freely; code is what would keep a second table.
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
      // A list is two or more codes inside one bracket: new Set([...]), [...], or an object of codes.
      for (const match of text.matchAll(/\[[^\]]*\]|\{[^{}]*\}/g)) {
        const codes = match[0].match(quoted) ?? [];
        if (codes.length >= 2) found.push(`${relative(ROOT, file)}: ${codes.join(', ')}`);
      }
    }
    expect(found).toEqual([]);
  });

  test('no module but src/engine/exit.ts writes an exit code as a number', () => {
    const found: string[] = [];
    for (const file of sources(join(ROOT, 'src'))) {
      if (file.endsWith(join('engine', 'exit.ts'))) continue;
      const text = readFileSync(file, 'utf8');
      for (const pattern of [
        /process\.exit\(\s*\d/,
        /process\.exitCode\s*=\s*\d/,
        /exitCode\s*=\s*\d/,
        /EXIT_\w*\s*=\s*\d/,
        /resolve\(\s*(?:1|2|3|4|12[5-9])\s*\)/,
      ])
        if (pattern.test(text)) found.push(`${relative(ROOT, file)}: ${pattern}`);
    }
    expect(found).toEqual([]);
  });
});
