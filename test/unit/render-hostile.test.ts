import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { RunReportSchema, type RunReport } from '../../src/engine/schema.js';
import { renderExplainHuman } from '../../src/explain/render.js';
import type { ExplainReport } from '../../src/explain/schema.js';
import { renderHuman } from '../../src/report/human.js';
import { renderJson } from '../../src/report/json.js';
import { renderJunit } from '../../src/report/junit.js';
import { codeSpan, markdownText, renderMarkdown } from '../../src/report/markdown.js';
import { renderNagios } from '../../src/report/nagios.js';
import { renderPrometheus } from '../../src/report/prometheus.js';
import { terminalSafe } from '../../src/text/visible.js';

/**
 * Every renderer, given a report whose every string is hostile (escape sequences, line breaks, bidi
 * overrides, Markdown and XML syntax): no control byte from the report reaches the output, each
 * format's own syntax holds (one Nagios status line, Prometheus samples, Markdown with no link or
 * HTML from the text), and dbdoctor's own colours still work.
 */
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) };

const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '\u001b]52;c;dG91Y2ggL3RtcC94\u0007',
    '\u001b[2J\u001b[H✔ HEALTHY',
    '\u001b]0;pwned\u0007',
    '\u001b[8mhidden',
    '\u009b31mred',
    'line\n✔ HEALTHY  fake',
    'over\rwrite',
    '\u202eevil',
    '![x](https://attacker.example/?leak) [click](https://evil.example) <img src=x onerror=alert(1)> &#x202E;',
    '</failure><injected/>',
    '} 1\ndbdoctor_target_up{target="x"} 1',
    "'| x=1",
    '```\n# heading',
    '`code`',
    // Text that starts a line or a list item could open a block of its own: a list, a heading, a quote, code.
    '*',
    '- item',
    '+ x',
    '1. one',
    '7) seven',
    '# heading',
    '> quote',
    '    indented code',
    '***',
    '~~~',
    // GitHub's Markdown makes links of bare URLs, www. names and e-mail addresses (escaped or not).
    'mail evil@attacker.example or www.attacker.example, see http://evil.example/x (mailto:x@y.example)',
    'user\\@example.com and https\\://evil.example | x@y.z|www.a.b',
  ),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);

const hostileReport: fc.Arbitrary<RunReport> = fc.array(hostile, { minLength: 12, maxLength: 12 }).map((s): RunReport => {
  const at = (index: number): string => s[index] ?? '';
  return {
    schemaVersion: 1,
    tool: { name: 'dbdoctor', version: '0.1.0' },
    status: 'unhealthy',
    durationMs: 12,
    environment: {
      platform: 'kubernetes',
      chosen: 'detected',
      inContainer: true,
      kubernetesNamespace: at(10),
      signals: [at(11)],
      configuration: [{ name: 'DATABASE_URL', value: at(0), source: at(1) }],
    },
    targets: [
      {
        target: `postgresql://app@db:5432/${at(0)}`,
        label: at(1),
        engine: 'postgres',
        // A setting's name is dbdoctor's own; any text but __proto__, which no object keeps as a key.
        source: { host: at(2), [at(3) === '__proto__' ? 'proto' : at(3)]: 'url' },
        status: 'unhealthy',
        verdict: {
          step: 'auth',
          cause: 'auth_failed',
          message: at(4),
          details: { serverMessage: at(5) },
          remediation: [{ text: at(6), command: `psql -c ${at(7)}`, language: 'shell' }, { text: at(8) }],
        },
        warnings: [{ step: 'pool', cause: 'near_limit', summary: at(9) }],
        steps: [
          { id: 'process', status: 'pass', cause: null, summary: at(10), evidence: { message: at(11) }, remediation: [], durationMs: 1 },
          { id: 'accepting', status: 'skip', cause: null, summary: at(0), evidence: {}, remediation: [], durationMs: 0 },
          {
            id: 'network',
            status: 'pass',
            cause: null,
            summary: at(1),
            evidence: {},
            remediation: [],
            durationMs: 2,
            also: [{ status: 'warn', cause: 'config_mismatch', summary: at(2), evidence: {}, remediation: [{ text: at(3) }] }],
          },
          {
            id: 'pool',
            status: 'warn',
            cause: 'near_limit',
            summary: at(9),
            evidence: { usedPercent: 90 },
            remediation: [{ text: at(5), command: at(6), language: 'sql' }],
            durationMs: 3,
          },
          { id: 'auth', status: 'fail', cause: 'auth_failed', summary: at(4), evidence: { serverMessage: at(5) }, remediation: [], durationMs: 1 },
          { id: 'queries', status: 'skip', cause: null, summary: at(7), evidence: {}, remediation: [], durationMs: 0 },
        ],
        durationMs: 10,
      },
    ],
  };
});

// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
/** The output's control characters, dbdoctor's own colours aside. */
// eslint-disable-next-line no-control-regex
const foreignControls = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, '').replace(/[\n\t]/g, '');

/** The elements dbdoctor's own Markdown makes: headings, paragraphs, emphasis, code, the steps table, the list of fixes, the folded evidence. */
const MARKDOWN_OWN_TAGS = new Set([
  'h2',
  'h3',
  'p',
  'em',
  'strong',
  'code',
  'pre',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'ol',
  'li',
  'details',
  'summary',
]);

/** Markdown without its fenced blocks and code spans (CommonMark: a span ends at a run of as many backticks). */
function outsideCode(markdown: string): string {
  const withoutFences = markdown.replace(/^( *)(`{3,})[^\n]*\n[\s\S]*?\n\1\2$/gm, '');
  let out = '';
  for (let index = 0; index < withoutFences.length;) {
    if (withoutFences[index] === '\\') {
      // An escaped character (an escaped backtick opens no span).
      out += withoutFences.slice(index, index + 2);
      index += 2;
      continue;
    }
    const run = /^`+/.exec(withoutFences.slice(index))?.[0];
    if (!run) {
      out += withoutFences[index];
      index += 1;
      continue;
    }
    const close = withoutFences.slice(index + run.length).search(new RegExp(`(?<!\`)${run}(?!\`)`));
    index = close < 0 ? index + run.length : index + run.length + close + run.length;
  }
  return out;
}

describe('renderers, given hostile text everywhere', () => {
  test('human (with and without colour, with evidence): no control character from the report, and one line per value', () => {
    fc.assert(
      fc.property(hostileReport, (report) => {
        for (const color of [false, true]) {
          const text = renderHuman(report, { verbose: true, color });
          expect(foreignControls(text)).not.toMatch(RAW);
          // The verdict stays the second line: no value can start a line of its own.
          const lines = text.split('\n');
          // eslint-disable-next-line no-control-regex
          expect(lines[1]?.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/^ {2}auth: auth_failed — /);
          // eslint-disable-next-line no-control-regex
          expect(lines.filter((line) => /^\S/.test(line.replace(/\u001b\[[0-9;]*m/g, '')))).toHaveLength(1);
        }
      }),
      RUNS,
    );
  });

  test('Markdown: no control character, no link, image, HTML or entity from the text', () => {
    fc.assert(
      fc.property(hostileReport, (report) => {
        const text = renderMarkdown(report, new Date(0));
        expect(text.replace(/\n/g, '')).not.toMatch(RAW);
        expect(outsideCode(text)).not.toMatch(/(?<!\\)\]\(|(?<!\\)<img|(?<!\\)&#/);
      }),
      RUNS,
    );
    // A word that could become a link (GitHub autolinks URLs, www. names and e-mail addresses) is a code span.
    expect(markdownText('![x](http://e) <b> a|b &amp;')).toBe('`![x](http://e)` \\<b\\> a\\|b \\&amp;');
    expect(markdownText('[x](y) mail evil@attacker.example')).toBe('\\[x\\](y) mail `evil@attacker.example`');
    expect(codeSpan('a`b')).toBe('``a`b``');
  });

  test("Markdown through GitHub's own renderer (cmark-gfm): no link, image or element from the text", () => {
    fc.assert(
      fc.property(hostileReport, (report) => {
        const html = execFileSync('cmark-gfm', ['--unsafe', '-e', 'autolink', '-e', 'table', '-e', 'strikethrough', '-e', 'tasklist'], {
          input: renderMarkdown(report, new Date(0)),
          encoding: 'utf8',
        });
        const tags = new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((match) => (match[1] ?? '').toLowerCase()));
        expect(
          [...tags].filter((tag) => !MARKDOWN_OWN_TAGS.has(tag)),
          html,
        ).toEqual([]);
      }),
      { numRuns: Math.ceil(RUNS.numRuns / 4), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}) },
    );
  });

  test('JUnit: no control character, no element from the text', () => {
    fc.assert(
      fc.property(hostileReport, (report) => {
        const text = renderJunit(report);
        expect(text.replace(/\n/g, '')).not.toMatch(RAW);
        expect(text).not.toContain('<injected');
        expect(text.match(/<failure /g)?.length).toBe(1);
      }),
      RUNS,
    );
  });

  test('Nagios: one status line, its perfdata labels quoted', () => {
    fc.assert(
      fc.property(hostileReport, (report) => {
        const text = renderNagios(report);
        expect(text.replace(/\n$/, '')).not.toContain('\n');
        expect(text).not.toMatch(RAW);
        expect(text.split(' | ')).toHaveLength(2);
      }),
      RUNS,
    );
  });

  test('Prometheus: every sample line is a sample, every label value escaped', () => {
    fc.assert(
      fc.property(hostileReport, (report) => {
        const text = renderPrometheus(report);
        expect(text).not.toMatch(RAW);
        for (const line of text.split('\n').filter((entry) => entry !== '' && !entry.startsWith('#')))
          expect(line).toMatch(/^dbdoctor_[a-z_]+\{([a-z_]+="(?:[^"\\\n]|\\.)*",?)+\} -?\d+(\.\d+)?$/);
      }),
      RUNS,
    );
  });

  test('JSON keeps every value exactly, and the writers keep it valid JSON', () => {
    fc.assert(
      fc.property(hostileReport, (report) => {
        const written = terminalSafe(renderJson(report));
        expect(written.replace(/\n/g, '')).not.toMatch(RAW);
        expect(RunReportSchema.parse(JSON.parse(written))).toEqual(JSON.parse(JSON.stringify(report)));
      }),
      RUNS,
    );
  });

  test('explain: the pasted text and the fields read from it are shown escaped', () => {
    fc.assert(
      fc.property(hostile, hostile, (pasted, field) => {
        const report: ExplainReport = {
          schemaVersion: 1,
          tool: { name: 'dbdoctor', version: '0.1.0' },
          command: 'explain',
          status: 'recognised',
          engine: 'postgres',
          client: null,
          verdict: {
            step: 'auth',
            cause: 'auth_failed',
            severity: 'fail',
            title: 'Authentication failed',
            meaning: 'm',
            rule: 'r',
            rank: 'server',
            matched: pasted,
          },
          alternatives: [{ step: 'auth', cause: 'role_missing', why: pasted }],
          guesses: [],
          fields: { host: field, user: pasted },
          remediation: [{ text: pasted, command: `psql -U ${field}`, language: 'shell' }],
          confirm: `dbdoctor diagnose ${field}`,
          matches: [],
          durationMs: 1,
        };
        const text = renderExplainHuman(report, { verbose: true, color: true });
        expect(foreignControls(text)).not.toMatch(RAW);
      }),
      RUNS,
    );
  });
});
