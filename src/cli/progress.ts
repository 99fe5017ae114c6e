import type { StepObserver } from '../engine/probe.js';
import type { StepId } from '../engine/steps.js';
import { formatMs } from '../engine/walk.js';
import type { CliIO } from './io.js';

/**
 * A live line on stderr while a step waits (a silent server, a black hole: seconds with nothing
 * on screen): the step being checked and the time against --timeout, redrawn in place once a step
 * has waited SHOW_AFTER_MS, and erased before the report is printed. Only on a terminal, for the
 * human format, outside CI: a pipe, a log file, --json and the other formats get nothing.
 */
export const SHOW_AFTER_MS = 300;
const REDRAW_MS = 100;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface ProgressLine {
  readonly observer: StepObserver;
  /** Stops redrawing and erases the line, if one was drawn. */
  clear(): Promise<void>;
}

export function progressLine(io: Pick<CliIO, 'err' | 'stderrColumns'>, timeoutMs: number): ProgressLine {
  const started = Date.now();
  const active = new Map<string, { target: string; step: StepId; since: number }>();
  let drawn = false;
  let frame = 0;
  const draw = (): void => {
    const now = Date.now();
    const waiting = [...active.values()].filter((entry) => now - entry.since >= SHOW_AFTER_MS).sort((a, b) => a.since - b.since);
    const first = waiting[0];
    if (!first) return;
    const more = active.size > 1 ? ` (+${active.size - 1} more)` : '';
    // What matters first, so that a narrow terminal cuts the target's tail rather than the times.
    const text = `${FRAMES[frame % FRAMES.length] ?? ''} ${first.step}: waiting ${formatMs(now - first.since)} · ${formatMs(now - started)} of --timeout ${formatMs(timeoutMs)} · ${first.target}${more}`;
    frame += 1;
    const width = Math.max(20, (io.stderrColumns ?? 80) - 1);
    void io.err(`\r\u001b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    drawn = true;
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  return {
    observer: {
      stepStarted: (target, step) => active.set(target, { target, step, since: Date.now() }),
      stepFinished: (target) => active.delete(target),
    },
    clear: async () => {
      clearInterval(timer);
      if (drawn) await io.err('\r\u001b[2K');
    },
  };
}
