import { performance } from 'node:perf_hooks';
import type { Deadline } from '../engine/deadline.js';
import type { StepObserver } from '../engine/probe.js';
import type { RunReport } from '../engine/schema.js';
import type { PreparedRun } from './run.js';

/**
 * Diagnoses every prepared target under one deadline and puts the answers into the run's report:
 * `dbdoctor diagnose` and the API's `diagnose` are this one function (the CLI then renders the
 * report; the API redacts and returns it). `started` is on the `performance.now()` clock.
 */
export async function diagnoseRun(
  prepared: PreparedRun,
  run: { readonly deadline: Deadline; readonly version: string; readonly started: number; readonly observer?: StepObserver },
): Promise<RunReport> {
  const [{ diagnoseAll }, { runReport }] = await Promise.all([import('./run.js'), import('../engine/run.js')]);
  const reports = await diagnoseAll(prepared, run.deadline, undefined, run.observer);
  return runReport(reports, performance.now() - run.started, run.version, prepared.environmentReport);
}
