/**
 * One look at the host for everyone who asks at the same moment. The targets of a fleet are
 * diagnosed at once, and every refused one asks this machine the same questions (which servers run,
 * where they listen, which clusters exist): thirty refused ports read /proc and a crowded /tmp
 * thirty times over, holding thirty copies of the answers (a 100-target run peaked at 155 MiB,
 * issue 15). The first to ask does the reading; whoever asks while it reads gets the same answer.
 *
 * Nothing is kept once answered: the next question (wait's next try, the exporter's next probe)
 * reads the machine afresh, so sharing never makes an answer older than a run's own.
 *
 * Each asker may bring its deadline's signal. The reading stops (its signal aborts) only when every
 * asker waiting on it has given up; one target's expired deadline does not cut another's answer short.
 */
interface Reading<T> {
  readonly answer: Promise<T>;
  readonly stop: AbortController;
  waiting: number;
  /** Askers without a signal: the reading is never stopped for them. */
  unbounded: boolean;
}

const inFlight = new Map<string, Reading<unknown>>();

export function askOnce<T>(key: string, signal: AbortSignal | undefined, read: (signal: AbortSignal) => Promise<T>): Promise<T> {
  let reading = inFlight.get(key) as Reading<T> | undefined;
  if (!reading) {
    const stop = new AbortController();
    const answer = read(stop.signal).finally(() => {
      if (inFlight.get(key) === reading) inFlight.delete(key);
    });
    reading = { answer, stop, waiting: 0, unbounded: false };
    inFlight.set(key, reading as Reading<unknown>);
  }
  const current = reading;
  // A reading cut short is nobody's answer any more: whoever asks next reads afresh.
  const stop = (): void => {
    if (current.waiting > 0 || current.unbounded) return;
    current.stop.abort();
    if (inFlight.get(key) === current) inFlight.delete(key);
  };
  if (!signal) current.unbounded = true;
  else if (signal.aborted) stop();
  else {
    current.waiting += 1;
    signal.addEventListener(
      'abort',
      () => {
        current.waiting -= 1;
        stop();
      },
      { once: true },
    );
  }
  return current.answer;
}
