/**
 * `cache.load` against a real moto_server, through the real AWS SDK client: the calls a 50-secret manifest
 * costs, by operation, and the error of the entries that do not exist. Time is a fake clock.
 */
import { randomUUID } from 'node:crypto';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type Manifest,
  SecretCache,
  type SecretCacheError,
  type SecretSpec,
  type SecretsManagerLike,
  secret,
} from '../../src/index.js';
import {
  createBinarySecret,
  createJsonSecret,
  createStringSecret,
  type MotoServer,
  startMotoServer,
} from '../support/moto.js';

const TOTAL = 50;
/** Manifest positions of the secrets that are never created: spread over all three batch chunks. */
const MISSING = new Set([3, 19, 20, 33, 49]);
const runId = randomUUID().slice(0, 8);
const idOf = (i: number): string => `load-${runId}/secret-${String(i).padStart(2, '0')}`;
const keyOf = (i: number): string => `s${String(i).padStart(2, '0')}`;
const valueFor = (i: number): string => `value-${i}-${runId}`;
/** The one binary secret. */
const BINARY = 48;
const Config = z.object({ index: z.number(), value: z.string() });

let moto: MotoServer;
let client: SecretsManagerClient;

/** What was sent through `counted`, by operation. */
const sent = { batch: [] as string[][], single: [] as string[] };
const counted: SecretsManagerLike = {
  send: (command, options) => {
    if (command instanceof BatchGetSecretValueCommand)
      sent.batch.push([...(command.input.SecretIdList ?? [])]);
    else if (command instanceof GetSecretValueCommand) sent.single.push(command.input.SecretId ?? '');
    return client.send(command, options);
  },
};

/** Every fifth secret is JSON with a schema, one is binary, the others are strings. */
function specOf(i: number): SecretSpec {
  if (i === BINARY) return secret.binary(idOf(i));
  if (i % 5 === 0) return secret.json(idOf(i), { schema: Config });
  return secret.string(idOf(i));
}

function manifestOf(indexes: readonly number[]): Manifest {
  return Object.fromEntries(indexes.map((i) => [keyOf(i), specOf(i)]));
}

const all = Array.from({ length: TOTAL }, (_, i) => i);
const existing = all.filter((i) => !MISSING.has(i));

beforeAll(async () => {
  moto = await startMotoServer();
  client = moto.client();
  for (const i of existing) {
    if (i === BINARY) await createBinarySecret(client, idOf(i), new TextEncoder().encode(valueFor(i)));
    else if (i % 5 === 0) await createJsonSecret(client, idOf(i), { index: i, value: valueFor(i) });
    else await createStringSecret(client, idOf(i), valueFor(i));
  }
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

describe('SecretCache.load against moto_server', () => {
  it('loads 50 secrets in 3 BatchGetSecretValue calls (20 + 20 + 10) and reports the 5 missing as NOT_FOUND', async () => {
    const now = 1_700_000_000_000;
    const cache = new SecretCache({ client: counted, clock: { now: () => now }, retry: { retries: 0 } });

    const error = (await cache.load(manifestOf(all)).catch((e: unknown) => e)) as SecretCacheError;

    expect(sent.batch.map((ids) => ids.length)).toEqual([20, 20, 10]);
    expect(sent.batch.flat().sort()).toEqual(all.map(idOf).sort());
    expect(sent.single).toEqual([]);
    expect(error.code).toBe('LOAD_FAILED');
    expect(error.errors.map(({ key, secretId, code }) => ({ key, secretId, code }))).toEqual(
      [...MISSING].map((i) => ({ key: keyOf(i), secretId: idOf(i), code: 'NOT_FOUND' })),
    );
    expect(error.message).toContain(`Loading 5 of ${TOTAL} secrets failed`);

    // The 45 that exist are cached: loading them again calls AWS not once.
    sent.batch.length = 0;
    const loaded = await cache.load(manifestOf(existing));

    expect(sent.batch).toEqual([]);
    expect(sent.single).toEqual([]);
    expect(Object.keys(loaded)).toHaveLength(45);
    expect(loaded[keyOf(0)]).toEqual({ index: 0, value: valueFor(0) });
    expect(loaded[keyOf(1)]).toBe(valueFor(1));
    expect(new TextDecoder().decode(loaded[keyOf(BINARY)] as Uint8Array)).toBe(valueFor(BINARY));
    expect(cache.stats()).toMatchObject({ size: 45, fetches: 3 });
  });
});
