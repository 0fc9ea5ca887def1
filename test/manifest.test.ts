import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SecretCacheError } from '../src/errors.js';
import { loadFailed, manifestEntries, secret } from '../src/manifest.js';

describe('secret builders', () => {
  it('make frozen specs carrying the id, the selector and how to read', () => {
    const schema = z.object({ a: z.number() });
    const spec = secret.json('db', { versionStage: 'AWSPREVIOUS', schema, key: 'a' });

    expect(spec).toEqual({ kind: 'json', secretId: 'db', versionStage: 'AWSPREVIOUS', schema, key: 'a' });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(secret.binary('k')).toEqual({ kind: 'binary', secretId: 'k' });
  });

  it.each([
    ['an empty id', () => secret.string('')],
    ['a stage and a version id', () => secret.string('x', { versionStage: 'A', versionId: 'v' })],
    ['a schema that is not one', () => secret.json('x', { schema: {} as never })],
    ['an empty key', () => secret.json('x', { key: '' })],
  ])('throw INVALID_ARGUMENT for %s, when called', (_, build) => {
    expect(build).toThrow(SecretCacheError);
    try {
      build();
    } catch (error) {
      expect((error as SecretCacheError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('secret builders and unknown options', () => {
  /** The INVALID_ARGUMENT a builder throws, or a failure when it throws nothing. */
  const thrown = (build: () => unknown): SecretCacheError => {
    try {
      build();
    } catch (error) {
      return error as SecretCacheError;
    }
    throw new Error('expected the builder to throw');
  };

  it.each([
    [
      'secret.string',
      'versionstage',
      'versionStage',
      () => secret.string('x', { versionstage: 'A' } as never),
    ],
    ['secret.binary', 'versionID', 'versionId', () => secret.binary('x', { versionID: 'v' } as never)],
    ['secret.json', 'scheme', 'schema', () => secret.json('x', { scheme: z.string() } as never)],
    ['secret.json', 'kye', 'key', () => secret.json('x', { kye: 'a' } as never)],
  ])('%s throws INVALID_ARGUMENT naming `%s` and suggesting `%s`', (builder, key, meant, build) => {
    const error = thrown(build);

    expect(error).toBeInstanceOf(SecretCacheError);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe('x');
    expect(error.message).toBe(
      `Unknown option \`${key}\` in options of ${builder}; did you mean \`${meant}\`?`,
    );
  });

  it('takes schema and key in secret.json only', () => {
    expect(thrown(() => secret.string('x', { key: 'a' } as never)).message).toContain('`key`');
    expect(thrown(() => secret.binary('x', { schema: z.string() } as never)).message).toContain('`schema`');
    expect(() => secret.json('x', { versionId: 'v', schema: z.string(), key: 'a' })).not.toThrow();
  });

  it('rejects a read signal, which a manifest entry has no use for', () => {
    expect(thrown(() => secret.string('x', { signal: AbortSignal.timeout(1) } as never)).message).toContain(
      '`signal`',
    );
  });

  it('ignores inherited keys and rejects unknown keys set to undefined', () => {
    expect(() => secret.string('x', Object.create({ bogus: 1 }) as never)).not.toThrow();
    expect(thrown(() => secret.json('x', { schema: undefined, keys: undefined } as never)).message).toContain(
      '`keys`',
    );
  });
});

describe('manifestEntries', () => {
  it('accepts an object of specs and rejects anything else', () => {
    expect(manifestEntries({ a: secret.string('x') })).toEqual([['a', secret.string('x')]]);
    expect(() => manifestEntries([])).toThrow(SecretCacheError);
    expect(() => manifestEntries({ a: 'x' })).toThrow(/`a`/);
  });
});

describe('loadFailed', () => {
  it('lists each failure by key, id and code', () => {
    const error = new SecretCacheError('NOT_FOUND', 'a', 'gone');
    const failed = loadFailed([{ key: 'first', secretId: 'a', code: 'NOT_FOUND', error }], 3);

    expect(failed.code).toBe('LOAD_FAILED');
    expect(failed.message).toBe('Loading 1 of 3 secrets failed: first (a): NOT_FOUND.');
    expect(failed.toJSON()).toMatchObject({ errors: [{ key: 'first', secretId: 'a', code: 'NOT_FOUND' }] });
  });
});

describe('hand-made manifest entries', () => {
  it('are checked for a usable secret id before anything is fetched', () => {
    for (const secretId of [[0n], Object.create(null), Symbol('id'), '', 'a\0b', 7]) {
      expect(() => manifestEntries({ db: { kind: 'string', secretId } })).toThrow(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining('Manifest entry `db`'),
        }),
      );
    }
  });

  it('may not be named toJSON, whose value would decide how the loaded secrets render as JSON', () => {
    expect(() => manifestEntries({ toJSON: secret.string('api') })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('toJSON') }),
    );
  });
});
