import { describe, expect, it, vi } from 'vitest';
import { lifetimeMs } from '../src/backoff.js';
import { SecretCacheError } from '../src/errors.js';
import { EventEmitter } from '../src/events.js';
import { Fetcher } from '../src/fetcher.js';
import { Flights } from '../src/flights.js';
import { resolveOptions } from '../src/options.js';
import { resolveSelector, type Selector } from '../src/selector.js';
import { VersionStore } from '../src/store.js';
import { deferred, FakeClock, FakeSource } from './support/fakes.js';

function setup(options: Parameters<typeof resolveOptions>[0] = {}) {
  const source = new FakeSource();
  const clock = new FakeClock(0);
  const resolved = resolveOptions({ ttlMs: 100_000, refreshAheadMs: 0, ...options });
  const store = new VersionStore(resolved.maxEntries, () => {});
  const fetcher = new Fetcher(source, { retries: 0, minTimeoutMs: 0, maxTimeoutMs: 0 }, 5_000);
  const flights = new Flights(store, fetcher, new EventEmitter(undefined), clock, resolved);
  return { source, clock, store, flights };
}

function selector(secretId: string): Selector {
  const resolved = resolveSelector(secretId, undefined, 'AWSCURRENT');
  if (resolved instanceof SecretCacheError) throw resolved;
  return resolved;
}

describe('Flights', () => {
  it('shares one source call between fetches of one key while it is in flight', async () => {
    const { source, flights, store } = setup({ ttlJitter: 0 });
    source.put('db', 'v');

    const [a, b] = await Promise.all([
      flights.fetch(selector('db'), 'miss', true),
      flights.fetch(selector('db'), 'miss', true),
    ]);

    expect(a).toBe(b);
    expect(source.calls).toHaveLength(1);
    expect(store.entries.get('db')).toBe(a);
    expect(flights.started).toBe(1);
  });

  it('records a failure with its backoff, and a later success clears it', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const { source, clock, flights, store } = setup();
    source.failWith = () => Object.assign(new Error('x'), { name: 'ThrottlingException' });

    await expect(flights.fetch(selector('db'), 'miss', true)).rejects.toMatchObject({ code: 'THROTTLED' });
    expect(store.failures.get('db')).toMatchObject({ failures: 1, retryAt: 1_000 });

    source.failWith = undefined;
    source.put('db', 'v');
    clock.advance(1_000);
    await flights.fetch(selector('db'), 'miss', true);
    expect(store.failures.has('db')).toBe(false);
    expect(flights.failed).toBe(1);
    vi.restoreAllMocks();
  });

  it("draws a key's first lifetime from the whole jitter window and a refresh's from its top tenth", async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const { source, flights } = setup({ ttlJitter: 0.4 });
    source.put('db', 'v');

    const first = await flights.fetch(selector('db'), 'miss', true);
    const refreshed = await flights.fetch(selector('db'), 'refresh-now', true);

    expect(first.expiresAt).toBe(60_000);
    expect(refreshed.expiresAt).toBe(96_000);
    vi.restoreAllMocks();
  });

  it('caches exactly the times it computed: start, jittered expiry and refresh ahead, at a real clock time', async () => {
    for (const [refreshAheadMs, random] of [
      [10_000, 0.123456789],
      [10_000, 0.999],
      [45_000, 0.987654321],
      [0, 0.5],
    ] as const) {
      vi.spyOn(Math, 'random').mockReturnValue(random);
      const { source, clock, flights } = setup({ ttlMs: 100_000, ttlJitter: 0.9, refreshAheadMs });
      clock.time = 1_714_564_800_123.25;
      source.put('db', 'v');

      const entry = await flights.fetch(selector('db'), 'miss', true);

      const lifetime = lifetimeMs(100_000, 0.9, false, random);
      const expiresAt = clock.time + lifetime;
      expect([entry.fetchedAt, entry.expiresAt, entry.refreshAt]).toEqual([
        clock.time,
        expiresAt,
        expiresAt - Math.min(refreshAheadMs, lifetime / 2),
      ]);
      vi.restoreAllMocks();
    }
  });

  it('caches a version read by id to never expire', async () => {
    const { source, flights } = setup();
    source.put('db', 'v');
    const pinned = resolveSelector('db', { versionId: 'v1' }, 'AWSCURRENT') as Selector;

    const entry = await flights.fetch(pinned, 'miss', true);

    expect(entry).toMatchObject({ versionId: 'v1', versionStage: undefined, fetchedVersionId: 'v1' });
    expect([entry.expiresAt, entry.refreshAt]).toEqual([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]);
  });

  it('does not store the answer of a fetch whose key was invalidated meanwhile', async () => {
    const { source, flights, store } = setup();
    source.put('db', 'v');

    const pending = flights.fetch(selector('db'), 'miss', true);
    store.invalidate('db');
    await pending;

    expect(store.entries.size).toBe(0);
  });
});

describe('what keeps the process alive', () => {
  // Node lists only the handles that keep the event loop alive; the cache's own timers are unref'd.
  const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;

  it('holds one timer per awaited fetch, however many readers join it, until it settles', async () => {
    const { source, flights } = setup({ ttlJitter: 0 });
    source.put('db', 'v');
    const gate = deferred();
    source.gate = gate.promise;
    const before = timers();
    const first = flights.fetch(selector('db'), 'miss', true);
    const second = flights.fetch(selector('db'), 'miss', true);
    expect(timers()).toBe(before + 1);

    gate.resolve();
    await Promise.all([first, second]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(timers()).toBe(before);
  });

  it('holds nothing for a background fetch until a reader joins it', async () => {
    const { source, flights } = setup({ ttlJitter: 0 });
    source.put('db', 'v');
    const gate = deferred();
    source.gate = gate.promise;
    const before = timers();
    const background = flights.fetch(selector('db'), 'refresh-ahead', false);
    expect(timers()).toBe(before);
    const joined = flights.fetch(selector('db'), 'miss', true);
    expect(joined).toBe(background);
    expect(timers()).toBe(before + 1);
    gate.resolve();
    await joined;
  });

  it('releases its timer when the fetch fails too', async () => {
    const { source, flights } = setup({ ttlJitter: 0 });
    source.failWith = () => Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    const before = timers();
    await flights.fetch(selector('db'), 'miss', true).catch(() => {});
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(timers()).toBe(before);
  });
});

describe('lifetimes', () => {
  it('starts refresh-ahead no earlier than half the lifetime, whatever refreshAheadMs says', async () => {
    const { source, flights, store } = setup({ ttlMs: 1_000, refreshAheadMs: 900, ttlJitter: 0 });
    source.put('db', 'v');
    const entry = await flights.fetch(selector('db'), 'miss', true);
    expect(store.entries.get('db')).toBe(entry);
    expect([entry.expiresAt, entry.refreshAt]).toEqual([1_000, 500]);
  });

  it('records no backoff for a failed fetch whose key was invalidated meanwhile', async () => {
    const { source, flights, store } = setup({ ttlJitter: 0 });
    const gate = deferred();
    source.gate = gate.promise;
    source.failWith = () => Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    const fetch = flights.fetch(selector('db'), 'miss', true);
    store.invalidate('db');
    gate.resolve();
    await fetch.catch(() => {});
    expect(store.failures.size).toBe(0);
  });
});
