import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { SecretCache } from '../src/cache.js';
import { isSecretCacheError, type SecretCacheError } from '../src/errors.js';
import type { ReadOptions } from '../src/options.js';
import type { SecretRequest, SecretVersion } from '../src/source.js';
import { deferred, FakeClock, FakeSource } from './support/fakes.js';
import { propertyRuns } from './support/runs.js';

const TTL = 60_000;
const SECRET_VALUE = 'hunter2-very-secret-password';

/** A cache with the core's plain semantics: no jitter, no refresh-ahead, no retries inside a fetch. */
function setup(options: { ttlMs?: number; maxEntries?: number; versionStage?: string } = {}) {
  const source = new FakeSource();
  const clock = new FakeClock();
  const cache = new SecretCache({
    source,
    clock,
    ttlMs: TTL,
    ttlJitter: 0,
    refreshAheadMs: 0,
    retry: { retries: 0 },
    ...options,
  });
  return { source, clock, cache };
}

async function rejection(promise: Promise<unknown>): Promise<SecretCacheError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(isSecretCacheError(error)).toBe(true);
  return error as SecretCacheError;
}

function renderings(error: unknown): string {
  return [String(error), (error as Error).stack, JSON.stringify(error), inspect(error, { depth: 10 })].join(
    '\n',
  );
}

describe('SecretCache reads', () => {
  it('fetches a secret once and serves later reads from memory', async () => {
    const { source, cache } = setup();
    source.put('db', SECRET_VALUE);

    expect(await cache.getSecretString('db')).toBe(SECRET_VALUE);
    expect(await cache.getSecretString('db')).toBe(SECRET_VALUE);

    expect(source.callsFor('db')).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, fetches: 1, errors: 0, size: 1 });
  });

  it('returns the same resolved promise on every warm string read', async () => {
    const { source, cache } = setup();
    source.put('db', SECRET_VALUE);
    await cache.getSecretString('db');

    expect(cache.getSecretString('db')).toBe(cache.getSecretString('db'));
  });

  it('never returns a value older than ttlMs and fetches again at expiry', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'first');
    await cache.getSecretString('db');
    source.put('db', 'second');

    clock.advance(TTL - 1);
    expect(await cache.getSecretString('db')).toBe('first');
    clock.advance(1);
    expect(await cache.getSecretString('db')).toBe('second');
    expect(source.callsFor('db')).toBe(2);
  });

  it('measures age from when the fetch started, not when it answered', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'first');
    const gate = deferred();
    source.gate = gate.promise;
    const read = cache.getSecretString('db');
    clock.advance(1_000);
    gate.resolve();
    await read;
    source.gate = undefined;

    clock.advance(TTL - 1_000);
    await cache.getSecretString('db');

    expect(source.callsFor('db')).toBe(2);
  });

  it('evicts the least recently read version when maxEntries is reached', async () => {
    const { source, cache } = setup({ maxEntries: 2 });
    for (const id of ['a', 'b', 'c']) source.put(id, id);
    await cache.getSecretString('a');
    await cache.getSecretString('b');
    await cache.getSecretString('a');
    await cache.getSecretString('c');

    expect(cache.stats().size).toBe(2);
    await cache.getSecretString('a');
    expect(source.callsFor('a')).toBe(1);
    await cache.getSecretString('b');
    expect(source.callsFor('b')).toBe(2);
  });
});

describe('single-flight', () => {
  it('shares one fetch between 1,000 concurrent cold readers', async () => {
    const { source, cache } = setup();
    source.put('db', SECRET_VALUE);

    const values = await Promise.all(Array.from({ length: 1_000 }, () => cache.getSecretString('db')));

    expect(source.callsFor('db')).toBe(1);
    expect(new Set(values)).toEqual(new Set([SECRET_VALUE]));
    expect(cache.stats()).toMatchObject({ misses: 1_000, fetches: 1 });
  });

  it('shares one fetch between readers of different accessors of the same version', async () => {
    const { source, cache } = setup();
    source.put('db', '{"user":"app"}');

    const [text, json, record] = await Promise.all([
      cache.getSecretString('db'),
      cache.getSecretJson('db'),
      cache.getSecretValue('db'),
    ]);

    expect(source.callsFor('db')).toBe(1);
    expect(text).toBe('{"user":"app"}');
    expect(json).toEqual({ user: 'app' });
    expect(record.secretString).toBe('{"user":"app"}');
  });

  it('shares one fetch between concurrent readers of an expired value', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'first');
    await cache.getSecretString('db');
    source.put('db', 'second');
    clock.advance(TTL);

    const values = await Promise.all(Array.from({ length: 1_000 }, () => cache.getSecretString('db')));

    expect(source.callsFor('db')).toBe(2);
    expect(new Set(values)).toEqual(new Set(['second']));
  });

  it('gives every concurrent reader the failed fetch error, and fetches again once its backoff has passed', async () => {
    const { source, clock, cache } = setup();
    source.put('db', SECRET_VALUE);
    source.failWith = () => Object.assign(new Error('boom'), { name: 'InternalServiceError' });

    const results = await Promise.allSettled(
      Array.from({ length: 1_000 }, () => cache.getSecretString('db')),
    );

    expect(source.callsFor('db')).toBe(1);
    const codes = new Set(results.map((r) => (r.status === 'rejected' ? r.reason.code : 'fulfilled')));
    expect(codes).toEqual(new Set(['FETCH_FAILED']));
    expect(cache.stats()).toMatchObject({ errors: 1, size: 0 });

    source.failWith = undefined;
    clock.advance(1_000);
    expect(await cache.getSecretString('db')).toBe(SECRET_VALUE);
    expect(source.callsFor('db')).toBe(2);
  });
});

describe('version pinning', () => {
  it('caches each stage on its own, so AWSCURRENT and AWSPREVIOUS never collide', async () => {
    const { source, cache } = setup();
    source.put('token', 'old');
    source.put('token', 'new');

    expect(await cache.getSecretString('token', { versionStage: 'AWSPREVIOUS' })).toBe('old');
    expect(await cache.getSecretString('token')).toBe('new');
    expect(await cache.getSecretString('token', { versionStage: 'AWSPREVIOUS' })).toBe('old');
    expect(await cache.getSecretString('token', { versionStage: 'AWSCURRENT' })).toBe('new');

    expect(source.calls.map((call) => call.versionStage)).toEqual(['AWSPREVIOUS', 'AWSCURRENT']);
    expect(cache.stats().size).toBe(2);
  });

  it('reads the configured default stage when a call names none', async () => {
    const { source, cache } = setup({ versionStage: 'AWSPREVIOUS' });
    source.put('token', 'old');
    source.put('token', 'new');

    expect(await cache.getSecretString('token')).toBe('old');
    expect(await cache.getSecretString('token', { versionStage: 'AWSCURRENT' })).toBe('new');
  });

  it('caches a read pinned to a version id without a TTL', async () => {
    const { source, clock, cache } = setup();
    const versionId = source.put('token', 'v1-value');
    source.put('token', 'v2-value');

    expect(await cache.getSecretString('token', { versionId })).toBe('v1-value');
    clock.advance(TTL * 1_000);
    expect(await cache.getSecretString('token', { versionId })).toBe('v1-value');

    expect(source.calls).toMatchObject([{ secretId: 'token', versionStage: undefined, versionId }]);
  });

  it('still evicts version-id pins by LRU', async () => {
    const { source, cache } = setup({ maxEntries: 1 });
    const versionId = source.put('token', 'v1-value');
    await cache.getSecretString('token', { versionId });
    await cache.getSecretString('token');
    await cache.getSecretString('token', { versionId });

    expect(source.callsFor('token')).toBe(3);
  });
});

describe('typed accessors', () => {
  it('rejects getSecretString on a binary secret with WRONG_TYPE', async () => {
    const { source, cache } = setup();
    source.put('key', new Uint8Array([1, 2, 3]));

    const error = await rejection(cache.getSecretString('key'));

    expect(error.code).toBe('WRONG_TYPE');
    expect(error.secretId).toBe('key');
  });

  it('rejects getSecretBinary on a string secret with WRONG_TYPE, without the value in the error', async () => {
    const { source, cache } = setup();
    source.put('db', SECRET_VALUE);

    const error = await rejection(cache.getSecretBinary('db'));

    expect(error.code).toBe('WRONG_TYPE');
    expect(renderings(error)).not.toContain('hunter2');
  });

  it('hands out a fresh copy of binary bytes on every read', async () => {
    const { source, cache } = setup();
    source.put('key', new Uint8Array([1, 2, 3]));

    const first = await cache.getSecretBinary('key');
    first.fill(0);
    const second = await cache.getSecretBinary('key');

    expect([...second]).toEqual([1, 2, 3]);
    expect(source.callsFor('key')).toBe(1);
  });

  it('parses JSON once per fetched version and returns the same frozen object', async () => {
    const { source, clock, cache } = setup();
    source.put('db', '{"user":"app","hosts":["a","b"]}');
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const first = await cache.getSecretJson<{ user: string; hosts: string[] }>('db');
      const second = await cache.getSecretJson<{ user: string; hosts: string[] }>('db');

      expect(second).toBe(first);
      expect(Object.isFrozen(first) && Object.isFrozen(first.hosts)).toBe(true);
      expect(parse).toHaveBeenCalledTimes(1);

      source.put('db', '{"user":"app2","hosts":[]}');
      clock.advance(TTL);
      expect(await cache.getSecretJson('db')).toEqual({ user: 'app2', hosts: [] });
      expect(parse).toHaveBeenCalledTimes(2);
    } finally {
      parse.mockRestore();
    }
  });

  it('validates with a schema once per version and returns its typed output', async () => {
    const { source, cache } = setup();
    source.put('db', '{"port":"5432","user":"app"}');
    const Db = z.object({ port: z.coerce.number(), user: z.string() });
    const validate = vi.spyOn(Db['~standard'], 'validate');

    const first = await cache.getSecretJson('db', { schema: Db });
    const second = await cache.getSecretJson('db', { schema: Db });

    expect(first).toEqual({ port: 5432, user: 'app' });
    expect(second).toBe(first);
    expect(validate).toHaveBeenCalledTimes(1);
  });

  it('rejects a value that does not match the schema with SCHEMA_MISMATCH, naming paths, not values', async () => {
    const { source, cache } = setup();
    source.put('db', JSON.stringify({ port: SECRET_VALUE, user: 'app' }));

    const error = await rejection(cache.getSecretJson('db', { schema: z.object({ port: z.number() }) }));

    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.message).toContain('port');
    expect(renderings(error)).not.toContain('hunter2');
  });

  it('rejects a string that is not JSON with INVALID_JSON and no fragment of it', async () => {
    const { source, cache } = setup();
    source.put('db', `{"password":"${SECRET_VALUE}"`);

    const error = await rejection(cache.getSecretJson('db'));

    expect(error.code).toBe('INVALID_JSON');
    expect(renderings(error)).not.toContain('hunter2');
    expect(renderings(error)).not.toContain('password');
  });

  it('returns a frozen record with the version metadata from getSecretValue', async () => {
    const { source, cache } = setup();
    source.put('db', 'old');
    const versionId = source.put('db', SECRET_VALUE);

    const record = await cache.getSecretValue('db');

    expect(record).toMatchObject({
      name: 'db',
      versionId,
      versionStages: ['AWSCURRENT'],
      secretString: SECRET_VALUE,
      stale: false,
    });
    expect(Object.isFrozen(record)).toBe(true);
    expect(inspect(record)).not.toContain('hunter2');
    expect(await cache.getSecretValue('db')).toBe(record);
  });
});

describe('errors', () => {
  it('wraps an unknown fetch error as FETCH_FAILED with the secret id and the cause', async () => {
    const { source, cache } = setup();
    const cause = new Error('socket hang up');
    source.failWith = () => cause;

    const error = await rejection(cache.getSecretString('db'));

    expect(error).toMatchObject({ code: 'FETCH_FAILED', secretId: 'db', cause });
  });

  it('reports a missing secret as NOT_FOUND', async () => {
    const { cache } = setup();

    const error = await rejection(cache.getSecretString('missing'));

    expect(error).toMatchObject({ code: 'NOT_FOUND', secretId: 'missing' });
  });

  it('turns a source that throws synchronously into a rejected promise', async () => {
    const cache = new SecretCache({
      source: {
        getSecretValue() {
          throw new Error('sync');
        },
      },
    });

    const error = await rejection(cache.getSecretString('db'));

    expect(error.code).toBe('FETCH_FAILED');
  });
});

describe('bad input', () => {
  const badCalls: Array<[string, (cache: SecretCache) => Promise<unknown>, string]> = [
    ['an empty id', (c) => c.getSecretString(''), 'secretId'],
    ['a non-string id', (c) => c.getSecretString(42 as unknown as string), 'secretId'],
    ['an id over 2048 characters', (c) => c.getSecretString('x'.repeat(2049)), 'secretId'],
    ['an id with NUL', (c) => c.getSecretString('a\0b'), 'secretId'],
    ['an empty stage', (c) => c.getSecretString('db', { versionStage: '' }), 'versionStage'],
    ['an empty version id', (c) => c.getSecretBinary('db', { versionId: '' }), 'versionId'],
    [
      'a stage and a version id',
      (c) => c.getSecretValue('db', { versionStage: 'X', versionId: 'v1' }),
      'versionId',
    ],
    ['options that are not an object', (c) => c.getSecretString('db', 5 as never), 'options'],
    [
      'a schema that is not a Standard Schema',
      (c) => c.getSecretJson('db', { schema: {} as never }),
      'schema',
    ],
    ['refreshNow with an empty id', (c) => c.refreshNow(''), 'secretId'],
  ];

  it.each(badCalls)(
    'rejects %s with INVALID_ARGUMENT, fetching and caching nothing',
    async (_, call, option) => {
      const { source, cache } = setup();
      source.put('db', SECRET_VALUE);

      const error = await rejection(call(cache));

      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain(option);
      expect(source.calls).toEqual([]);
      expect(cache.stats()).toMatchObject({ size: 0, fetches: 0 });
    },
  );

  it('rejects bad input with a promise instead of throwing synchronously', () => {
    const { cache } = setup();
    let promise: Promise<unknown> | undefined;

    expect(() => {
      promise = cache.getSecretString('');
    }).not.toThrow();

    return expect(promise).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it.each([
    ['ttlMs', { ttlMs: 0 }],
    ['ttlMs', { ttlMs: -5 }],
    ['maxEntries', { maxEntries: 0 }],
    ['versionStage', { versionStage: '' }],
    ['client', { client: {} as never }],
  ])('throws a TypeError naming %s for a bad constructor option', (name, options) => {
    expect(() => new SecretCache(options)).toThrow(TypeError);
    expect(() => new SecretCache(options)).toThrow(name);
  });
});

describe('refreshNow', () => {
  it('fetches a fresh value at once and serves it afterwards', async () => {
    const { source, cache } = setup();
    source.put('db', 'first');
    await cache.getSecretString('db');
    source.put('db', 'second');

    await cache.refreshNow('db');

    expect(await cache.getSecretString('db')).toBe('second');
    expect(source.callsFor('db')).toBe(2);
  });

  it('shares a fetch already in flight', async () => {
    const { source, cache } = setup();
    source.put('db', 'first');
    const gate = deferred();
    source.gate = gate.promise;

    const read = cache.getSecretString('db');
    const refresh = cache.refreshNow('db');
    gate.resolve();
    await Promise.all([read, refresh]);

    expect(source.callsFor('db')).toBe(1);
  });

  it('rejects with the fetch error and keeps the cached value', async () => {
    const { source, cache } = setup();
    source.put('db', 'first');
    await cache.getSecretString('db');
    source.failWith = () => Object.assign(new Error('denied'), { name: 'AccessDeniedException' });

    const error = await rejection(cache.refreshNow('db'));

    expect(error.code).toBe('ACCESS_DENIED');
    expect(await cache.getSecretString('db')).toBe('first');
  });
});

describe('invalidate', () => {
  it('drops every stage and version of one secret and leaves others', async () => {
    const { source, cache } = setup();
    const versionId = source.put('db', 'one');
    source.put('db', 'two');
    source.put('other', 'x');
    await cache.getSecretString('db');
    await cache.getSecretString('db', { versionStage: 'AWSPREVIOUS' });
    await cache.getSecretString('db', { versionId });
    await cache.getSecretString('other');

    cache.invalidate('db');

    expect(cache.stats().size).toBe(1);
    await cache.getSecretString('db');
    await cache.getSecretString('db', { versionStage: 'AWSPREVIOUS' });
    await cache.getSecretString('db', { versionId });
    await cache.getSecretString('other');
    expect(source.callsFor('db')).toBe(6);
    expect(source.callsFor('other')).toBe(1);
  });

  it('drops everything when called without an id', async () => {
    const { source, cache } = setup();
    source.put('a', 'x');
    source.put('b', 'y');
    await cache.getSecretString('a');
    await cache.getSecretString('b');

    cache.invalidate();

    expect(cache.stats().size).toBe(0);
    await cache.getSecretString('a');
    expect(source.callsFor('a')).toBe(2);
  });

  it('does not cache the result of a fetch that was in flight when invalidated', async () => {
    const { source, cache } = setup();
    source.put('db', 'before-rotation');
    const gate = deferred();
    source.gate = gate.promise;
    const read = cache.getSecretString('db');

    cache.invalidate('db');
    gate.resolve();
    expect(await read).toBe('before-rotation');
    source.gate = undefined;
    source.put('db', 'after-rotation');

    expect(await cache.getSecretString('db')).toBe('after-rotation');
  });
});

describe('what the cache shows', () => {
  it('shows no secret value through util.inspect or stats', async () => {
    const { source, cache } = setup();
    source.put('db', SECRET_VALUE);
    await cache.getSecretString('db');

    expect(inspect(cache, { depth: 10, showHidden: true })).not.toContain('hunter2');
    expect(JSON.stringify(cache.stats())).not.toContain('hunter2');
  });
});

describe('cache keys never collide (hardening defect 3)', () => {
  it('does not serve a pinned entry to an id that spells out its cache key', async () => {
    const { source, cache } = setup();
    source.put('a', 'old-value');
    source.put('a', 'new-value');
    expect(await cache.getSecretString('a', { versionStage: 'AWSPREVIOUS' })).toBe('old-value');
    const callsBefore = source.calls.length;

    for (const read of [
      () => cache.getSecretString('a\0s\0AWSPREVIOUS'),
      () => cache.getSecretValue('a\0s\0AWSPREVIOUS'),
      () => cache.getSecretJson('a\0s\0AWSPREVIOUS'),
      () => cache.getSecretBinary('a\0s\0AWSPREVIOUS'),
      () => cache.getSecretString('a\0s\0AWSPREVIOUS', { versionStage: 'AWSCURRENT' }),
    ]) {
      const error = await rejection(read());
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(renderings(error)).not.toContain('old-value');
    }
    expect(source.calls.length).toBe(callsBefore);
  });

  it('rejects control characters in ids, stages and version ids', async () => {
    const { source, cache } = setup();
    source.put('a', 'value');
    for (const character of ['\0', '\u0001', '\n', '\u001f', '\u007f']) {
      expect((await rejection(cache.getSecretString(`a${character}`))).code).toBe('INVALID_ARGUMENT');
      expect(
        (await rejection(cache.getSecretString('a', { versionStage: `AWS${character}PREVIOUS` }))).code,
      ).toBe('INVALID_ARGUMENT');
      expect((await rejection(cache.getSecretString('a', { versionId: `v${character}1` }))).code).toBe(
        'INVALID_ARGUMENT',
      );
    }
    expect(source.calls.length).toBe(0);
  });

  it('rejects an invalid id in invalidate instead of dropping other secrets', async () => {
    const { source, cache } = setup();
    source.put('a', 'value');
    await cache.getSecretString('a', { versionStage: 'AWSCURRENT' });
    expect(() => cache.invalidate('a\0s')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(cache.stats().size).toBe(1);
  });

  it('serves every selector its own value, whatever the ids, stages and version ids (property)', async () => {
    // Each (id, stage or version id) has a value that spells out its selector, so serving another's shows.
    const source = {
      calls: 0,
      async getSecretValue({ secretId, versionStage, versionId }: SecretRequest): Promise<SecretVersion> {
        this.calls++;
        return {
          name: secretId,
          arn: secretId,
          versionId: versionId ?? `id-of-${versionStage}`,
          versionStages: versionStage === undefined ? [] : [versionStage],
          createdDate: undefined,
          secretString: JSON.stringify([secretId, versionStage ?? null, versionId ?? null]),
        };
      },
    };
    const part = fc.string({ unit: fc.constantFrom('a', 's', 'v', '\0', '\u0001', 'S', '0'), maxLength: 6 });
    const selectorArb = fc.record({
      id: part,
      by: fc.oneof<fc.Arbitrary<ReadOptions | undefined>[]>(
        fc.constant(undefined),
        fc.record({ versionStage: part }),
        fc.record({ versionId: part }),
        fc.record({ versionStage: fc.constant('AWSCURRENT') }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(selectorArb, { minLength: 1, maxLength: 12 }), async (reads) => {
        const cache = new SecretCache({ source, ttlJitter: 0, refreshAheadMs: 0, retry: { retries: 0 } });
        // Also read each pinned selector's key spelt as a plain id, the way defect 3 was found.
        const spelt = reads.map(({ id, by }) => ({
          id:
            by?.versionId === undefined ? `${id}\0s\0${by?.versionStage ?? ''}` : `${id}\0v\0${by.versionId}`,
          by: undefined,
        }));
        for (const { id, by } of [...reads, ...spelt, ...reads]) {
          const outcome = await cache.getSecretString(id, by).then(
            (value) => ({ value }),
            (error: SecretCacheError) => ({ code: error.code }),
          );
          if ('code' in outcome) {
            expect(outcome.code).toBe('INVALID_ARGUMENT');
            continue;
          }
          const stage = by?.versionId === undefined ? (by?.versionStage ?? 'AWSCURRENT') : null;
          expect(JSON.parse(outcome.value)).toEqual([id, stage, by?.versionId ?? null]);
        }
      }),
      { numRuns: propertyRuns(300) },
    );
  });
});

describe('an answer with no value (hardening defect 10)', () => {
  it('fails every accessor with one NO_VALUE error that says what AWS answered', async () => {
    const source = {
      calls: 0,
      async getSecretValue({ secretId }: SecretRequest): Promise<SecretVersion> {
        this.calls++;
        const name = secretId.replace(/^arn:.*:secret:/, '');
        return {
          name,
          arn: secretId,
          versionId: 'v1',
          versionStages: ['AWSPENDING'],
          createdDate: undefined,
        };
      },
    };
    const cache = new SecretCache({ source, ttlJitter: 0, retry: { retries: 0 } });
    const errors = [
      await rejection(cache.getSecretString('db')),
      await rejection(cache.getSecretBinary('db')),
      await rejection(cache.getSecretJson('db')),
      await rejection(cache.getSecretValue('db')),
    ];
    for (const error of errors) {
      expect(error.code).toBe('NO_VALUE');
      expect(error.message).toBe(errors[0]?.message);
    }
    expect(errors[0]?.message).toContain('neither SecretString nor SecretBinary');
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db';
    expect(await rejection(cache.getSecretString(arn))).toMatchObject({ code: 'NO_VALUE', secretId: arn });
    // Not transient: backs off like NOT_FOUND instead of refetching on every read.
    expect(source.calls).toBe(2);
  });
});

describe('deeply nested JSON secrets (hardening defect 4)', () => {
  it('reads a 30,000-level JSON secret as a frozen value', async () => {
    const { source, cache } = setup();
    source.put('deep', '['.repeat(30_000) + ']'.repeat(30_000));
    const value = (await cache.getSecretJson('deep')) as unknown[];
    expect(Object.isFrozen(value)).toBe(true);
    expect(Array.isArray(value[0])).toBe(true);
  });
});

describe('unknown read options (hardening defect 5)', () => {
  it('rejects a misspelt read option with INVALID_ARGUMENT naming the option meant, also when warm', async () => {
    const { source, cache } = setup();
    source.put('db', 'old');
    source.put('db', 'new');
    await cache.getSecretString('db');
    await cache.getSecretString('db', { versionStage: 'AWSPREVIOUS' });

    for (const read of [
      () => cache.getSecretString('db', { versionstage: 'AWSPREVIOUS' } as ReadOptions),
      () => cache.getSecretValue('db', { version: 'AWSPREVIOUS' } as ReadOptions),
      () => cache.getSecretBinary('db', { versionStage: 'AWSPREVIOUS', signall: undefined } as ReadOptions),
      () => cache.getSecretJson('db', { schemma: undefined } as ReadOptions),
      () => cache.refreshNow('db', { versionstage: 'AWSPREVIOUS' } as ReadOptions),
    ]) {
      const error = await rejection(read());
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', secretId: 'db' });
      expect(error.message).toMatch(/Unknown option `\w+`/);
    }
    const error = await rejection(
      cache.getSecretString('db', { versionstage: 'AWSPREVIOUS' } as ReadOptions),
    );
    expect(error.message).toContain('did you mean `versionStage`?');
  });

  it('rejects a schema on a string read, which has no use for one', async () => {
    const { source, cache } = setup();
    source.put('db', 'value');
    await cache.getSecretString('db');
    const error = await rejection(cache.getSecretString('db', { schema: z.string() } as ReadOptions));
    expect(error.code).toBe('INVALID_ARGUMENT');
  });

  it('ignores inherited and symbol keys of read options', async () => {
    const { source, cache } = setup();
    source.put('db', 'value');
    const options = Object.assign(Object.create({ inherited: true }), { [Symbol('tag')]: 1 }) as ReadOptions;
    expect(await cache.getSecretString('db', options)).toBe('value');
    expect(await cache.getSecretString('db', options)).toBe('value');
  });
});

describe('withSecret options', () => {
  it('rejects a misspelt withSecret option with INVALID_ARGUMENT', async () => {
    const { source, cache } = setup();
    source.put('db', 'value');
    const options = { shouldRefresh: () => false, versionstage: 'AWSPREVIOUS' };
    const error = await rejection(cache.withSecret('db', () => 1, options as never));
    expect(error.message).toContain('did you mean `versionStage`?');
  });
});

describe('a clock that does not return a number', () => {
  it.each([
    ['a symbol', () => Symbol('now')],
    ['a string', () => '1700000000000'],
    ['undefined', () => undefined],
    ['a bigint', () => 1n],
  ])(
    'rejects reads with INVALID_ARGUMENT naming clock.now() when it returns %s, and fetches nothing',
    async (_, now) => {
      let fetched = 0;
      const cache = new SecretCache({
        clock: { now: now as unknown as () => number },
        source: {
          getSecretValue: async ({ secretId }) => {
            fetched++;
            return {
              name: secretId,
              arn: '',
              versionId: 'v1',
              versionStages: ['AWSCURRENT'],
              createdDate: undefined,
              secretString: 'x',
            };
          },
        },
      });

      const error = await cache.getSecretString('prod/db').catch((thrown: unknown) => thrown);

      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', secretId: 'prod/db' });
      expect((error as Error).message).toContain('clock.now()');
      expect(fetched).toBe(0);
    },
  );
});

describe('refreshNow with a clock that does not return a number', () => {
  it('rejects with INVALID_ARGUMENT and fetches nothing', async () => {
    let fetched = 0;
    const cache = new SecretCache({
      clock: { now: (() => Symbol('now')) as unknown as () => number },
      source: {
        getSecretValue: async () => {
          fetched++;
          throw new Error('not reached');
        },
      },
    });

    await expect(cache.refreshNow('prod/db')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(fetched).toBe(0);
  });
});
