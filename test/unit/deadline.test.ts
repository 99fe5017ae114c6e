import { describe, expect, test } from 'vitest';
import { Deadline, DeadlineExceeded } from '../../src/engine/deadline.js';

describe('deadlines', () => {
  test('race rejects with the scope that ran out', async () => {
    const deadline = Deadline.within(50, 'run');
    await expect(deadline.race(new Promise(() => undefined))).rejects.toMatchObject({ name: 'DeadlineExceeded', scope: 'run', budgetMs: 50 });
  });

  test('a child never outlives its parent, and names the parent when the parent ran out', async () => {
    const parent = Deadline.within(60, 'run');
    const child = parent.limit(10_000, 'connect');
    expect(child.budgetMs).toBeLessThanOrEqual(60);
    await expect(child.race(new Promise(() => undefined))).rejects.toBeInstanceOf(DeadlineExceeded);
  });

  test("a budget is named as it was set: a child asking for no less than what is left is its parent, and time kept back still names the parent's figure", async () => {
    const attempt = Deadline.within(80, 'wait', { name: 'the --timeout' }).limit(10_000, 'run', { name: 'the --attempt-timeout' });
    await expect(attempt.race(new Promise(() => undefined))).rejects.toMatchObject({ scope: 'wait', budgetMs: 80, source: { name: 'the --timeout' } });
    const attempts = Deadline.within(5_000, 'wait', { name: 'the --timeout' }).limit(60, 'run', { name: 'the --attempt-timeout' });
    await expect(attempts.race(new Promise(() => undefined))).rejects.toMatchObject({ scope: 'run', budgetMs: 60, source: { name: 'the --attempt-timeout' } });
    const kept = Deadline.within(200, 'run').reserving(120);
    expect(kept.budgetMs).toBeLessThanOrEqual(80);
    const error = await kept.race(new Promise(() => undefined)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ scope: 'run', budgetMs: 200 });
    expect(error).toBeInstanceOf(DeadlineExceeded);
    if (error instanceof DeadlineExceeded) expect(error.describe((ms) => `${ms} ms`)).toBe('the --timeout of 200 ms');
  });

  test('a child with a shorter budget fires first, with its own scope', async () => {
    const parent = Deadline.within(5_000, 'run');
    const child = parent.limit(30, 'connect');
    const started = Date.now();
    await expect(child.race(new Promise(() => undefined))).rejects.toMatchObject({ scope: 'connect' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(parent.expired).toBe(false);
  });

  test('children fire even when nothing else references their timers (garbage collection)', async () => {
    const parent = Deadline.within(5_000, 'run');
    const signal = parent.limit(40, 'connect').signal;
    const global = globalThis as { gc?: () => void };
    global.gc?.();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    expect(signal.aborted).toBe(true);
  });

  test('race passes results and errors through when the work wins', async () => {
    const deadline = Deadline.within(1_000);
    await expect(deadline.race(Promise.resolve(7))).resolves.toBe(7);
    await expect(deadline.race(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });

  test('sleep never outlasts the deadline', async () => {
    const deadline = Deadline.within(30);
    const started = Date.now();
    await deadline.sleep(5_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('onExpired', () => {
  test('runs once when the deadline ends, and also when it had ended before the call (a listener on a fired signal never runs)', async () => {
    const calls: string[] = [];
    const live = Deadline.within(30, 'live');
    live.onExpired(() => calls.push('live'));
    const ended = Deadline.within(10_000, 'ended').until(AbortSignal.abort(), 'ended');
    expect(ended.signal.aborted).toBe(true);
    ended.onExpired(() => calls.push('ended'));
    expect(calls).toEqual([]); // never inside the caller's own code: a microtask later
    await Promise.resolve();
    expect(calls).toEqual(['ended']);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(calls).toEqual(['ended', 'live']);
  });
});

describe('a deadline stopped by its caller', () => {
  test('names who stopped it, and no budget as run out, when the signal fires with time left; the budget when time ran out first', async () => {
    const controller = new AbortController();
    const run = Deadline.within(10_000, 'run', { name: 'the timeoutMs option' }).until(controller.signal, 'run', { name: "the caller's AbortSignal" });
    const step = run.limit(5_000, 'connect');
    controller.abort();
    const stopped = step.exceeded();
    expect(stopped.stopped).toBe(true);
    expect(stopped.source.name).toBe("the caller's AbortSignal");
    const timed = Deadline.within(20, 'run', { name: 'the timeoutMs option' }).until(new AbortController().signal, 'run', { name: "the caller's AbortSignal" });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(timed.exceeded().stopped).toBe(false);
    expect(timed.exceeded().source.name).toBe('the timeoutMs option');
  });
});
