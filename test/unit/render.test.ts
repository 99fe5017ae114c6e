import { describe, expect, test } from 'vitest';
import { RunReportSchema, type RunReport } from '../../src/engine/schema.js';
import { renderHuman } from '../../src/report/human.js';
import { renderJson } from '../../src/report/json.js';

const report: RunReport = {
  schemaVersion: 1,
  tool: { name: 'dbdoctor', version: '0.1.0' },
  status: 'unhealthy',
  durationMs: 42,
  targets: [
    {
      target: 'postgresql://app:****@db:5432/app',
      engine: 'postgres',
      source: { host: 'url', password: 'env PGPASSWORD' },
      status: 'unhealthy',
      verdict: {
        step: 'network',
        cause: 'dns_not_found',
        message: 'the host name "db" does not resolve (ENOTFOUND)',
        details: { host: 'db' },
        remediation: [{ text: 'Check the name:', command: 'getent ahosts db', language: 'shell' }, { text: 'Use the service name.' }],
      },
      warnings: [],
      steps: [
        { id: 'process', status: 'skip', cause: null, summary: 'cannot tell', evidence: {}, remediation: [], durationMs: 0 },
        { id: 'accepting', status: 'skip', cause: null, summary: 'no connection was made', evidence: {}, remediation: [], durationMs: 0 },
        {
          id: 'network',
          status: 'fail',
          cause: 'dns_not_found',
          summary: 'the host name "db" does not resolve (ENOTFOUND)',
          evidence: { host: 'db' },
          remediation: [],
          durationMs: 12,
        },
        { id: 'pool', status: 'skip', cause: null, summary: 'not checked: network failed (dns_not_found)', evidence: {}, remediation: [], durationMs: 0 },
        { id: 'auth', status: 'skip', cause: null, summary: 'not checked: network failed (dns_not_found)', evidence: {}, remediation: [], durationMs: 0 },
        { id: 'queries', status: 'skip', cause: null, summary: 'not checked: network failed (dns_not_found)', evidence: {}, remediation: [], durationMs: 0 },
      ],
      durationMs: 40,
    },
  ],
};

describe('human output', () => {
  const text = renderHuman(report, { verbose: false, color: false });
  test('the verdict first, in one line, then its message', () => {
    const [first, second] = text.split('\n');
    expect(first).toBe('✖ UNHEALTHY  postgresql://app:****@db:5432/app');
    expect(second).toBe('  network: dns_not_found — the host name "db" does not resolve (ENOTFOUND)');
  });
  test('one line per step, in tree order', () => {
    const steps = text.split('\n').filter((line) => /^ {2}[✔✖!–] (process|accepting|network|pool|auth|queries)/.test(line));
    expect(steps.map((line) => line.trim().split(/\s+/)[1])).toEqual(['process', 'accepting', 'network', 'pool', 'auth', 'queries']);
  });
  test('numbered fixes with their commands indented to copy', () => {
    expect(text).toContain('  What to do\n  1. Check the name:\n       getent ahosts db\n  2. Use the service name.');
  });
  test('no colour codes when colour is off; colour codes when on', () => {
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/\u001b\[/);
    // eslint-disable-next-line no-control-regex
    expect(renderHuman(report, { verbose: false, color: true })).toMatch(/\u001b\[/);
  });
  test('--verbose adds the evidence', () => {
    expect(renderHuman(report, { verbose: true, color: false })).toContain('"host": "db"');
  });
});

describe('JSON output', () => {
  test('is the schema-valid report, and nothing else', () => {
    const parsed: unknown = JSON.parse(renderJson(report));
    expect(RunReportSchema.parse(parsed)).toEqual(report);
  });
  test('an invalid report is refused rather than printed', () => {
    expect(() => renderJson({ ...report, status: 'fine' } as unknown as RunReport)).toThrow();
  });
});

describe('human output, several targets', () => {
  const unhealthy = report.targets[0];
  if (!unhealthy) throw new Error('the fixture has a target');
  const healthy: RunReport['targets'][number] = {
    ...unhealthy,
    target: 'postgresql://app:****@primary:5432/app',
    label: 'orders',
    status: 'healthy',
    verdict: { step: null, cause: 'healthy', message: 'all checks passed', details: {}, remediation: [] },
    steps: unhealthy.steps.map((step) => ({ ...step, status: 'pass', cause: null, summary: `${step.id} ok` })),
  };
  const several: RunReport = {
    ...report,
    targets: [
      healthy,
      unhealthy,
      { ...healthy, label: 'billing', target: 'postgresql://app:****@billing:5432/app' },
      { ...unhealthy, target: 'postgresql://app:****@db2:5432/app' },
    ],
  };
  const text = renderHuman(several, { verbose: false, color: false, width: 80 });
  const lines = text.trimEnd().split('\n');

  test('the summary is the first line, and the last', () => {
    expect(lines[0]).toBe('✖ 2 of 4 unhealthy: #2 dns_not_found, #4 dns_not_found · 42 ms');
    expect(lines.at(-1)).toBe(lines[0]);
  });

  test('a healthy target is one line; an unhealthy one is in full', () => {
    expect(lines).toContain('✔ HEALTHY  #1 orders  postgresql://app:****@primary:5432/app');
    expect(lines).toContain('✔ HEALTHY  #3 billing  postgresql://app:****@billing:5432/app');
    expect(text).not.toContain('process ok');
    expect(lines.filter((line) => line.includes('dns_not_found — the host name "db" does not resolve'))).toHaveLength(2);
    expect(lines.filter((line) => /What to do/.test(line))).toHaveLength(2);
  });

  test('-v shows every target in full; one target alone stays in full; JSON is unchanged', () => {
    expect(renderHuman(several, { verbose: true, color: false, width: 80 })).toContain('process ok');
    expect(renderHuman({ ...report, status: 'healthy', targets: [healthy] }, { verbose: false, color: false, width: 80 })).toContain('process ok');
    expect(JSON.parse(renderJson(several))).toEqual(several);
  });
});
