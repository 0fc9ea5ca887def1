import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import {
  invalidArgument,
  isSecretCacheError,
  PERMANENT_CODES,
  SecretCacheError,
  type SecretCacheErrorCode,
  type SecretLoadFailure,
} from '../src/errors.js';

describe('SecretCacheError', () => {
  it('carries its code, secret id and message, and is named SecretCacheError', () => {
    const error = new SecretCacheError('NOT_FOUND', 'prod/db', 'Secret "prod/db" was not found.');

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SecretCacheError');
    expect(error.code).toBe('NOT_FOUND');
    expect(error.secretId).toBe('prod/db');
    expect(error.message).toBe('Secret "prod/db" was not found.');
  });

  it('has no cause and an empty errors list when none are given', () => {
    const error = new SecretCacheError('TIMEOUT', 'prod/db', 'timed out');

    expect(error.cause).toBeUndefined();
    expect('cause' in error).toBe(false);
    expect(error.errors).toEqual([]);
  });

  it('keeps the given cause', () => {
    const cause = new Error('socket hang up');

    const error = new SecretCacheError('FETCH_FAILED', 'prod/db', 'failed', { cause });

    expect(error.cause).toBe(cause);
  });

  it('keeps the given list of failed entries', () => {
    const inner = new SecretCacheError('ACCESS_DENIED', 'prod/api', 'denied');
    const errors: SecretLoadFailure[] = [
      { key: 'api', secretId: 'prod/api', code: 'ACCESS_DENIED', error: inner },
    ];

    const error = new SecretCacheError('LOAD_FAILED', 'prod/api', 'load failed', { errors });

    expect(error.errors).toEqual(errors);
    expect(error.errors[0]?.error).toBe(inner);
  });

  it('renders with toJSON as name, code, secret id and message only when there is no cause', () => {
    const error = new SecretCacheError('THROTTLED', 'prod/db', 'throttled');

    expect(error.toJSON()).toStrictEqual({
      name: 'SecretCacheError',
      code: 'THROTTLED',
      secretId: 'prod/db',
      message: 'throttled',
    });
  });

  it("reduces the cause to its name in toJSON, never including the cause's message", () => {
    const cause = Object.assign(new Error('cause-message-QUOTES-VALUE-42'), {
      name: 'ResourceNotFoundException',
    });
    const error = new SecretCacheError('NOT_FOUND', 'prod/db', 'not found', { cause });

    const json = error.toJSON();

    expect(json.cause).toBe('ResourceNotFoundException');
    expect(JSON.stringify(error)).not.toContain('cause-message-QUOTES-VALUE-42');
  });

  it('omits a cause without a string name from toJSON', () => {
    const error = new SecretCacheError('FETCH_FAILED', 'prod/db', 'failed', { cause: 'raw string value' });

    const json = error.toJSON();

    expect('cause' in json).toBe(false);
    expect(JSON.stringify(error)).not.toContain('raw string value');
  });

  it('lists each failed entry in toJSON as key, secret id and code, without the nested error', () => {
    const inner = new SecretCacheError('NOT_FOUND', 'prod/api', 'inner-message-text');
    const error = new SecretCacheError('LOAD_FAILED', 'prod/api', 'load failed', {
      errors: [{ key: 'api', secretId: 'prod/api', code: 'NOT_FOUND', error: inner }],
    });

    const json = error.toJSON();

    expect(json.errors).toStrictEqual([{ key: 'api', secretId: 'prod/api', code: 'NOT_FOUND' }]);
    expect(JSON.stringify(error)).not.toContain('inner-message-text');
  });
});

describe('invalidArgument', () => {
  it('makes an INVALID_ARGUMENT error for a string secret id', () => {
    const error = invalidArgument('prod/db', 'Expected `versionId` to be ...');

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.secretId).toBe('prod/db');
    expect(error.message).toBe('Expected `versionId` to be ...');
  });

  it('uses an empty secret id when the given one is not a string', () => {
    const error = invalidArgument(42, 'bad id');

    expect(error.secretId).toBe('');
  });
});

describe('isSecretCacheError', () => {
  it('is true for a SecretCacheError', () => {
    expect(isSecretCacheError(new SecretCacheError('NOT_FOUND', 'x', 'm'))).toBe(true);
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['a TypeError', new TypeError('boom')],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'SecretCacheError'],
    ['a plain object', {}],
  ])('is false for %s', (_label, value) => {
    expect(isSecretCacheError(value)).toBe(false);
  });

  it('is false for a look-alike object with the same name and fields', () => {
    const lookAlike = {
      name: 'SecretCacheError',
      code: 'NOT_FOUND',
      secretId: 'x',
      message: 'm',
      errors: [],
    };

    expect(isSecretCacheError(lookAlike)).toBe(false);
  });

  it('is false for an Error subclass that merely has the same name', () => {
    class SecretCacheError extends Error {
      override readonly name = 'SecretCacheError';
      readonly code = 'NOT_FOUND';
    }

    expect(isSecretCacheError(new SecretCacheError('m'))).toBe(false);
  });

  it('is true for an error made by another copy of the module, where instanceof is false', async () => {
    vi.resetModules();
    const copy = await import('../src/errors.js');
    expect(copy.SecretCacheError).not.toBe(SecretCacheError);

    const foreign = new copy.SecretCacheError('ACCESS_DENIED', 'prod/db', 'denied');
    const local = new SecretCacheError('ACCESS_DENIED', 'prod/db', 'denied');

    expect(foreign instanceof SecretCacheError).toBe(false);
    expect(local instanceof copy.SecretCacheError).toBe(false);
    expect(isSecretCacheError(foreign)).toBe(true);
    expect(copy.isSecretCacheError(local)).toBe(true);
  });

  it('does not expose its brand as an enumerable property', () => {
    const error = new SecretCacheError('NOT_FOUND', 'prod/db', 'm');

    expect(
      Object.getOwnPropertySymbols(error).every((s) => !Object.prototype.propertyIsEnumerable.call(error, s)),
    ).toBe(true);
    expect(inspect(error)).not.toContain('secretcache.SecretCacheError');
  });
});

describe('PERMANENT_CODES', () => {
  it.each<SecretCacheErrorCode>([
    'NOT_FOUND',
    'ACCESS_DENIED',
    'DECRYPTION_FAILED',
    'INVALID_REQUEST',
    'INVALID_ARGUMENT',
    'MISSING_DEPENDENCY',
  ])('holds %s, which waiting cannot fix', (code) => {
    expect(PERMANENT_CODES.has(code)).toBe(true);
  });

  it.each<SecretCacheErrorCode>(['THROTTLED', 'FETCH_FAILED', 'TIMEOUT', 'ABORTED'])(
    'does not hold %s, which a later attempt may not meet',
    (code) => {
      expect(PERMANENT_CODES.has(code)).toBe(false);
    },
  );

  it('holds exactly the seven permanent codes', async () => {
    // Read from a copy of the module loaded inside the test: a module-level constant is built at import, before
    // Stryker's vitest runner switches a mutant on, so only such a copy shows a mutated set.
    vi.resetModules();
    const fresh = await import('../src/errors.js');

    expect([...fresh.PERMANENT_CODES].sort()).toEqual([...PERMANENT_CODES].sort());
    expect([...fresh.PERMANENT_CODES].sort()).toEqual(
      [
        'ACCESS_DENIED',
        'DECRYPTION_FAILED',
        'INVALID_ARGUMENT',
        'INVALID_REQUEST',
        'NOT_FOUND',
        'NO_VALUE',
        'MISSING_DEPENDENCY',
      ].sort(),
    );
  });
});
