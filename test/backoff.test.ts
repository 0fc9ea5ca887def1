import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_BACKOFF, lifetimeMs } from '../src/backoff.js';

describe('backoffDelayMs', () => {
  it('doubles from baseMs per consecutive failure and stops at maxMs, in milliseconds', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((failures) => backoffDelayMs(DEFAULT_BACKOFF, failures, 1));

    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
  });

  it('keeps the lower half of the delay and jitters the upper half', () => {
    const backoff = { baseMs: 400, factor: 3, maxMs: 10_000 };

    expect(backoffDelayMs(backoff, 2, 0)).toBe(600);
    expect(backoffDelayMs(backoff, 2, 0.5)).toBe(900);
    expect(backoffDelayMs(backoff, 2, 1)).toBe(1_200);
  });
});

describe('lifetimeMs', () => {
  it("draws a key's first lifetime from [ttl * (1 - jitter), ttl]", () => {
    expect(lifetimeMs(300_000, 0.5, false, 0)).toBe(300_000);
    expect(lifetimeMs(300_000, 0.5, false, 1)).toBe(150_000);
  });

  it('draws later lifetimes from the top tenth of that window', () => {
    expect(lifetimeMs(300_000, 0.5, true, 0)).toBe(300_000);
    expect(lifetimeMs(300_000, 0.5, true, 1)).toBe(285_000);
  });

  it('is exactly the TTL without jitter', () => {
    expect(lifetimeMs(300_000, 0, false, 0.7)).toBe(300_000);
  });
});
