import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_ENTRIES,
  DEFAULT_TTL_MS,
  DEFAULT_VERSION_STAGE,
  resolveOptions,
  type SecretCacheOptions,
} from '../src/options.js';
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

describe('resolveOptions', () => {
  it('applies the defaults when no options are given', () => {
    expect(resolveOptions(undefined)).toMatchObject({
      ttlMs: 300_000,
      maxEntries: 1_000,
      versionStage: 'AWSCURRENT',
    });
    expect([DEFAULT_TTL_MS, DEFAULT_MAX_ENTRIES, DEFAULT_VERSION_STAGE]).toEqual([
      300_000,
      1_000,
      'AWSCURRENT',
    ]);
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

  it('throws a TypeError naming both when given both a client and a source', () => {
    expect(resolveUntyped({ client, source })).toThrow(TypeError);
    expect(resolveUntyped({ client, source })).toThrow(/`client`.*`source`/);
  });

  it('does not quote a string option in its error, only its length', () => {
    expect(resolveUntyped({ ttlMs: 'secret-looking-text' })).toThrow(/a string of length 19/);
    expect(resolveUntyped({ ttlMs: 'secret-looking-text' })).not.toThrow(/secret-looking-text/);
  });
});
