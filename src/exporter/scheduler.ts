import { Deadline, type BudgetSource } from '../engine/deadline.js';
import type { TargetReport } from '../engine/schema.js';
import { renderProbe, type ProbeResult } from './metrics.js';

/**
 * Between scrapes and the databases: however many Prometheus servers scrape however often, each
 * target is diagnosed by at most one diagnosis at a time, and no sooner than its minimum interval
 * after the last one started; scrapes in between get the last result (its timestamp says how old it
 * is), and scrapes that arrive while a diagnosis runs wait for it and share it. Across targets, at
 * most `maxConcurrent` diagnoses run at once; the others queue, each within its own scrape's time.
 * What is kept is one rendered result per configured target, so memory does not grow with the
 * number of scrapes.
 *
 * A scrape sets the time its diagnosis gets (its X-Prometheus-Scrape-Timeout-Seconds), so anyone
 * who can reach /probe could ask for a diagnosis too short to finish and have every other scraper
 * served the "unhealthy" it produced. So a result keeps the budget it had, and one whose verdict
 * may have been decided by that budget (unhealthy, after using at least half of it) is served only
 * to scrapes that allow no more time; a scrape that allows more diagnoses again. And a scrape that
 * allows less than `minBudgetMs` starts nothing: it gets the last result, or none.
 */
export interface ScheduledTarget {
  readonly name: string;
  readonly minIntervalMs: number;
  /** The target's own timeout (its config file's `timeout`), when it gives one: no scrape's budget exceeds it. */
  readonly timeout?: { readonly ms: number; readonly source: BudgetSource };
}

export interface Entry extends ProbeResult {
  /** The metrics text, rendered once per diagnosis. */
  readonly text: string;
  /** Unix milliseconds when the diagnosis started (the minimum interval counts from here). */
  readonly startedAt: number;
  /** The time it was given. */
  readonly budgetMs: number;
  /** Unhealthy after using at least half its time: with more time, the verdict might differ. */
  readonly timeBound: boolean;
}

export type Answer =
  | { readonly kind: 'fresh' | 'cached' | 'shared'; readonly entry: Entry }
  /** No result within the scrape's time: the last one (older than the interval), if there is one. */
  | { readonly kind: 'timed_out'; readonly entry: Entry | undefined; readonly reason: string }
  /** The scrape allows less time than a diagnosis needs: none started; the last result, if there is one. */
  | { readonly kind: 'too_short'; readonly entry: Entry | undefined; readonly reason: string };

/** Runs one diagnosis within `deadline`; the scheduler never calls it twice at once for a target. */
export type Diagnose = (name: string, deadline: Deadline) => Promise<TargetReport>;

interface Running {
  readonly promise: Promise<Entry>;
  readonly budgetMs: number;
}

interface Slot {
  target: ScheduledTarget;
  last?: Entry;
  running?: Running;
  diagnoses: number;
}

/**
 * The least time worth a diagnosis: connecting, logging in and a query or two on a server that
 * answers at once, with the time kept back to close. A scrape that allows less (see scrapeBudget
 * in server.ts) gets the last result, or a 503 that says to raise its scrape_timeout.
 */
export const MIN_DIAGNOSIS_MS = 1000;

/**
 * A result is reused while it is younger than the minimum interval less this share of it (at most
 * MAX_SLACK_MS): a scrape every minInterval arrives a few milliseconds early or late, and one that
 * arrives early must still get a fresh diagnosis, not every other one.
 */
const SLACK_SHARE = 0.1;
const MAX_SLACK_MS = 1000;

export function reusableFor(minIntervalMs: number): number {
  return minIntervalMs - Math.min(minIntervalMs * SLACK_SHARE, MAX_SLACK_MS);
}

/** Whether a result may answer a scrape that allows `budgetMs`. */
export function servable(entry: Entry, budgetMs: number): boolean {
  return !entry.timeBound || entry.budgetMs >= budgetMs;
}

export class Scheduler {
  private readonly slots: Map<string, Slot>;
  /** Diagnoses of targets taken out of the config (SIGHUP) that still run: drained at shutdown. */
  private readonly retiring = new Set<Promise<Entry>>();
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    targets: readonly ScheduledTarget[],
    private readonly diagnose: Diagnose,
    private readonly maxConcurrent: number,
    private readonly now: () => number = Date.now,
    /** A scrape that allows less starts no diagnosis (the exporter: 1 s, or its --timeout if shorter). */
    private readonly minBudgetMs = 0,
  ) {
    this.slots = new Map(targets.map((target) => [target.name, { target, diagnoses: 0 }]));
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  get names(): string[] {
    return [...this.slots.keys()];
  }

  get inFlight(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  diagnosesOf(name: string): number {
    return this.slots.get(name)?.diagnoses ?? 0;
  }

  /**
   * The targets after the config file was read again: new ones are added, gone ones dropped (a
   * diagnosis of one still running ends on its own, and shutdown waits for it), and those in
   * `changed` (another URL or settings) lose their last result, which was about something else.
   */
  update(targets: readonly ScheduledTarget[], changed: ReadonlySet<string>): void {
    const wanted = new Map(targets.map((target) => [target.name, target]));
    for (const [name, slot] of this.slots) {
      if (wanted.has(name)) continue;
      if (slot.running) this.retire(slot.running.promise);
      this.slots.delete(name);
    }
    for (const target of targets) {
      const slot = this.slots.get(target.name);
      if (!slot) {
        this.slots.set(target.name, { target, diagnoses: 0 });
      } else {
        slot.target = target;
        if (changed.has(target.name)) {
          slot.last = undefined;
          // A diagnosis of the old settings still running must not become the new one's result.
          if (slot.running) this.retire(slot.running.promise);
          slot.running = undefined;
        }
      }
    }
  }

  /**
   * The result for one scrape of `name`: a diagnosis started now gets `budgetMs` (the scrape's time,
   * less a margin; `source` names it in a deadline_exceeded message); the scrape waits for it that
   * long plus `settleMs`, the time a diagnosis takes to wrap up once its deadline fires.
   */
  async probe(name: string, requestedMs: number, settleMs = 0, requestedSource?: BudgetSource): Promise<Answer> {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`not a configured target: ${name}`);
    const started = this.now();
    // The target's own timeout caps the scrape's (and then it is the one a message names, and the
    // least a diagnosis of it may get: its owner chose it).
    const own = slot.target.timeout;
    const capped = own !== undefined && own.ms < requestedMs;
    const budgetMs = capped ? own.ms : requestedMs;
    const source = capped ? own.source : requestedSource;
    const floorMs = own !== undefined ? Math.min(this.minBudgetMs, own.ms) : this.minBudgetMs;
    if (slot.running) {
      const shared = await this.await(slot, slot.running.promise, budgetMs + settleMs, 'shared');
      if (shared.kind !== 'shared' || servable(shared.entry, budgetMs)) return shared;
      // Shorter than this scrape allows, and its verdict may come from that: diagnose again with
      // the time left, if it is enough; else this is the best there is.
      const left = budgetMs - (this.now() - started);
      return left >= floorMs && this.slots.get(name) === slot ? this.probe(name, left, settleMs, source) : shared;
    }
    const last = slot.last;
    if (last && started - last.startedAt < reusableFor(slot.target.minIntervalMs) && servable(last, budgetMs)) return { kind: 'cached', entry: last };
    if (budgetMs < floorMs) {
      return {
        kind: 'too_short',
        entry: last,
        reason: `the scrape allows ${budgetMs} ms for a diagnosis of ${name}, less than the ${floorMs} ms one needs; raise its scrape_timeout`,
      };
    }
    // Assigned just below; the diagnosis reads it only when it ends.
    // eslint-disable-next-line prefer-const -- declared before the closure that reads it, so the closure never meets it uninitialised
    let running: Running | undefined;
    const promise = this.run(slot, budgetMs, source, () => slot.running === running);
    running = { promise, budgetMs };
    slot.running = running;
    const done = (): void => {
      if (slot.running === running) slot.running = undefined;
    };
    void promise.then(done, done);
    return this.await(slot, promise, budgetMs + settleMs, 'fresh');
  }

  /** Resolves when no diagnosis runs or waits (graceful shutdown). */
  async drain(): Promise<void> {
    const running = [...this.slots.values()].flatMap((slot) => (slot.running ? [slot.running.promise] : []));
    await Promise.allSettled([...running, ...this.retiring]);
  }

  private retire(promise: Promise<Entry>): void {
    this.retiring.add(promise);
    const forget = (): void => void this.retiring.delete(promise);
    void promise.then(forget, forget);
  }

  private async await(slot: Slot, running: Promise<Entry>, waitMs: number, kind: 'fresh' | 'shared'): Promise<Answer> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), Math.max(0, waitMs))));
    try {
      const settled = await Promise.race([
        running.then(
          (entry) => ({ entry }),
          (error: unknown) => ({ error }),
        ),
        expired,
      ]);
      if (settled === 'expired')
        return { kind: 'timed_out', entry: slot.last, reason: `the diagnosis of ${slot.target.name} did not end within the scrape's ${waitMs} ms` };
      if ('error' in settled) {
        if (settled.error instanceof QueueTimeout) return { kind: 'timed_out', entry: slot.last, reason: settled.error.message };
        throw settled.error;
      }
      return { kind, entry: settled.entry };
    } finally {
      clearTimeout(timer);
    }
  }

  /** `current`: whether this diagnosis is still the slot's own (not one of settings since changed). */
  private async run(slot: Slot, budgetMs: number, source: BudgetSource | undefined, current: () => boolean): Promise<Entry> {
    const requested = this.now();
    // The deadline starts with the scrape: time spent waiting for a slot is part of its budget.
    const deadline = Deadline.within(budgetMs, 'run', source);
    await this.acquire(budgetMs, slot.target.name);
    try {
      const startedAt = this.now();
      const report = await this.diagnose(slot.target.name, deadline);
      slot.diagnoses += 1;
      const endedAt = this.now();
      const result: ProbeResult = { name: slot.target.name, report, endedAt };
      const timeBound = report.status === 'unhealthy' && (report.verdict.cause === 'deadline_exceeded' || endedAt - requested >= budgetMs / 2);
      const entry: Entry = { ...result, text: renderProbe(result), startedAt, budgetMs, timeBound };
      if (current()) slot.last = entry;
      return entry;
    } finally {
      this.release();
    }
  }

  private acquire(budgetMs: number, name: string): Promise<void> {
    if (this.active < this.maxConcurrent) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const turn = (): void => {
        clearTimeout(timer);
        this.active += 1;
        resolve();
      };
      const timer = setTimeout(
        () => {
          const index = this.queue.indexOf(turn);
          if (index >= 0) this.queue.splice(index, 1);
          reject(new QueueTimeout(`no diagnosis slot for ${name} within ${budgetMs} ms: ${this.maxConcurrent} diagnoses were running (--max-concurrent)`));
        },
        Math.max(0, budgetMs),
      );
      this.queue.push(turn);
    });
  }

  private release(): void {
    this.active -= 1;
    this.queue.shift()?.();
  }
}

class QueueTimeout extends Error {
  override readonly name = 'QueueTimeout';
}
