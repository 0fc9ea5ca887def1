import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { SecretCache } from '../src/cache.js';
import type { Clock } from '../src/clock.js';
import { isSecretCacheError, SecretCacheError } from '../src/errors.js';
import type { StaleEvent } from '../src/events.js';
import type { LiveChangeEvent } from '../src/live.js';
import { secret } from '../src/manifest.js';
import type { SecretCacheOptions } from '../src/options.js';
import { FakeSource } from './support/fakes.js';
import { expectNoBytes, expectNoFragment, renderingsOf } from './support/leaks.js';

// Live objects keep themselves fresh on timers, so these tests run on vitest's fake timers and a clock that reads
// the (faked) Date: advancing the timers moves both.
const clock: Clock = { now: () => Date.now() };
const TTL = 60_000;
const REFRESH_AHEAD = 5_000;

function setup(options: SecretCacheOptions = {}) {
  const source = new FakeSource();
  const cache = new SecretCache({
    source,
    clock,
    ttlMs: TTL,
    ttlJitter: 0,
    refreshAheadMs: REFRESH_AHEAD,
    staleIfErrorMs: 30_000,
    retry: { retries: 0 },
    backoff: { baseMs: 1_000, maxMs: 10_000 },
    ...options,
  });
  return { source, cache };
}

/** Rejects with the error a property read throws, so a test can inspect it. */
function thrownBy(read: () => unknown): SecretCacheError {
  try {
    read();
  } catch (error) {
    if (isSecretCacheError(error)) return error;
    throw error;
  }
  return expect.fail('the read did not throw');
}

function transient(): Error {
  return Object.assign(new Error('Service unavailable'), { name: 'InternalServiceError' });
}

function denied(): Error {
  return Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SecretCache.live: loading', () => {
  it('resolves to an object whose properties read every kind of entry as load reads it', async () => {
    const { source, cache } = setup();
    source.put('prod/api-key', 'api-key-0001');
    source.put('prod/tls', new Uint8Array([1, 2, 3, 4]));
    source.put('prod/db', JSON.stringify({ username: 'orders', password: 'pw-0001', port: 5432 }));
    const Db = z.object({ username: z.string(), password: z.string(), port: z.number() });

    const secrets = await cache.live({
      apiKey: secret.string('prod/api-key'),
      tls: secret.binary('prod/tls'),
      db: secret.json('prod/db', { schema: Db }),
      port: secret.json('prod/db', { key: 'port' }),
      user: secret.ref('prod/db:username'),
    });
    const loaded = await cache.load({
      apiKey: secret.string('prod/api-key'),
      tls: secret.binary('prod/tls'),
      db: secret.json('prod/db', { schema: Db }),
      port: secret.json('prod/db', { key: 'port' }),
      user: secret.ref('prod/db:username'),
    });

    expect(secrets.apiKey).toBe(loaded.apiKey);
    expect(secrets.tls).toEqual(loaded.tls);
    expect(secrets.db).toEqual(loaded.db);
    expect(secrets.port).toBe(5432);
    expect(secrets.user).toBe('orders');
    expect(Object.keys(secrets)).toEqual(['apiKey', 'tls', 'db', 'port', 'user']);
    secrets.close();
  });

  it('fails with LOAD_FAILED listing every failed entry, as load does', async () => {
    const { source, cache } = setup();
    source.put('prod/present', 'value-0001');

    const error = await cache
      .live({ present: secret.string('prod/present'), missing: secret.string('prod/missing') })
      .then(
        () => expect.fail('live resolved'),
        (thrown: SecretCacheError) => thrown,
      );

    expect(error.code).toBe('LOAD_FAILED');
    expect(error.errors?.map(({ key, code }) => [key, code])).toEqual([['missing', 'NOT_FOUND']]);
  });

  it('refuses a manifest entry named close before fetching anything', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');

    const error = await cache.live({ close: secret.string('prod/a') }).then(
      () => expect.fail('live resolved'),
      (thrown: SecretCacheError) => thrown,
    );

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('`close`');
    expect(source.calls).toHaveLength(0);
  });

  it.each([
    [{ onChange: 'log' }, '`onChange`'],
    [{ onchange: () => {} }, 'onchange'],
    ['fast', 'options of live'],
    [null, 'options of live'],
  ])('refuses the options %j with INVALID_ARGUMENT', async (options, named) => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');

    const error = await cache.live({ a: secret.string('prod/a') }, options as never).then(
      () => expect.fail('live resolved'),
      (thrown: SecretCacheError) => thrown,
    );

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain(named);
    expect(source.calls).toHaveLength(0);
  });

  it('takes a manifest key named __proto__ as an entry, not as a prototype', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const manifest: Record<string, unknown> = {};
    Object.defineProperty(manifest, '__proto__', {
      value: secret.string('prod/a'),
      enumerable: true,
    });

    const secrets = (await cache.live(manifest as never)) as unknown as Record<string, unknown>;

    expect(Object.getOwnPropertyDescriptor(secrets, '__proto__')?.get?.()).toBe('value-a-0001');
    expect(typeof (secrets as { close?: unknown }).close).toBe('function');
    (secrets as unknown as { close(): void }).close();
  });

  it('is frozen: entries cannot be assigned, added or deleted', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });

    expect(Object.isFrozen(secrets)).toBe(true);
    expect(() => {
      (secrets as { a: string }).a = 'other';
    }).toThrow(TypeError);
    expect(Reflect.deleteProperty(secrets, 'a')).toBe(false);
    expect(secrets.a).toBe('value-a-0001');
    secrets.close();
  });
});

describe('SecretCache.live: reads', () => {
  it('reads a fresh value without calling the source, however often', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    const calls = source.calls.length;

    const reads = Array.from({ length: 1_000 }, () => secrets.a);

    expect(new Set(reads)).toEqual(new Set(['value-a-0001']));
    expect(source.calls.length).toBe(calls);
    secrets.close();
  });

  it('hands out a copy of a binary value on every read, so a caller may zero its own', async () => {
    const { source, cache } = setup();
    source.put('prod/tls', new Uint8Array([9, 8, 7, 6]));
    const secrets = await cache.live({ tls: secret.binary('prod/tls') });

    const first = secrets.tls;
    first.fill(0);

    expect([...secrets.tls]).toEqual([9, 8, 7, 6]);
    expect(secrets.tls).not.toBe(secrets.tls);
    secrets.close();
  });

  it('returns the same frozen JSON object on every read of one version', async () => {
    const { source, cache } = setup();
    source.put('prod/db', JSON.stringify({ password: 'pw-0001' }));
    const secrets = await cache.live({ db: secret.json<{ password: string }>('prod/db') });

    expect(secrets.db).toBe(secrets.db);
    expect(Object.isFrozen(secrets.db)).toBe(true);
    secrets.close();
  });
});

describe('SecretCache.live: staying fresh', () => {
  it('sees a rotation within its TTL without any read in between', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    source.put('prod/a', 'value-a-0002');

    // Idle: no read at all until the refresh-ahead point has passed.
    await vi.advanceTimersByTimeAsync(TTL - REFRESH_AHEAD + 1);

    expect(source.calls).toHaveLength(2);
    expect(source.calls[1]).toMatchObject({ secretId: 'prod/a', versionStage: 'AWSCURRENT' });
    expect(secrets.a).toBe('value-a-0002');
    secrets.close();
  });

  it('refreshes each entry once per TTL while idle, with no read at all', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });

    await vi.advanceTimersByTimeAsync(10 * TTL);

    // The first load, then one refresh per TTL (each new version lives a whole TTL from its request).
    expect(source.calls.length).toBeGreaterThanOrEqual(10);
    expect(source.calls.length).toBeLessThanOrEqual(12);
    secrets.close();
  });

  it('takes a version another read of the cache brought at once', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    source.put('prod/a', 'value-a-0002');

    await cache.refreshNow('prod/a');

    expect(secrets.a).toBe('value-a-0002');
    secrets.close();
  });

  it('shares one fetch with every other reader of the secret when it comes due', async () => {
    const { source, cache } = setup();
    source.put('prod/db', JSON.stringify({ username: 'u', password: 'pw-0001' }));
    const one = await cache.live({
      db: secret.json('prod/db'),
      user: secret.json('prod/db', { key: 'username' }),
    });
    const two = await cache.live({ db: secret.json('prod/db') });
    const calls = source.calls.length;

    await vi.advanceTimersByTimeAsync(TTL - REFRESH_AHEAD + 1);

    expect(source.calls.length - calls).toBe(1);
    one.close();
    two.close();
  });

  it('never refreshes an entry pinned to a version id', async () => {
    const { source, cache } = setup();
    const versionId = source.put('prod/a', 'value-a-0001');
    source.put('prod/a', 'value-a-0002');
    const secrets = await cache.live({ a: secret.string('prod/a', { versionId }) });

    await vi.advanceTimersByTimeAsync(100 * TTL);

    expect(source.calls).toHaveLength(1);
    expect(secrets.a).toBe('value-a-0001');
    secrets.close();
  });

  it('keeps its value when the cache drops the secret, and fetches it again when due', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });

    cache.invalidate();
    expect(secrets.a).toBe('value-a-0001');
    source.put('prod/a', 'value-a-0002');
    await vi.advanceTimersByTimeAsync(TTL - REFRESH_AHEAD + 1);

    expect(secrets.a).toBe('value-a-0002');
    secrets.close();
  });

  it('keeps refreshing an entry the LRU evicted', async () => {
    const { source, cache } = setup({ maxEntries: 1 });
    source.put('prod/a', 'value-a-0001');
    source.put('prod/b', 'value-b-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    await cache.getSecretString('prod/b'); // evicts prod/a
    source.put('prod/a', 'value-a-0002');

    await vi.advanceTimersByTimeAsync(TTL);

    expect(secrets.a).toBe('value-a-0002');
    secrets.close();
  });
});

describe('SecretCache.live: onChange and the secretcache:live channel', () => {
  it('tells onChange of each new version after the property reads it, and not of a refresh of the same one', async () => {
    const { source, cache } = setup();
    const first = source.put('prod/a', 'value-a-0001');
    const seen: Array<LiveChangeEvent & { read: string }> = [];
    const secrets = await cache.live(
      { a: secret.string('prod/a') },
      { onChange: (event) => seen.push({ ...event, read: secrets.a }) },
    );

    await vi.advanceTimersByTimeAsync(TTL); // same version again
    expect(seen).toEqual([]);
    const second = source.put('prod/a', 'value-a-0002');
    await vi.advanceTimersByTimeAsync(TTL);

    expect(seen).toEqual([
      {
        key: 'a',
        secretId: 'prod/a',
        versionStage: 'AWSCURRENT',
        oldVersionId: first,
        newVersionId: second,
        read: 'value-a-0002',
      },
    ]);
    secrets.close();
  });

  it('ignores an onChange that throws: the entry is updated all the same', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live(
      { a: secret.string('prod/a') },
      {
        onChange: () => {
          throw new Error('listener bug');
        },
      },
    );
    source.put('prod/a', 'value-a-0002');

    await cache.refreshNow('prod/a');

    expect(secrets.a).toBe('value-a-0002');
    secrets.close();
  });

  it('publishes each change on secretcache:live, with no value in it', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    const published: unknown[] = [];
    const listener = (message: unknown): void => {
      published.push(message);
    };
    subscribe('secretcache:live', listener);
    try {
      source.put('prod/a', 'value-a-0002');
      await cache.refreshNow('prod/a');
    } finally {
      unsubscribe('secretcache:live', listener);
    }

    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ key: 'a', secretId: 'prod/a' });
    expectNoFragment(renderingsOf(published), 'value-a-0002');
    secrets.close();
  });
});

describe('SecretCache.live: when AWS fails', () => {
  it('serves the last value past its TTL for at most staleIfErrorMs, then throws the last error', async () => {
    const stale: StaleEvent[] = [];
    const { source, cache } = setup({ hooks: { onStale: (event) => stale.push(event) } });
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    source.failWith = transient;

    await vi.advanceTimersByTimeAsync(TTL + 29_000);
    expect(secrets.a).toBe('value-a-0001');
    expect(cache.stats().staleServed).toBeGreaterThan(0);
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ secretId: 'prod/a', code: 'FETCH_FAILED' });

    await vi.advanceTimersByTimeAsync(1_001);
    const error = thrownBy(() => secrets.a);
    expect(error.code).toBe('FETCH_FAILED');
    expect(error.secretId).toBe('prod/a');
    secrets.close();
  });

  it('recovers as soon as a refresh succeeds again', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    source.failWith = transient;
    await vi.advanceTimersByTimeAsync(TTL + 40_000);
    expect(() => secrets.a).toThrow(SecretCacheError);

    source.failWith = undefined;
    source.put('prod/a', 'value-a-0002');
    await vi.advanceTimersByTimeAsync(10_001); // the longest backoff

    expect(secrets.a).toBe('value-a-0002');
    secrets.close();
  });

  it('calls AWS at most once per backoff window while it fails, however often the entry is read', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    source.failWith = transient;
    const before = source.calls.length;

    for (let step = 0; step < 600; step++) {
      await vi.advanceTimersByTimeAsync(100);
      try {
        void secrets.a;
      } catch {
        // Past the stale bound: expected.
      }
    }

    // 60 s of failures: the first attempt at the refresh point, then backoffs of 1, 2, 4, 8 and 10 s (jittered).
    const attempts = source.calls.length - before;
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(12);
    secrets.close();
  });

  it('throws a permanent error once the value is past its TTL, without serving it stale', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    source.failWith = denied;

    await vi.advanceTimersByTimeAsync(TTL - REFRESH_AHEAD + 1);
    expect(secrets.a).toBe('value-a-0001'); // within its TTL: still good
    await vi.advanceTimersByTimeAsync(REFRESH_AHEAD);

    expect(thrownBy(() => secrets.a).code).toBe('ACCESS_DENIED');
    secrets.close();
  });

  it('serves the value stale after a permanent error too with staleOnAnyError', async () => {
    const { source, cache } = setup({ staleOnAnyError: true });
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    source.failWith = denied;

    await vi.advanceTimersByTimeAsync(TTL + 10_000);

    expect(secrets.a).toBe('value-a-0001');
    secrets.close();
  });

  it('after a thaw past its TTL, serves the last value once and refreshes it in the background', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    source.put('prod/a', 'value-a-0002');
    // A frozen sandbox: time moves, but no timer ran.
    vi.setSystemTime(Date.now() + TTL + 5_000);

    expect(secrets.a).toBe('value-a-0001');
    await vi.advanceTimersByTimeAsync(0);

    expect(secrets.a).toBe('value-a-0002');
    secrets.close();
  });

  it('after a thaw beyond staleIfErrorMs, throws EXPIRED until its refresh lands', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });
    vi.setSystemTime(Date.now() + TTL + 31_000);

    const error = thrownBy(() => secrets.a);
    expect(error.code).toBe('EXPIRED');
    expect(error.secretId).toBe('prod/a');
    expect(error.message).toContain('`a`');
    await vi.advanceTimersByTimeAsync(0);

    expect(secrets.a).toBe('value-a-0001');
    secrets.close();
  });

  it('throws what a read would when the cache takes a version the entry cannot read, and recovers from it', async () => {
    const { source, cache } = setup();
    const Db = z.object({ password: z.string() });
    source.put('prod/db', JSON.stringify({ password: 'pw-0001' }));
    const secrets = await cache.live({ db: secret.json('prod/db', { schema: Db }) });
    source.put('prod/db', JSON.stringify({ pass: 'pw-0002' }));

    await cache.refreshNow('prod/db');
    await vi.advanceTimersByTimeAsync(0); // the new version's validation settles
    const calls = source.calls.length;

    expect(thrownBy(() => secrets.db).code).toBe('SCHEMA_MISMATCH');
    await expect(cache.getSecretJson('prod/db', { schema: Db })).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
    });
    for (let i = 0; i < 100; i++) expect(() => secrets.db).toThrow(SecretCacheError);
    expect(source.calls.length).toBe(calls); // no fetch storm: the next try is the new version's refresh

    source.put('prod/db', JSON.stringify({ password: 'pw-0003' }));
    await vi.advanceTimersByTimeAsync(TTL);
    expect(secrets.db).toEqual({ password: 'pw-0003' });
    secrets.close();
  });
});

describe('SecretCache.live: close', () => {
  it('stops refreshing when closed, and reads throw CLOSED', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const secrets = await cache.live({ a: secret.string('prod/a') });

    secrets.close();
    await vi.advanceTimersByTimeAsync(10 * TTL);

    expect(source.calls).toHaveLength(1);
    const error = thrownBy(() => secrets.a);
    expect(error.code).toBe('CLOSED');
    expect(error.secretId).toBe('prod/a');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closes through Symbol.dispose, and close detached from the object, twice, without error', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const one = await cache.live({ a: secret.string('prod/a') });
    const two = await cache.live({ a: secret.string('prod/a') });

    one[Symbol.dispose]();
    const { close } = two;
    close();
    close();
    await vi.advanceTimersByTimeAsync(10 * TTL);

    expect(source.calls).toHaveLength(1);
    expect(() => one.a).toThrow(SecretCacheError);
    expect(() => two.a).toThrow(SecretCacheError);
  });

  it('leaves the cache and other live objects running', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const closed = await cache.live({ a: secret.string('prod/a') });
    const open = await cache.live({ a: secret.string('prod/a') });
    closed.close();
    source.put('prod/a', 'value-a-0002');

    await vi.advanceTimersByTimeAsync(TTL);

    expect(open.a).toBe('value-a-0002');
    await expect(cache.getSecretString('prod/a')).resolves.toBe('value-a-0002');
    open.close();
  });

  it('arms only unref timers, which never keep a process alive', async () => {
    const { source, cache } = setup();
    source.put('prod/a', 'value-a-0001');
    const refs: boolean[] = [];
    const real = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
      ...args: Parameters<typeof setTimeout>
    ) => {
      const timer = real(...args);
      queueMicrotask(() => refs.push(timer.hasRef()));
      return timer;
    }) as typeof setTimeout);
    try {
      const secrets = await cache.live({ a: secret.string('prod/a') });
      await Promise.resolve();
      secrets.close();
    } finally {
      spy.mockRestore();
    }

    expect(refs.length).toBeGreaterThan(0);
    expect(refs.every((hasRef) => !hasRef)).toBe(true);
  });
});

describe('SecretCache.live: rendering', () => {
  it('renders the entries without their values in every form a logger uses', async () => {
    const { source, cache } = setup();
    source.put('prod/api-key', 'api-key-value-0001');
    source.put('prod/tls', new Uint8Array([201, 202, 203, 204, 205, 206]));
    source.put('prod/db', JSON.stringify({ password: 'db-password-0001' }));
    const secrets = await cache.live({
      apiKey: secret.string('prod/api-key'),
      tls: secret.binary('prod/tls'),
      db: secret.json('prod/db'),
      'odd key': secret.string('prod/api-key'),
    });

    const rendered = renderingsOf(secrets);

    expectNoFragment(rendered, 'api-key-value-0001');
    expectNoFragment(rendered, 'db-password-0001');
    expectNoBytes(rendered, new Uint8Array([201, 202, 203, 204, 205, 206]));
    expect(inspect(secrets)).toBe(
      'LiveSecrets { apiKey: <redacted>, tls: <redacted>, db: <redacted>, "odd key": <redacted> }',
    );
    expect(JSON.parse(JSON.stringify(secrets))).toEqual({
      apiKey: '<redacted>',
      tls: '<redacted>',
      db: '<redacted>',
      'odd key': '<redacted>',
    });
    expect(String(secrets)).toBe(inspect(secrets));
    secrets.close();
  });

  it('keeps errors of its reads free of the value', async () => {
    const { source, cache } = setup();
    source.put('prod/db', JSON.stringify({ password: 'db-password-0001' }));
    const secrets = await cache.live({
      db: secret.json('prod/db', { schema: z.object({ password: z.string() }) }),
    });
    source.put('prod/db', '{"password": db-password-0002');

    await cache.refreshNow('prod/db');
    await vi.advanceTimersByTimeAsync(0);
    const error = thrownBy(() => secrets.db);

    expect(error.code).toBe('INVALID_JSON');
    expectNoFragment(renderingsOf(error), 'db-password-0002');
    secrets.close();
  });
});
