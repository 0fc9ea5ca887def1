import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SecretCache } from '../src/cache.js';
import type { SecretCacheError } from '../src/errors.js';
import type { ErrorEvent, EvictEvent, FetchEvent, StaleEvent, VersionChangeEvent } from '../src/events.js';
import type { SecretCacheOptions } from '../src/options.js';
import { deferred, FakeClock, FakeSource } from './support/fakes.js';

const TTL = 60_000;

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
const unavailable = () => Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' });
const denied = () => Object.assign(new Error('denied'), { name: 'AccessDeniedException' });

function setup(options: Partial<SecretCacheOptions> = {}) {
  const source = new FakeSource();
  const clock = new FakeClock();
  const events = {
    fetch: [] as FetchEvent[],
    error: [] as ErrorEvent[],
    stale: [] as StaleEvent[],
    evict: [] as EvictEvent[],
    version: [] as VersionChangeEvent[],
  };
  const cache = new SecretCache({
    source,
    clock,
    ttlMs: TTL,
    ttlJitter: 0,
    refreshAheadMs: 5_000,
    staleIfErrorMs: 10 * 60_000,
    retry: { retries: 0 },
    backoff: { baseMs: 1_000, factor: 2, maxMs: 30_000 },
    hooks: {
      onFetch: (e) => events.fetch.push(e),
      onError: (e) => events.error.push(e),
      onStale: (e) => events.stale.push(e),
      onEvict: (e) => events.evict.push(e),
      onVersionChange: (e) => events.version.push(e),
    },
    ...options,
  });
  return { source, clock, cache, events };
}

/** Lets background fetches (started, not awaited, by reads) settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('refresh-ahead', () => {
  it('returns the cached value at once within refreshAheadMs of expiry and refreshes in the background', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'first');
    await cache.getSecretString('db');
    source.put('db', 'second');
    const gate = deferred();
    source.gate = gate.promise;

    clock.advance(TTL - 5_000);
    const during = await cache.getSecretString('db');
    expect(during).toBe('first');
    expect(cache.stats()).toMatchObject({ refreshAhead: 1, inflight: 1 });

    gate.resolve();
    await settle();
    expect(await cache.getSecretString('db')).toBe('second');
    expect(source.callsFor('db')).toBe(2);
  });

  it('starts one background refresh however many reads arrive in the window', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'first');
    await cache.getSecretString('db');
    source.gate = deferred().promise;

    clock.advance(TTL - 1_000);
    await Promise.all(Array.from({ length: 100 }, () => cache.getSecretString('db')));

    expect(source.callsFor('db')).toBe(2);
    expect(cache.stats().refreshAhead).toBe(1);
  });

  it('keeps a steady reader from ever waiting for AWS after the first fetch', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'v0');
    await cache.getSecretString('db');

    for (let second = 1; second <= 10 * 60; second++) {
      clock.advance(1_000);
      if (second % 90 === 0) source.put('db', `v${second}`);
      await cache.getSecretString('db');
      await settle();
    }

    expect(cache.stats().misses).toBe(1);
    expect(source.callsFor('db')).toBeGreaterThanOrEqual(10);
  });
});

describe('stale-if-error', () => {
  it('serves the last good value without waiting while AWS fails transiently, and flags it stale', async () => {
    const { source, clock, cache, events } = setup({ refreshAheadMs: 0 });
    source.put('db', 'good');
    await cache.getSecretString('db');
    source.failWith = throttled;

    clock.advance(TTL);
    expect(await cache.getSecretString('db')).toBe('good');
    const record = await cache.getSecretValue('db');

    expect(record).toMatchObject({ secretString: 'good', stale: true });
    expect(cache.stats().staleServed).toBe(2);
    expect(events.stale.map((e) => [e.secretId, e.code])).toEqual([['db', 'THROTTLED']]);
  });

  it('never makes a reader that finds a stale value wait for AWS', async () => {
    const { source, clock, cache } = setup({ refreshAheadMs: 0 });
    source.put('db', 'good');
    await cache.getSecretString('db');
    source.failWith = unavailable;
    clock.advance(TTL);
    await cache.getSecretString('db'); // this read waited for the failing fetch, then got the stale value

    clock.advance(60_000); // past the backoff: the next read retries, in the background
    source.gate = deferred().promise; // and that retry hangs
    const read = cache.getSecretString('db');

    await expect(read).resolves.toBe('good');
    expect(cache.stats().inflight).toBe(1);
  });

  it('fails with the error once staleIfErrorMs has run out', async () => {
    const { source, clock, cache } = setup({ refreshAheadMs: 0, staleIfErrorMs: 120_000 });
    source.put('db', 'good');
    await cache.getSecretString('db');
    source.failWith = unavailable;

    clock.advance(TTL + 119_999);
    expect(await cache.getSecretString('db')).toBe('good');
    clock.advance(60_000);

    await expect(cache.getSecretString('db')).rejects.toMatchObject({ code: 'FETCH_FAILED' });
  });

  it('does not hide permanent errors unless staleOnAnyError is set', async () => {
    const strict = setup({ refreshAheadMs: 0 });
    strict.source.put('db', 'good');
    await strict.cache.getSecretString('db');
    strict.source.failWith = denied;
    strict.clock.advance(TTL);
    await expect(strict.cache.getSecretString('db')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });

    const lenient = setup({ refreshAheadMs: 0, staleOnAnyError: true });
    lenient.source.put('db', 'good');
    await lenient.cache.getSecretString('db');
    lenient.source.failWith = denied;
    lenient.clock.advance(TTL);
    await expect(lenient.cache.getSecretString('db')).resolves.toBe('good');
  });

  it('gives the new value to the first read after a background retry succeeds', async () => {
    const { source, clock, cache } = setup({ refreshAheadMs: 0 });
    source.put('db', 'old');
    await cache.getSecretString('db');
    source.failWith = unavailable;
    clock.advance(TTL);
    expect(await cache.getSecretString('db')).toBe('old');

    source.failWith = undefined;
    source.put('db', 'new');
    clock.advance(2_000); // past the first backoff (at most 1 s)
    expect(await cache.getSecretString('db')).toBe('old'); // serves stale, retries in the background
    await settle();

    expect(await cache.getSecretString('db')).toBe('new');
  });
});

describe('backoff', () => {
  it('leaves a failing key alone for a jittered, growing delay, in milliseconds', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(1);
    const { source, clock, cache, events } = setup();
    source.failWith = unavailable;

    const delays: number[] = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      await expect(cache.getSecretString('db')).rejects.toMatchObject({ code: 'FETCH_FAILED' });
      const retryIn = events.error.at(-1)?.retryInMs ?? Number.NaN;
      delays.push(retryIn);
      clock.advance(retryIn - 1);
      await expect(cache.getSecretString('db')).rejects.toMatchObject({ code: 'FETCH_FAILED' });
      clock.advance(1);
    }

    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(source.callsFor('db')).toBe(7);
    expect(cache.stats().backoffSkips).toBe(7);
    random.mockReturnValue(0);
    clock.advance(30_000);
    await cache.getSecretString('db').catch(() => {});
    expect(events.error.at(-1)?.retryInMs).toBe(15_000);
  });

  it('answers reads of a missing secret from the last error during the backoff (negative caching)', async () => {
    const { source, cache } = setup();

    const first = await cache.getSecretString('missing').catch((e: SecretCacheError) => e);
    const second = await cache.getSecretString('missing').catch((e: SecretCacheError) => e);

    expect(first).toMatchObject({ code: 'NOT_FOUND' });
    expect(second).toBe(first);
    expect(source.callsFor('missing')).toBe(1);
  });

  it('forgets the backoff after a success', async () => {
    const { source, clock, cache, events } = setup();
    source.failWith = unavailable;
    await cache.getSecretString('db').catch(() => {});
    clock.advance(1_000);
    await cache.getSecretString('db').catch(() => {});
    source.failWith = undefined;
    source.put('db', 'ok');
    clock.advance(2_000);
    await cache.getSecretString('db');

    source.failWith = unavailable;
    clock.advance(TTL);
    await cache.getSecretString('db');
    expect(events.error.at(-1)?.retryInMs).toBeLessThanOrEqual(1_000);
  });

  it('lets refreshNow through a backoff window', async () => {
    const { source, cache } = setup();
    source.failWith = unavailable;
    await cache.getSecretString('db').catch(() => {});
    source.failWith = undefined;
    source.put('db', 'ok');

    await cache.refreshNow('db');

    expect(await cache.getSecretString('db')).toBe('ok');
  });
});

describe('TTL jitter', () => {
  it("draws a key's first lifetime from the whole window and later ones from its top tenth", async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(1);
    const { source, clock, cache } = setup({ ttlJitter: 0.5, refreshAheadMs: 0 });
    source.put('db', 'x');

    await cache.getSecretString('db'); // lifetime 0.5 * TTL
    clock.advance(TTL / 2 - 1);
    await cache.getSecretString('db');
    expect(source.callsFor('db')).toBe(1);
    clock.advance(1);
    await cache.getSecretString('db'); // a refresh: lifetime 0.95 * TTL
    expect(source.callsFor('db')).toBe(2);
    clock.advance(0.95 * TTL - 1);
    await cache.getSecretString('db');
    expect(source.callsFor('db')).toBe(2);
    clock.advance(1);
    await cache.getSecretString('db');
    expect(source.callsFor('db')).toBe(3);
    random.mockRestore();
  });
});

describe('cancellation', () => {
  it('rejects one caller with ABORTED when its signal fires, and the shared fetch still serves the others', async () => {
    const { source, cache } = setup();
    source.put('db', 'value');
    const gate = deferred();
    source.gate = gate.promise;
    const controller = new AbortController();

    const patient = cache.getSecretString('db');
    const impatient = cache.getSecretString('db', { signal: controller.signal });
    controller.abort(new Error('client went away'));

    await expect(impatient).rejects.toMatchObject({ code: 'ABORTED', cause: new Error('client went away') });
    gate.resolve();
    await expect(patient).resolves.toBe('value');
    expect(source.callsFor('db')).toBe(1);
    expect(cache.stats().size).toBe(1);
  });

  it('rejects a read with an already-aborted signal, also when the value is warm', async () => {
    const { source, cache } = setup();
    source.put('db', 'value');
    await cache.getSecretString('db');

    await expect(cache.getSecretString('db', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });

  it('serves a warm read with a live signal from memory', async () => {
    const { source, cache } = setup();
    source.put('db', 'value');
    await cache.getSecretString('db');

    await expect(cache.getSecretString('db', { signal: new AbortController().signal })).resolves.toBe(
      'value',
    );
    expect(source.callsFor('db')).toBe(1);
  });
});

describe('timeouts', () => {
  it('fails a fetch that takes longer than fetchTimeoutMs with TIMEOUT and aborts the source call', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let seenSignal: AbortSignal | undefined;
      const cache = new SecretCache({
        fetchTimeoutMs: 2_000,
        source: {
          getSecretValue(_request, signal) {
            seenSignal = signal;
            return new Promise(() => {});
          },
        },
      });
      const read = cache.getSecretString('db');
      const outcome = read.catch((e: SecretCacheError) => e);

      await vi.advanceTimersByTimeAsync(2_000);

      expect(await outcome).toMatchObject({ code: 'TIMEOUT', secretId: 'db' });
      expect(seenSignal?.aborted).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('retries inside one fetch', () => {
  it('retries transient errors and not permanent ones', async () => {
    const { source, cache } = setup({ retry: { retries: 2, minTimeoutMs: 0, maxTimeoutMs: 0 } });
    source.put('db', 'ok');
    source.memory.fail('throttled', { times: 2 });

    expect(await cache.getSecretString('db')).toBe('ok');
    expect(source.callsFor('db')).toBe(3);
    expect(cache.stats()).toMatchObject({ fetches: 1, errors: 0 });

    await expect(cache.getSecretString('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(source.callsFor('missing')).toBe(1);
  });
});

describe('events', () => {
  it('reports fetches, errors and evictions with ids and codes, never values', async () => {
    const { source, clock, cache, events } = setup({ maxEntries: 1 });
    source.put('a', 'value-a');
    source.put('b', 'value-b');
    await cache.getSecretString('a');
    clock.advance(5);
    await cache.getSecretString('b');
    await cache.getSecretString('missing').catch(() => {});

    expect(events.fetch.map((e) => [e.secretId, e.reason])).toEqual([
      ['a', 'miss'],
      ['b', 'miss'],
    ]);
    expect(events.error.map((e) => [e.secretId, e.code])).toEqual([['missing', 'NOT_FOUND']]);
    expect(events.evict).toEqual([
      { secretId: 'a', versionStage: 'AWSCURRENT', versionId: undefined, reason: 'evict' },
    ]);
    const all = JSON.stringify(events);
    expect(all).not.toContain('value-a');
    expect(all).not.toContain('value-b');
  });

  it('publishes the same events on node:diagnostics_channel', async () => {
    const { source, cache } = setup({ hooks: {} });
    source.put('a', 'value-a');
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    subscribe('secretcache:fetch', listener);
    try {
      await cache.getSecretString('a');
    } finally {
      unsubscribe('secretcache:fetch', listener);
    }

    expect(seen).toMatchObject([{ secretId: 'a', reason: 'miss' }]);
  });

  it('keeps working when a hook throws', async () => {
    const { source, cache } = setup({
      hooks: {
        onFetch: () => {
          throw new Error('broken hook');
        },
      },
    });
    source.put('a', 'value-a');

    await expect(cache.getSecretString('a')).resolves.toBe('value-a');
  });
});

describe('events a user acts on (hardening defect 9)', () => {
  it('reports a stale period when it starts and once per backoff window after, while counting every stale read', async () => {
    const { source, clock, cache, events } = setup({ refreshAheadMs: 0 });
    source.put('db', 'good');
    await cache.getSecretString('db');
    source.failWith = unavailable;
    clock.advance(TTL);

    // One backoff window (at least 500 ms after the first failure): many stale reads, one event.
    for (let i = 0; i < 100; i++) expect(await cache.getSecretString('db')).toBe('good');
    expect(events.stale).toHaveLength(1);
    expect(events.error).toHaveLength(1);

    // Past the window a read retries in the background and is served stale at once: still the same period,
    // until that retry fails and opens the next window.
    clock.advance(30_000);
    await cache.getSecretString('db');
    await settle();
    for (let i = 0; i < 100; i++) await cache.getSecretString('db');
    expect(events.error).toHaveLength(2);
    expect(events.stale).toHaveLength(2);
    expect(cache.stats().staleServed).toBe(201);
  });

  it('names the version each fetch brought', async () => {
    const { source, clock, cache, events } = setup({ refreshAheadMs: 0 });
    const first = source.put('db', 'one');
    await cache.getSecretString('db');
    const second = source.put('db', 'two');
    clock.advance(TTL);
    await cache.getSecretString('db');

    expect(events.fetch.map((e) => e.fetchedVersionId)).toEqual([first, second]);
  });

  it('reports a version change of a cached key with the old and new version ids, never values', async () => {
    const { source, clock, cache, events } = setup({ refreshAheadMs: 0 });
    const first = source.put('db', 'value-one');
    await cache.getSecretString('db');
    await cache.getSecretString('db', { versionStage: 'AWSPREVIOUS' }).catch(() => {});
    clock.advance(TTL);
    await cache.getSecretString('db'); // same version again: no change
    expect(events.version).toEqual([]);

    const second = source.put('db', 'value-two');
    clock.advance(TTL);
    await cache.getSecretString('db');
    await cache.refreshNow('db', { versionStage: 'AWSPREVIOUS' });

    expect(events.version).toEqual([
      {
        secretId: 'db',
        versionStage: 'AWSCURRENT',
        versionId: undefined,
        oldVersionId: first,
        newVersionId: second,
      },
    ]);
    expect(JSON.stringify(events)).not.toContain('value-');
  });

  it('publishes version changes on the secretcache:version channel', async () => {
    const { source, clock, cache } = setup({ hooks: {}, refreshAheadMs: 0 });
    source.put('db', 'value-one');
    await cache.getSecretString('db');
    const next = source.put('db', 'value-two');
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    subscribe('secretcache:version', listener);
    try {
      clock.advance(TTL);
      await cache.getSecretString('db');
    } finally {
      unsubscribe('secretcache:version', listener);
    }

    expect(seen).toMatchObject([{ secretId: 'db', newVersionId: next }]);
  });
});

describe('a hung endpoint with a good value in memory (hardening defect 8)', () => {
  /** Asserts that `read` is still waiting long past any stale wait, then gets the fetch's value. */
  async function expectToWaitForTheFetch(read: Promise<string>, hang: { resolve(): void }, value: string) {
    let settled = false;
    const tracked = read.finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(4_000); // long past staleWaitMs, short of fetchTimeoutMs
    expect(settled).toBe(false);
    hang.resolve();
    expect(await tracked).toBe(value);
  }

  // Timers (the staleWaitMs wait) are faked and moved by hand, as the cache's clock is.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('serves the last good value, marked stale, once staleWaitMs has passed, and lets the fetch go on', async () => {
    const { source, clock, cache, events } = setup({
      refreshAheadMs: 0,
      staleWaitMs: 10,
      fetchTimeoutMs: 60_000,
    });
    source.put('db', 'good');
    await cache.getSecretString('db');
    const hang = deferred();
    source.gate = hang.promise;
    source.put('db', 'rotated');
    clock.advance(TTL);

    const record = cache.getSecretValue('db');
    await vi.advanceTimersByTimeAsync(10);
    await expect(record).resolves.toMatchObject({ secretString: 'good', stale: true });
    const string = cache.getSecretString('db');
    await vi.advanceTimersByTimeAsync(10);
    expect(await string).toBe('good');
    expect(cache.stats()).toMatchObject({ inflight: 1, staleServed: 2 });
    expect(events.stale.map((e) => e.code)).toEqual(['TIMEOUT']);

    hang.resolve();
    await settle();
    expect(await cache.getSecretString('db')).toBe('rotated');
    expect(source.callsFor('db')).toBe(2);
  });

  it('waits for the whole fetch when staleWaitMs is Infinity', async () => {
    const { source, clock, cache } = setup({ refreshAheadMs: 0, staleWaitMs: Number.POSITIVE_INFINITY });
    source.put('db', 'good');
    await cache.getSecretString('db');
    const hang = deferred();
    source.gate = hang.promise;
    source.put('db', 'rotated');
    clock.advance(TTL);

    await expectToWaitForTheFetch(cache.getSecretString('db'), hang, 'rotated');
  });

  it('does not serve a value past staleIfErrorMs, however long the fetch takes', async () => {
    const { source, clock, cache } = setup({ refreshAheadMs: 0, staleWaitMs: 0, staleIfErrorMs: 1_000 });
    source.put('db', 'good');
    await cache.getSecretString('db');
    const hang = deferred();
    source.gate = hang.promise;
    source.put('db', 'rotated');
    clock.advance(TTL + 1_000);

    await expectToWaitForTheFetch(cache.getSecretString('db'), hang, 'rotated');
  });

  it('does not serve stale in place of a permanent error it already knows', async () => {
    const { source, clock, cache } = setup({
      refreshAheadMs: 0,
      staleWaitMs: 0,
      backoff: { baseMs: 1, maxMs: 1 },
    });
    source.put('db', 'good');
    await cache.getSecretString('db');
    source.failWith = denied;
    clock.advance(TTL);
    await expect(cache.getSecretString('db')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    source.failWith = undefined;
    const hang = deferred();
    source.gate = hang.promise;
    clock.advance(10);

    await expectToWaitForTheFetch(cache.getSecretString('db'), hang, 'good');
  });
});
