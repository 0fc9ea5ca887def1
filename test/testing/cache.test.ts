/**
 * What memorySource is for: a user's test of code that reads secrets through a SecretCache, across a rotation, an
 * outage, a denial and a hang, on a fake clock, with no sleeps, no moto_server and no SDK mocks. Everything here
 * imports what a user imports: `secretcache` and `secretcache/testing`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SecretCache, type SecretCacheOptions, secret, type VersionChangeEvent } from '../../src/index.js';
import { memorySource } from '../../src/testing.js';
import { FakeClock } from '../support/fakes.js';

const TTL = 60_000;
const DB = 'prod/orders/db';

function setup(options: Partial<SecretCacheOptions> = {}) {
  const clock = new FakeClock(1_700_000_000_000);
  const source = memorySource({ clock, versionIds: 'counter' });
  source.createSecret(DB, 'pw-1'); // v1
  const versionChanges: VersionChangeEvent[] = [];
  const cache = new SecretCache({
    source,
    clock,
    ttlMs: TTL,
    ttlJitter: 0,
    refreshAheadMs: 0,
    retry: { retries: 0 },
    hooks: { onVersionChange: (event) => versionChanges.push(event) },
    ...options,
  });
  return { clock, source, cache, versionChanges };
}

/** Lets every promise callback and I/O turn that is ready run (a background fetch of the memory source answers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a SecretCache over memorySource', () => {
  it('sees a rotation once its TTL runs out, and keeps the replaced value as AWSPREVIOUS', async () => {
    const { clock, source, cache, versionChanges } = setup();
    expect(await cache.getSecretString(DB)).toBe('pw-1');

    source.rotate(DB, 'pw-2');
    clock.advance(TTL - 1);
    expect(await cache.getSecretString(DB)).toBe('pw-1');
    clock.advance(1);

    expect(await cache.getSecretString(DB)).toBe('pw-2');
    expect(await cache.getSecretString(DB, { versionStage: 'AWSPREVIOUS' })).toBe('pw-1');
    expect(versionChanges).toMatchObject([{ secretId: DB, oldVersionId: 'v1', newVersionId: 'v2' }]);
    expect(source.callCount({ secretId: DB, versionStage: 'AWSCURRENT' })).toBe(2);
  });

  it('serves the last good value, marked stale, through a transient outage, and the new one once AWS is back', async () => {
    const { clock, source, cache } = setup({ staleIfErrorMs: 10 * TTL });
    await cache.getSecretString(DB);
    const outage = source.fail('transient');
    source.rotate(DB, 'pw-2'); // rotated while reads cannot see it
    clock.advance(TTL);

    const during = await cache.getSecretValue(DB);
    clock.advance(5 * TTL);
    const later = await cache.getSecretValue(DB); // at once; its background retry fails too
    await settle();

    expect([during.secretString, during.stale, later.secretString, later.stale]).toEqual([
      'pw-1',
      true,
      'pw-1',
      true,
    ]);
    expect(cache.stats().staleServed).toBe(2);
    outage.clear();
    clock.advance(60_000); // past the longest backoff
    // AWS is known to be failing: this read is answered at once, and starts the retry in the background.
    expect(await cache.getSecretValue(DB)).toMatchObject({ secretString: 'pw-1', stale: true });
    await settle();
    expect(await cache.getSecretValue(DB)).toMatchObject({ secretString: 'pw-2', stale: false });
  });

  it('serves stale through throttling of one secret only, and reads the others as usual', async () => {
    const { clock, source, cache } = setup();
    source.createSecret('prod/orders/api-key', 'key-1');
    await cache.getSecretString(DB);
    source.fail('throttled', { secretId: DB });
    clock.advance(TTL);

    expect(await cache.getSecretValue(DB)).toMatchObject({ secretString: 'pw-1', stale: true });
    expect(await cache.getSecretString('prod/orders/api-key')).toBe('key-1');
  });

  it('throws ACCESS_DENIED when the role loses access: a permanent error is not hidden by a stale value', async () => {
    const { clock, source, cache } = setup();
    await cache.getSecretString(DB);
    source.fail('denied', { secretId: DB });
    clock.advance(TTL);

    await expect(cache.getSecretString(DB)).rejects.toMatchObject({ code: 'ACCESS_DENIED', secretId: DB });
  });

  it('serves stale on denial too with staleOnAnyError', async () => {
    const { clock, source, cache } = setup({ staleOnAnyError: true });
    await cache.getSecretString(DB);
    source.fail('denied');
    clock.advance(TTL);

    expect(await cache.getSecretValue(DB)).toMatchObject({ secretString: 'pw-1', stale: true });
  });

  it('fails a read of a secret that hangs with TIMEOUT after fetchTimeoutMs, aborting the held call', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { source, cache } = setup({ fetchTimeoutMs: 2_000 });
    source.fail('hang');

    const read = cache.getSecretString(DB).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(source.heldCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);

    expect(await read).toMatchObject({ code: 'TIMEOUT', secretId: DB });
    expect(source.heldCalls).toBe(0);
  });

  it('serves the last good value after staleWaitMs while the refresh hangs, and the refresh’s value once released', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { clock, source, cache } = setup({ staleWaitMs: 500, fetchTimeoutMs: 5_000 });
    await cache.getSecretString(DB);
    const hang = source.fail('hang', { times: 1 });
    source.putSecretValue(DB, 'pw-2');
    clock.advance(TTL);

    const read = cache.getSecretValue(DB);
    await vi.advanceTimersByTimeAsync(500);
    expect(await read).toMatchObject({ secretString: 'pw-1', stale: true });

    hang.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(await cache.getSecretValue(DB)).toMatchObject({ secretString: 'pw-2', stale: false });
  });

  it('reads AWSPENDING while a rotation is stopped after createSecret: withSecret retries a rejected password with it', async () => {
    const { source, cache } = setup();
    await cache.getSecretString(DB);
    const rotation = source.rotate(DB, 'pw-2', { stopAfter: 'createSecret' });
    // setSecret has run: the database takes only the new password, and AWSCURRENT still names the old one.
    const rejected = new Error('password authentication failed');
    const connect = (password: string) => {
      if (password !== 'pw-2') throw rejected;
      return `connected with ${password}`;
    };

    const connected = await cache.withSecret(DB, connect, { shouldRefresh: (error) => error === rejected });

    expect(connected).toBe('connected with pw-2');
    expect(source.calls.map(({ versionStage }) => versionStage)).toEqual([
      'AWSCURRENT',
      'AWSCURRENT',
      'AWSPENDING',
    ]);
    rotation.finishSecret();
    await cache.refreshNow(DB);
    expect(await cache.getSecretString(DB)).toBe('pw-2');
  });

  it('loads a manifest in one BatchGetSecretValue, and names each missing secret in LOAD_FAILED', async () => {
    const { clock, source, cache } = setup();
    source.createSecret('prod/orders/api-key', 'key-1');
    const manifest = {
      db: secret.string(DB),
      apiKey: secret.string('prod/orders/api-key'),
      tls: secret.binary('prod/orders/tls'),
    };

    const error = await cache.load(manifest).catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      code: 'LOAD_FAILED',
      errors: [{ key: 'tls', secretId: 'prod/orders/tls', code: 'NOT_FOUND' }],
    });
    expect(source.calls.map(({ operation }) => operation)).toEqual(['BatchGetSecretValue']);
    source.createSecret('prod/orders/tls', new Uint8Array([1, 2]));
    clock.advance(1_000); // past the first backoff: NOT_FOUND is cached until then
    expect([...(await cache.load(manifest)).tls]).toEqual([1, 2]);
  });

  it('falls back to one GetSecretValue per secret for a role without secretsmanager:BatchGetSecretValue', async () => {
    const { source, cache } = setup();
    source.createSecret('prod/orders/api-key', 'key-1');
    source.fail('denied', { operation: 'BatchGetSecretValue' });

    const loaded = await cache.load({ db: secret.string(DB), apiKey: secret.string('prod/orders/api-key') });

    expect({ ...loaded }).toEqual({ db: 'pw-1', apiKey: 'key-1' });
    expect(source.callCount({ operation: 'BatchGetSecretValue' })).toBe(1);
    expect(source.callCount({ operation: 'GetSecretValue' })).toBe(2);
  });
});
