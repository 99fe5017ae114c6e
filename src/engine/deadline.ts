import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';

/**
 * Every wait in dbdoctor has a deadline passed in from above. A Deadline is a point in time plus
 * an AbortSignal that fires at that point (or when the parent deadline fires), so that a socket,
 * a DNS lookup or a query can be abandoned the moment the budget is spent.
 */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
  constructor(
    /** Which budget ran out, e.g. "run" (the global --timeout) or "connect". */
    readonly scope: string,
    readonly budgetMs: number,
    /** What set that budget, as a person knows it (e.g. "the --timeout"); see `Deadline.source`. */
    readonly source: BudgetSource = defaultSource(scope),
    /** Stopped by whoever ran it (the API caller's AbortSignal) before the budget ran out: `source` names who. */
    readonly stopped = false,
  ) {
    super(stopped ? `${scope}: stopped by ${source.name}` : `${scope}: no result within ${budgetMs} ms`);
  }

  /** "the --timeout of 1.5 s", "the scrape's deadline of 1.5 s (X-Prometheus-Scrape-Timeout-Seconds …)". */
  describe(format: (ms: number) => string): string {
    return `${this.source.name} of ${format(this.budgetMs)}${this.source.detail ? ` (${this.source.detail})` : ''}`;
  }
}

/** A budget as the person who set it knows it: a noun that takes "of <figure>", and where it came from. */
export interface BudgetSource {
  readonly name: string;
  readonly detail?: string;
}

/** How a budget is named when its creator does not say: "run" is the command's --timeout. */
export function defaultSource(scope: string): BudgetSource {
  return { name: scope === 'run' ? 'the --timeout' : `the ${scope} limit` };
}

export class Deadline {
  private constructor(
    readonly at: number,
    readonly budgetMs: number,
    readonly signal: AbortSignal,
    readonly scope: string,
    private readonly parent: Deadline | undefined,
    // Held so the timer lives as long as the deadline. (AbortSignal.any holds its sources weakly:
    // a bare AbortSignal.timeout passed to it can be garbage-collected and never fire.)
    private readonly timer: NodeJS.Timeout,
    /**
     * What set this budget, in the words of the person who set it: "the --timeout", "the
     * --attempt-timeout", "the scrape's timeout less --timeout-offset", "the target's timeout in
     * targets.yaml". A message that says a budget ran out names it this way, with `budgetMs`.
     */
    readonly source: BudgetSource = defaultSource(scope),
    /** Set by `reserving`: the budget this one is carved from, which is the one to name. */
    private readonly reported?: { readonly scope: string; readonly budgetMs: number; readonly source: BudgetSource },
    /** Set by `until` with a name: the signal that may stop it early, and who that is. */
    private readonly stop?: { readonly signal: AbortSignal; readonly by: BudgetSource },
  ) {}

  /** A root deadline `ms` from now. Its timer is unref'd: it never keeps the process alive. */
  static within(ms: number, scope = 'run', source?: BudgetSource): Deadline {
    const budget = Math.max(0, Math.floor(ms));
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const timer = setTimeout(() => controller.abort(), budget).unref();
    return new Deadline(Date.now() + budget, budget, controller.signal, scope, undefined, timer, source);
  }

  /**
   * A root deadline `ms` after `originMs` on the `performance.now()` clock. The CLI passes 0, the
   * moment this process started: `--timeout 3` measured from outside, as a shell or the kubelet
   * measures it, then means 3 s, start-up of Node and dbdoctor included.
   */
  static after(originMs: number, ms: number, scope = 'run', source?: BudgetSource): Deadline {
    const budget = Math.max(0, Math.floor(originMs + ms - performance.now()));
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const timer = setTimeout(() => controller.abort(), budget).unref();
    // Named with the figure the person set (--timeout 3: "3 s"), not what was left of it at start.
    const reported = source ? { scope, budgetMs: Math.floor(ms), source } : undefined;
    return new Deadline(Date.now() + budget, budget, controller.signal, scope, undefined, timer, source, reported);
  }

  remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  get expired(): boolean {
    return this.signal.aborted || this.remainingMs() <= 0;
  }

  /** A sub-deadline of at most `ms` from now that never outlives this one. */
  /**
   * Calls `fn` once when this deadline ends, or in a microtask when it has ended already: a
   * listener added to a signal that has already fired never runs, and whatever it was to release
   * (a socket connected just before an abort) would stay open. Every wait on a socket ties its
   * release here, not to `signal` directly.
   */
  onExpired(fn: () => void): void {
    if (this.signal.aborted) queueMicrotask(fn);
    else this.signal.addEventListener('abort', fn, { once: true });
  }

  limit(ms: number, scope: string, source?: BudgetSource): Deadline {
    // Asked for no less than what is left, it is this budget that binds, and the one to name.
    if (ms >= this.remainingMs()) return this.reserving(0);
    return this.child(ms, scope, source);
  }

  /**
   * The same budget, ending `ms` sooner (time kept back, e.g. to close connections): when it runs
   * out, it is this budget that is named, with its own figure, since that is the one the person
   * set. (A 1.5 s --timeout cut short 120 ms early still says "the --timeout of 1.5 s".)
   */
  reserving(ms: number): Deadline {
    return this.child(this.remainingMs() - ms, this.scope, this.source, this.reported ?? { scope: this.scope, budgetMs: this.budgetMs, source: this.source });
  }

  /**
   * This deadline, ended early when `signal` fires: for a wait that something found elsewhere
   * makes pointless (another connection already said what answers on a port).
   */
  until(signal: AbortSignal, scope: string, stoppedBy?: BudgetSource): Deadline {
    return this.child(this.remainingMs(), scope, this.source, undefined, signal, stoppedBy);
  }

  private child(
    ms: number,
    scope: string,
    source: BudgetSource | undefined,
    reported?: Deadline['reported'],
    cut?: AbortSignal,
    stoppedBy?: BudgetSource,
  ): Deadline {
    const budget = Math.max(0, Math.floor(Math.min(ms, this.remainingMs())));
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const abort = (): void => {
      clearTimeout(timer);
      this.signal.removeEventListener('abort', abort);
      cut?.removeEventListener('abort', abort);
      controller.abort();
    };
    const timer = setTimeout(abort, budget).unref();
    if (this.signal.aborted || cut?.aborted) abort();
    else {
      this.signal.addEventListener('abort', abort, { once: true });
      cut?.addEventListener('abort', abort, { once: true });
    }
    return new Deadline(
      Date.now() + budget,
      budget,
      controller.signal,
      scope,
      this,
      timer,
      source,
      reported,
      cut && stoppedBy ? { signal: cut, by: stoppedBy } : undefined,
    );
  }

  /** The error describing which budget ran out: the innermost expired one. */
  exceeded(): DeadlineExceeded {
    if (this.parent?.expired) return this.parent.exceeded();
    // Stopped by the one who ran it before its time was up: no budget ran out, and none is named.
    if (this.stop?.signal.aborted && Date.now() < this.at) return new DeadlineExceeded(this.scope, this.budgetMs, this.stop.by, true);
    const named = this.reported ?? this;
    return new DeadlineExceeded(named.scope, named.budgetMs, named.source);
  }

  /** Throws DeadlineExceeded when the deadline has passed. */
  check(): void {
    if (this.expired) throw this.exceeded();
  }

  /**
   * Settles with `work`, or rejects with DeadlineExceeded when the deadline fires first. The
   * loser is abandoned, never awaited: callers tie their resources to `signal` to release them.
   */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.expired) {
      work.catch(() => undefined);
      return Promise.reject(this.exceeded());
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(this.exceeded());
      this.signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          this.signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          this.signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** Sleeps `ms`, or less when the deadline comes first; never rejects. */
  sleep(ms: number): Promise<void> {
    const wait = Math.min(ms, this.remainingMs());
    return new Promise((resolve) => {
      const timer = setTimeout(done, wait);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.signal.addEventListener('abort', done, { once: true });
    });
  }
}

export function isDeadlineExceeded(error: unknown): error is DeadlineExceeded {
  return error instanceof DeadlineExceeded;
}
