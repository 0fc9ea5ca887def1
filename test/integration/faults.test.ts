/**
 * Fault tests: a real SecretsManagerClient talks to a real moto_server through the fault-injecting proxy
 * (test/support/fault-proxy.ts), which throttles, fails, resets or hangs requests on demand and counts them.
 *
 * The client is built with `maxAttempts: 1`: the SDK makes exactly one HTTP request per `send`, so every count
 * the proxy reports is the cache's own doing. Where counts matter the cache's `retry` is set explicitly too
 * (`retries: 0`: one request per fetch; p-retry's delays would also run on real timers).
 *
 * Time is a fake clock (`{ now: () => now }`) moved by hand; background fetches are started by reads (the cache
 * has no timers of its own), so after a read that started one the test waits for it to settle in real time.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  isSecretCacheError,
  SecretCache,
  type SecretCacheErrorCode,
  type SecretRecord,
  type SecretRequest,
  type SecretSource,
  type SecretVersion,
} from '../../src/index.js';
import { seededRandom } from '../support/fault-proxy.js';
import { createStringSecret, putSecretValue } from '../support/moto.js';
import { useProxiedMoto } from '../support/proxied-moto.js';

const runId = randomUUID().slice(0, 8);
let seq = 0;
const uniqueName = (label: string): string => `faults-${runId}/${label}-${++seq}`;

const T0 = 1_700_000_000_000;
/** The fake clock's time. */
let now = T0;
const clock = { now: (): number => now };

/** The cache's backoff defaults, spelled out so the bounds below are computed from the same numbers. */
const BACKOFF = { baseMs: 1_000, factor: 2, maxMs: 60_000 } as const;
/** One request per fetch (with the client's `maxAttempts: 1`), and no p-retry delays on real timers. */
const NO_RETRY = { retries: 0 } as const;

const env = useProxiedMoto({ seed: 1 });

beforeEach(() => {
  now = T0;
});

const gets = (): number => env.proxy.count('GetSecretValue');

/** Waits (in real time) until no fetch of `cache` is in flight: a background fetch a read started has settled. */
async function settle(cache: SecretCache): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (cache.stats().inflight > 0) {
    if (Date.now() > deadline) throw new Error('a fetch did not settle within 10 s');
    await sleep(1);
  }
}

/** Records unhandled rejections from now until `stop()` (which first lets Node report any pending ones). */
function watchUnhandledRejections(): { readonly seen: unknown[]; stop(): Promise<void> } {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', listener);
  return {
    seen,
    async stop(): Promise<void> {
      await sleep(20);
      await nextTurn();
      process.off('unhandledRejection', listener);
    },
  };
}

function codeOf(error: unknown): SecretCacheErrorCode | 'not a SecretCacheError' {
  return isSecretCacheError(error) ? error.code : 'not a SecretCacheError';
}

/** The nominal backoff delay after `failures` consecutive failures (the cache waits half of it at least). */
function nominalDelay(failures: number): number {
  return Math.min(BACKOFF.maxMs, BACKOFF.baseMs * BACKOFF.factor ** (failures - 1));
}

/**
 * The most fetches one failing key can make within `windowMs`. The first may come at once; the one after the
 * k-th consecutive failure comes no sooner than `nominalDelay(k) / 2` after it (equal jitter keeps the lower
 * half of each delay). Packing every fetch as early as allowed gives the bound.
 */
function maxFetchesWithin(windowMs: number): number {
  let fetches = 1;
  let elapsed = 0;
  for (let failures = 1; ; failures++) {
    elapsed += nominalDelay(failures) / 2;
    if (elapsed > windowMs) return fetches;
    fetches++;
  }
}

describe('SecretCache behind a faulty endpoint (moto_server + fault proxy)', () => {
  it('serves the last good value through an hour of 503s until staleIfErrorMs runs out, then fails with FETCH_FAILED, calling AWS no more often than the backoff allows', async () => {
    // ttlMs 60 s without TTL jitter (so expiry is exact), staleIfErrorMs 30 min, refreshAheadMs at its default
    // (ttlMs / 10 = 6 s), backoff at its defaults (spelled out in BACKOFF), no retries inside a fetch.
    const TTL_MS = 60_000;
    const STALE_IF_ERROR_MS = 30 * 60_000;
    const HOUR_MS = 3_600_000;
    const STEP_MS = 1_000;
    const staleEvents: { staleForMs: number; code: string }[] = [];
    const errorEvents: { code: string; retryInMs: number }[] = [];
    const cache = new SecretCache({
      client: env.client,
      clock,
      ttlMs: TTL_MS,
      ttlJitter: 0,
      staleIfErrorMs: STALE_IF_ERROR_MS,
      backoff: BACKOFF,
      retry: NO_RETRY,
      hooks: {
        onStale: ({ staleForMs, code }) => staleEvents.push({ staleForMs, code }),
        onError: ({ code, retryInMs }) => errorEvents.push({ code, retryInMs }),
      },
    });
    const name = uniqueName('outage');
    await createStringSecret(env.admin, name, 'outage-v1');

    const warm = await cache.getSecretValue(name);
    expect(warm).toMatchObject({ secretString: 'outage-v1', stale: false });
    expect(gets()).toBe(1);

    env.proxy.inject('unavailable');
    env.proxy.resetCounters();
    const expiresAt = T0 + TTL_MS;
    const staleUntil = expiresAt + STALE_IF_ERROR_MS;
    let fresh = 0;
    let stale = 0;
    let failed = 0;
    const unexpected: string[] = [];
    for (let step = 1; step <= HOUR_MS / STEP_MS; step++) {
      now = T0 + step * STEP_MS;
      let record: SecretRecord | undefined;
      let error: unknown;
      try {
        record = await cache.getSecretValue(name);
      } catch (caught) {
        error = caught;
      }
      await settle(cache);
      const at = `t0 + ${step} s`;
      if (now < expiresAt) {
        if (record?.secretString === 'outage-v1' && !record.stale) fresh++;
        else unexpected.push(`${at}: wanted the fresh value, got ${record ? 'a stale one' : codeOf(error)}`);
      } else if (now < staleUntil) {
        if (record?.secretString === 'outage-v1' && record.stale) stale++;
        else unexpected.push(`${at}: wanted the stale value, got ${record ? 'a fresh one' : codeOf(error)}`);
      } else if (codeOf(error) === 'FETCH_FAILED') {
        failed++;
      } else {
        unexpected.push(`${at}: wanted FETCH_FAILED, got ${record ? 'a value' : codeOf(error)}`);
      }
    }

    expect(unexpected.slice(0, 10)).toEqual([]);
    expect({ fresh, stale, failed }).toEqual({ fresh: 59, stale: 1_800, failed: 1_741 });
    expect(cache.stats().staleServed).toBe(1_800);
    // A stale period is reported when it starts and once per backoff window after: never once per read.
    process.stdout.write(
      `faults: outage hour reported ${staleEvents.length} stale events for 1800 stale reads\n`,
    );
    expect(staleEvents.length).toBeGreaterThan(0);
    expect(staleEvents.length).toBeLessThanOrEqual(errorEvents.length);
    expect(staleEvents.every((event) => event.code === 'FETCH_FAILED')).toBe(true);
    expect(Math.max(...staleEvents.map((event) => event.staleForMs))).toBeLessThan(STALE_IF_ERROR_MS);

    const requests = gets();
    const bound = maxFetchesWithin(HOUR_MS) * (NO_RETRY.retries + 1);
    process.stdout.write(`faults: outage hour made ${requests} GetSecretValue requests (bound ${bound})\n`);
    expect(
      requests,
      `outage hour made ${requests} GetSecretValue requests (bound ${bound})`,
    ).toBeLessThanOrEqual(bound);
    // Every request was one fetch that failed, each reported once; the cache never stopped retrying: at worst
    // a key waits its full nominal delay plus one clock step, maxMs + 1 s once the delays top out.
    expect(env.proxy.counts().faulted.unavailable).toBe(requests);
    expect(errorEvents).toHaveLength(requests);
    expect(cache.stats()).toMatchObject({ fetches: requests + 1, errors: requests });
    expect(requests).toBeGreaterThanOrEqual(Math.floor(HOUR_MS / (BACKOFF.maxMs + STEP_MS)));
  });

  it('fetches a cold key once per backoff window for 1,000 concurrent readers under 100% throttling, rejects them all with THROTTLED, and answers readers inside the window at once without a request', async () => {
    const unhandled = watchUnhandledRejections();
    try {
      const cache = new SecretCache({ client: env.client, clock, backoff: BACKOFF, retry: NO_RETRY });
      const name = uniqueName('cold');
      await createStringSecret(env.admin, name, 'cold-v1');
      env.proxy.inject('throttle');

      const readers = (): Promise<PromiseSettledResult<string>[]> =>
        Promise.allSettled(Array.from({ length: 1_000 }, () => cache.getSecretString(name)));
      const rejectedCodes = (results: PromiseSettledResult<string>[]): Set<string> =>
        new Set(
          results.map((result) => (result.status === 'rejected' ? codeOf(result.reason) : 'fulfilled')),
        );

      let failedAt = now;
      for (let failures = 1; failures <= 7; failures++) {
        // The window is open (the first time, the key was never fetched): 1,000 readers share one request.
        const before = gets();
        const results = await readers();
        expect(gets() - before, `window ${failures}: requests`).toBe(1);
        expect(rejectedCodes(results)).toEqual(new Set(['THROTTLED']));
        failedAt = now;

        // Inside the window (less than half the nominal delay later): rejected at once, nothing sent.
        now = failedAt + nominalDelay(failures) / 2 - 1;
        const skipsBefore = cache.stats().backoffSkips;
        const inWindow = readers();
        expect(cache.stats().inflight).toBe(0);
        const first = await Promise.race([inWindow, nextTurn().then(() => 'not yet' as const)]);
        expect(first, 'rejected before the event loop turned').not.toBe('not yet');
        expect(rejectedCodes(await inWindow)).toEqual(new Set(['THROTTLED']));
        expect(gets() - before).toBe(1);
        expect(cache.stats().backoffSkips - skipsBefore).toBe(1_000);

        // The full nominal delay after the failure, the window has surely closed.
        now = failedAt + nominalDelay(failures);
      }
      expect(gets()).toBe(7);
      expect(cache.stats()).toMatchObject({ fetches: 7, errors: 7, inflight: 0, size: 0 });

      // Once AWS answers again, the next window's readers all get the value, still with one request.
      env.proxy.passThrough();
      const results = await readers();
      expect(gets()).toBe(8);
      expect(results.every((result) => result.status === 'fulfilled' && result.value === 'cold-v1')).toBe(
        true,
      );
    } finally {
      await unhandled.stop();
    }
    expect(unhandled.seen).toEqual([]);
  });

  it('fails reads of a hung endpoint with TIMEOUT after fetchTimeoutMs, one request for all readers, and serves a stale value instead where there is one', async () => {
    const cache = new SecretCache({
      client: env.client,
      clock,
      fetchTimeoutMs: 300,
      retry: NO_RETRY,
      ttlJitter: 0,
    });
    const cold = uniqueName('hung-cold');
    const warm = uniqueName('hung-warm');
    await createStringSecret(env.admin, cold, 'hung-cold-v1');
    await createStringSecret(env.admin, warm, 'hung-warm-v1');
    expect(await cache.getSecretString(warm)).toBe('hung-warm-v1');

    env.proxy.inject('hang');
    env.proxy.resetCounters();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => cache.getSecretString(cold)));
    expect(
      new Set(results.map((result) => (result.status === 'rejected' ? codeOf(result.reason) : 'ok'))),
    ).toEqual(new Set(['TIMEOUT']));
    expect(gets()).toBe(1);
    expect(env.proxy.counts().faulted.hang).toBe(1);
    // The fetch aborted its HTTP request, so the proxy's held socket closes.
    await expect.poll(() => env.proxy.hanging, { timeout: 2_000 }).toBe(0);

    // In the backoff window the same error comes back at once.
    await expect(cache.getSecretString(cold)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(gets()).toBe(1);

    // A value past its TTL is served stale once its refresh times out (TIMEOUT is transient).
    now += 300_000;
    const record = await cache.getSecretValue(warm);
    expect(record).toMatchObject({ secretString: 'hung-warm-v1', stale: true });
    expect(gets()).toBe(2);
  });

  it('recovers: after failures the next background retry succeeds once AWS answers, and later reads get the value put during the outage', async () => {
    const TTL_MS = 60_000;
    const cache = new SecretCache({
      client: env.client,
      clock,
      ttlMs: TTL_MS,
      ttlJitter: 0,
      backoff: BACKOFF,
      retry: NO_RETRY,
    });
    const name = uniqueName('recovery');
    await createStringSecret(env.admin, name, 'recovery-v1');
    expect(await cache.getSecretString(name)).toBe('recovery-v1');

    env.proxy.inject('unavailable');
    env.proxy.resetCounters();
    await putSecretValue(env.admin, name, 'recovery-v2'); // straight to moto: AWSCURRENT moves during the outage

    // Past expiry: the read that fetches fails, and falls back to the stale value.
    now = T0 + TTL_MS + 1;
    expect(await cache.getSecretValue(name)).toMatchObject({ secretString: 'recovery-v1', stale: true });
    await settle(cache);
    expect(gets()).toBe(1);
    // Inside the backoff window: stale, no request.
    now += 100;
    expect(await cache.getSecretValue(name)).toMatchObject({ secretString: 'recovery-v1', stale: true });
    expect(gets()).toBe(1);

    // AWS answers again. Past the window, a read is served stale at once and starts the background retry.
    env.proxy.passThrough();
    now = T0 + TTL_MS + 1 + nominalDelay(1);
    expect(await cache.getSecretValue(name)).toMatchObject({ secretString: 'recovery-v1', stale: true });
    await settle(cache);
    expect(gets()).toBe(2);
    expect(cache.stats()).toMatchObject({ errors: 1, inflight: 0 });

    // That retry succeeded: the next reads get the new value, fresh, without another request.
    expect(await cache.getSecretValue(name)).toMatchObject({ secretString: 'recovery-v2', stale: false });
    expect(await cache.getSecretString(name)).toBe('recovery-v2');
    now += TTL_MS / 2;
    expect(await cache.getSecretString(name)).toBe('recovery-v2');
    expect(gets()).toBe(2);
  });

  it('turns the first rejected credential after a rotation into exactly one refresh for 50 concurrent withSecret calls, all of which then succeed, while plain readers keep reading', async () => {
    const cache = new SecretCache({ client: env.client, clock, ttlMs: 600_000, retry: NO_RETRY });
    const name = uniqueName('rotation');
    await createStringSecret(env.admin, name, 'password-1');
    /** What the simulated database accepts: whatever moto has as AWSCURRENT. */
    let acceptedPassword = 'password-1';
    expect(await cache.getSecretString(name)).toBe('password-1');

    let reading = true;
    const seenByReaders = new Set<string>();
    const readers = Array.from({ length: 5 }, async () => {
      while (reading) {
        seenByReaders.add(await cache.getSecretString(name));
        await nextTurn();
      }
    });

    // Rotate while the readers run; they keep getting the cached password.
    await putSecretValue(env.admin, name, 'password-2');
    acceptedPassword = 'password-2';
    await sleep(10);
    expect(seenByReaders).toEqual(new Set(['password-1']));

    // More than a second after the fetch, so withSecret may refresh it.
    now += 5_000;
    env.proxy.resetCounters();
    let attempts = 0;
    let rejections = 0;
    const connect = (password: string): string => {
      attempts++;
      if (password !== acceptedPassword) {
        rejections++;
        throw new Error('password authentication failed');
      }
      return `connected with ${password}`;
    };
    const shouldRefresh = (error: unknown): boolean =>
      error instanceof Error && error.message === 'password authentication failed';
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => cache.withSecret(name, connect, { shouldRefresh })),
    );

    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect(
      results.every(
        (result) => result.status === 'fulfilled' && result.value === 'connected with password-2',
      ),
    ).toBe(true);
    expect(gets()).toBe(1);
    expect({ attempts, rejections }).toEqual({ attempts: 100, rejections: 50 });

    await sleep(10);
    reading = false;
    await Promise.all(readers);
    expect(seenByReaders).toEqual(new Set(['password-1', 'password-2']));
    expect(await cache.getSecretString(name)).toBe('password-2');
    expect(gets()).toBe(1);
  });
});

describe('SecretCache soak (in-memory source)', () => {
  /** A source that answers at once: `value-<id>`, or, for ~5% of calls, a throttle or a 503. */
  function flakySource(
    seed: number,
    failureRate: number,
  ): SecretSource & { calls: number; failures: number } {
    const random = seededRandom(seed);
    const source = {
      calls: 0,
      failures: 0,
      getSecretValue(request: SecretRequest): Promise<SecretVersion> {
        source.calls++;
        const draw = random();
        if (draw < failureRate) {
          source.failures++;
          const error = new Error('injected');
          error.name = draw < failureRate / 2 ? 'ThrottlingException' : 'ServiceUnavailable';
          return Promise.reject(error);
        }
        return Promise.resolve({
          name: request.secretId,
          arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${request.secretId}`,
          versionId: 'v1',
          versionStages: ['AWSCURRENT'],
          createdDate: undefined,
          secretString: `value-${request.secretId}`,
        });
      },
    };
    return source;
  }

  /** `gc()`, exposed at run time when the process was not started with `--expose-gc`. */
  function collector(): (() => void) | undefined {
    if (typeof globalThis.gc === 'function') return globalThis.gc;
    try {
      setFlagsFromString('--expose-gc');
      return runInNewContext('gc') as () => void;
    } catch {
      return undefined;
    }
  }

  async function heapUsedAfterGc(gc: (() => void) | undefined): Promise<number> {
    await nextTurn();
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  }

  it('keeps at most maxEntries entries and a flat heap over 1,000,000 reads of 10,000 ids with 5% of fetches failing, with no unhandled rejection', async () => {
    const READS = 1_000_000;
    const IDS = 10_000;
    const MAX_ENTRIES = 1_000;
    const BATCH = 100;
    // 80% of reads go to 800 hot ids (they fit in the cache), 20% to any of the 10,000 (those churn the LRU):
    // a skewed load like a real one. Every miss is a full fetch through p-retry and the timeout, about 40 µs,
    // so a uniform load (90% misses) would take about 40 s.
    const HOT_SHARE = 0.8;
    const HOT_IDS = 800;
    const ids = Array.from({ length: IDS }, (_, i) => `soak/secret-${i}`);
    const source = flakySource(7, 0.05);
    let evictions = 0;
    const cache = new SecretCache({
      source,
      clock,
      maxEntries: MAX_ENTRIES,
      retry: NO_RETRY,
      hooks: { onEvict: () => void evictions++ },
    });
    const pick = seededRandom(11);
    const gc = collector();
    const unhandled = watchUnhandledRejections();

    let ok = 0;
    let wrongValue = 0;
    const failedCodes = new Map<string, number>();
    let maxSize = 0;
    let maxInflight = 0;
    let heapAt10 = 0;
    let heapAt100 = 0;
    const started = performance.now();
    try {
      for (let done = 0; done < READS; done += BATCH) {
        const batch: Promise<string>[] = [];
        const wanted: string[] = [];
        for (let i = 0; i < BATCH; i++) {
          now += 1;
          const id = ids[Math.floor(pick() < HOT_SHARE ? pick() * HOT_IDS : pick() * IDS)] as string;
          wanted.push(`value-${id}`);
          batch.push(cache.getSecretString(id));
        }
        maxInflight = Math.max(maxInflight, cache.stats().inflight);
        const results = await Promise.allSettled(batch);
        results.forEach((result, i) => {
          if (result.status === 'fulfilled') {
            if (result.value === wanted[i]) ok++;
            else wrongValue++;
          } else {
            const code = codeOf(result.reason);
            failedCodes.set(code, (failedCodes.get(code) ?? 0) + 1);
          }
        });
        if ((done / BATCH) % 10 === 0) maxSize = Math.max(maxSize, cache.stats().size);
        if (done + BATCH === READS / 10) heapAt10 = await heapUsedAfterGc(gc);
      }
      heapAt100 = await heapUsedAfterGc(gc);
    } finally {
      await unhandled.stop();
    }
    const seconds = (performance.now() - started) / 1_000;
    const stats = cache.stats();
    const mb = (bytes: number): string => (bytes / 1_048_576).toFixed(1);
    process.stdout.write(
      `faults: soak ${READS} reads over ${IDS} ids in ${seconds.toFixed(1)} s: heap ${mb(heapAt10)} MB at 10%, ` +
        `${mb(heapAt100)} MB at 100% (growth ${mb(heapAt100 - heapAt10)} MB, gc ${gc ? 'on' : 'off'}); ` +
        `max size ${maxSize}/${MAX_ENTRIES}, final size ${stats.size}, evictions ${evictions}, ` +
        `hits ${stats.hits}, fetches ${stats.fetches}, source failures ${source.failures}, ` +
        `failed reads ${[...failedCodes].map(([code, n]) => `${code} ${n}`).join(', ')}\n`,
    );

    expect(unhandled.seen).toEqual([]);
    expect(maxSize).toBeLessThanOrEqual(MAX_ENTRIES);
    expect(stats.size).toBeLessThanOrEqual(MAX_ENTRIES);
    expect(evictions).toBeGreaterThan(100_000); // the bound was enforced all along, not just never reached
    expect(maxInflight).toBeLessThanOrEqual(BATCH);
    expect(stats.inflight).toBe(0);
    expect(wrongValue).toBe(0);
    const failedReads = [...failedCodes.values()].reduce((a, b) => a + b, 0);
    expect(ok + failedReads).toBe(READS);
    expect([...failedCodes.keys()].every((code) => code === 'THROTTLED' || code === 'FETCH_FAILED')).toBe(
      true,
    );
    expect(source.failures).toBeGreaterThan(0);
    expect(stats.errors).toBe(source.failures);
    expect(heapAt100 - heapAt10, `heap ${mb(heapAt10)} MB at 10%, ${mb(heapAt100)} MB at 100%`).toBeLessThan(
      20 * 1_048_576,
    );
  }, 60_000);
});
