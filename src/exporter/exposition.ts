/**
 * The Prometheus text exposition format (version 0.0.4), written by the exporter: one family per
 * metric name with its HELP and TYPE, then its samples. Label values and HELP text are escaped as
 * the format requires (backslash, double quote, line feed), and free text is made safe first:
 * control characters become visible escapes, lone surrogates become U+FFFD (the format is UTF-8),
 * and long text is cut, so that a server's message can never break a line or a scrape.
 */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'gauge' | 'counter';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
}

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

/** Text-format lines for one family; a family without samples writes nothing (not even HELP). */
export function family(spec: MetricSpec, samples: readonly Sample[]): string[] {
  if (samples.length === 0) return [];
  return [
    `# HELP ${spec.name} ${escapeHelp(spec.help)}`,
    `# TYPE ${spec.name} ${spec.type}`,
    ...samples.map((sample) => `${spec.name}${labelText(sample.labels)} ${numberText(sample.value)}`),
  ];
}

export function exposition(families: readonly string[][]): string {
  const lines = families.flat();
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function labelText(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '' : `{${entries.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeLabelValue(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD').replace(/[\\"\n]/g, (ch) => (ch === '\n' ? '\\n' : `\\${ch}`));
}

function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (ch) => (ch === '\n' ? '\\n' : '\\\\'));
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/**
 * Free text meant for a label (a verdict's message, a remediation line): one line, control
 * characters shown as \xNN, at most `max` characters (cut with "…").
 */
export function labelSafeText(text: string, max = 300): string {
  const line = text
    .replace(/\s*\n\s*/g, ' ')
    .replace(CONTROL_CHARACTERS, (ch) => (ch === '\t' ? ' ' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`))
    .trim();
  return line.length > max ? `${line.slice(0, max - 1).trimEnd()}…` : line;
}
