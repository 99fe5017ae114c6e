import type { RunReport, StepReport, TargetReport } from '../engine/schema.js';
import { displayable } from './display.js';
import { targetName } from './names.js';

/**
 * JUnit XML for CI dashboards: one test suite per target, one test case per step. A failed step
 * is a <failure> (type = cause code), a skipped one <skipped>, a warning a passing case with the
 * warning in <system-out> (JUnit has no "warning").
 */
export function renderJunit(untrusted: RunReport): string {
  // Untrusted text made visible first (a control character is not even allowed in XML 1.0), then XML-escaped.
  const report = displayable(untrusted);
  const count = (status: StepReport['status']): number =>
    report.targets.reduce((sum, target) => sum + target.steps.filter((step) => step.status === status).length, 0);
  const tests = report.targets.reduce((sum, target) => sum + target.steps.length, 0);
  const suites = report.targets.map(suite).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="dbdoctor" tests="${tests}" failures="${count('fail')}" skipped="${count('skip')}" time="${seconds(report.durationMs)}">\n${suites}\n</testsuites>\n`;
}

function suite(target: TargetReport): string {
  const failures = target.steps.filter((step) => step.status === 'fail').length;
  const skipped = target.steps.filter((step) => step.status === 'skip').length;
  const name = target.label ? `${target.label} (${target.target})` : target.target;
  const cases = target.steps.map((step) => testcase(target, step)).join('\n');
  return `  <testsuite name="${xml(name)}" tests="${target.steps.length}" failures="${failures}" skipped="${skipped}" time="${seconds(target.durationMs)}">\n${cases}\n  </testsuite>`;
}

function testcase(target: TargetReport, step: StepReport): string {
  const open = `    <testcase classname="${xml(`dbdoctor.${target.engine}.${targetName(target)}`)}" name="${step.id}" time="${seconds(step.durationMs)}"`;
  const fixes = step.remediation.map((fix, index) => `${index + 1}. ${fix.text}${fix.command ? `\n   ${fix.command}` : ''}`).join('\n');
  switch (step.status) {
    case 'fail':
      return `${open}>\n      <failure type="${xml(step.cause ?? 'fail')}" message="${xml(step.summary)}">${xml(fixes)}</failure>\n    </testcase>`;
    case 'skip':
      return `${open}>\n      <skipped message="${xml(step.summary)}"/>\n    </testcase>`;
    case 'warn':
      return `${open}>\n      <system-out>${xml(`WARNING ${step.cause ?? ''}: ${step.summary}\n${fixes}`)}</system-out>\n    </testcase>`;
    default:
      return `${open}/>`;
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

export function xml(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // What XML 1.0 cannot carry at all, not even as a character reference (made visible earlier; a net).
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
  );
}
