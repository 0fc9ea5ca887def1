import { afterEach, describe, expect, it, vi } from 'vitest';
import { SecretCache } from '../src/cache.js';
import { envReference, loadEnv } from '../src/env.js';
import type { SecretCacheError } from '../src/errors.js';
import { expectNoFragment, renderingsOf } from './support/leaks.js';
import { MemoryClient } from './support/memory-client.js';

const DB = { username: 'orders', password: 'Zq8vL2mW4pR7xK9t', port: 5432 };
const API_KEY = 'sk_live_4f9Hq2ZxP0wLmT7v';
/** A plain value in the environment: maybe a secret itself, never to be shown. */
const PLAIN = 'hunter2-plaintext-Vb6nC';

function setup() {
  const client = new MemoryClient();
  client.put('myapp/prod/db', JSON.stringify(DB));
  client.put('myapp/prod/api-key', API_KEY);
  // An in-memory client knows an ARN as one more id.
  client.put('arn:aws:secretsmanager:us-east-1:123456789012:secret:myapp/prod/db', JSON.stringify(DB));
  const cache = new SecretCache({ client, retry: { retries: 0 } });
  return { client, cache };
}

const ENV = {
  DB_USER: 'secretsmanager:myapp/prod/db:username',
  DB_PASSWORD: 'secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:myapp/prod/db:password::',
  DB_PORT: '{{resolve:secretsmanager:myapp/prod/db:SecretString:port}}',
  API_KEY: 'secretsmanager:myapp/prod/api-key',
  PLAIN,
  SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:myapp/prod/db',
  NODE_ENV: 'production',
};

/** The rejection of `promise`. */
const rejection = (promise: Promise<unknown>): Promise<SecretCacheError> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: SecretCacheError) => error,
  );

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('envReference', () => {
  it.each([
    ['secretsmanager:myapp/prod/db:password', 'myapp/prod/db:password'],
    ['secretsmanager:{{resolve:secretsmanager:db}}', '{{resolve:secretsmanager:db}}'],
    [
      '{{resolve:secretsmanager:db:SecretString:password}}',
      '{{resolve:secretsmanager:db:SecretString:password}}',
    ],
    ['arn:aws:secretsmanager:us-east-1:123456789012:secret:db', undefined],
    ['myapp/prod/db', undefined],
    ['SECRETSMANAGER:db', undefined],
    [' secretsmanager:db', undefined],
    ['{{resolve:ssm:param}}', undefined],
    [undefined, undefined],
  ])('finds in %o the reference %o', (value, expected) => {
    expect(envReference(value)).toBe(expected);
  });
});

describe('loadEnv', () => {
  it('resolves every variable that holds a reference in one batched load, and leaves the others out', async () => {
    const { client, cache } = setup();

    const env = await loadEnv({ env: ENV, cache });

    expect({ ...env }).toEqual({
      DB_USER: 'orders',
      DB_PASSWORD: DB.password,
      DB_PORT: '5432',
      API_KEY,
    });
    // The ARN and the name are two ids to AWS: one batch call for the three.
    expect(client.calls).toEqual([
      {
        operation: 'BatchGetSecretValue',
        secretIds: [
          'myapp/prod/db',
          'arn:aws:secretsmanager:us-east-1:123456789012:secret:myapp/prod/db',
          'myapp/prod/api-key',
        ],
      },
    ]);
  });

  it('resolves to a frozen object that renders the names and no value', async () => {
    const { cache } = setup();

    const env = await loadEnv({ env: ENV, cache });

    expect(Object.isFrozen(env)).toBe(true);
    expect(JSON.stringify(env)).toBe(
      '{"DB_USER":"<redacted>","DB_PASSWORD":"<redacted>","DB_PORT":"<redacted>","API_KEY":"<redacted>"}',
    );
    expect(String(env)).toBe(
      'LoadedSecrets { DB_USER: <redacted>, DB_PASSWORD: <redacted>, DB_PORT: <redacted>, API_KEY: <redacted> }',
    );
    const rendered = renderingsOf(env);
    for (const value of [DB.password, API_KEY]) expectNoFragment(rendered, value);
  });

  it('writes into process.env only when asked, and then every resolved variable', async () => {
    const { cache } = setup();
    vi.stubEnv('DB_PASSWORD', ENV.DB_PASSWORD);
    vi.stubEnv('API_KEY', ENV.API_KEY);

    await loadEnv({ cache });
    expect(process.env.DB_PASSWORD).toBe(ENV.DB_PASSWORD);

    const env = await loadEnv({ cache, into: process.env });
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['DB_PASSWORD', 'API_KEY']));
    expect(process.env.DB_PASSWORD).toBe(DB.password);
    expect(process.env.API_KEY).toBe(API_KEY);
  });

  it('writes nothing into `into` when any variable fails', async () => {
    const { cache } = setup();
    const into: Record<string, string | undefined> = {};

    const error = await rejection(
      loadEnv({ env: { ...ENV, MISSING: 'secretsmanager:myapp/prod/missing' }, cache, into }),
    );

    expect(error.code).toBe('LOAD_FAILED');
    expect(into).toEqual({});
  });

  it('with `names`, resolves just those variables', async () => {
    const { client, cache } = setup();

    const env = await loadEnv({ env: ENV, cache, names: ['DB_PASSWORD', 'API_KEY'] });

    expect({ ...env }).toEqual({ DB_PASSWORD: DB.password, API_KEY });
    expect(client.calls.flatMap((call) => call.secretIds)).toHaveLength(2);
  });

  it('reports every failing variable at once, in order, by name, secret id and code, without values', async () => {
    const { cache } = setup();
    const env = {
      ...ENV,
      MALFORMED: 'secretsmanager:myapp/prod/db:a:b:c:d',
      MISSING: 'secretsmanager:myapp/prod/missing',
      NO_FIELD: '{{resolve:secretsmanager:myapp/prod/db:SecretString:pasword}}',
      BOTH: 'secretsmanager:myapp/prod/db:password:AWSCURRENT:v1',
    };

    const error = await rejection(loadEnv({ env, cache, names: [...Object.keys(env), 'UNSET'] }));

    expect(error.code).toBe('LOAD_FAILED');
    expect(error.errors.map(({ key, secretId, code }) => [key, secretId, code])).toEqual([
      ['PLAIN', '', 'INVALID_ARGUMENT'],
      ['SECRET_ARN', '', 'INVALID_ARGUMENT'],
      ['NODE_ENV', '', 'INVALID_ARGUMENT'],
      ['MALFORMED', 'myapp/prod/db:a:b:c:d', 'INVALID_ARGUMENT'],
      ['MISSING', 'myapp/prod/missing', 'NOT_FOUND'],
      ['NO_FIELD', 'myapp/prod/db', 'MISSING_KEY'],
      ['BOTH', 'myapp/prod/db:password:AWSCURRENT:v1', 'INVALID_ARGUMENT'],
      ['UNSET', '', 'INVALID_ARGUMENT'],
    ]);
    expect(error.message).toMatch(/^Loading 8 of 12 secrets failed: PLAIN: INVALID_ARGUMENT; SECRET_ARN: /);
    expect(error.message).toContain('MISSING (myapp/prod/missing): NOT_FOUND');
    expect(error.errors[0]?.error.message).toBe(
      'Variable PLAIN holds no secret reference; expected `secretsmanager:` and a reference, or `{{resolve:secretsmanager:...}}`.',
    );
    expect(error.errors.at(-1)?.error.message).toMatch(/^Variable UNSET is not set;/);
    const rendered = [error, ...error.errors.map((failure) => failure.error)].map(renderingsOf).join('\n');
    for (const value of [PLAIN, DB.password, API_KEY]) expectNoFragment(rendered, value);
  });

  it('reports a variable named toJSON, which would decide how the result renders', async () => {
    const { cache } = setup();

    const error = await rejection(loadEnv({ env: { toJSON: ENV.API_KEY }, cache }));

    expect(error.errors.map(({ key, code }) => [key, code])).toEqual([['toJSON', 'INVALID_ARGUMENT']]);
  });

  it('loads a warm environment again without calling AWS', async () => {
    const { client, cache } = setup();

    await loadEnv({ env: ENV, cache });
    await loadEnv({ env: ENV, cache });

    expect(client.calls).toHaveLength(1);
  });

  it('resolves an environment without references to an empty object, calling nothing', async () => {
    const { client, cache } = setup();

    const env = await loadEnv({ env: { NODE_ENV: 'production' }, cache });

    expect(Object.keys(env)).toEqual([]);
    expect(client.calls).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['an unknown option', { envs: {} }, 'Unknown option `envs` in options of loadEnv; did you mean `env`?'],
    ['options that are not an object', 'process.env', 'Expected `options` of loadEnv to be an object'],
    ['an `env` that is not an object', { env: 'A=1' }, 'Expected `env` to be an object'],
    ['a `cache` that is not one', { cache: {} }, 'Expected `cache` to be a SecretCache'],
    ['an `into` that is not an object', { into: true }, 'Expected `into` to be an object'],
    [
      '`names` that are not strings',
      { names: ['A', 1] },
      'Expected `names` to be an array of variable names',
    ],
  ])('rejects %s with a TypeError naming it', async (_, options, message) => {
    const error = await rejection(loadEnv(options as never));

    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain(message);
  });
});
