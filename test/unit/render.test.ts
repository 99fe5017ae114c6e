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
        { id: 'network', status: 'fail', cause: 'dns_not_found', summary: 'the host name "db" does not resolve (ENOTFOUND)', evidence: { host: 'db' }, remediation: [], durationMs: 12 },
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
    expect(text).not.toMatch(/\u001b\[/);
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
