import type { StepObserver } from '../engine/probe.js';
import type { StepId } from '../engine/steps.js';
import { formatMs } from '../text/duration.js';
import type { CliIO } from './io.js';

/**
 * A live line on stderr while a step waits (a silent server, a black hole: seconds with nothing
 * on screen): the step being checked, what it waits on when the probe says (the handshake, the
 * pooler's answer), and the time against --timeout, redrawn in place once a step has waited
 * SHOW_AFTER_MS, and erased before the report is printed (and on Ctrl-C or SIGTERM). Only on a terminal, for the
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
  // What each target's probe says it waits on: the line names it, not just the step that waits.
  const waits = new Map<string, { what: string; since: number }>();
  let drawn = false;
  let frame = 0;
  const draw = (): void => {
    const now = Date.now();
    const waiting = [...active.values()].filter((entry) => now - entry.since >= SHOW_AFTER_MS).sort((a, b) => a.since - b.since);
    const first = waiting[0];
    if (!first) return;
    const more = active.size > 1 ? ` (+${active.size - 1} more)` : '';
    // What matters first, so that a narrow terminal cuts the target's tail rather than the times.
    const wait = waits.get(first.target);
    const waited = `waiting ${formatMs(now - (wait?.since ?? first.since))} · ${formatMs(now - started)} of --timeout ${formatMs(timeoutMs)}`;
    const text = `${FRAMES[frame % FRAMES.length] ?? ''} ${first.step}: ${waited} · ${wait ? `for ${wait.what} · ` : ''}${first.target}${more}`;
    frame += 1;
    const width = Math.max(20, (io.stderrColumns ?? 80) - 1);
    void io.err(`\r\u001b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    drawn = true;
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  // Ctrl-C (or a SIGTERM) while the line is up: erase it, then let the signal end the process as
  // it would have (the shell sees 130 or 143), so the terminal is left clean.
  const onSignal = (signal: NodeJS.Signals): void => {
    clearInterval(timer);
    stopListening();
    const erase = drawn ? '\r\u001b[2K' : '';
    if (!erase) {
      process.kill(process.pid, signal);
      return;
    }
    void io.err(erase).finally(() => process.kill(process.pid, signal));
  };
  const stopListening = (): void => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    observer: {
      stepStarted: (target, step) => active.set(target, { target, step, since: Date.now() }),
      stepFinished: (target) => active.delete(target),
      waitingOn: (target, what) => {
        if (what === undefined) waits.delete(target);
        else if (waits.get(target)?.what !== what) waits.set(target, { what, since: Date.now() });
      },
    },
    clear: async () => {
      clearInterval(timer);
      stopListening();
      if (drawn) await io.err('\r\u001b[2K');
    },
  };
}
