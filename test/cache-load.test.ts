import { inspect } from 'node:util';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { SecretCache } from '../src/cache.js';
import type { SecretCacheError } from '../src/errors.js';
import { secret } from '../src/manifest.js';
import { FakeClock } from './support/fakes.js';
import { expectNoFragment, renderingsOf } from './support/leaks.js';

const sm = mockClient(SecretsManagerClient);
const store = new Map<string, string>();

function awsVersion(id: string) {
  return {
    Name: id,
    ARN: `arn:aws:secretsmanager:us-east-1:1:secret:${id}-AbCdEf`,
    VersionId: `v-${id}`,
    VersionStages: ['AWSCURRENT'],
    SecretString: store.get(id),
  };
}

function answerBatch(input: { SecretIdList: string[] }) {
  return {
    SecretValues: input.SecretIdList.filter((id) => store.has(id)).map(awsVersion),
    Errors: input.SecretIdList.filter((id) => !store.has(id)).map((id) => ({
      SecretId: id,
      ErrorCode: 'ResourceNotFoundException',
      Message: "Secrets Manager can't find the specified secret.",
    })),
  };
}

function setup() {
  const clock = new FakeClock();
  const cache = new SecretCache({
    client: new SecretsManagerClient({}),
    clock,
    ttlMs: 60_000,
    ttlJitter: 0,
    retry: { retries: 0 },
  });
  return { cache, clock };
}

const batchCalls = () =>
  sm.commandCalls(BatchGetSecretValueCommand).map((call) => call.args[0].input.SecretIdList ?? []);
const singleCalls = () => sm.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input);

beforeEach(() => {
  sm.reset();
  store.clear();
  sm.on(BatchGetSecretValueCommand).callsFake(answerBatch);
  sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string; VersionStage?: string }) => {
    if (!store.has(input.SecretId))
      throw new ResourceNotFoundException({ message: 'missing', $metadata: {} });
    const version = awsVersion(input.SecretId);
    return input.VersionStage === 'AWSPREVIOUS'
      ? { ...version, VersionStages: ['AWSPREVIOUS'], SecretString: 'previous' }
      : version;
  });
});

describe('SecretCache.load', () => {
  it('fetches 45 secrets in three parallel batch calls of at most 20 ids', async () => {
    const manifest: Record<string, ReturnType<typeof secret.string>> = {};
    for (let i = 0; i < 45; i++) {
      store.set(`s${i}`, `value-${i}`);
      manifest[`k${i}`] = secret.string(`s${i}`);
    }
    const { cache } = setup();

    const loaded = await cache.load(manifest);

    expect(batchCalls().map((ids) => ids.length)).toEqual([20, 20, 5]);
    expect(singleCalls()).toEqual([]);
    expect(loaded.k44).toBe('value-44');
    expect(cache.stats().size).toBe(45);
  });

  it('asks for an id once however many entries use it', async () => {
    store.set('db', '{"user":"app","password":"pw"}');
    store.set('api', 'key');
    const { cache } = setup();

    const loaded = await cache.load({
      whole: secret.json('db'),
      user: secret.json('db', { key: 'user' }),
      password: secret.json('db', { key: 'password', schema: z.string().min(1) }),
      api: secret.string('api'),
    });

    expect(batchCalls()).toEqual([['db', 'api']]);
    expect(loaded).toEqual({
      whole: { user: 'app', password: 'pw' },
      user: 'app',
      password: 'pw',
      api: 'key',
    });
  });

  it('uses GetSecretValue for entries pinned to another stage or a version id', async () => {
    store.set('a', 'A');
    store.set('b', 'B');
    store.set('token', 'current');
    const { cache } = setup();

    const loaded = await cache.load({
      a: secret.string('a'),
      b: secret.string('b'),
      previous: secret.string('token', { versionStage: 'AWSPREVIOUS' }),
      pinned: secret.string('token', { versionId: 'v-token' }),
    });

    expect(batchCalls()).toEqual([['a', 'b']]);
    expect(singleCalls()).toEqual([
      { SecretId: 'token', VersionStage: 'AWSPREVIOUS' },
      { SecretId: 'token', VersionId: 'v-token' },
    ]);
    expect(loaded.previous).toBe('previous');
  });

  it('falls back to one GetSecretValue per id when the batch call is denied, and stops batching', async () => {
    store.set('a', 'A');
    store.set('b', 'B');
    sm.on(BatchGetSecretValueCommand).rejects(
      Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }),
    );
    const { cache, clock } = setup();

    expect(await cache.load({ a: secret.string('a'), b: secret.string('b') })).toEqual({ a: 'A', b: 'B' });
    expect(batchCalls()).toHaveLength(1);
    expect(singleCalls().map((input) => input.SecretId)).toEqual(['a', 'b']);

    clock.advance(60_000);
    await cache.load({ a: secret.string('a'), b: secret.string('b') });
    expect(batchCalls()).toHaveLength(1);
    expect(singleCalls()).toHaveLength(4);
  });

  it('makes no AWS call for a second load of a warm manifest', async () => {
    store.set('a', 'A');
    store.set('b', '{"x":1}');
    const { cache } = setup();
    const manifest = { a: secret.string('a'), b: secret.json('b', { key: 'x' }) };
    const first = await cache.load(manifest);
    sm.resetHistory();

    const second = await cache.load(manifest);

    expect(second).toEqual(first);
    expect(sm.calls()).toHaveLength(0);
  });

  it('reports every failed entry at once, by manifest key, secret id and code, and no value', async () => {
    store.set('ok', 'fine');
    store.set('text', 'not json: hunter2');
    store.set('db', '{"user":"app","port":"hunter2"}');
    const { cache } = setup();

    const error = (await cache
      .load({
        ok: secret.string('ok'),
        missing: secret.string('nope'),
        badJson: secret.json('text'),
        noKey: secret.json('db', { key: 'password' }),
        badShape: secret.json('db', { schema: z.object({ port: z.number() }) }),
      })
      .catch((e: unknown) => e)) as SecretCacheError;

    expect(error.code).toBe('LOAD_FAILED');
    expect(error.errors.map(({ key, secretId, code }) => [key, secretId, code])).toEqual([
      ['missing', 'nope', 'NOT_FOUND'],
      ['badJson', 'text', 'INVALID_JSON'],
      ['noKey', 'db', 'MISSING_KEY'],
      ['badShape', 'db', 'SCHEMA_MISMATCH'],
    ]);
    expect(`${error.message}${JSON.stringify(error)}${error.stack}`).not.toContain('hunter2');
    expect(singleCalls()).toEqual([]);
  });

  it('rejects a manifest that is not made of secret specs with INVALID_ARGUMENT', async () => {
    const { cache } = setup();

    await expect(cache.load({ a: { secretId: 'x' } } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(cache.load(null as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(sm.calls()).toHaveLength(0);
  });

  it('serves values due for refresh-ahead at once and refreshes them in one background batch', async () => {
    store.set('a', 'A');
    store.set('b', 'B');
    const { cache, clock } = setup();
    const manifest = { a: secret.string('a'), b: secret.string('b') };
    await cache.load(manifest);
    clock.advance(58_000); // inside the default refresh-ahead window (ttlMs / 10 = 6 s)
    let release: () => void = () => {};
    sm.on(BatchGetSecretValueCommand).callsFake(
      (input: { SecretIdList: string[] }) =>
        new Promise((resolve) => {
          release = () => resolve(answerBatch(input));
        }),
    );

    expect(await cache.load(manifest)).toEqual({ a: 'A', b: 'B' });
    expect(batchCalls()).toHaveLength(2);
    expect(cache.stats().inflight).toBe(2);
    release();
  });

  it('fetches entries pinned to another stage alongside the batch, not after it', async () => {
    store.set('a', 'A');
    store.set('b', 'B');
    store.set('token', 'current');
    sm.on(BatchGetSecretValueCommand).callsFake(() => new Promise(() => {}));
    const { cache } = setup();

    const pending = cache.load({
      a: secret.string('a'),
      b: secret.string('b'),
      previous: secret.string('token', { versionStage: 'AWSPREVIOUS' }),
    });
    pending.catch(() => {}); // the held batch times out after the test; nobody waits for it
    await new Promise((resolve) => setImmediate(resolve));

    expect(batchCalls()).toHaveLength(1);
    expect(singleCalls()).toEqual([{ SecretId: 'token', VersionStage: 'AWSPREVIOUS' }]);
  });

  it('leaves a lone secret to GetSecretValue', async () => {
    store.set('a', 'A');
    const { cache } = setup();

    await cache.load({ a: secret.string('a') });

    expect(batchCalls()).toEqual([]);
    expect(singleCalls()).toHaveLength(1);
  });
});

describe('what load resolves to renders without values (hardening defect 2)', () => {
  const PASSWORD = 'Zq9#Xv!Lk2@Wm7$Rp4^Tn8';
  const API_KEY = 'sk_live_Hf83JdKq0PzX';

  it('keeps every value readable but out of JSON, inspect and String', async () => {
    store.set('db', JSON.stringify({ username: 'app', password: PASSWORD }));
    store.set('api', API_KEY);
    const { cache } = setup();
    const secrets = await cache.load({
      db: secret.json<{ password: string }>('db'),
      apiKey: secret.string('api'),
    });

    expect(secrets.db.password).toBe(PASSWORD);
    expect(secrets.apiKey).toBe(API_KEY);
    expect(Object.keys(secrets)).toEqual(['db', 'apiKey']);
    expect(Object.isFrozen(secrets)).toBe(true);
    const rendered = renderingsOf(secrets);
    expectNoFragment(rendered, PASSWORD);
    expectNoFragment(rendered, API_KEY);
    expect(JSON.parse(JSON.stringify(secrets))).toEqual({ db: '<redacted>', apiKey: '<redacted>' });
    expect(inspect(secrets)).toBe('LoadedSecrets { db: <redacted>, apiKey: <redacted> }');
  });

  it('keeps entries named like Object.prototype methods readable and redacted', async () => {
    store.set('api', API_KEY);
    const { cache } = setup();
    const secrets = await cache.load({
      toString: secret.string('api'),
      valueOf: secret.string('api'),
      constructor: secret.string('api'),
      ['__proto__']: secret.string('api'),
    });
    expect(secrets.toString).toBe(API_KEY);
    expect(Object.getOwnPropertyDescriptor(secrets, '__proto__')?.value).toBe(API_KEY);
    expectNoFragment(renderingsOf(secrets), API_KEY);
  });

  it('rejects a manifest entry named toJSON, which would decide the JSON rendering', async () => {
    store.set('api', API_KEY);
    const { cache } = setup();
    await expect(cache.load({ toJSON: secret.string('api') })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('toJSON'),
    });
    expect(batchCalls().length + singleCalls().length).toBe(0);
  });
});

describe('load, batch by batch', () => {
  const manifestOf = (count: number) => {
    const manifest: Record<string, ReturnType<typeof secret.string>> = {};
    for (let i = 0; i < count; i++) {
      store.set(`s${i}`, `value-${i}`);
      manifest[`k${i}`] = secret.string(`s${i}`);
    }
    return manifest;
  };

  it('sends exactly two batch calls for 40 ids, counted as two fetches, and no single call', async () => {
    const { cache } = setup();
    await cache.load(manifestOf(40));
    expect(batchCalls().map((ids) => ids.length)).toEqual([20, 20]);
    expect(singleCalls()).toEqual([]);
    expect(cache.stats().fetches).toBe(2);
  });

  it('gives each id of a batch its own error', async () => {
    const { cache } = setup();
    store.set('present', 'value');
    sm.on(BatchGetSecretValueCommand).callsFake((input: { SecretIdList: string[] }) => ({
      SecretValues: [awsVersion('present')],
      Errors: [
        { SecretId: 'gone', ErrorCode: 'ResourceNotFoundException', Message: 'missing' },
        { SecretId: 'locked', ErrorCode: 'AccessDeniedException', Message: 'denied' },
      ].filter((error) => input.SecretIdList.includes(error.SecretId)),
    }));
    const error = (await cache
      .load({ a: secret.string('present'), b: secret.string('gone'), c: secret.string('locked') })
      .catch((e: unknown) => e)) as SecretCacheError;

    expect(error.errors.map(({ key, code }) => [key, code])).toEqual([
      ['b', 'NOT_FOUND'],
      ['c', 'ACCESS_DENIED'],
    ]);
    expect(singleCalls()).toEqual([]);
  });

  it('fetches alone an id the batch answered nothing about', async () => {
    const { cache } = setup();
    store.set('a', 'value-a');
    store.set('b', 'value-b');
    sm.on(BatchGetSecretValueCommand).callsFake(() => ({ SecretValues: [awsVersion('a')], Errors: [] }));
    const secrets = await cache.load({ a: secret.string('a'), b: secret.string('b') });

    expect({ ...secrets }).toEqual({ a: 'value-a', b: 'value-b' });
    expect(singleCalls().map((input) => input.SecretId)).toEqual(['b']);
  });

  it('fails every entry of a batch that failed transiently, without falling back to single calls', async () => {
    const { cache } = setup();
    sm.on(BatchGetSecretValueCommand).rejects(
      Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
    );
    const error = (await cache.load(manifestOf(3)).catch((e: unknown) => e)) as SecretCacheError;

    expect(error.errors.map(({ code }) => code)).toEqual(['THROTTLED', 'THROTTLED', 'THROTTLED']);
    expect(singleCalls()).toEqual([]);
  });

  it('reports batch fetches with the reason load and their duration', async () => {
    const events: Array<{ reason: string; durationMs: number }> = [];
    const clock = new FakeClock();
    const cache = new SecretCache({
      client: new SecretsManagerClient({}),
      clock,
      ttlJitter: 0,
      retry: { retries: 0 },
      hooks: { onFetch: ({ reason, durationMs }) => events.push({ reason, durationMs }) },
    });
    sm.on(BatchGetSecretValueCommand).callsFake(async (input: { SecretIdList: string[] }) => {
      clock.advance(40);
      return answerBatch(input);
    });
    await cache.load(manifestOf(2));
    expect(events).toEqual([
      { reason: 'load', durationMs: 40 },
      { reason: 'load', durationMs: 40 },
    ]);
  });

  it('puts an entry in the batch from exactly refreshAheadMs before its expiry', async () => {
    const clock = new FakeClock();
    const cache = new SecretCache({
      client: new SecretsManagerClient({}),
      clock,
      ttlMs: 60_000,
      refreshAheadMs: 10_000,
      ttlJitter: 0,
      retry: { retries: 0 },
    });
    const manifest = manifestOf(2);
    await cache.load(manifest);
    clock.advance(50_000 - 1);
    await cache.load(manifest);
    expect(batchCalls()).toHaveLength(1);
    clock.advance(1);
    await cache.load(manifest);
    expect(batchCalls()).toHaveLength(2);
    expect(singleCalls()).toEqual([]);
  });

  it('leaves keys out of the batch until exactly their backoff ends', async () => {
    const { cache, clock } = setup();
    const random = vi.spyOn(Math, 'random').mockReturnValue(0); // backoff: exactly half of 1 s
    const manifest = () => ({ b: secret.string('b'), c: secret.string('c') });
    try {
      let batches = 0;
      sm.on(BatchGetSecretValueCommand).callsFake((input: { SecretIdList: string[] }) => {
        if (batches++ > 0) return answerBatch(input);
        const throttled = (id: string) => ({
          SecretId: id,
          ErrorCode: 'ThrottlingException',
          Message: 'slow down',
        });
        return { SecretValues: [], Errors: input.SecretIdList.map(throttled) };
      });
      await cache.load(manifest()).catch(() => {});
      store.set('b', 'value-b');
      store.set('c', 'value-c');
      clock.advance(499);
      await expect(cache.load(manifest())).rejects.toMatchObject({ code: 'LOAD_FAILED' });
      expect(batchCalls()).toHaveLength(1);
      clock.advance(1);

      expect({ ...(await cache.load(manifest())) }).toEqual({ b: 'value-b', c: 'value-c' });
      expect(batchCalls()).toHaveLength(2);
      expect(singleCalls()).toEqual([]);
    } finally {
      random.mockRestore();
    }
  });
});
