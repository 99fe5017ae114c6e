import { secrets } from '../config/secrets.js';
import type { RunReport } from '../engine/schema.js';

/** Output formats: one report, many renderings, the same exit codes. */
export const FORMATS = ['human', 'json', 'junit', 'markdown', 'nagios', 'prometheus'] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderOptions {
  readonly format: Format;
  readonly verbose: boolean;
  readonly color: boolean;
  /** Columns the human report fits; see widthFor. */
  readonly width?: number;
}

/** The terminal's width; piped, $COLUMNS, else 100 (a ticket, a CI log). */
export function widthFor(io: { readonly columns?: number; readonly env: Readonly<Record<string, string | undefined>> }): number {
  const fromEnv = Number(io.env.COLUMNS);
  return io.columns ?? (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 100);
}

/**
 * Loads only the renderer asked for. Known secrets are masked in the report's values before any
 * renderer lays it out or escapes it for its format (a password with a "[" in it would be "\\[" in
 * Markdown; inside JSON a password "false," would be JSON syntax): the report as a structure, its
 * commands kept as built (secrets.redactDocument).
 */
export async function render(untrusted: RunReport, options: RenderOptions): Promise<string> {
  const report = secrets.redactDocument(untrusted);
  switch (options.format) {
    case 'json':
      return (await import('../report/json.js')).renderJson(report);
    case 'junit':
      return (await import('../report/junit.js')).renderJunit(report);
    case 'markdown':
      return (await import('../report/markdown.js')).renderMarkdown(report);
    case 'nagios':
      return (await import('../report/nagios.js')).renderNagios(report);
    case 'prometheus':
      return (await import('../report/prometheus.js')).renderPrometheus(report);
    default:
      return (await import('../report/human.js')).renderHuman(report, {
        verbose: options.verbose,
        color: options.color,
        ...(options.width ? { width: options.width } : {}),
      });
  }
}
