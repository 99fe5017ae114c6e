import type { RunReport, TargetReport } from '../engine/schema.js';
import { displayable } from './display.js';
import { connectionsUsedRatio, STATUS_WORD, targetName } from './names.js';

/**
 * A Nagios/Icinga plugin's output: one status line with perfdata, then one line per target.
 * The exit codes already match the plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */
export function renderNagios(untrusted: RunReport): string {
  // One status line: untrusted text made visible (a line break would start Nagios's long output).
  const report = displayable(untrusted);
  const bad = report.targets.filter((target) => target.status !== 'healthy');
  const first = bad[0];
  const summary =
    report.targets.length === 1 && report.targets[0]
      ? line(report.targets[0])
      : bad.length === 0
        ? `${report.targets.length} targets healthy`
        : `${bad.length} of ${report.targets.length} targets not healthy${first ? `; ${line(first)}` : ''}`;
  const perfdata = report.targets.flatMap(perf).join(' ');
  const details = report.targets.length > 1 ? report.targets.map((target) => `${STATUS_WORD[target.status]}: ${line(target)}`) : [];
  return `${[`DBDOCTOR ${STATUS_WORD[report.status]} - ${summary} | ${perfdata}`, ...details].join('\n')}\n`;
}

function line(target: TargetReport): string {
  const name = targetName(target);
  if (target.verdict.step === null) return `${name} healthy`;
  return `${name} ${target.verdict.step}/${target.verdict.cause}: ${target.verdict.message}`.replace(/\|/g, '/');
}

function perf(target: TargetReport): string[] {
  // A label is quoted with ' and ends at "="; a "|" would start perfdata (or long output) anew.
  const label = (what: string): string => `'${targetName(target).replace(/'/g, '"').replace(/=/g, ':').replace(/\|/g, '/')} ${what}'`;
  const values = [`${label('up')}=${target.status === 'unhealthy' ? 0 : 1};;1:;0;1`, `${label('seconds')}=${(target.durationMs / 1000).toFixed(3)}s`];
  const ratio = connectionsUsedRatio(target);
  if (ratio !== undefined) values.push(`${label('connections used')}=${Math.round(ratio * 1000) / 10}%;80;100;0;100`);
  return values;
}
