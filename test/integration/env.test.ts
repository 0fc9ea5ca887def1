/**
 * `loadEnv` against a real moto_server, through the real AWS SDK client: 30 variables written in every reference
 * form, resolved in one batched load, and the AWS calls that cost, by operation.
 */
import { randomUUID } from 'node:crypto';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretCache } from '../../src/cache.js';
import { loadEnv } from '../../src/env.js';
import type { SecretCacheError } from '../../src/errors.js';
import type { SecretsManagerLike } from '../../src/source.js';
import { expectNoFragment, renderingsOf } from '../support/leaks.js';
import {
  createJsonSecret,
  createStringSecret,
  type MotoServer,
  putSecretValue,
  startMotoServer,
} from '../support/moto.js';

const runId = randomUUID().slice(0, 8);
const svc = (i: number): string => `env-${runId}/svc-${String(i).padStart(2, '0')}`;
const makeValue = (i: number): string => `svc-value-${i}-${randomUUID()}`;
const DB_NAME = `env-${runId}/db`;
const TOKEN_NAME = `env-${runId}/token`;
const DB = {
  username: 'orders',
  password: `pw-${randomUUID()}`,
  host: 'db.internal',
  port: 5432,
  options: { ssl: true },
};

let moto: MotoServer;
let client: SecretsManagerClient;
const values = new Map<number, string>();
const arns = new Map<string, string>();
let tokenVersions: { previous: string; current: string; currentId: string };

/** What was sent through `counted`, by operation. */
const sent = { batch: [] as string[][], single: [] as Array<Record<string, unknown>> };
const counted: SecretsManagerLike = {
  send: (command, options) => {
    if (command instanceof BatchGetSecretValueCommand)
      sent.batch.push([...(command.input.SecretIdList ?? [])]);
    else if (command instanceof GetSecretValueCommand) sent.single.push({ ...command.input });
    return client.send(command, options);
  },
};

/** The 30 variables, and what each must resolve to. */
function environment(): { env: Record<string, string>; expected: Record<string, string> } {
  const env: Record<string, string> = {};
  const expected: Record<string, string> = {};
  const add = (name: string, ref: string, value: string) => {
    env[name] = ref;
    expected[name] = value;
  };
  for (let i = 0; i < 10; i++) add(`SVC_${i}`, `secretsmanager:${svc(i)}`, values.get(i)!);
  for (let i = 10; i < 15; i++) add(`SVC_${i}`, `{{resolve:secretsmanager:${svc(i)}}}`, values.get(i)!);
  for (let i = 15; i < 20; i++) add(`SVC_${i}`, `secretsmanager:${arns.get(svc(i))}`, values.get(i)!);
  add('SVC_0_AGAIN', `secretsmanager:${svc(0)}`, values.get(0)!);
  add('DB_USER', `secretsmanager:${DB_NAME}:username`, DB.username);
  add('DB_USER_CURRENT', `secretsmanager:${DB_NAME}:username:AWSCURRENT`, DB.username);
  add('DB_PASSWORD', `secretsmanager:${arns.get(DB_NAME)}:password::`, DB.password);
  add('DB_HOST', `{{resolve:secretsmanager:${DB_NAME}:SecretString:host}}`, DB.host);
  add('DB_PORT', `secretsmanager:${DB_NAME}:port`, '5432');
  add('DB_OPTIONS', `secretsmanager:${DB_NAME}:options`, '{"ssl":true}');
  add('TOKEN', `secretsmanager:${TOKEN_NAME}`, tokenVersions.current);
  add('TOKEN_PREVIOUS', `secretsmanager:${TOKEN_NAME}::AWSPREVIOUS`, tokenVersions.previous);
  add('TOKEN_PINNED', `secretsmanager:${TOKEN_NAME}:::${tokenVersions.currentId}`, tokenVersions.current);
  return { env, expected };
}

/** Variables that hold no reference: left alone. */
const OTHERS = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://localhost/orders',
  SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-AbCdEf',
};

beforeAll(async () => {
  moto = await startMotoServer();
  client = moto.client();
  for (let i = 0; i < 20; i++) {
    values.set(i, makeValue(i));
    const created = await createStringSecret(client, svc(i), values.get(i)!);
    arns.set(svc(i), created.ARN!);
  }
  arns.set(DB_NAME, (await createJsonSecret(client, DB_NAME, DB)).ARN!);
  const previous = `token-${randomUUID()}`;
  const current = `token-${randomUUID()}`;
  await createStringSecret(client, TOKEN_NAME, previous);
  const put = await putSecretValue(client, TOKEN_NAME, current);
  tokenVersions = { previous, current, currentId: put.VersionId! };
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

describe('loadEnv against moto_server', () => {
  it('resolves 30 variables in every reference form in one load: 2 BatchGetSecretValue and 2 GetSecretValue', async () => {
    const { env, expected } = environment();
    expect(Object.keys(env)).toHaveLength(30);
    const cache = new SecretCache({ client: counted, retry: { retries: 0 } });
    sent.batch.length = 0;
    sent.single.length = 0;

    const loaded = await loadEnv({ env: { ...OTHERS, ...env }, cache });

    expect({ ...loaded }).toEqual(expected);
    // 23 ids at AWSCURRENT (15 names, 6 ARNs, the db and the token by name), each once: 20 + 3. The token's
    // AWSPREVIOUS stage and its pinned version id are one GetSecretValue each, at the same time.
    expect(sent.batch.map((ids) => ids.length)).toEqual([20, 3]);
    expect(new Set(sent.batch.flat()).size).toBe(23);
    expect(sent.single).toHaveLength(2);
    expect(sent.single).toEqual(
      expect.arrayContaining([
        { SecretId: TOKEN_NAME, VersionStage: 'AWSPREVIOUS' },
        { SecretId: TOKEN_NAME, VersionId: tokenVersions.currentId },
      ]),
    );
    const rendered = renderingsOf(loaded);
    expect(rendered).toContain('DB_PASSWORD');
    for (const value of Object.values(expected).filter((value) => value.length > 8)) {
      expectNoFragment(rendered, value, 8);
    }

    // Loading the same environment again within the TTL calls AWS not once.
    await loadEnv({ env, cache });
    expect(sent.batch).toHaveLength(2);
    expect(sent.single).toHaveLength(2);
  });

  it('writes into process.env-like objects only when asked', async () => {
    const { env, expected } = environment();
    const into: Record<string, string | undefined> = { ...OTHERS, ...env };
    const cache = new SecretCache({ client, retry: { retries: 0 } });

    await loadEnv({ env: into, cache });
    expect(into.DB_PASSWORD).toBe(env.DB_PASSWORD);

    await loadEnv({ env: into, cache, into });
    expect(into).toEqual({ ...OTHERS, ...expected });
  });

  it('reports every variable whose secret is missing, by name and code, in one LOAD_FAILED', async () => {
    const { env } = environment();
    const cache = new SecretCache({ client, retry: { retries: 0 } });

    const error = (await loadEnv({
      env: {
        ...env,
        GONE: `secretsmanager:env-${runId}/gone`,
        NO_FIELD: `secretsmanager:${DB_NAME}:pasword`,
      },
      cache,
    }).catch((e: unknown) => e)) as SecretCacheError;

    expect(error.code).toBe('LOAD_FAILED');
    expect(error.errors.map(({ key, code }) => [key, code])).toEqual([
      ['GONE', 'NOT_FOUND'],
      ['NO_FIELD', 'MISSING_KEY'],
    ]);
    expect(error.message).toContain('Loading 2 of 32 secrets failed');
    expectNoFragment(renderingsOf(error), DB.password, 8);
  });
});
