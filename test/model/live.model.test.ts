import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SecretCache } from '../../src/cache.js';
import { isSecretCacheError } from '../../src/errors.js';
import type { LiveChangeEvent } from '../../src/live.js';
import { secret } from '../../src/manifest.js';
import { FakeSource } from '../support/fakes.js';
import { propertyRuns } from '../support/runs.js';

// A model of what a live entry may return at any moment, checked against random schedules of rotations,
// outages (transient and permanent), time passing with the timers running, reads, and other readers of the
// cache (refreshNow, invalidate), with a source whose answers take a while (so that reads, rotations and
// invalidations happen while a refresh is in flight).

const TTL = 60_000;
const STALE = 30_000;
const BACKOFF_MAX = 10_000;

type Mode = 'ok' | 'transient' | 'denied';
type Step =
  | { readonly kind: 'rotate' }
  | { readonly kind: 'mode'; readonly mode: Mode }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'read' }
  | { readonly kind: 'refreshNow' }
  | { readonly kind: 'invalidate' }
  | { readonly kind: 'latency'; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'rotate' }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<Mode>('ok', 'ok', 'transient', 'denied')
      .map((mode): Step => ({ kind: 'mode', mode })),
  },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 2 * TTL }).map((ms): Step => ({ kind: 'advance', ms })) },
  { weight: 4, arbitrary: fc.constant<Step>({ kind: 'read' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'refreshNow' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'invalidate' }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 3_000 }).map((ms): Step => ({ kind: 'latency', ms })),
  },
);

/** The fake Secrets Manager, answering after `latencyMs` (read when the call is made). */
class SlowSource extends FakeSource {
  latencyMs = 0;
  override async getSecretValue(request: Parameters<FakeSource['getSecretValue']>[0]) {
    const latency = this.latencyMs;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    return super.getSecretValue(request);
  }
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('a live entry against a model of its secret', () => {
  it('never returns a value older than its TTL plus staleIfErrorMs, never goes back to an older version, and throws only while the source fails', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const source = new SlowSource();
        const cache = new SecretCache({
          source,
          clock: { now: () => Date.now() },
          ttlMs: TTL,
          ttlJitter: 0,
          refreshAheadMs: 5_000,
          staleIfErrorMs: STALE,
          retry: { retries: 0 },
          backoff: { baseMs: 1_000, maxMs: BACKOFF_MAX },
        });
        // When each value stopped being current (absent: it still is); values are numbered in order.
        const replacedAt = new Map<string, number>();
        let rotations = 0;
        const numberedValue = (n: number): string => `value-${String(n).padStart(4, '0')}`;
        source.put('prod/a', numberedValue(0));
        let current = numberedValue(0);
        let mode: Mode = 'ok';
        // When the source last failed (or -Infinity): reads may throw only within the bound after that.
        let lastFailingAt = Number.NEGATIVE_INFINITY;
        source.failWith = () => {
          lastFailingAt = Date.now();
          return Object.assign(new Error('failing'), {
            name: mode === 'denied' ? 'AccessDeniedException' : 'InternalServiceError',
          });
        };
        const failWith = source.failWith;
        source.failWith = undefined;

        const changes: LiveChangeEvent[] = [];
        const secrets = await cache.live(
          { a: secret.string('prod/a') },
          { onChange: (event) => changes.push(event) },
        );
        let lastRead = current;

        const check = (): void => {
          const now = Date.now();
          let value: string;
          try {
            value = secrets.a;
          } catch (error) {
            expect(isSecretCacheError(error)).toBe(true);
            // A throw needs a failure recently enough that no healthy refresh could have replaced the value.
            expect(now - lastFailingAt).toBeLessThanOrEqual(TTL + STALE + BACKOFF_MAX);
            return;
          }
          const replaced = replacedAt.get(value);
          if (replaced !== undefined) {
            expect(now - replaced).toBeLessThan(TTL + STALE);
            // Healthy for a whole TTL (and a backoff) before now: the value was current within the last TTL.
            if (now - lastFailingAt > TTL + BACKOFF_MAX) expect(now - replaced).toBeLessThan(TTL);
          }
          expect(value >= lastRead).toBe(true);
          lastRead = value;
        };

        for (const next of steps) {
          switch (next.kind) {
            case 'rotate':
              rotations++;
              replacedAt.set(current, Date.now());
              current = numberedValue(rotations);
              source.put('prod/a', current);
              break;
            case 'mode':
              mode = next.mode;
              source.failWith = mode === 'ok' ? undefined : failWith;
              break;
            case 'advance':
              await vi.advanceTimersByTimeAsync(next.ms);
              break;
            case 'read':
              check();
              break;
            case 'refreshNow':
              void cache.refreshNow('prod/a').catch(() => {});
              break;
            case 'invalidate':
              cache.invalidate('prod/a');
              break;
            case 'latency':
              source.latencyMs = next.ms;
              break;
          }
          await vi.advanceTimersByTimeAsync(0);
          check();
        }
        // Versions announced in order, each once, and each change names the version the previous one left.
        for (let i = 1; i < changes.length; i++) {
          expect(changes[i]?.oldVersionId).toBe(changes[i - 1]?.newVersionId);
        }
        secrets.close();
        await vi.advanceTimersByTimeAsync(3_000); // the fetches the last steps started settle
        expect(vi.getTimerCount()).toBe(0);
      }),
      { numRuns: propertyRuns(1_000) },
    );
  }, 600_000);
});
