import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretCache } from '../src/cache.js';
import { resolveOptions, SECRET_CACHE_OPTIONS, type SecretCacheOptions } from '../src/options.js';
import type { SecretSource, SecretsManagerLike } from '../src/source.js';

const client: SecretsManagerLike = { send: async () => ({}) };
const source: SecretSource = {
  getSecretValue: async () => ({
    name: 'n',
    arn: 'a',
    versionId: 'v',
    versionStages: [],
    createdDate: undefined,
    secretString: 's',
  }),
};

/** Calls resolveOptions with options the types would reject, as a JavaScript caller might. */
const resolveUntyped = (options: unknown) => () => resolveOptions(options as SecretCacheOptions);

const OPTION_NAMES = new Set(Object.keys(SECRET_CACHE_OPTIONS));

const milliseconds = fc.double({ min: 0, max: 1e12, noNaN: true });
const positiveMilliseconds = fc.double({ min: Number.MIN_VALUE, max: 1e12, noNaN: true });
const maybe = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(arbitrary, { nil: undefined });
const hook = fc.constant(() => {});

/** Options that satisfy every bound, each field absent, `undefined` or valid. */
const validOptions: fc.Arbitrary<SecretCacheOptions> = fc
  .record(
    {
      ttlMs: maybe(fc.double({ min: 1, max: 1e12, noNaN: true })),
      refreshAheadShare: maybe(fc.double({ min: 0, max: 0.99, noNaN: true })),
      maxEntries: maybe(fc.integer({ min: 1, max: 10_000 })), // lru-cache allocates `max` slots up front
      versionStage: maybe(fc.string({ minLength: 1, maxLength: 256 })),
      clock: maybe(fc.constant({ now: () => 0 })),
      transport: fc.constantFrom({}, { client }, { source }),
      staleIfErrorMs: maybe(fc.oneof(milliseconds, fc.constant(Number.POSITIVE_INFINITY))),
      staleOnAnyError: maybe(fc.boolean()),
      staleWaitMs: maybe(fc.oneof(milliseconds, fc.constant(Number.POSITIVE_INFINITY))),
      fetchTimeoutMs: maybe(fc.double({ min: Number.MIN_VALUE, max: 2 ** 31 - 1, noNaN: true })),
      ttlJitter: maybe(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
      backoff: maybe(
        fc
          .record({
            baseMs: positiveMilliseconds,
            factor: maybe(fc.double({ min: 1, max: 100, noNaN: true })),
            maxMsOver: fc.double({ min: 0, max: 1e6, noNaN: true }),
          })
          .map(({ baseMs, factor, maxMsOver }) => ({ baseMs, factor, maxMs: baseMs + maxMsOver })),
      ),
      retry: maybe(
        fc
          .record({ retries: fc.nat(10), minTimeoutMs: milliseconds, maxTimeoutOver: milliseconds })
          .map(({ retries, minTimeoutMs, maxTimeoutOver }) => ({
            retries,
            minTimeoutMs,
            maxTimeoutMs: minTimeoutMs + maxTimeoutOver,
          })),
      ),
      hooks: maybe(
        fc.record(
          { onFetch: hook, onError: hook, onStale: hook, onEvict: hook, onVersionChange: hook },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: ['transport'] },
  )
  .map(({ refreshAheadShare, transport, ...rest }) => ({
    ...rest,
    ...transport,
    ...(refreshAheadShare === undefined || rest.ttlMs === undefined
      ? {}
      : { refreshAheadMs: rest.ttlMs * refreshAheadShare }),
  })) as fc.Arbitrary<SecretCacheOptions>;

describe('resolveOptions', () => {
  it('applies the defaults when no options are given', () => {
    expect(resolveOptions(undefined)).toMatchObject({
      ttlMs: 300_000,
      maxEntries: 1_000,
      versionStage: 'AWSCURRENT',
    });
  });

  it('applies the defaults for an empty options object', () => {
    expect(resolveOptions({})).toMatchObject({
      ttlMs: 300_000,
      maxEntries: 1_000,
      versionStage: 'AWSCURRENT',
    });
  });

  it('keeps valid options as given', () => {
    expect(resolveOptions({ ttlMs: 1_000, maxEntries: 1, versionStage: 'a'.repeat(256) })).toMatchObject({
      ttlMs: 1_000,
      maxEntries: 1,
      versionStage: 'a'.repeat(256),
    });
  });

  it('accepts a client with send, a source with getSecretValue and a clock with now', () => {
    expect(() => resolveOptions({ client, clock: { now: () => 0 } })).not.toThrow();
    expect(() => resolveOptions({ source })).not.toThrow();
  });

  it.each([null, 'options', 42])('throws a TypeError naming `options` when options are %s', (options) => {
    expect(resolveUntyped(options)).toThrow(TypeError);
    expect(resolveUntyped(options)).toThrow(/`options`/);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5'])(
    'throws a TypeError naming `ttlMs` for %s',
    (ttlMs) => {
      expect(resolveUntyped({ ttlMs })).toThrow(TypeError);
      expect(resolveUntyped({ ttlMs })).toThrow(/`ttlMs`/);
    },
  );

  it.each([0, 1.5, -3, Number.NaN, '10'])('throws a TypeError naming `maxEntries` for %s', (maxEntries) => {
    expect(resolveUntyped({ maxEntries })).toThrow(TypeError);
    expect(resolveUntyped({ maxEntries })).toThrow(/`maxEntries`/);
  });

  it.each([
    ['an empty string', ''],
    ['257 characters', 'a'.repeat(257)],
    ['a number', 7],
    ['an array holding a stage', ['AWSCURRENT']],
  ])('throws a TypeError naming `versionStage` for %s', (_label, versionStage) => {
    expect(resolveUntyped({ versionStage })).toThrow(TypeError);
    expect(resolveUntyped({ versionStage })).toThrow(/`versionStage`/);
  });

  it('throws a TypeError naming `clock` for a clock without now()', () => {
    expect(resolveUntyped({ clock: {} })).toThrow(TypeError);
    expect(resolveUntyped({ clock: {} })).toThrow(/`clock`/);
  });

  it('throws a TypeError naming `client` for a client without send()', () => {
    expect(resolveUntyped({ client: {} })).toThrow(TypeError);
    expect(resolveUntyped({ client: {} })).toThrow(/`client`/);
  });

  it('throws a TypeError naming `source` for a source without getSecretValue()', () => {
    expect(resolveUntyped({ source: {} })).toThrow(TypeError);
    expect(resolveUntyped({ source: {} })).toThrow(/`source`/);
  });

  it.each([
    ['clock', 'an object with a `now()` method'],
    ['client', 'a SecretsManagerClient or an object with a `send()` method'],
    ['source', 'an object with a `getSecretValue()` method'],
  ])('says `%s` must be %s when it is null', (name, expected) => {
    expect(resolveUntyped({ [name]: null })).toThrow(TypeError);
    expect(resolveUntyped({ [name]: null })).toThrow(`Expected \`${name}\` to be ${expected}, got null.`);
  });

  it('throws a TypeError naming both when given both a client and a source', () => {
    expect(resolveUntyped({ client, source })).toThrow(TypeError);
    expect(resolveUntyped({ client, source })).toThrow(/`client`.*`source`/);
  });

  it('does not quote a string option in its error, only its length', () => {
    expect(resolveUntyped({ ttlMs: 'secret-looking-text' })).toThrow(/a string of length 19/);
    expect(resolveUntyped({ ttlMs: 'secret-looking-text' })).not.toThrow(/secret-looking-text/);
  });
});

describe('resolveOptions bounds', () => {
  it('keeps the default of every field given as undefined, nested ones too', () => {
    const resolved = resolveUntyped({
      ttlMs: undefined,
      refreshAheadMs: undefined,
      staleWaitMs: undefined,
      backoff: { baseMs: undefined, maxMs: 5_000 },
      retry: undefined,
      hooks: { onFetch: undefined },
    })();

    expect(resolved).toMatchObject({
      ttlMs: 300_000,
      refreshAheadMs: 10_000,
      staleIfErrorMs: 3_600_000,
      staleOnAnyError: false,
      staleWaitMs: 500,
      fetchTimeoutMs: 5_000,
      ttlJitter: 0.5,
      backoff: { baseMs: 1_000, factor: 2, maxMs: 5_000 },
      retry: { retries: 1, minTimeoutMs: 100, maxTimeoutMs: 1_000 },
    });
  });

  it('defaults refreshAheadMs to a tenth of ttlMs, at most 10 seconds', () => {
    expect(resolveOptions({ ttlMs: 30_000 }).refreshAheadMs).toBe(3_000);
    expect(resolveOptions({ ttlMs: 3_600_000 }).refreshAheadMs).toBe(10_000);
  });

  it.each([
    ['refreshAheadMs', { ttlMs: 1_000, refreshAheadMs: 1_000 }],
    ['refreshAheadMs', { refreshAheadMs: -1 }],
    ['refreshAheadMs', { refreshAheadMs: Number.POSITIVE_INFINITY }],
    ['staleIfErrorMs', { staleIfErrorMs: -1 }],
    ['staleIfErrorMs', { staleIfErrorMs: Number.NaN }],
    ['staleOnAnyError', { staleOnAnyError: 'yes' }],
    ['staleWaitMs', { staleWaitMs: -1 }],
    ['staleWaitMs', { staleWaitMs: Number.NaN }],
    ['staleWaitMs', { staleWaitMs: '500' }],
    ['fetchTimeoutMs', { fetchTimeoutMs: 0 }],
    ['fetchTimeoutMs', { fetchTimeoutMs: 2 ** 31 }],
    ['fetchTimeoutMs', { fetchTimeoutMs: Number.POSITIVE_INFINITY }],
    ['ttlJitter', { ttlJitter: 1 }],
    ['ttlJitter', { ttlJitter: -0.1 }],
    ['backoff', { backoff: 5 }],
    ['backoff', { backoff: null }],
    ['backoff.baseMs', { backoff: { baseMs: 0 } }],
    ['backoff.factor', { backoff: { factor: 0.5 } }],
    ['backoff.maxMs', { backoff: { baseMs: 2_000, maxMs: 1_000 } }],
    ['backoff.maxMs', { backoff: { baseMs: 100_000 } }],
    ['retry', { retry: 'twice' }],
    ['retry.retries', { retry: { retries: 1.5 } }],
    ['retry.retries', { retry: { retries: -1 } }],
    ['retry.minTimeoutMs', { retry: { minTimeoutMs: Number.POSITIVE_INFINITY } }],
    ['retry.maxTimeoutMs', { retry: { minTimeoutMs: 500, maxTimeoutMs: 100 } }],
    ['hooks', { hooks: () => {} }],
    ['hooks.onFetch', { hooks: { onFetch: 'log' } }],
    ['hooks.onVersionChange', { hooks: { onVersionChange: {} } }],
  ])('throws a TypeError naming `%s` for %o', (name, options) => {
    expect(resolveUntyped(options)).toThrow(TypeError);
    expect(resolveUntyped(options)).toThrow(`\`${name}\``);
  });

  it('accepts the edges of each bound', () => {
    expect(() =>
      resolveOptions({
        ttlMs: 1,
        refreshAheadMs: 0,
        staleIfErrorMs: Number.POSITIVE_INFINITY,
        staleWaitMs: Number.POSITIVE_INFINITY,
        fetchTimeoutMs: 2 ** 31 - 1,
        ttlJitter: 0,
        backoff: { baseMs: 1, factor: 1, maxMs: 1 },
        retry: { retries: 0, minTimeoutMs: 0, maxTimeoutMs: 0 },
      }),
    ).not.toThrow();
    expect(resolveOptions({ staleWaitMs: 0 }).staleWaitMs).toBe(0);
  });

  it('says what it expected and what it got, in one shape', () => {
    expect(resolveUntyped({ ttlMs: 'abc' })).toThrow(
      'Expected `ttlMs` to be a positive, finite number of milliseconds, got a string of length 3.',
    );
    expect(resolveUntyped({ backoff: { maxMs: 10 } })).toThrow(
      'Expected `backoff.maxMs` to be a positive, finite number of milliseconds of at least `backoff.baseMs`, got 10.',
    );
    expect(resolveUntyped({ maxEntries: 2.5 })).toThrow(
      'Expected `maxEntries` to be a positive integer of at most 1_000_000, got 2.5.',
    );
  });
});

describe('unknown options', () => {
  it.each([
    ['ttl', { ttl: 60_000 }, 'Unknown option `ttl` in SecretCache options; did you mean `ttlMs`?'],
    [
      'maxEntry',
      { maxEntry: 1 },
      'Unknown option `maxEntry` in SecretCache options; did you mean `maxEntries`?',
    ],
    [
      'a different case',
      { TTLMS: 1 },
      'Unknown option `TTLMS` in SecretCache options; did you mean `ttlMs`?',
    ],
    [
      'backoff.base',
      { backoff: { base: 10 } },
      'Unknown option `base` in `backoff` of SecretCache options; did you mean `baseMs`?',
    ],
    [
      'retry.retry',
      { retry: { retry: 3 } },
      'Unknown option `retry` in `retry` of SecretCache options; did you mean `retries`?',
    ],
    [
      'hooks.onstale',
      { hooks: { onstale() {} } },
      'Unknown option `onstale` in `hooks` of SecretCache options; did you mean `onStale`?',
    ],
  ])('throws a TypeError naming `%s` and the option meant', (_, options, message) => {
    expect(() => new SecretCache(options as SecretCacheOptions)).toThrow(TypeError);
    expect(() => new SecretCache(options as SecretCacheOptions)).toThrow(message);
  });

  it('suggests nothing for a key far from every option', () => {
    expect(resolveUntyped({ zzzzzzzz: 1 })).toThrow(
      /^Unknown option `zzzzzzzz` in SecretCache options; expected/,
    );
    expect(resolveUntyped({ zzzzzzzz: 1 })).not.toThrow(/did you mean/);
  });

  it('rejects an unknown key set to undefined', () => {
    expect(resolveUntyped({ ttl: undefined })).toThrow(/`ttl`.*`ttlMs`/);
  });

  it('ignores inherited and symbol keys', () => {
    const inherited = Object.create({ ttl: 1, ttlMs: 2_000 }) as SecretCacheOptions;

    expect(() => resolveOptions(inherited)).not.toThrow();
    expect(() => resolveOptions({ [Symbol('tag')]: 1, ttlMs: 2_000 } as SecretCacheOptions)).not.toThrow();
  });

  it('accepts every hook, onVersionChange too', () => {
    const hooks = { onFetch() {}, onError() {}, onStale() {}, onEvict() {}, onVersionChange() {} };

    expect(() => resolveUntyped({ hooks })()).not.toThrow();
  });

  it('throws for every string key that is not an option, naming it', () => {
    fc.assert(
      fc.property(
        fc
          .oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary-ascii' }))
          .filter((key) => !OPTION_NAMES.has(key)),
        fc.constantFrom(undefined, null, 0, 60_000, 'x', {}, () => {}),
        (key, value) => {
          const build = () => new SecretCache({ [key]: value } as SecretCacheOptions);
          expect(build).toThrow(TypeError);
          expect(build).toThrow(`Unknown option \`${key}\` in SecretCache options`);
        },
      ),
    );
  });

  it('never throws for valid options', () => {
    fc.assert(
      fc.property(validOptions, (options) => {
        expect(() => new SecretCache(options)).not.toThrow();
      }),
    );
  });
});

describe('maxEntries', () => {
  it('is at most a million, since lru-cache reserves every slot when the cache is made', () => {
    expect(() => new SecretCache({ maxEntries: 1_000_000 })).not.toThrow();
    expect(() => new SecretCache({ maxEntries: 1_000_001 })).toThrow(TypeError);
    expect(() => new SecretCache({ maxEntries: Number.MAX_SAFE_INTEGER })).toThrow(
      'Expected `maxEntries` to be a positive integer of at most 1_000_000, got 9007199254740991.',
    );
  });
});
