import type { RunReport, TargetReport } from '../engine/schema.js';
import { formatMs } from '../text/duration.js';
import { STATUS_WORD } from './names.js';

/** A paste-ready incident note: verdict, steps, what to do, and the evidence folded away. */
export function renderMarkdown(report: RunReport, now: Date = new Date()): string {
  const where = report.environment ? `, on ${report.environment.platform}${report.environment.kubernetesNamespace ? ` (namespace ${report.environment.kubernetesNamespace})` : ''}` : '';
  const header = `_Diagnosed ${now.toISOString().replace(/\.\d+Z$/, 'Z')} by dbdoctor ${report.tool.version} in ${formatMs(report.durationMs)}${where}. Overall: **${report.status.toUpperCase()}**._`;
  return `${[header, ...report.targets.map(section)].join('\n\n')}\n`;
}

function section(target: TargetReport): string {
  const title = `## ${STATUS_WORD[target.status]}: ${target.label ? `${cell(target.label)} — ` : ''}\`${target.target}\``;
  const verdict =
    target.verdict.step === null
      ? `**Verdict:** healthy — ${cell(target.verdict.message)}`
      : `**Verdict:** \`${target.verdict.step}/${target.verdict.cause}\` — ${cell(target.verdict.message)}`;
  const steps = ['| step | status | finding |', '| --- | --- | --- |', ...target.steps.map((step) => `| ${step.id} | ${step.status}${step.cause && step.status !== 'pass' ? ` (\`${step.cause}\`)` : ''} | ${cell(step.summary)} |`)];
  const parts = [title, verdict, steps.join('\n')];
  if (target.verdict.remediation.length > 0) {
    parts.push(
      '### What to do',
      target.verdict.remediation
        .map((fix, index) => `${index + 1}. ${fix.text}${fix.command ? `\n\n   \`\`\`${fix.language === 'sql' ? 'sql' : 'sh'}\n${fix.command.split('\n').map((line) => `   ${line}`).join('\n')}\n   \`\`\`` : ''}`)
        .join('\n'),
    );
  }
  if (target.warnings.length > 0) parts.push(`**Also:** ${target.warnings.map((warning) => `\`${warning.step}/${warning.cause}\` ${cell(warning.summary)}`).join('; ')}`);
  parts.push(`<details><summary>Evidence</summary>\n\n\`\`\`json\n${JSON.stringify(target.verdict.details, null, 2)}\n\`\`\`\n\nSettings: ${Object.entries(target.source).map(([key, from]) => `${key} from ${from}`).join(', ')}.\n</details>`);
  return parts.join('\n\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
