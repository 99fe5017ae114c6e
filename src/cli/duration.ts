import { InvalidArgumentError } from 'commander';
import { durationMs } from '../config/duration.js';

/**
 * Flag values: durations ("500ms", "30s", "5m", "2h"; a bare number is seconds), seconds, and
 * percentages. Each throws commander's InvalidArgumentError so a bad value becomes one clear line
 * and exit code 3.
 */
export function parseDuration(text: string): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration greater than zero, such as 500ms, 30s, 5m or 1h');
  return ms;
}

export function parseCount(text: string): number {
  const count = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new InvalidArgumentError('expected a whole number from 1 to 1000');
  return count;
}

export function parseSeconds(text: string): number {
  const seconds = /^\s*\d+(?:\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400)
    throw new InvalidArgumentError('expected a number of seconds greater than 0, e.g. 10 or 2.5');
  return seconds;
}

/** Seconds that may be 0 (an offset or a margin, where none is a choice). */
export function parseSecondsOrZero(text: string): number {
  if (/^\s*0+(?:\.0+)?\s*$/.test(text)) return 0;
  const seconds = /^\s*\d+(?:\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 86_400) throw new InvalidArgumentError('expected a number of seconds, 0 or more, e.g. 0.5');
  return seconds;
}

export function parsePercent(text: string): number {
  const percent = /^\s*\d+(?:\.\d+)?\s*%?\s*$/.test(text) ? Number(text.replace('%', '')) : Number.NaN;
  if (!Number.isFinite(percent) || percent <= 0 || percent > 100) throw new InvalidArgumentError('expected a percentage between 0 and 100, e.g. 80');
  return percent;
}
