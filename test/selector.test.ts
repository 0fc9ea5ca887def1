import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isSecretCacheError, type SecretCacheError } from '../src/errors.js';
import type { ReadOptions } from '../src/options.js';
import { resolveSelector, type Selector, schemaProblem } from '../src/selector.js';
import { propertyRuns } from './support/runs.js';

/** Resolves a selector that must be valid; fails the test with the error otherwise. */
function selector(secretId: unknown, options?: unknown, defaultStage = 'AWSCURRENT'): Selector {
  const result = resolveSelector(secretId, options as ReadOptions | undefined, defaultStage);
  if (isSecretCacheError(result)) throw new Error(`expected a selector, got ${result.message}`);
  return result;
}

/** Resolves a selector that must be invalid; fails the test otherwise. */
function rejection(secretId: unknown, options?: unknown): SecretCacheError {
  const result = resolveSelector(secretId, options as ReadOptions | undefined, 'AWSCURRENT');
  if (!isSecretCacheError(result))
    throw new Error(`expected an error, got the key ${JSON.stringify(result.key)}`);
  return result;
}

describe('resolveSelector', () => {
  it('keys a read of the default stage by the secret id itself', () => {
    expect(selector('prod/db')).toStrictEqual({
      secretId: 'prod/db',
      versionStage: 'AWSCURRENT',
      versionId: undefined,
      key: 'prod/db',
    });
  });

  it.each([
    ['null', null],
    ['an empty object', {}],
    ['an explicit undefined stage', { versionStage: undefined }],
    ['the default stage named explicitly', { versionStage: 'AWSCURRENT' }],
  ])('keys the default stage by the secret id for options that are %s', (_label, options) => {
    const result = selector('prod/db', options);

    expect(result.key).toBe('prod/db');
    expect(result.versionStage).toBe('AWSCURRENT');
    expect(result.versionId).toBeUndefined();
  });

  it("uses the cache's own default stage, keyed by the secret id", () => {
    const result = selector('prod/db', { versionStage: 'MINE' }, 'MINE');

    expect(result.key).toBe('prod/db');
    expect(result.versionStage).toBe('MINE');
  });

  it('keys AWSCURRENT apart from the id when the default stage is another one', () => {
    const result = selector('prod/db', { versionStage: 'AWSCURRENT' }, 'MINE');

    expect(result.key).not.toBe('prod/db');
    expect(result.versionStage).toBe('AWSCURRENT');
  });

  it('asks for a non-default stage by stage and a version id by id', () => {
    expect(selector('prod/db', { versionStage: 'AWSPREVIOUS' })).toMatchObject({
      secretId: 'prod/db',
      versionStage: 'AWSPREVIOUS',
      versionId: undefined,
    });
    expect(selector('prod/db', { versionId: 'v-1' })).toMatchObject({
      secretId: 'prod/db',
      versionStage: undefined,
      versionId: 'v-1',
    });
  });

  it('gives the default stage, another stage and a version id three different keys', () => {
    const keys = [
      selector('prod/db').key,
      selector('prod/db', { versionStage: 'AWSPREVIOUS' }).key,
      selector('prod/db', { versionId: 'AWSPREVIOUS' }).key,
    ];

    expect(new Set(keys).size).toBe(3);
  });

  it("never shares a key with another secret's selectors", () => {
    const selectors = (id: string) => [
      selector(id).key,
      selector(id, { versionStage: 'AWSPREVIOUS' }).key,
      selector(id, { versionId: 'v-1' }).key,
    ];
    const keys = [...selectors('prod/db'), ...selectors('prod/db2'), ...selectors('prod')];

    expect(new Set(keys).size).toBe(keys.length);
  });

  it('accepts a secret id of 2048 characters and a version id of 64', () => {
    expect(selector('a'.repeat(2048)).key).toBe('a'.repeat(2048));
    expect(selector('prod/db', { versionId: 'v'.repeat(64) }).versionId).toBe('v'.repeat(64));
  });

  it.each([
    ['empty', ''],
    ['2049 characters long', 'a'.repeat(2049)],
    ['containing a NUL character', 'prod\0db'],
  ])('rejects a secret id that is %s with INVALID_ARGUMENT naming `secretId`', (_label, secretId) => {
    const error = rejection(secretId);

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe(secretId);
    expect(error.message).toContain('`secretId`');
  });

  it.each([
    ['a number', 42],
    ['undefined', undefined],
    ['an object', { id: 'prod/db' }],
  ])('rejects a secret id that is %s with INVALID_ARGUMENT and an empty secretId', (_label, secretId) => {
    const error = rejection(secretId);

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe('');
    expect(error.message).toContain('`secretId`');
  });

  it.each([
    ['empty', ''],
    ['257 characters long', 's'.repeat(257)],
    ['not a string', 3],
  ])(
    'rejects a versionStage that is %s with INVALID_ARGUMENT naming `versionStage`',
    (_label, versionStage) => {
      const error = rejection('prod/db', { versionStage });

      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.secretId).toBe('prod/db');
      expect(error.message).toContain('`versionStage`');
    },
  );

  it.each([
    ['empty', ''],
    ['65 characters long', 'v'.repeat(65)],
    ['not a string', 3],
  ])('rejects a versionId that is %s with INVALID_ARGUMENT naming `versionId`', (_label, versionId) => {
    const error = rejection('prod/db', { versionId });

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe('prod/db');
    expect(error.message).toContain('`versionId`');
  });

  it('rejects both a versionStage and a versionId with INVALID_ARGUMENT naming both', () => {
    const error = rejection('prod/db', { versionStage: 'AWSCURRENT', versionId: 'v-1' });

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe('prod/db');
    expect(error.message).toContain('`versionStage`');
    expect(error.message).toContain('`versionId`');
  });

  it.each([
    ['a string', 'AWSPREVIOUS'],
    ['a number', 1],
    ['a function', () => ({})],
  ])('rejects options that are %s with INVALID_ARGUMENT naming `options`', (_label, options) => {
    const error = rejection('prod/db', options);

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe('prod/db');
    expect(error.message).toContain('`options`');
  });

  it('accepts an AbortSignal, or any object with a boolean `aborted` and an `addEventListener`', () => {
    const duckTyped = { aborted: false, addEventListener: () => {} };

    expect(selector('prod/db', { signal: new AbortController().signal }).key).toBe('prod/db');
    expect(selector('prod/db', { signal: duckTyped }).key).toBe('prod/db');
  });

  it.each([
    ['null', null, 'null'],
    ['a string', 'abort', 'a string of length 5'],
    ['an object without `aborted`', { addEventListener: () => {} }, 'a value of type object'],
    [
      'an object whose `aborted` is not a boolean',
      { aborted: 'no', addEventListener: () => {} },
      'a value of type object',
    ],
    ['an object without `addEventListener`', { aborted: false }, 'a value of type object'],
    [
      'a function dressed as a signal',
      Object.assign(() => {}, { aborted: false, addEventListener: () => {} }),
      'a value of type function',
    ],
  ])('rejects a signal that is %s with INVALID_ARGUMENT naming `signal`', (_label, signal, described) => {
    const error = rejection('prod/db', { signal });

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe('prod/db');
    expect(error.message).toBe(`Expected \`signal\` to be an AbortSignal, got ${described}.`);
  });

  it('returns the error rather than throwing it', () => {
    expect(() => resolveSelector('', undefined, 'AWSCURRENT')).not.toThrow();
  });
});

describe('schemaProblem', () => {
  it('finds no problem with no schema or a Standard Schema', () => {
    expect(schemaProblem(undefined)).toBeUndefined();
    expect(schemaProblem(z.object({ port: z.number() }))).toBeUndefined();
    expect(schemaProblem({ '~standard': { version: 1, vendor: 'x', validate: () => ({ value: 1 }) } })).toBe(
      undefined,
    );
  });

  it.each([
    ['null', null],
    ['an empty object', {}],
    ['a plain function', () => true],
    ['a string', 'z.object()'],
  ])('names `schema` when the schema is %s', (_label, schema) => {
    expect(schemaProblem(schema)).toContain('`schema`');
  });
});

describe('cache keys', () => {
  it('names the control character a part holds, never the part itself', () => {
    const error = rejection('prod/db\npassword=hunter2');
    expect(error.message).toBe('Expected `secretId` to contain no control character, got U+000A at index 7.');
  });

  it('gives two different selectors two different keys, whatever the input (property)', () => {
    const part = fc.string({ unit: fc.constantFrom('a', 's', 'v', '\0', 'S', '\u007f'), maxLength: 5 });
    const options = fc.oneof(
      fc.constant(undefined),
      fc.record({ versionStage: part }, { requiredKeys: [] }),
      fc.record({ versionId: part }),
    );
    fc.assert(
      fc.property(part, options, part, options, (idA, optionsA, idB, optionsB) => {
        const a = resolveSelector(idA, optionsA, 'AWSCURRENT');
        const b = resolveSelector(idB, optionsB, 'AWSCURRENT');
        if (isSecretCacheError(a) || isSecretCacheError(b) || a.key !== b.key) return;
        expect([a.secretId, a.versionStage, a.versionId]).toEqual([b.secretId, b.versionStage, b.versionId]);
      }),
      { numRuns: propertyRuns(2_000) },
    );
  });
});
