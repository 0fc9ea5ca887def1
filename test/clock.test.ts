import { afterEach, describe, expect, it, vi } from 'vitest';
import { TurnClock } from '../src/clock.js';

/** Resolves in the check phase of the event loop: after every immediate queued before it. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Makes Date.now return 1000, 2000, 3000... one new value per call. */
function steppingDateNow() {
  let calls = 0;
  return vi.spyOn(Date, 'now').mockImplementation(() => ++calls * 1000);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('TurnClock', () => {
  it('returns Date.now() on its first read', () => {
    const dateNow = steppingDateNow();
    const clock = new TurnClock();

    expect(clock.now()).toBe(1000);
    expect(dateNow).toHaveBeenCalledTimes(1);
  });

  it('reads Date.now once for many reads in the same synchronous run', () => {
    const dateNow = steppingDateNow();
    const clock = new TurnClock();

    const reads = [clock.now(), clock.now(), clock.now()];

    expect(reads).toEqual([1000, 1000, 1000]);
    expect(dateNow).toHaveBeenCalledTimes(1);
  });

  it('keeps the same time across microtasks of the same turn', async () => {
    const dateNow = steppingDateNow();
    const clock = new TurnClock();

    const first = clock.now();
    await Promise.resolve();
    await Promise.resolve();
    const callsBefore = dateNow.mock.calls.length;
    const second = clock.now();

    expect(second).toBe(first);
    expect(dateNow.mock.calls.length).toBe(callsBefore);
  });

  it('reads Date.now anew in the next turn of the event loop', async () => {
    const dateNow = steppingDateNow();
    const clock = new TurnClock();

    const first = clock.now();
    await nextTurn();
    const callsBefore = dateNow.mock.calls.length;
    const second = clock.now();

    expect(dateNow.mock.calls.length).toBe(callsBefore + 1);
    expect(second).toBe(dateNow.mock.results.at(-1)?.value);
    expect(second).toBeGreaterThan(first);
  });

  it("caches the new turn's time for the rest of that turn", async () => {
    const dateNow = steppingDateNow();
    const clock = new TurnClock();

    clock.now();
    await nextTurn();
    const callsBefore = dateNow.mock.calls.length;
    const reads = [clock.now(), clock.now()];

    expect(dateNow.mock.calls.length).toBe(callsBefore + 1);
    expect(reads[1]).toBe(reads[0]);
  });

  it('reads Date.now anew after reset(), within the same turn', () => {
    const dateNow = steppingDateNow();
    const clock = new TurnClock();

    const first = clock.now();
    clock.reset();
    const second = clock.now();

    expect(first).toBe(1000);
    expect(second).toBe(2000);
    expect(dateNow).toHaveBeenCalledTimes(2);
  });

  it('keeps the time of each clock to itself', () => {
    steppingDateNow();
    const a = new TurnClock();
    const b = new TurnClock();

    const readA = a.now();
    const readB = b.now();
    a.reset();

    expect(readA).toBe(1000);
    expect(readB).toBe(2000);
    expect(b.now()).toBe(2000);
    expect(a.now()).toBe(3000);
  });

  it('caches a time of 0 (a fake clock at the epoch) for the turn like any other', () => {
    let calls = 0;
    const dateNow = vi.spyOn(Date, 'now').mockImplementation(() => (calls++ === 0 ? 0 : 5_000));
    const clock = new TurnClock();

    const reads = [clock.now(), clock.now()];

    expect(reads).toEqual([0, 0]);
    expect(dateNow).toHaveBeenCalledTimes(1);
  });

  it('does not read Date.now until it is first asked', () => {
    const dateNow = steppingDateNow();

    new TurnClock();

    expect(dateNow).not.toHaveBeenCalled();
  });
});
