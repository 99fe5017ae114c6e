import { setMaxListeners } from 'node:events';

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
  ) {
    super(`${scope}: no result within ${budgetMs} ms`);
  }
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
  ) {}

  /** A root deadline `ms` from now. Its timer is unref'd: it never keeps the process alive. */
  static within(ms: number, scope = 'run'): Deadline {
    const budget = Math.max(0, Math.floor(ms));
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const timer = setTimeout(() => controller.abort(), budget).unref();
    return new Deadline(Date.now() + budget, budget, controller.signal, scope, undefined, timer);
  }

  remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  get expired(): boolean {
    return this.signal.aborted || this.remainingMs() <= 0;
  }

  /** A sub-deadline of at most `ms` from now that never outlives this one. */
  limit(ms: number, scope: string): Deadline {
    return this.child(ms, scope, undefined);
  }

  /**
   * This deadline, ended early when `signal` fires: for a wait that something found elsewhere
   * makes pointless (another connection already said what answers on a port).
   */
  until(signal: AbortSignal, scope: string): Deadline {
    return this.child(this.remainingMs(), scope, signal);
  }

  private child(ms: number, scope: string, cut: AbortSignal | undefined): Deadline {
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
    return new Deadline(Date.now() + budget, budget, controller.signal, scope, this, timer);
  }


  /** The error describing which budget ran out: the innermost expired one. */
  exceeded(): DeadlineExceeded {
    if (this.parent?.expired) return this.parent.exceeded();
    return new DeadlineExceeded(this.scope, this.budgetMs);
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
