/**
 * Integration tests of the public API against a real moto_server, through the real AWS SDK client.
 * Time is a fake clock: nothing here sleeps.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import {
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isSecretCacheError, SecretCache, SecretCacheError } from '../../src/index.js';
import {
  createBinarySecret,
  createJsonSecret,
  createStringSecret,
  type MotoServer,
  putSecretValue,
  startMotoServer,
} from '../support/moto.js';

const TTL_MS = 60_000;
const runId = randomUUID().slice(0, 8);
let seq = 0;
/** A secret name unique to this run and test. */
const uniqueName = (label: string): string => `it-${runId}/${label}-${++seq}`;

/** A secret value no error text may ever contain. */
const sensitive = (label: string): string => `${label}-SENSITIVE-${randomUUID()}`;

let moto: MotoServer;
let client: SecretsManagerClient;

/** The fake clock's time; tests move it forward by hand. */
let now = 0;
let cache: SecretCache;

beforeAll(async () => {
  moto = await startMotoServer();
  client = moto.client();
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

beforeEach(() => {
  now = 1_700_000_000_000;
  // No jitter and no refresh-ahead: these tests pin the TTL boundary and the fetch count exactly.
  cache = new SecretCache({
    client,
    ttlMs: TTL_MS,
    ttlJitter: 0,
    refreshAheadMs: 0,
    clock: { now: () => now },
  });
});

afterEach(() => {
  cache.invalidate();
});

/** Awaits a promise that must reject with a SecretCacheError, and returns that error. */
async function rejection(promise: Promise<unknown>): Promise<SecretCacheError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SecretCacheError);
  expect(isSecretCacheError(caught)).toBe(true);
  return caught as SecretCacheError;
}

/** Every rendering of an error a log line could carry. */
function renderings(error: SecretCacheError): string[] {
  return [
    error.message,
    String(error.stack),
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: Number.POSITIVE_INFINITY }),
    inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
  ];
}

function expectNoLeak(error: SecretCacheError, ...values: string[]): void {
  for (const text of renderings(error)) {
    for (const value of values) expect(text).not.toContain(value);
  }
}

describe('SecretCache against moto_server', () => {
  it('reads a string secret, and serves a second read from the cache with a single fetch', async () => {
    const name = uniqueName('string');
    const value = sensitive('string');
    await createStringSecret(client, name, value);

    expect(await cache.getSecretString(name)).toBe(value);
    expect(cache.stats()).toMatchObject({ fetches: 1, size: 1 });

    expect(await cache.getSecretString(name)).toBe(value);
    expect(cache.stats()).toMatchObject({ fetches: 1, hits: 1, errors: 0, size: 1 });
  });

  it('keeps serving the cached value after PutSecretValue until the clock passes ttlMs, then serves the new one', async () => {
    const name = uniqueName('ttl');
    await createStringSecret(client, name, 'value-v1');
    expect(await cache.getSecretString(name)).toBe('value-v1');

    await putSecretValue(client, name, 'value-v2');

    now += TTL_MS - 1;
    expect(await cache.getSecretString(name)).toBe('value-v1');
    expect(cache.stats().fetches).toBe(1);

    now += 2; // now past ttlMs since the fetch
    expect(await cache.getSecretString(name)).toBe('value-v2');
    expect(cache.stats().fetches).toBe(2);
  });

  it('reads AWSPREVIOUS and AWSCURRENT after a rotation as separate cache entries that never collide', async () => {
    const name = uniqueName('stages');
    await createStringSecret(client, name, 'old-value');
    await putSecretValue(client, name, 'new-value');

    expect(await cache.getSecretString(name)).toBe('new-value');
    expect(await cache.getSecretString(name, { versionStage: 'AWSPREVIOUS' })).toBe('old-value');
    expect(await cache.getSecretString(name, { versionStage: 'AWSCURRENT' })).toBe('new-value');
    expect(cache.stats()).toMatchObject({ fetches: 2, size: 2 });

    // Warm reads in either order still keep the stages apart.
    expect(await cache.getSecretString(name, { versionStage: 'AWSPREVIOUS' })).toBe('old-value');
    expect(await cache.getSecretString(name)).toBe('new-value');
    expect(cache.stats().fetches).toBe(2);

    const current = await cache.getSecretValue(name);
    const previous = await cache.getSecretValue(name, { versionStage: 'AWSPREVIOUS' });
    expect(current.versionStages).toContain('AWSCURRENT');
    expect(previous.versionStages).toContain('AWSPREVIOUS');
    expect(previous.versionId).not.toBe(current.versionId);
  });

  it('reads AWSPREVIOUS by default when the cache is constructed with versionStage AWSPREVIOUS', async () => {
    const name = uniqueName('default-stage');
    await createStringSecret(client, name, 'old-value');
    await putSecretValue(client, name, 'new-value');

    const previousCache = new SecretCache({ client, versionStage: 'AWSPREVIOUS', clock: { now: () => now } });
    expect(await previousCache.getSecretString(name)).toBe('old-value');
    expect(await previousCache.getSecretString(name, { versionStage: 'AWSCURRENT' })).toBe('new-value');
  });

  it('returns a versionId-pinned value without refetching, even long after ttlMs and a rotation', async () => {
    const name = uniqueName('pinned');
    const created = await createStringSecret(client, name, 'pinned-v1');
    const v1 = created.VersionId!;
    const put = await putSecretValue(client, name, 'pinned-v2');
    const v2 = put.VersionId!;

    // The ids the SDK reports elsewhere agree with the ones CreateSecret/PutSecretValue returned.
    const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(versions.Versions?.map((version) => version.VersionId).sort()).toEqual([v1, v2].sort());
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages?.[v1]).toContain('AWSPREVIOUS');

    expect(await cache.getSecretString(name, { versionId: v1 })).toBe('pinned-v1');
    expect(await cache.getSecretString(name, { versionId: v2 })).toBe('pinned-v2');
    expect(cache.stats().fetches).toBe(2);

    await putSecretValue(client, name, 'pinned-v3'); // v1 loses its last stage
    now += TTL_MS * 1_000;

    expect(await cache.getSecretString(name, { versionId: v1 })).toBe('pinned-v1');
    expect(await cache.getSecretString(name, { versionId: v2 })).toBe('pinned-v2');
    const pinned = await cache.getSecretValue(name, { versionId: v1 });
    expect(pinned.versionId).toBe(v1);
    expect(cache.stats().fetches).toBe(2);
  });

  it('round-trips SecretBinary bytes exactly through getSecretBinary, as a fresh copy on every call', async () => {
    const name = uniqueName('binary');
    const bytes = new Uint8Array(randomBytes(64));
    bytes[0] = 0x00;
    bytes[1] = 0xff; // not valid UTF-8 on its own, so any text round-trip would show
    await createBinarySecret(client, name, bytes);

    const first = await cache.getSecretBinary(name);
    expect(first).toBeInstanceOf(Uint8Array);
    expect(Array.from(first)).toEqual(Array.from(bytes));

    first.fill(0);
    const second = await cache.getSecretBinary(name);
    expect(second).not.toBe(first);
    expect(Array.from(second)).toEqual(Array.from(bytes));
    expect(cache.stats().fetches).toBe(1);

    const value = await cache.getSecretValue(name);
    expect(value.secretString).toBeUndefined();
    expect(Array.from(value.secretBinary ?? [])).toEqual(Array.from(bytes));
  });

  it('rejects getSecretString on a binary secret with WRONG_TYPE', async () => {
    const name = uniqueName('binary-as-string');
    await createBinarySecret(client, name, new Uint8Array([1, 2, 3, 4]));

    const error = await rejection(cache.getSecretString(name));
    expect(error.code).toBe('WRONG_TYPE');
    expect(error.secretId).toBe(name);
  });

  it('rejects getSecretBinary on a string secret with WRONG_TYPE, without quoting the value', async () => {
    const name = uniqueName('string-as-binary');
    const value = sensitive('string-as-binary');
    await createStringSecret(client, name, value);

    const error = await rejection(cache.getSecretBinary(name));
    expect(error.code).toBe('WRONG_TYPE');
    expect(error.secretId).toBe(name);
    expectNoLeak(error, value);
  });

  it('parses a JSON secret with getSecretJson into a deep-frozen value', async () => {
    const name = uniqueName('json');
    const secret = { username: 'app', password: sensitive('password'), port: 5432, hosts: ['a', 'b'] };
    await createJsonSecret(client, name, secret);

    const parsed = await cache.getSecretJson<typeof secret>(name);
    expect(parsed).toEqual(secret);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed.hosts)).toBe(true);
    expect(() => {
      (parsed as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('validates a JSON secret against a zod schema and returns the schema output', async () => {
    const name = uniqueName('json-zod');
    const password = sensitive('password');
    await createJsonSecret(client, name, { username: 'app', password, port: 5432, extra: 'dropped' });

    const Db = z.object({ username: z.string(), password: z.string(), port: z.number().int() });
    const db = await cache.getSecretJson(name, { schema: Db });
    const typed: { username: string; password: string; port: number } = db;
    expect(typed).toEqual({ username: 'app', password, port: 5432 });
    expect(Object.isFrozen(db)).toBe(true);
  });

  it('rejects a JSON secret that does not match the zod schema with SCHEMA_MISMATCH, without quoting it', async () => {
    const name = uniqueName('json-mismatch');
    const password = sensitive('password');
    await createJsonSecret(client, name, { username: 'app', password, port: 'not-a-number' });

    const Db = z.object({ username: z.string(), password: z.number(), port: z.number() });
    const error = await rejection(cache.getSecretJson(name, { schema: Db }));
    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.secretId).toBe(name);
    expectNoLeak(error, password, 'not-a-number');
  });

  it('rejects a secret that is not JSON with INVALID_JSON, without quoting it', async () => {
    const name = uniqueName('not-json');
    const value = sensitive('notjson{');
    await createStringSecret(client, name, value);

    const error = await rejection(cache.getSecretJson(name));
    expect(error.code).toBe('INVALID_JSON');
    expect(error.secretId).toBe(name);
    expectNoLeak(error, value, value.slice(0, 10));
  });

  it('returns the full version record from getSecretValue', async () => {
    const name = uniqueName('value');
    const value = sensitive('value');
    const created = await createStringSecret(client, name, value);

    const record = await cache.getSecretValue(name);
    expect(record).toMatchObject({
      name,
      arn: created.ARN,
      versionId: created.VersionId,
      secretString: value,
    });
    expect(record.versionStages).toContain('AWSCURRENT');
    expect(record.secretBinary).toBeUndefined();
    expect(record.createdDate).toBeInstanceOf(Date);
  });

  it('rejects a missing secret with NOT_FOUND and secretId set, and no secret value in any rendering', async () => {
    const present = uniqueName('present');
    const presentValue = sensitive('present');
    await createStringSecret(client, present, presentValue);
    expect(await cache.getSecretString(present)).toBe(presentValue);

    const missing = uniqueName('missing');
    const error = await rejection(cache.getSecretString(missing));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.secretId).toBe(missing);
    expect(error.message).toContain(missing);
    expect(cache.stats().errors).toBeGreaterThanOrEqual(1);
    expectNoLeak(error, presentValue);

    const serialized = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
    expect(serialized).toMatchObject({ code: 'NOT_FOUND', secretId: missing });
  });

  it('rejects a missing version of an existing secret with NOT_FOUND', async () => {
    const name = uniqueName('missing-version');
    const value = sensitive('missing-version');
    await createStringSecret(client, name, value);

    const error = await rejection(cache.getSecretString(name, { versionStage: 'NO_SUCH_STAGE' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.secretId).toBe(name);
    expectNoLeak(error, value);
  });

  it('picks up a new value immediately on refreshNow', async () => {
    const name = uniqueName('refresh');
    await createStringSecret(client, name, 'refresh-v1');
    expect(await cache.getSecretString(name)).toBe('refresh-v1');

    await putSecretValue(client, name, 'refresh-v2');
    expect(await cache.getSecretString(name)).toBe('refresh-v1');

    await cache.refreshNow(name);
    expect(await cache.getSecretString(name)).toBe('refresh-v2');
    expect(cache.stats().fetches).toBe(2);
  });

  it('fetches again on the next read after invalidate(id), and leaves other entries cached', async () => {
    const name = uniqueName('invalidate');
    const other = uniqueName('invalidate-other');
    await createStringSecret(client, name, 'invalidate-v1');
    await createStringSecret(client, other, 'other-v1');
    expect(await cache.getSecretString(name)).toBe('invalidate-v1');
    expect(await cache.getSecretString(other)).toBe('other-v1');
    expect(cache.stats()).toMatchObject({ fetches: 2, size: 2 });

    await putSecretValue(client, name, 'invalidate-v2');
    cache.invalidate(name);
    expect(cache.stats().size).toBe(1);

    expect(await cache.getSecretString(name)).toBe('invalidate-v2');
    expect(await cache.getSecretString(other)).toBe('other-v1');
    expect(cache.stats().fetches).toBe(3);
  });

  it('empties the cache on invalidate() with no id', async () => {
    const name = uniqueName('invalidate-all');
    await createStringSecret(client, name, 'all-v1');
    await cache.getSecretString(name);
    expect(cache.stats().size).toBe(1);

    cache.invalidate();
    expect(cache.stats().size).toBe(0);
    await cache.getSecretString(name);
    expect(cache.stats().fetches).toBe(2);
  });

  it('holds at most maxEntries entries', async () => {
    const small = new SecretCache({ client, maxEntries: 2, clock: { now: () => now } });
    const names = [uniqueName('lru-a'), uniqueName('lru-b'), uniqueName('lru-c')];
    for (const name of names) await createStringSecret(client, name, `${name}-value`);

    for (const name of names) expect(await small.getSecretString(name)).toBe(`${name}-value`);
    expect(small.stats().size).toBe(2);
  });
});
