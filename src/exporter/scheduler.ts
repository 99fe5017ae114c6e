import type { TargetReport } from '../engine/schema.js';
import { renderProbe, type ProbeResult } from './metrics.js';

/**
 * Between scrapes and the databases: however many Prometheus servers scrape however often, each
 * target is diagnosed by at most one diagnosis at a time, and no sooner than its minimum interval
 * after the last one ended; scrapes in between get the last result (its timestamp says how old it
 * is), and scrapes that arrive while a diagnosis runs wait for it and share it. Across targets, at
 * most `maxConcurrent` diagnoses run at once; the others queue, each within its own scrape's time.
 * What is kept is one rendered result per configured target, so memory does not grow with the
 * number of scrapes.
 */
export interface ScheduledTarget {
  readonly name: string;
  readonly minIntervalMs: number;
}

export interface Entry extends ProbeResult {
  /** The metrics text, rendered once per diagnosis. */
  readonly text: string;
}

export type Answer =
  | { readonly kind: 'fresh' | 'cached' | 'shared'; readonly entry: Entry }
  /** No result within the scrape's time: the last one (older than the interval), if there is one. */
  | { readonly kind: 'timed_out'; readonly entry: Entry | undefined; readonly reason: string };

/** Runs one diagnosis within `budgetMs`; the scheduler never calls it twice at once for a target. */
export type Diagnose = (name: string, budgetMs: number) => Promise<TargetReport>;

interface Slot {
  readonly target: ScheduledTarget;
  last?: Entry;
  running?: Promise<Entry>;
  diagnoses: number;
}

export class Scheduler {
  private readonly slots: Map<string, Slot>;
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    targets: readonly ScheduledTarget[],
    private readonly diagnose: Diagnose,
    private readonly maxConcurrent: number,
    private readonly now: () => number = Date.now,
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
   * The result for one scrape of `name`: a diagnosis started now gets `budgetMs` (the scrape's time,
   * less a margin); the scrape waits for it that long plus `settleMs`, the time a diagnosis takes to
   * wrap up once its deadline fires.
   */
  async probe(name: string, budgetMs: number, settleMs = 0): Promise<Answer> {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`not a configured target: ${name}`);
    const started = this.now();
    if (slot.running) return this.await(slot, slot.running, budgetMs + settleMs, 'shared');
    if (slot.last && started - slot.last.endedAt < slot.target.minIntervalMs) return { kind: 'cached', entry: slot.last };
    const running = this.run(slot, budgetMs);
    slot.running = running;
    void running.then(
      () => (slot.running = undefined),
      () => (slot.running = undefined),
    );
    return this.await(slot, running, budgetMs + settleMs, 'fresh');
  }

  /** Resolves when no diagnosis runs or waits (graceful shutdown). */
  async drain(): Promise<void> {
    const running = [...this.slots.values()].map((slot) => slot.running).filter((entry): entry is Promise<Entry> => entry !== undefined);
    await Promise.allSettled(running);
  }

  private async await(slot: Slot, running: Promise<Entry>, waitMs: number, kind: 'fresh' | 'shared'): Promise<Answer> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), Math.max(0, waitMs))));
    try {
      const settled = await Promise.race([running.then((entry) => ({ entry }), (error: unknown) => ({ error })), expired]);
      if (settled === 'expired') return { kind: 'timed_out', entry: slot.last, reason: `the diagnosis of ${slot.target.name} did not end within the scrape's ${waitMs} ms` };
      if ('error' in settled) {
        if (settled.error instanceof QueueTimeout) return { kind: 'timed_out', entry: slot.last, reason: settled.error.message };
        throw settled.error;
      }
      return { kind, entry: settled.entry };
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(slot: Slot, budgetMs: number): Promise<Entry> {
    const started = this.now();
    await this.acquire(budgetMs, slot.target.name);
    try {
      const report = await this.diagnose(slot.target.name, budgetMs - (this.now() - started));
      slot.diagnoses += 1;
      const result: ProbeResult = { name: slot.target.name, report, endedAt: this.now() };
      const entry: Entry = { ...result, text: renderProbe(result) };
      slot.last = entry;
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
      const timer = setTimeout(() => {
        const index = this.queue.indexOf(turn);
        if (index >= 0) this.queue.splice(index, 1);
        reject(new QueueTimeout(`no diagnosis slot for ${name} within ${budgetMs} ms: ${this.maxConcurrent} diagnoses were running (--max-concurrent)`));
      }, Math.max(0, budgetMs));
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
