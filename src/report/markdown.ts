import type { RunReport, TargetReport } from '../engine/schema.js';
import { formatMs } from '../text/duration.js';
import { displayable, jsonBlock } from './display.js';
import { STATUS_WORD } from './names.js';

/**
 * A paste-ready incident note: verdict, steps, what to do, and the evidence folded away. What the
 * report holds is text from servers and settings: in the note it stays text. Prose is escaped
 * (`markdownText`: no link, image, HTML, entity or table cell can come out of it), names sit in
 * code spans long enough for the backticks they hold, commands and evidence in fences longer than
 * any backtick run inside them.
 */
export function renderMarkdown(untrusted: RunReport, now: Date = new Date()): string {
  const report = displayable(untrusted);
  const where = report.environment
    ? `, on ${report.environment.platform}${report.environment.kubernetesNamespace ? ` (namespace ${markdownText(report.environment.kubernetesNamespace)})` : ''}`
    : '';
  const header = `_Diagnosed ${now.toISOString().replace(/\.\d+Z$/, 'Z')} by dbdoctor ${markdownText(report.tool.version)} in ${formatMs(report.durationMs)}${where}. Overall: **${report.status.toUpperCase()}**._`;
  return `${[header, ...report.targets.map(section)].join('\n\n')}\n`;
}

function section(target: TargetReport): string {
  const title = `## ${STATUS_WORD[target.status]}: ${target.label ? `${markdownText(target.label)} — ` : ''}${codeSpan(target.target)}`;
  const verdict =
    target.verdict.step === null
      ? `**Verdict:** healthy — ${markdownText(target.verdict.message)}`
      : `**Verdict:** \`${target.verdict.step}/${target.verdict.cause}\` — ${markdownText(target.verdict.message)}`;
  const steps = [
    '| step | status | finding |',
    '| --- | --- | --- |',
    ...target.steps.map(
      (step) => `| ${step.id} | ${step.status}${step.cause && step.status !== 'pass' ? ` (\`${step.cause}\`)` : ''} | ${markdownText(step.summary)} |`,
    ),
  ];
  const parts = [title, verdict, steps.join('\n')];
  if (target.verdict.remediation.length > 0) {
    parts.push(
      '### What to do',
      target.verdict.remediation
        .map(
          (fix, index) =>
            `${index + 1}. ${markdownText(fix.text)}${fix.command ? `\n\n${fenced(fix.command, fix.language === 'sql' ? 'sql' : fix.language === 'shell' ? 'sh' : fix.language === 'powershell' ? 'powershell' : '', '   ')}` : ''}`,
        )
        .join('\n'),
    );
  }
  if (target.warnings.length > 0)
    parts.push(`**Also:** ${target.warnings.map((warning) => `\`${warning.step}/${warning.cause}\` ${markdownText(warning.summary)}`).join('; ')}`);
  const settings = Object.entries(target.source)
    .map(([key, from]) => `${markdownText(key)} from ${markdownText(from)}`)
    .join(', ');
  parts.push(`<details><summary>Evidence</summary>\n\n${fenced(jsonBlock(target.verdict.details), 'json', '')}\n\nSettings: ${settings}.\n</details>`);
  return parts.join('\n\n');
}

/**
 * Text as Markdown shows it literally: the characters that make links and images ([ ]), HTML
 * (< >), entities (&, which would turn "&#x202E;" into a bidi override), code spans (`), table
 * cells (|) and escapes (\) are backslash-escaped; line breaks were made visible already. GitHub's
 * Markdown also makes links of bare text (extended autolinks): a URL, a www. name, an e-mail
 * address. No escape stops the e-mail kind (GitHub finds it after escapes are undone), so a word
 * that could become one — holding "@", "://", "www." or a mailto:/xmpp: scheme — is a code span.
 */
export function markdownText(text: string): string {
  return text
    .replace(/\n/g, ' ')
    .split(/([^\s|]+)/)
    .map((part, index) => (index % 2 === 1 && LINK_SHAPED.test(part) ? codeSpan(part) : part.replace(/[\\`<>[\]|&]/g, '\\$&')))
    .join('')
    .replace(BLOCK_START, (_whole, marker: string | undefined, number: string | undefined, dot: string | undefined) =>
      marker ? `\\${marker}` : `${number ?? ''}\\${dot ?? ''}`,
    );
}

/**
 * What would open a block where the text starts a line or a list item: a bullet (`*`, `-`, `+`), an
 * ordered item's number (`1.`, `1)`), a heading, a quote, a fence or a thematic break. Leading blanks
 * go first (four of them would make code); the marker gets a backslash, which CommonMark allows
 * before any ASCII punctuation, so the text reads the same wherever it lands.
 */
const BLOCK_START = /^\s*(?:([-*+#>=~_])|(\d{1,9})([.)]))/;

/** A word GitHub's autolink extension could turn into a link (a wider net than its rules). */
const LINK_SHAPED = /@|:\/\/|www\.|^(?:mailto|xmpp):/i;

/** Inline code holding any text: a backtick fence longer than any run of backticks in it. */
export function codeSpan(text: string): string {
  const fence = '`'.repeat(longestRun(text, '`') + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A fenced block whose fence no line inside can close (longer than any backtick run), indented by `indent`. */
function fenced(content: string, language: string, indent: string): string {
  const fence = '`'.repeat(Math.max(3, longestRun(content, '`') + 1));
  return [`${indent}${fence}${language}`, ...content.split('\n').map((line) => `${indent}${line}`), `${indent}${fence}`].join('\n');
}

function longestRun(text: string, character: string): number {
  let longest = 0;
  let current = 0;
  for (const each of text) {
    current = each === character ? current + 1 : 0;
    longest = Math.max(longest, current);
  }
  return longest;
}
