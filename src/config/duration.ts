/**
 * Durations as people write them: "500ms", "30s", "5m", "1h", or a bare number of seconds. Shared by
 * the command line and config files; callers turn a failure into their own kind of error.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** Longer than any deadline or threshold could mean (a year); beyond it, a typo. */
const MAX_MS = 366 * 24 * 3_600_000;

export function durationMs(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 && text * 1000 <= MAX_MS ? text * 1000 : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$/i.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNIT_MS[(match[2] ?? 's').toLowerCase()] ?? 1000);
  return Number.isFinite(ms) && ms > 0 && ms <= MAX_MS ? ms : undefined;
}
