import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { progressLine, SHOW_AFTER_MS } from '../../src/cli/progress.js';

/** The progress line's own rules, on a fake clock: drawn only once a step has waited, erased at the end. */
describe('the progress line', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const capture = (): { written: string[]; io: { err: (text: string) => Promise<void>; stderrColumns: number } } => {
    const written: string[] = [];
    return { written, io: { err: async (text: string) => void written.push(text), stderrColumns: 60 } };
  };

  test('steps that finish within 300 ms draw nothing, and nothing is erased', async () => {
    const { written, io } = capture();
    const line = progressLine(io, 10_000);
    for (const step of ['process', 'accepting', 'network'] as const) {
      line.observer.stepStarted('postgresql://db/app', step);
      vi.advanceTimersByTime(SHOW_AFTER_MS - 100);
      line.observer.stepFinished('postgresql://db/app', step);
    }
    await line.clear();
    expect(written).toEqual([]);
  });

  test('a step that waits is drawn in place, cut to the terminal, then erased', async () => {
    const { written, io } = capture();
    const line = progressLine(io, 10_000);
    line.observer.stepStarted('postgresql://app@a-very-long-host-name.example.com:5432/app', 'accepting');
    vi.advanceTimersByTime(SHOW_AFTER_MS + 250);
    expect(written.length).toBeGreaterThan(0);
    for (const text of written) {
      expect(text.startsWith('\r\u001b[2K')).toBe(true);
      expect(text.length - 5).toBeLessThanOrEqual(59);
    }
    // The step and the times first: the narrow terminal (60 columns) cuts the target's tail.
    // eslint-disable-next-line no-control-regex
    expect(written.at(-1)).toMatch(/^\r\u001b\[2K\S accepting: waiting [\d.]+ ms · [\d.]+ ms of --timeout 10 s · p…$/);
    line.observer.stepFinished('postgresql://app@a-very-long-host-name.example.com:5432/app', 'accepting');
    await line.clear();
    expect(written.at(-1)).toBe('\r\u001b[2K');
  });

  test('what the probe waits on is named, its own wait timed, and dropped once it is over', async () => {
    const { written, io } = capture();
    const line = progressLine({ ...io, stderrColumns: 200 }, 10_000);
    line.observer.stepStarted('postgresql://db/app', 'accepting');
    vi.advanceTimersByTime(200);
    line.observer.waitingOn?.('postgresql://db/app', 'the PostgreSQL handshake with db:5432');
    vi.advanceTimersByTime(SHOW_AFTER_MS);
    expect(written.at(-1)).toMatch(
      // eslint-disable-next-line no-control-regex
      /^\r\u001b\[2K\S accepting: waiting 300 ms · 500 ms of --timeout 10 s · for the PostgreSQL handshake with db:5432 · postgresql:\/\/db\/app$/,
    );
    line.observer.waitingOn?.('postgresql://db/app', undefined);
    vi.advanceTimersByTime(100);
    // eslint-disable-next-line no-control-regex
    expect(written.at(-1)).toMatch(/^\r\u001b\[2K\S accepting: waiting 600 ms · 600 ms of --timeout 10 s · postgresql:\/\/db\/app$/);
    await line.clear();
  });
});
