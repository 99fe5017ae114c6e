import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';

/**
 * bcrypt comparisons off the event loop. bcrypt is slow on purpose (about 60 ms of CPU at cost 10
 * in pure JavaScript), and the exporter's event loop also answers /-/healthy, /-/ready and every
 * scrape: sixty requests with wrong passwords, checked on it, once held a health check for 10 s.
 * So the comparisons run in one worker thread, one at a time (as the exporter-toolkit serialises
 * them behind a mutex), and at most MAX_WAITING more wait for it: beyond that a check is refused at
 * once ("busy") rather than queued, so that a flood of bad credentials costs the worker's one core
 * and a short queue, never the event loop or unbounded memory.
 */
export const MAX_WAITING = 16;

export type Comparison = { readonly kind: 'compared'; readonly matches: boolean } | { readonly kind: 'busy' };

// The worker is a script (no file of its own, so that it runs the same from dist/ and from the
// sources under the tests); it loads the same bcryptjs the exporter resolves.
// An unknown user is compared with a decoy hash of the highest cost in use (made once per cost), so
// that it takes as long as a known one.
const WORKER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptjs);
const decoys = new Map();
const decoy = (cost) => {
  if (!decoys.has(cost)) decoys.set(cost, bcrypt.hashSync('decoy', bcrypt.genSaltSync(cost)));
  return decoys.get(cost);
};
parentPort.on('message', ({ id, password, hash, decoyCost }) => {
  let matches = false;
  try { matches = bcrypt.compareSync(password, hash ?? decoy(decoyCost)); } catch { matches = false; }
  parentPort.postMessage({ id, matches });
});
`;

/** A user's hash, or, for an unknown user, a decoy of this cost. */
export type HashToCompare = { readonly hash: string } | { readonly decoyCost: number };

export class BcryptWorker {
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  private readonly pending = new Map<number, (matches: boolean) => void>();
  private next = 0;

  constructor(private readonly maxWaiting = MAX_WAITING) {}

  /** Checks the password against the hash in the worker; 'busy' when too many checks already wait. */
  async compare(password: string, against: HashToCompare): Promise<Comparison> {
    // One comparing, maxWaiting waiting.
    if (this.pending.size > this.maxWaiting) return { kind: 'busy' };
    const id = (this.next += 1);
    const result = new Promise<boolean>((resolve) => this.pending.set(id, resolve));
    try {
      (await this.start()).postMessage({ id, password, ...against });
    } catch {
      this.settle(id, false);
    }
    return { kind: 'compared', matches: await result };
  }

  /** Stops the worker (shutdown); checks still waiting are refused. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.starting = undefined;
    for (const id of [...this.pending.keys()]) this.settle(id, false);
    if (worker) await worker.terminate();
  }

  private settle(id: number, matches: boolean): void {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.(matches);
  }

  private start(): Promise<Worker> {
    if (this.worker) return Promise.resolve(this.worker);
    this.starting ??= (async () => {
      const { Worker } = await import('node:worker_threads');
      const bcryptjs = createRequire(import.meta.url).resolve('bcryptjs');
      const worker = new Worker(WORKER_SCRIPT, { eval: true, workerData: { bcryptjs } });
      // Never what keeps the process alive: the server is.
      worker.unref();
      worker.on('message', ({ id, matches }: { id: number; matches: boolean }) => this.settle(id, matches));
      const lost = (): void => {
        if (this.worker === worker) this.worker = undefined;
        this.starting = undefined;
        for (const id of [...this.pending.keys()]) this.settle(id, false);
      };
      worker.on('error', lost);
      worker.on('exit', lost);
      this.worker = worker;
      return worker;
    })();
    return this.starting;
  }
}
