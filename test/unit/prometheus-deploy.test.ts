import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { metricNames } from '../../src/exporter/metrics.js';
import { ROOT } from '../lab/dbdoctor.js';
import { promtool } from '../lab/prometheus.js';

/**
 * What ships in deploy/prometheus and deploy/grafana, checked with Prometheus's own promtool (rules,
 * their unit tests, the scrape config) and against the metric names the exporter writes. The real
 * Prometheus in test/integration/exporter-prometheus.test.ts loads the same files and fires the rules.
 */
const PROMETHEUS_DIR = join(ROOT, 'deploy', 'prometheus');
/** Series Prometheus writes itself for every scrape. */
const SCRAPE_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels or durations. */
function metricsIn(expr: string): string[] {
  const withoutStrings = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  const words = withoutStrings.match(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\()/g) ?? [];
  const keywords = new Set(['and', 'or', 'unless', 'on', 'ignoring', 'by', 'without', 'group_left', 'group_right', 'bool', 'offset']);
  return [...new Set(words.filter((word) => !keywords.has(word) && /_/.test(word) && !/\(\s*$/.test(word)))];
}

describe('deploy/prometheus', () => {
  test('promtool check rules: the alerting rules are valid', async () => {
    const result = await promtool(['check', 'rules', 'rules.yaml'], undefined, PROMETHEUS_DIR);
    expect(result.output).toMatch(/SUCCESS: 4 rules found/);
    expect(result.code).toBe(0);
  });

  test('promtool test rules: stopped, wrong password, degraded, recovered, a crash loop whose cause keeps changing, unscraped, unknown target and timing-out cases', async () => {
    const result = await promtool(['test', 'rules', 'rules.test.yaml'], undefined, PROMETHEUS_DIR);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.code).toBe(0);
    // The crash loop's case is in the file (the one a rule keyed on the cause never fires for).
    expect(readFileSync(join(PROMETHEUS_DIR, 'rules.test.yaml'), 'utf8')).toMatch(
      /cause="starting_up"[\s\S]*eval_time: 10m\n\s+alertname: DatabaseUnhealthy\n\s+exp_alerts:\n\s+- exp_labels:/,
    );
  });

  test("a database alert is the target's: no verdict label in its expression, so a changing cause neither restarts `for` nor resolves it", () => {
    const rules = (
      parse(readFileSync(join(PROMETHEUS_DIR, 'rules.yaml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }
    ).groups.flatMap((group) => group.rules);
    for (const rule of rules.filter((entry) => entry.alert.startsWith('Database'))) {
      expect(metricsIn(rule.expr), rule.alert).not.toContain('dbdoctor_verdict');
      expect(metricsIn(rule.expr), rule.alert).not.toContain('dbdoctor_verdict_info');
    }
  });

  test('promtool check config: the example scrape config (multi-target relabelling) is valid', async () => {
    const result = await promtool(['check', 'config', 'prometheus.yml'], undefined, PROMETHEUS_DIR);
    expect(result.code, result.output).toBe(0);
  });

  test('the rules use only series the exporter writes (or Prometheus writes per scrape), and carry the verdict in their annotations', () => {
    const rules = (
      parse(readFileSync(join(PROMETHEUS_DIR, 'rules.yaml'), 'utf8')) as {
        groups: { rules: { alert: string; expr: string; annotations: Record<string, string> }[] }[];
      }
    ).groups.flatMap((group) => group.rules);
    const known = new Set([...metricNames(), ...SCRAPE_SERIES]);
    for (const rule of rules) for (const name of metricsIn(rule.expr)) expect(known.has(name), `${rule.alert}: ${name}`).toBe(true);
    for (const rule of rules.filter((entry) => entry.alert.startsWith('Database'))) {
      // The step and cause are read from dbdoctor_verdict when the alert is evaluated (not labels of the alert).
      expect(rule.annotations.summary).toContain('label "cause"');
      expect(rule.annotations.cause).toMatch(/^\{\{ with printf "dbdoctor_verdict\{.*label "cause"/);
      expect(rule.annotations.step).toContain('label "step"');
      expect(rule.annotations.remediation).toContain('label "remediation"');
      expect(rule.annotations.runbook).toBe(`dbdoctor runbook ${rule.annotations.cause}`);
    }
  });
});

describe('deploy/grafana', () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'dbdoctor-exporter.json'), 'utf8')) as {
    uid: string;
    panels: { id: number; title: string; datasource: { uid: string }; targets: { expr: string; refId: string }[] }[];
    templating: { list: { name: string; definition?: string }[] };
  };

  test("parses, with unique panel ids, and every panel on the dashboard's Prometheus variable", () => {
    expect(dashboard.uid).toBe('dbdoctor-exporter');
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe('${datasource}');
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    }
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['datasource', 'job', 'target']);
  });

  test('every query references only metrics the exporter writes', () => {
    const known = new Set(metricNames());
    const exprs = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
      ...dashboard.templating.list.flatMap((variable) => (variable.definition ? [variable.definition.replace(/^label_values\((.*),\s*\w+\)$/, '$1')] : [])),
    ];
    const used = new Set(exprs.flatMap(metricsIn));
    for (const name of used) expect(known.has(name), name).toBe(true);
    // The verdict, the state set, the figures and the exporter's health are all on it.
    for (const name of [
      'dbdoctor_up',
      'dbdoctor_verdict',
      'dbdoctor_verdict_info',
      'dbdoctor_target_status',
      'dbdoctor_connections_in_use',
      'dbdoctor_max_connections',
      'dbdoctor_lock_waits',
      'dbdoctor_step_duration_seconds',
      'dbdoctor_probe_duration_seconds',
      'dbdoctor_exporter_probe_requests_total',
    ]) {
      expect(used.has(name), name).toBe(true);
    }
  });

  test('the PromQL name extraction the two checks rely on', () => {
    expect(metricsIn('sum by (outcome) (rate(dbdoctor_exporter_probe_requests_total{outcome="timed_out"}[5m]))')).toEqual([
      'dbdoctor_exporter_probe_requests_total',
    ]);
    expect(metricsIn('dbdoctor_verdict and on (job, instance, target) (dbdoctor_up == 0)')).toEqual(['dbdoctor_verdict', 'dbdoctor_up']);
    expect(metricsIn('count(dbdoctor_target_status{job=~"$job",status="degraded"} == 1) or vector(0)')).toEqual(['dbdoctor_target_status']);
  });
});
