import { InvalidArgumentError } from 'commander';

/**
 * Flag values: durations ("500ms", "30s", "5m", "2h"; a bare number is seconds), seconds, and
 * percentages. Each throws commander's InvalidArgumentError so a bad value becomes one clear line
 * and exit code 3.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$/i.exec(text);
  if (!match) throw new InvalidArgumentError('expected a duration such as 500ms, 30s, 5m or 1h');
  const ms = Number(match[1]) * (UNIT_MS[(match[2] ?? 's').toLowerCase()] ?? 1000);
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError('the duration must be greater than zero');
  return ms;
}

export function parseSeconds(text: string): number {
  const seconds = /^\s*\d+(?:\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) throw new InvalidArgumentError('expected a number of seconds greater than 0, e.g. 10 or 2.5');
  return seconds;
}

export function parsePercent(text: string): number {
  const percent = /^\s*\d+(?:\.\d+)?\s*%?\s*$/.test(text) ? Number(text.replace('%', '')) : Number.NaN;
  if (!Number.isFinite(percent) || percent <= 0 || percent > 100) throw new InvalidArgumentError('expected a percentage between 0 and 100, e.g. 80');
  return percent;
}
