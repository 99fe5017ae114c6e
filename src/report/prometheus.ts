import type { RunReport, StepReport, TargetReport } from '../engine/schema.js';
import { displayable } from './display.js';
import { connectionsUsedRatio, targetName } from './names.js';

/**
 * The Prometheus text exposition format, for the node-exporter textfile collector: write it to
 * <dir>/dbdoctor.prom from a CronJob. Every series is labelled by target (its label, or the masked
 * target) and engine.
 */
const STEP_VALUE: Record<StepReport['status'], number> = { skip: 0, pass: 1, warn: 2, fail: 3 };

export function renderPrometheus(untrusted: RunReport): string {
  // Label values: untrusted text made visible, then escaped as the exposition format wants (\\, \", \n).
  const report = displayable(untrusted);
  const lines: string[] = [];
  const family = (name: string, help: string, samples: string[]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples);
  };
  family(
    'dbdoctor_target_up',
    'Whether the target is usable: 1 when healthy or degraded, 0 when unhealthy.',
    report.targets.map(
      (target) =>
        `dbdoctor_target_up${labels(target, { status: target.status, step: target.verdict.step ?? '', cause: target.verdict.cause })} ${target.status === 'unhealthy' ? 0 : 1}`,
    ),
  );
  family(
    'dbdoctor_step_status',
    'Each tree step: 0 skip, 1 pass, 2 warn, 3 fail.',
    report.targets.flatMap((target) =>
      target.steps.map(
        (step) => `dbdoctor_step_status${labels(target, { step: step.id, status: step.status, cause: step.cause ?? '' })} ${STEP_VALUE[step.status]}`,
      ),
    ),
  );
  const ratios = report.targets.flatMap((target) => {
    const ratio = connectionsUsedRatio(target);
    return ratio === undefined ? [] : [`dbdoctor_connections_used_ratio${labels(target)} ${ratio}`];
  });
  if (ratios.length > 0) family('dbdoctor_connections_used_ratio', 'Share of the connection limit in use, where the pool step measured it.', ratios);
  family(
    'dbdoctor_diagnosis_seconds',
    'How long the diagnosis of the target took.',
    report.targets.map((target) => `dbdoctor_diagnosis_seconds${labels(target)} ${(target.durationMs / 1000).toFixed(3)}`),
  );
  return `${lines.join('\n')}\n`;
}

function labels(target: TargetReport, extra: Record<string, string> = {}): string {
  const all = { target: targetName(target), engine: target.engine, ...extra };
  return `{${Object.entries(all)
    .map(([key, value]) => `${key}="${escape(value)}"`)
    .join(',')}}`;
}

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
