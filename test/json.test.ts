import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { isSecretCacheError, type SecretCacheError } from '../src/errors.js';
import { deepFreeze, isStandardSchema, parseSecretJson, pickField, validateSecretJson } from '../src/json.js';
import type { StandardSchemaV1 } from '../src/schema.js';

/** Every rendering of an error a log line or a crash report could contain. */
function renderings(error: SecretCacheError): string[] {
  return [
    error.message,
    String(error.stack),
    JSON.stringify(error),
    inspect(error),
    inspect(error, { showHidden: true, depth: Number.POSITIVE_INFINITY }),
    inspect(error.cause),
  ];
}

function expectNoFragments(error: SecretCacheError, fragments: readonly string[]): void {
  for (const text of renderings(error)) {
    for (const fragment of fragments) expect(text).not.toContain(fragment);
  }
}

/** Runs `action` and returns what it threw (or rejected with); fails the test if it did not. */
async function caught(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the action to throw');
}

function asSecretCacheError(error: unknown): SecretCacheError {
  if (!isSecretCacheError(error)) throw new Error(`expected a SecretCacheError, got ${String(error)}`);
  return error;
}

describe('parseSecretJson', () => {
  it("parses a secret's JSON string", () => {
    const value = parseSecretJson('prod/db', '{"host":"db.internal","port":5432,"tags":["a"]}');

    expect(value).toEqual({ host: 'db.internal', port: 5432, tags: ['a'] });
  });

  it.each([
    ['a truncated object', '{"password":"hunter2-SECRET-xyz"'],
    ['an unquoted word, which JSON.parse quotes in its own message', 'hunter2-SECRET-xyz'],
  ])('throws INVALID_JSON for %s, naming the secret', async (_label, text) => {
    const error = asSecretCacheError(await caught(() => parseSecretJson('prod/db', text)));

    expect(error.code).toBe('INVALID_JSON');
    expect(error.secretId).toBe('prod/db');
    expect(error.message).toContain('prod/db');
  });

  it.each([
    ['a truncated object', '{"password":"hunter2-SECRET-xyz"'],
    ['an unquoted word, which JSON.parse quotes in its own message', 'hunter2-SECRET-xyz'],
    ['a trailing comma', '{"password":"hunter2-SECRET-xyz",}'],
  ])(
    'keeps every fragment of %s out of the error message, stack, JSON, inspection and cause',
    async (_label, text) => {
      const error = asSecretCacheError(await caught(() => parseSecretJson('prod/db', text)));

      expectNoFragments(error, ['hunter2', 'SECRET', 'xyz']);
    },
  );

  it('reports the position of the fault as a number', async () => {
    const error = asSecretCacheError(await caught(() => parseSecretJson('prod/db', '{"password":"hunter2"')));

    expect(error.message).toMatch(/near character \d+/);
  });
});

describe('deepFreeze', () => {
  it('freezes a plain object and every nested plain object and array', () => {
    const value = { a: { b: { c: 1 } }, list: [{ d: 2 }, [3]] };

    const frozen = deepFreeze(value);

    expect(frozen).toBe(value);
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.a)).toBe(true);
    expect(Object.isFrozen(value.a.b)).toBe(true);
    expect(Object.isFrozen(value.list)).toBe(true);
    expect(Object.isFrozen(value.list[0])).toBe(true);
    expect(Object.isFrozen(value.list[1])).toBe(true);
  });

  it('freezes objects with a null prototype', () => {
    const value = Object.assign(Object.create(null) as Record<string, unknown>, { nested: { x: 1 } });

    deepFreeze(value);

    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.nested)).toBe(true);
  });

  it('leaves a Date and a Map alone, also when nested in a frozen object', () => {
    const date = new Date(0);
    const map = new Map([['k', { v: 1 }]]);
    const value = { date, map };

    deepFreeze(value);

    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(date)).toBe(false);
    expect(Object.isFrozen(map)).toBe(false);
    expect(Object.isFrozen(map.get('k'))).toBe(false);
    date.setTime(1);
    expect(date.getTime()).toBe(1);
  });

  it('leaves instances of classes alone', () => {
    class Credentials {
      user = 'u';
    }
    const instance = new Credentials();

    deepFreeze(instance);

    expect(Object.isFrozen(instance)).toBe(false);
  });

  it('returns primitives and null unchanged', () => {
    expect(deepFreeze(5)).toBe(5);
    expect(deepFreeze('s')).toBe('s');
    expect(deepFreeze(null)).toBeNull();
    expect(deepFreeze(undefined)).toBeUndefined();
  });

  it('terminates on a cyclic object', () => {
    const value: { self?: unknown; child: { parent?: unknown } } = { child: {} };
    value.self = value;
    value.child.parent = value;

    deepFreeze(value);

    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.child)).toBe(true);
  });
});

const Db = z.object({ port: z.number(), nested: z.object({ user: z.string() }) });

describe('validateSecretJson', () => {
  it("resolves to the schema's output, deep-frozen", async () => {
    const output = await validateSecretJson('prod/db', Db, { port: 5432, nested: { user: 'app' } });

    expect(output).toEqual({ port: 5432, nested: { user: 'app' } });
    expect(Object.isFrozen(output)).toBe(true);
    expect(Object.isFrozen(output.nested)).toBe(true);
  });

  it("resolves to a transforming schema's output, not its input", async () => {
    const schema = z.object({ port: z.string().transform((text) => Number.parseInt(text, 10)) });

    const output = await validateSecretJson('prod/db', schema, { port: '5432' });

    expect(output).toEqual({ port: 5432 });
  });

  it('rejects a mismatch with SCHEMA_MISMATCH naming every failing path', async () => {
    const value = { port: 'port-VALUE-hunter2', nested: { user: 987654321 } };

    const error = asSecretCacheError(await caught(() => validateSecretJson('prod/db', Db, value)));

    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.secretId).toBe('prod/db');
    expect(error.message).toContain('port');
    expect(error.message).toContain('nested.user');
    expect(error.message).toContain('2 issues');
  });

  it('names the root when the value itself has the wrong type', async () => {
    const error = asSecretCacheError(await caught(() => validateSecretJson('prod/db', Db, 'just-a-string')));

    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.message).toContain('(root)');
  });

  it('keeps the rejected values out of a mismatch error', async () => {
    const value = { port: 'port-VALUE-hunter2', nested: { user: 987654321 } };

    const error = asSecretCacheError(await caught(() => validateSecretJson('prod/db', Db, value)));

    expectNoFragments(error, ['port-VALUE-hunter2', 'hunter2', '987654321']);
  });

  it("keeps the value out of the error when the schema's issue message quotes it", async () => {
    const quoting: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => ({
          issues: [
            { message: `Invalid value ${JSON.stringify(value)}`, path: ['credentials', { key: 'password' }] },
          ],
        }),
      },
    };

    const error = asSecretCacheError(
      await caught(() =>
        validateSecretJson('prod/db', quoting, { credentials: { password: 'hunter2-QUOTED' } }),
      ),
    );

    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.message).toContain('credentials.password');
    expectNoFragments(error, ['hunter2', 'QUOTED', 'Invalid value']);
  });

  it('rejects with SCHEMA_MISMATCH, without the value, when the validator throws an error quoting it', async () => {
    const throwing: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          throw new Error(`cannot handle ${JSON.stringify(value)}`);
        },
      },
    };

    const error = asSecretCacheError(
      await caught(() => validateSecretJson('prod/db', throwing, { password: 'hunter2-THROWN' })),
    );

    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.secretId).toBe('prod/db');
    expectNoFragments(error, ['hunter2', 'THROWN', 'cannot handle']);
  });

  it('awaits an async validator and resolves to its output', async () => {
    const validate = vi.fn(async (value: unknown) => ({ value: { wrapped: value } }));
    const asyncSchema: StandardSchemaV1<unknown, { wrapped: unknown }> = {
      '~standard': { version: 1, vendor: 'test', validate },
    };

    const output = await validateSecretJson('prod/db', asyncSchema, { a: 1 });

    expect(output).toEqual({ wrapped: { a: 1 } });
    expect(Object.isFrozen(output)).toBe(true);
    expect(validate).toHaveBeenCalledWith({ a: 1 });
  });

  it('rejects with SCHEMA_MISMATCH when an async validator reports issues', async () => {
    const asyncSchema: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async () => ({ issues: [{ message: 'bad', path: ['port'] }] }),
      },
    };

    const error = asSecretCacheError(await caught(() => validateSecretJson('prod/db', asyncSchema, {})));

    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.message).toContain('port');
  });

  it('rejects with SCHEMA_MISMATCH when an async validator rejects', async () => {
    const asyncSchema: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async () => {
          throw new Error('rejected-hunter2');
        },
      },
    };

    const error = asSecretCacheError(await caught(() => validateSecretJson('prod/db', asyncSchema, {})));

    expect(error.code).toBe('SCHEMA_MISMATCH');
    expectNoFragments(error, ['hunter2']);
  });
});

describe('isStandardSchema', () => {
  it('is true for a zod schema', () => {
    expect(isStandardSchema(Db)).toBe(true);
  });

  it('is true for a hand-made object with ~standard.validate', () => {
    expect(
      isStandardSchema({ '~standard': { version: 1, vendor: 'x', validate: () => ({ value: 1 }) } }),
    ).toBe(true);
  });

  it('is true for a function carrying ~standard.validate', () => {
    const schema = Object.assign(() => undefined, {
      '~standard': { version: 1, vendor: 'x', validate: () => ({ value: 1 }) },
    });

    expect(isStandardSchema(schema)).toBe(true);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'schema'],
    ['an empty object', {}],
    ['an object whose ~standard has no validate', { '~standard': { version: 1 } }],
    ['an object whose validate is not a function', { '~standard': { validate: 'yes' } }],
  ])('is false for %s', (_label, value) => {
    expect(isStandardSchema(value)).toBe(false);
  });
});

describe('pickField', () => {
  it('returns an own top-level field and fails with MISSING_KEY otherwise', () => {
    expect(pickField('db', { password: 'p' }, 'password')).toBe('p');
    for (const value of [{}, [], 'text', null, Object.create({ password: 'inherited' })]) {
      expect(() => pickField('db', value, 'password')).toThrow(
        expect.objectContaining({ code: 'MISSING_KEY' }),
      );
    }
  });
});

describe('deeply nested secrets (hardening defect 4)', () => {
  // 30,000 levels is 60 KB of JSON, under Secrets Manager's 64 KB limit.
  const deepArray = '['.repeat(30_000) + ']'.repeat(30_000);
  const deepObject = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;

  it.each([
    ['arrays', deepArray],
    ['objects', deepObject],
  ])('freezes %s nested tens of thousands of levels deep without recursing on the call stack', (_, text) => {
    const value = deepFreeze(parseSecretJson('deep', text));
    let node: unknown = value;
    let depth = 0;
    while (typeof node === 'object' && node !== null) {
      expect(Object.isFrozen(node)).toBe(true);
      node = Array.isArray(node) ? node[0] : (node as { a: unknown }).a;
      depth++;
    }
    expect(depth).toBeGreaterThanOrEqual(10_000);
  });

  it('reports a schema that overflows the stack on a deep value as SCHEMA_MISMATCH', async () => {
    const Deep: z.ZodType = z.lazy(() => z.array(Deep));
    const error = await validateSecretJson('deep', Deep, JSON.parse(deepArray)).catch((e: unknown) => e);
    expect(isSecretCacheError(error) && error.code).toBe('SCHEMA_MISMATCH');
  });
});

describe('messages that say where, never what', () => {
  it('gives the position of a JSON syntax error past the ninth character', () => {
    expect(() => parseSecretJson('db', '{"user": "app" "password": 1}')).toThrow(
      'Secret "db" is not valid JSON (near character 15); its value is not shown.',
    );
    // Messages that quote the input instead of giving a position say nothing of where.
    expect(() => parseSecretJson('db', '{"user": "app", "password": oops}')).toThrow(
      'Secret "db" is not valid JSON; its value is not shown.',
    );
  });

  it('names the root when an issue has no path, and counts one issue in the singular', async () => {
    const schema: StandardSchemaV1 = {
      '~standard': { version: 1, vendor: 'test', validate: () => ({ issues: [{ message: 'bad' }] }) },
    };
    await expect(validateSecretJson('db', schema, 1)).rejects.toThrow(
      'Secret "db" does not match the schema at (root) (1 issue).',
    );
  });

  it('lists ten paths at most, and says when there are more', async () => {
    const issues = (count: number) =>
      Array.from({ length: count }, (_, i) => ({ message: 'bad', path: [`f${i}`] }));
    const schemaWith = (count: number): StandardSchemaV1 => ({
      '~standard': { version: 1, vendor: 'test', validate: () => ({ issues: issues(count) }) },
    });
    const ten = Array.from({ length: 10 }, (_, i) => `f${i}`).join(', ');
    await expect(validateSecretJson('db', schemaWith(10), {})).rejects.toThrow(
      `Secret "db" does not match the schema at ${ten} (10 issues).`,
    );
    await expect(validateSecretJson('db', schemaWith(11), {})).rejects.toThrow(
      `Secret "db" does not match the schema at ${ten}, ... (11 issues).`,
    );
  });

  it('says a throwing schema threw, without its message', async () => {
    const schema: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => {
          throw new Error('hunter2 is not allowed');
        },
      },
    };
    await expect(validateSecretJson('db', schema, 'hunter2')).rejects.toThrow(
      'Secret "db": the schema threw while validating; its value is not shown.',
    );
  });

  it('finds a field only on a plain object: not on arrays, strings or null', () => {
    for (const value of [['x'], 'text', null, 7]) {
      expect(() => pickField('db', value, '0')).toThrow('Secret "db" has no top-level field "0".');
    }
    expect(() => pickField('db', 'text', 'length')).toThrow(expect.objectContaining({ code: 'MISSING_KEY' }));
  });
});

describe('deepFreeze on values it did not parse', () => {
  it('stops at objects already frozen, so a cyclic schema output terminates', () => {
    const node: { self?: unknown; child: { n: number } } = { child: { n: 1 } };
    node.self = node;
    const frozen = deepFreeze(node);
    expect(Object.isFrozen(frozen)).toBe(true);
    expect(Object.isFrozen(frozen.child)).toBe(true);
  });
});

describe('validators that break the Standard Schema contract', () => {
  const validator = (validate: () => unknown): StandardSchemaV1 =>
    ({ '~standard': { version: 1, vendor: 'test', validate } }) as unknown as StandardSchemaV1;

  it.each([
    ['no result', () => undefined],
    ['null', () => null],
    ['issues that are not a list', () => ({ issues: 'bad' })],
    [
      'a result whose issues throw',
      () =>
        Object.defineProperty({}, 'issues', {
          get: () => {
            throw new Error('x');
          },
        }),
    ],
  ])('reports %s as SCHEMA_MISMATCH', async (_, validate) => {
    await expect(validateSecretJson('db', validator(validate), 1)).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      message: 'Secret "db": the schema returned no Standard Schema result; its value is not shown.',
    });
  });

  it('shows malformed issue paths as ? and issues that are not objects at the root', async () => {
    const schema = validator(() => ({ issues: [null, { message: 'x', path: [null, { key: {} }, 'a', 1] }] }));
    await expect(validateSecretJson('db', schema, 1)).rejects.toThrow(
      'Secret "db" does not match the schema at (root), ?.?.a.1 (2 issues).',
    );
  });
});
