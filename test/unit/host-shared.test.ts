import { describe, expect, test } from 'vitest';
import { askOnce } from '../../src/host/shared.js';

/** A reading that ends when the test says, counting how often the machine was read. */
function gate<T>(value: T): { read: (signal: AbortSignal) => Promise<T>; open: () => void; reads: () => number; signals: AbortSignal[] } {
  let count = 0;
  const signals: AbortSignal[] = [];
  let release: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (release = resolve));
  return {
    read: async (signal) => {
      count += 1;
      signals.push(signal);
      await opened;
      return value;
    },
    open: () => release(),
    reads: () => count,
    signals,
  };
}

describe('one reading of the host for askers at the same moment (host/shared.ts)', () => {
  test('askers while a reading runs share it; once answered, the next asker reads afresh', async () => {
    const first = gate({ servers: ['a'] });
    const answers = [askOnce('k1', undefined, first.read), askOnce('k1', undefined, first.read), askOnce('k1', undefined, first.read)];
    first.open();
    const [a, b, c] = await Promise.all(answers);
    expect(first.reads()).toBe(1);
    expect(a).toBe(b);
    expect(b).toBe(c);
    const second = gate({ servers: ['b'] });
    const later = askOnce('k1', undefined, second.read);
    second.open();
    expect(await later).toEqual({ servers: ['b'] });
    expect(second.reads()).toBe(1);
  });

  test('different questions are read apart', async () => {
    const one = gate(1);
    const two = gate(2);
    const answers = Promise.all([askOnce('k2-a', undefined, one.read), askOnce('k2-b', undefined, two.read)]);
    one.open();
    two.open();
    expect(await answers).toEqual([1, 2]);
  });

  test("the reading stops only when every asker's deadline has passed", async () => {
    const reading = gate('x');
    const early = new AbortController();
    const late = new AbortController();
    const answers = Promise.all([askOnce('k3', early.signal, reading.read), askOnce('k3', late.signal, reading.read)]);
    early.abort();
    expect(reading.signals[0]?.aborted).toBe(false);
    late.abort();
    expect(reading.signals[0]?.aborted).toBe(true);
    reading.open();
    expect(await answers).toEqual(['x', 'x']);
  });

  test('a reading cut short (every asker gave up) is not handed to the next asker, who reads afresh', async () => {
    const cut = gate('cut short');
    const gaveUp = new AbortController();
    const first = askOnce('k6', gaveUp.signal, cut.read);
    gaveUp.abort();
    const fresh = gate('whole');
    const next = askOnce('k6', new AbortController().signal, fresh.read);
    cut.open();
    fresh.open();
    expect(await first).toBe('cut short');
    expect(await next).toBe('whole');
    expect(fresh.reads()).toBe(1);
    // An asker whose deadline had passed before it asked starts a reading that is stopped at once, and kept by nobody.
    const late = new AbortController();
    late.abort();
    const stopped = gate('stopped');
    const lateAnswer = askOnce('k7', late.signal, stopped.read);
    expect(stopped.signals[0]?.aborted).toBe(true);
    const after = gate('after');
    const afterAnswer = askOnce('k7', undefined, after.read);
    stopped.open();
    after.open();
    expect([await lateAnswer, await afterAnswer]).toEqual(['stopped', 'after']);
  });

  test('an asker without a deadline keeps the reading going', async () => {
    const reading = gate('y');
    const bounded = new AbortController();
    const answers = Promise.all([askOnce('k4', bounded.signal, reading.read), askOnce('k4', undefined, reading.read)]);
    bounded.abort();
    expect(reading.signals[0]?.aborted).toBe(false);
    reading.open();
    expect(await answers).toEqual(['y', 'y']);
  });

  test('a failed reading fails its askers and is not kept', async () => {
    let reads = 0;
    const failing = async (): Promise<never> => {
      reads += 1;
      await Promise.resolve();
      throw new Error('unreadable');
    };
    const answers = [askOnce('k5', undefined, failing), askOnce('k5', undefined, failing)];
    for (const answer of answers) await expect(answer).rejects.toThrow('unreadable');
    expect(reads).toBe(1);
    await expect(askOnce('k5', undefined, async () => 'fresh')).resolves.toBe('fresh');
  });
});
