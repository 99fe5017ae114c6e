import { describe, expect, test } from 'vitest';
import { Deadline } from '../../src/engine/deadline.js';
import { DEFAULT_THRESHOLDS, defineStep, type Hint, type Probe, type StepDefinition } from '../../src/engine/probe.js';
import { diagnoseTarget } from '../../src/engine/walk.js';
import type { StepId } from '../../src/engine/steps.js';

/** A probe made of scripted steps, to test the tree walk without any database. */
type Script = Partial<Record<StepId, 'pass' | 'fail' | 'warn' | 'throw' | 'hang' | 'skip'>>;

function probeOf(
  script: Script,
  order: StepId[] = ['queries', 'auth', 'pool', 'network', 'accepting', 'process'],
): Probe<{ engine: string; display: string; sources: Record<string, string> }, { closed: boolean }> {
  const steps: StepDefinition<{ closed: boolean }>[] = order
    .filter((id) => script[id] !== undefined)
    .map((id) =>
      defineStep<{ closed: boolean }, 'not_running' | 'near_limit'>({
        id,
        checks: `scripted ${id}`,
        remedies: { not_running: () => [{ text: 'start it' }], near_limit: () => [{ text: 'shrink pools' }] },
        async run(_ctx, io) {
          io.evidence.seen = id;
          switch (script[id]) {
            case 'fail':
              return io.found('not_running', `${id} failed`, [{ text: 'start it' }]);
            case 'warn':
              return io.found('near_limit', `${id} warned`, [{ text: 'shrink pools' }]);
            case 'throw':
              throw new Error(`${id} exploded`);
            case 'hang':
              return new Promise(() => undefined);
            case 'skip':
              return io.skip(`${id} not applicable`);
            default:
              return io.pass(`${id} fine`);
          }
        },
      }),
    );
  return { engine: 'scripted', steps, open: () => ({ closed: false }), close: async (ctx) => void (ctx.closed = true) };
}

const target = { engine: 'scripted', display: 'scripted://x', sources: { host: 'url' } };
const environment = { platform: { platform: 'host' as const, chosen: 'detected' as const, inContainer: false, signals: [] }, knownNames: async () => [] };
const run = (ms = 2000, hints: Hint[] = []) => ({ deadline: Deadline.within(ms), thresholds: DEFAULT_THRESHOLDS, env: {}, environment, hints });
const all = (status: 'pass'): Script => ({ process: status, accepting: status, network: status, pool: status, auth: status, queries: status });

describe('the tree walk', () => {
  test('all pass: healthy, verdict step null and cause healthy', async () => {
    const report = await diagnoseTarget(probeOf(all('pass')), target, run());
    expect(report.status).toBe('healthy');
    expect(report.verdict).toMatchObject({ step: null, cause: 'healthy' });
    expect(report.steps.map((step) => step.id)).toEqual(['process', 'accepting', 'network', 'pool', 'auth', 'queries']);
  });

  test('steps run in tree order whatever order the probe lists them in', async () => {
    const report = await diagnoseTarget(probeOf(all('pass'), ['auth', 'process', 'queries', 'network', 'pool', 'accepting']), target, run());
    expect(report.steps.map((step) => step.id)).toEqual(['process', 'accepting', 'network', 'pool', 'auth', 'queries']);
  });

  test('the first failure is the verdict; later steps are skipped with the reason', async () => {
    const report = await diagnoseTarget(probeOf({ ...all('pass'), network: 'fail', auth: 'fail' }), target, run());
    expect(report.status).toBe('unhealthy');
    expect(report.verdict).toMatchObject({ step: 'network', cause: 'not_running', message: 'network failed' });
    expect(report.verdict.remediation).toEqual([{ text: 'start it' }]);
    expect(report.steps.slice(3).every((step) => step.status === 'skip' && step.summary === 'not checked: network failed (not_running)')).toBe(true);
  });

  test('skips before the failure stay skips; they do not stop the walk', async () => {
    const report = await diagnoseTarget(probeOf({ ...all('pass'), process: 'skip', accepting: 'skip', network: 'fail' }), target, run());
    expect(report.steps.map((step) => step.status)).toEqual(['skip', 'skip', 'fail', 'skip', 'skip', 'skip']);
  });

  test('warnings only: degraded, the first warning is the verdict, all are collected', async () => {
    const report = await diagnoseTarget(probeOf({ ...all('pass'), pool: 'warn', queries: 'warn' }), target, run());
    expect(report.status).toBe('degraded');
    expect(report.verdict).toMatchObject({ step: 'pool', cause: 'near_limit' });
    expect(report.warnings.map((warning) => warning.step)).toEqual(['pool', 'queries']);
  });

  test('a step that throws becomes check_error on that step, and the others carry on', async () => {
    const report = await diagnoseTarget(probeOf({ ...all('pass'), pool: 'throw' }), target, run());
    const pool = report.steps.find((step) => step.id === 'pool');
    expect(pool).toMatchObject({ status: 'warn', cause: 'check_error' });
    expect(pool?.evidence).toMatchObject({ seen: 'pool', error: 'Error: pool exploded' });
    expect(report.steps.find((step) => step.id === 'queries')?.status).toBe('pass');
    expect(report.status).toBe('degraded');
  });

  test('a step still waiting at the deadline: deadline_exceeded with the evidence so far, on time', async () => {
    const started = Date.now();
    const probe = probeOf({ ...all('pass'), auth: 'hang' });
    const report = await diagnoseTarget(probe, target, run(400));
    // A bound the deadline promises (not a speed measurement): the cut-off is on time.
    expect(Date.now() - started).toBeLessThan(400 + 300);
    const auth = report.steps.find((step) => step.id === 'auth');
    expect(auth).toMatchObject({ status: 'fail', cause: 'deadline_exceeded' });
    expect(auth?.evidence).toMatchObject({ seen: 'auth', deadline: 'run' });
    expect(report.verdict.step).toBe('auth');
  });

  test("deadline_exceeded names the budget that ran out as it was set, with its own figure (not the steps' share after the time kept to close)", async () => {
    const cli = await diagnoseTarget(probeOf({ ...all('pass'), auth: 'hang' }), target, run(400));
    expect(cli.verdict.message).toBe('still waiting when the --timeout of 400 ms ran out');
    expect(cli.verdict.details).toMatchObject({ deadline: 'run', budgetMs: 400, budgetFrom: 'the --timeout' });
    // A budget shorter than the time kept back to close connections: the steps get none, and the
    // message still gives the budget that was set (it once said "the --timeout of 0 ms").
    const tiny = await diagnoseTarget(probeOf(all('pass')), target, run(50));
    expect(tiny.verdict).toMatchObject({ cause: 'deadline_exceeded', message: 'still waiting when the --timeout of 50 ms ran out' });
    // Another budget, named by whoever set it (the exporter: the scrape's own deadline).
    const scrape = { name: "the scrape's deadline", detail: 'X-Prometheus-Scrape-Timeout-Seconds 1, less --timeout-offset 0.5' };
    const scraped = await diagnoseTarget(probeOf({ ...all('pass'), pool: 'hang' }), target, { ...run(), deadline: Deadline.within(500, 'run', scrape) });
    expect(scraped.verdict.message).toBe(
      "still waiting when the scrape's deadline of 500 ms (X-Prometheus-Scrape-Timeout-Seconds 1, less --timeout-offset 0.5) ran out",
    );
    expect(scraped.verdict.remediation[0]?.text).toContain("Allow more time than the scrape's deadline of 500 ms");
    expect(scraped.verdict.message).not.toContain('--timeout of');
  });

  test('a step missing for an engine is a skip that says so', async () => {
    const report = await diagnoseTarget(probeOf({ process: 'pass', accepting: 'pass', network: 'pass', auth: 'pass' }), target, run());
    expect(report.steps.find((step) => step.id === 'pool')).toMatchObject({ status: 'skip', summary: 'not checked for scripted' });
  });

  test('hints from the environment join their step, even a skipped one, and are reported with any verdict', async () => {
    const hint: Hint = { step: 'network', finding: { status: 'warn', cause: 'config_mismatch', summary: 'settings disagree', evidence: {}, remediation: [] } };
    const failing = await diagnoseTarget(probeOf({ ...all('pass'), process: 'fail' }), target, run(2000, [hint]));
    expect(failing.status).toBe('unhealthy');
    expect(failing.steps.find((step) => step.id === 'network')).toMatchObject({ status: 'skip', also: [hint.finding] });
    expect(failing.warnings).toEqual([{ step: 'network', cause: 'config_mismatch', summary: 'settings disagree' }]);
    const passing = await diagnoseTarget(probeOf(all('pass')), target, run(2000, [hint]));
    expect(passing.status).toBe('degraded');
    expect(passing.verdict).toMatchObject({ step: 'network', cause: 'config_mismatch' });
  });

  test('the probe is closed after the walk, even after a failure', async () => {
    const probe = probeOf({ ...all('pass'), process: 'fail' });
    let closed = false;
    const watched = { ...probe, close: async () => void (closed = true) };
    await diagnoseTarget(watched, target, run());
    expect(closed).toBe(true);
  });
});
