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
