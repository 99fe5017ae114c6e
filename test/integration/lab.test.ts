import { afterAll, describe, expect, test } from 'vitest';
import { diagnoseJson, verdictOf } from '../lab/dbdoctor.js';
import { SCENARIOS, type LabSetup } from '../lab/scenarios.js';

/**
 * Every fault-lab scenario, as a test: built for real (namespaces, veth, iptables, our own
 * resolver, real PostgreSQL), torn down even when an assertion fails.
 */
describe.each(SCENARIOS)('lab scenario $name', (scenario) => {
  let setup: LabSetup | undefined;
  afterAll(async () => setup?.teardown());

  test(scenario.title, async () => {
    setup = await scenario.setup();
    expect(setup.runs.map((run) => run.expect.verdict)).toEqual(scenario.shows);
    for (const run of setup.runs) {
      await run.before?.();
      const { code, report, target, stdout } = await diagnoseJson(run.args, {
        ...(run.prefix ? { prefix: run.prefix } : {}),
        ...(run.env ? { env: run.env } : {}),
        ...(run.cwd ? { cwd: run.cwd } : {}),
      });
      const context = `${scenario.name} / ${run.title}: ${stdout.slice(0, 4000)}`;
      expect(verdictOf(report), context).toBe(run.expect.verdict);
      expect(code, context).toBe(run.expect.exit);
      const verdictText = [
        target.verdict.message,
        ...target.verdict.remediation.flatMap((fix) => [fix.text, fix.command ?? '']),
        JSON.stringify(target.verdict.details),
      ].join('\n');
      for (const text of run.expect.mentions ?? []) expect(verdictText, `${context}\nmust mention: ${text}`).toContain(text);
      for (const cause of run.expect.warnings ?? [])
        expect(
          target.warnings.map((warning) => warning.cause),
          context,
        ).toContain(cause);
      if (run.expect.withinTimeoutSeconds !== undefined) expect(report.durationMs, context).toBeLessThanOrEqual(run.expect.withinTimeoutSeconds * 1000);
    }
  });
});
