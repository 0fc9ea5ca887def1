import { getEventListeners } from 'node:events';
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { SecretCache } from '../src/cache.js';
import type { FetchEvent, StaleEvent } from '../src/events.js';
import type { SecretCacheOptions } from '../src/options.js';
import { deferred, FakeClock, FakeSource } from './support/fakes.js';

// Every accessor has a warm path of its own (a map lookup, no await) in front of the shared slow path; these
// specifications hold for each of them, warm or not.

const TTL = 60_000;
const REFRESH_AHEAD = 5_000;
const Upper = z.string().transform((text) => text.toUpperCase());

type Read = (cache: SecretCache, id: string, stage?: string) => Promise<unknown>;
const withStage = (stage: string | undefined) => (stage === undefined ? undefined : { versionStage: stage });

/** Each accessor, and what it makes of a value `"v"` (the secrets below hold JSON strings). */
const accessors: Array<[string, Read, (json: string) => unknown]> = [
  ['getSecretString', (cache, id, stage) => cache.getSecretString(id, withStage(stage)), (json) => json],
  [
    'getSecretBinary',
    (cache, id, stage) =>
      cache.getSecretBinary(id, withStage(stage)).then((bytes) => Buffer.from(bytes).toString()),
    (json) => json,
  ],
  [
    'getSecretJson',
    (cache, id, stage) => cache.getSecretJson(id, withStage(stage)),
    (json) => JSON.parse(json),
  ],
  [
    'getSecretJson with a schema',
    (cache, id, stage) => cache.getSecretJson(id, { ...withStage(stage), schema: Upper }),
    (json) => (JSON.parse(json) as string).toUpperCase(),
  ],
  [
    'getSecretValue',
    (cache, id, stage) =>
      cache
        .getSecretValue(id, withStage(stage))
        .then((record) => record.secretString ?? Buffer.from(record.secretBinary ?? []).toString()),
    (json) => json,
  ],
];

function setup(options: Partial<SecretCacheOptions> = {}, binary = false) {
  const source = new FakeSource();
  const clock = new FakeClock();
  const events = { fetch: [] as FetchEvent[], stale: [] as StaleEvent[] };
  const cache = new SecretCache({
    source,
    clock,
    ttlMs: TTL,
    ttlJitter: 0,
    refreshAheadMs: REFRESH_AHEAD,
    retry: { retries: 0 },
    hooks: { onFetch: (event) => events.fetch.push(event), onStale: (event) => events.stale.push(event) },
    ...options,
  });
  const put = (value: string) => source.put('db', binary ? new TextEncoder().encode(value) : value);
  return { source, clock, cache, events, put };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe.each(accessors)('%s', (name, read, expected) => {
  const binary = name === 'getSecretBinary';
  const stages: Array<string | undefined> = [undefined, 'AWSCURRENT'];

  it.each(stages)('serves a warm read from memory and counts a hit (stage %s)', async (stage) => {
    const { source, cache, put } = setup({}, binary);
    put('"one"');
    expect(await read(cache, 'db', stage)).toEqual(expected('"one"'));
    expect(await read(cache, 'db', stage)).toEqual(expected('"one"'));
    expect(await read(cache, 'db', stage)).toEqual(expected('"one"'));

    expect(source.calls).toHaveLength(1);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1 });
  });

  it.each(stages)('fetches anew once the value has expired (stage %s)', async (stage) => {
    const { source, clock, cache, put } = setup({ refreshAheadMs: 0 }, binary);
    put('"one"');
    await read(cache, 'db', stage);
    put('"two"');
    clock.advance(TTL - 1);
    expect(await read(cache, 'db', stage)).toEqual(expected('"one"'));
    clock.advance(1);

    expect(await read(cache, 'db', stage)).toEqual(expected('"two"'));
    expect(source.calls).toHaveLength(2);
  });

  it.each(stages)(
    'serves the value at once and refreshes from exactly refreshAheadMs before expiry (stage %s)',
    async (stage) => {
      const { source, clock, cache, events, put } = setup({}, binary);
      put('"one"');
      await read(cache, 'db', stage);
      put('"two"');
      clock.advance(TTL - REFRESH_AHEAD - 1);
      await read(cache, 'db', stage);
      expect(cache.stats().refreshAhead).toBe(0);
      clock.advance(1);

      expect(await read(cache, 'db', stage)).toEqual(expected('"one"'));
      await settle();
      expect(cache.stats()).toMatchObject({ refreshAhead: 1, hits: 2 });
      expect(events.fetch.map((event) => event.reason)).toEqual(['miss', 'refresh-ahead']);
      expect(await read(cache, 'db', stage)).toEqual(expected('"two"'));
      expect(source.calls).toHaveLength(2);
    },
  );

  it('serves a warm read of another stage its own value, not the default stage', async () => {
    const { cache, put } = setup({}, binary);
    put('"old"');
    put('"new"');
    await read(cache, 'db');
    await read(cache, 'db', 'AWSPREVIOUS');

    expect(await read(cache, 'db', 'AWSPREVIOUS')).toEqual(expected('"old"'));
    expect(await read(cache, 'db')).toEqual(expected('"new"'));
  });

  it('does not serve a warm pinned entry to an id that spells out its key', async () => {
    const { source, cache, put } = setup({}, binary);
    put('"old"');
    put('"new"');
    await read(cache, 'db', 'AWSPREVIOUS');
    await read(cache, 'db', 'AWSPREVIOUS'); // every derived form of the entry is made and warm

    await expect(read(cache, 'db\0s\0AWSPREVIOUS')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(source.calls).toHaveLength(1);
  });

  it('serves a value stale only strictly within staleIfErrorMs, and says how stale', async () => {
    const { source, clock, cache, events, put } = setup(
      { refreshAheadMs: 0, staleIfErrorMs: 10_000 },
      binary,
    );
    put('"one"');
    await read(cache, 'db');
    source.failWith = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    clock.advance(TTL + 250);
    expect(await read(cache, 'db')).toEqual(expected('"one"'));
    expect(events.stale.map((event) => event.staleForMs)).toEqual([250]);

    clock.advance(10_000 - 250);
    await expect(read(cache, 'db')).rejects.toMatchObject({ code: 'THROTTLED' });
  });
});

describe('counting', () => {
  it('counts a read in the refresh-ahead window that went the slow way as a hit, with a fresh record', async () => {
    const { clock, cache, put } = setup();
    put('"one"');
    await cache.getSecretValue('db');
    clock.advance(TTL - REFRESH_AHEAD);
    await expect(cache.getSecretValue('db')).resolves.toMatchObject({ stale: false });
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it('counts stale reads in and after a backoff window as hits, and retries in the background as stale-retry', async () => {
    const { source, clock, cache, events, put } = setup({
      refreshAheadMs: 0,
      backoff: { baseMs: 1_000, maxMs: 1_000 },
    });
    put('"one"');
    await cache.getSecretString('db');
    source.failWith = () => Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable' });
    clock.advance(TTL);
    await cache.getSecretString('db'); // a miss that ends stale
    await cache.getSecretString('db'); // in the backoff window: a hit
    clock.advance(1_000);
    source.failWith = undefined;
    await cache.getSecretString('db'); // past the window: a hit, and a background retry
    await settle();

    expect(cache.stats()).toMatchObject({
      misses: 2,
      hits: 2,
      staleServed: 3,
      refreshAhead: 0,
      backoffSkips: 1,
    });
    expect(events.fetch.map((event) => event.reason)).toEqual(['miss', 'stale-retry']);
  });

  it('does not refresh ahead while the key backs off from a failed refresh', async () => {
    const { source, clock, cache, put } = setup({ backoff: { baseMs: 10_000, maxMs: 10_000 } });
    put('"one"');
    await cache.getSecretString('db');
    source.failWith = () => Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable' });
    clock.advance(TTL - REFRESH_AHEAD);
    await cache.getSecretString('db');
    await settle();
    clock.advance(1);
    await cache.getSecretString('db');
    await settle();

    expect(source.calls).toHaveLength(2);
    expect(cache.stats()).toMatchObject({ refreshAhead: 1, backoffSkips: 1 });
  });
});

describe('refreshNow', () => {
  it('fetches with the reason refresh-now', async () => {
    const { cache, events, put } = setup();
    put('"one"');
    await cache.refreshNow('db');
    expect(events.fetch.map((event) => event.reason)).toEqual(['refresh-now']);
  });

  it('rejects with ABORTED when its signal fires before the fetch answers, and the fetch still lands', async () => {
    const { source, cache, put } = setup();
    put('"one"');
    const gate = deferred();
    source.gate = gate.promise;
    const controller = new AbortController();
    const refresh = cache.refreshNow('db', { signal: controller.signal });
    controller.abort();

    await expect(refresh).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'Reading secret "db" was aborted by the caller.',
    });
    gate.resolve();
    await settle();
    expect(cache.stats().size).toBe(1);
  });
});

describe('abort listeners', () => {
  it('leaves no listener on a signal once a read with it has settled, whatever the outcome', async () => {
    const { source, clock, cache, put } = setup({ refreshAheadMs: 0, staleWaitMs: Number.POSITIVE_INFINITY });
    put('"one"');
    const signal = new AbortController().signal;
    await cache.getSecretString('db', { signal });
    clock.advance(TTL);
    await cache.getSecretString('db', { signal });
    source.failWith = () => Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    clock.advance(TTL);
    await cache.getSecretString('db', { signal }).catch(() => {});
    await cache.refreshNow('db', { signal }).catch(() => {});

    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});

describe('messages', () => {
  it('names where an unknown option was found', async () => {
    const { cache } = setup();
    await expect(cache.getSecretString('db', { stage: 'x' } as never)).rejects.toMatchObject({
      message: expect.stringContaining('in read options'),
    });
    await expect(cache.getSecretJson('db', { stage: 'x' } as never)).rejects.toMatchObject({
      message: expect.stringContaining('in options of getSecretJson'),
    });
  });

  it('renders the cache with its settings and counters', async () => {
    const { cache, put } = setup();
    put('"one"');
    await cache.getSecretString('db');
    expect(inspect(cache)).toBe(
      'SecretCache { ttlMs: 60000, maxEntries: 1000, versionStage: "AWSCURRENT", stats: {"hits":0,"misses":1,"fetches":1,"errors":0,"size":1,"staleServed":0,"refreshAhead":0,"backoffSkips":0,"inflight":0} }',
    );
  });
});

describe('what keeps the process alive', () => {
  const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;

  it('holds the process for a read that waits, not for a refresh nobody waits for', async () => {
    const { source, clock, cache, put } = setup({ staleWaitMs: Number.POSITIVE_INFINITY });
    put('"one"');
    const gate = deferred();
    source.gate = gate.promise;
    const before = timers();
    const cold = cache.getSecretString('db');
    expect(timers()).toBe(before + 1);
    gate.resolve();
    await cold;
    await settle();
    expect(timers()).toBe(before);

    source.gate = deferred().promise; // the refresh-ahead below never answers
    clock.advance(TTL - REFRESH_AHEAD);
    await cache.getSecretString('db');
    expect(cache.stats().inflight).toBe(1);
    expect(timers()).toBe(before);
  });
});

describe('survivors of mutation testing, killed', () => {
  const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;

  it('gives each schema its own output on warm JSON reads that alternate schemas', async () => {
    const { cache, put } = setup();
    put('"one"');
    const Lower = z.string().transform((text) => text.toLowerCase());
    expect(await cache.getSecretJson('db', { schema: Upper })).toBe('ONE');
    expect(await cache.getSecretJson('db', { schema: Lower })).toBe('one');
    expect(await cache.getSecretJson('db', { schema: Upper })).toBe('ONE');
    expect(await cache.getSecretJson('db', { schema: Lower })).toBe('one');
  });

  it('holds the process while refreshNow waits for its fetch', async () => {
    const { source, cache, put } = setup();
    put('"one"');
    const gate = deferred();
    source.gate = gate.promise;
    const before = timers();
    const refresh = cache.refreshNow('db');
    expect(timers()).toBe(before + 1);
    gate.resolve();
    await refresh;
  });

  it('removes its abort listener when refreshNow succeeds', async () => {
    const { cache, put } = setup();
    put('"one"');
    const signal = new AbortController().signal;
    await cache.refreshNow('db', { signal });
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('rejects withSecret with ABORTED when its signal fires during the refresh after a rejection', async () => {
    const { source, cache, put } = setup();
    put('"one"');
    const controller = new AbortController();
    const gate = deferred();
    const call = cache.withSecret(
      'db',
      () => {
        source.gate = gate.promise;
        throw new Error('rejected');
      },
      { shouldRefresh: () => true, signal: controller.signal },
    );
    await settle();
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    gate.resolve();
  });

  it('rejects withSecret with ABORTED when its signal fired while fn ran', async () => {
    const { cache, put } = setup();
    put('"one"');
    const controller = new AbortController();
    const call = cache.withSecret(
      'db',
      () => {
        controller.abort();
        throw new Error('rejected');
      },
      { shouldRefresh: () => true, signal: controller.signal },
    );
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('lets a refresh-ahead through exactly when the backoff of a failed one ends', async () => {
    const { source, clock, cache, put } = setup({ backoff: { baseMs: 1_000, maxMs: 1_000 } });
    const random = vi.spyOn(Math, 'random').mockReturnValue(0); // backoff exactly 500 ms
    try {
      put('"one"');
      await cache.getSecretString('db');
      source.failWith = () => Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable' });
      clock.advance(TTL - REFRESH_AHEAD);
      await cache.getSecretString('db');
      await settle();
      clock.advance(499);
      await cache.getSecretString('db');
      await settle();
      expect(source.calls).toHaveLength(2);
      clock.advance(1);
      await cache.getSecretString('db');
      await settle();
      expect(source.calls).toHaveLength(3);
    } finally {
      random.mockRestore();
    }
  });
});
