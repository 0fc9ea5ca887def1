/**
 * Integration tests of `secretcache/http`: a `SecretCache` over `agentSource` and over `lambdaExtensionSource`,
 * each against its local imitation (test/support/agent-server.ts, extension-server.ts) in front of a real
 * moto_server. The cache's clock and the servers' clocks are one fake clock, so that "both caches expired" is
 * exact; only the warm-up tests wait in real time.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListSecretVersionIdsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { agentSource, lambdaExtensionSource } from '../../src/http.js';
import { isSecretCacheError, SecretCache, type SecretCacheError } from '../../src/index.js';
import type { SecretSource } from '../../src/source.js';
import { type AgentServer, startAgentServer } from '../support/agent-server.js';
import { type ExtensionServer, GENERIC_ERROR, startExtensionServer } from '../support/extension-server.js';
import { expectNoFragment, renderingsOf } from '../support/leaks.js';
import {
  createBinarySecret,
  createJsonSecret,
  createStringSecret,
  type MotoServer,
  putSecretValue,
  startMotoServer,
} from '../support/moto.js';

const AGENT_TOKEN = `Tk${randomUUID()}`;
const SESSION_TOKEN = `IQoJ-session-${randomUUID()}`;
const CACHE_TTL_MS = 60_000;
const SERVER_TTL_MS = 300_000;
const runId = randomUUID().slice(0, 8);
let seq = 0;
const uniqueName = (label: string): string => `http-${runId}/${label}+${++seq}`;
const sensitive = (label: string): string => `${label}-SENSITIVE-${randomUUID()}`;

let moto: MotoServer;
let client: SecretsManagerClient;
let agent: AgentServer;
let extension: ExtensionServer;
let dir: string;
let tokenFile: string;
let now = 1_700_000_000_000;
const clock = { now: () => now };

beforeAll(async () => {
  moto = await startMotoServer();
  client = moto.client();
  agent = await startAgentServer({ client, token: AGENT_TOKEN, ttlMs: SERVER_TTL_MS, now: clock.now });
  extension = await startExtensionServer({
    client,
    sessionToken: SESSION_TOKEN,
    ttlMs: SERVER_TTL_MS,
    now: clock.now,
  });
  dir = mkdtempSync(join(tmpdir(), 'secretcache-http-it-'));
  tokenFile = join(dir, 'awssmatoken');
  writeFileSync(tokenFile, `${AGENT_TOKEN}\n`);
});

afterAll(async () => {
  await agent?.close();
  await extension?.close();
  client?.destroy();
  await moto?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  vi.stubEnv('AWS_TOKEN', `file://${tokenFile}`);
  vi.stubEnv('AWS_SESSION_TOKEN', SESSION_TOKEN);
  vi.stubEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', String(extension.port));
  return () => vi.unstubAllEnvs();
});

async function rejection(promise: Promise<unknown>): Promise<SecretCacheError> {
  const error = await promise.then(
    () => expect.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  expect(isSecretCacheError(error)).toBe(true);
  return error as SecretCacheError;
}

const cacheOver = (source: SecretSource): SecretCache =>
  new SecretCache({ source, clock, ttlMs: CACHE_TTL_MS, ttlJitter: 0, refreshAheadMs: 0 });

interface Setup {
  readonly name: string;
  readonly source: () => SecretSource;
  readonly calls: () => number;
  /** The code a missing secret gets: the Agent passes AWS's name on, the extension says only 400. */
  readonly notFound: 'NOT_FOUND' | 'FETCH_FAILED';
}

const setups: Setup[] = [
  {
    name: 'agentSource',
    source: () => agentSource({ port: agent.port }),
    calls: () => agent.log.calls.getSecretValue,
    notFound: 'NOT_FOUND',
  },
  {
    name: 'lambdaExtensionSource',
    source: () => lambdaExtensionSource(),
    calls: () => extension.log.calls.getSecretValue,
    notFound: 'FETCH_FAILED',
  },
];

describe.each(setups)('a SecretCache over $name', ({ source, calls, notFound }) => {
  it('reads a string secret', async () => {
    const id = uniqueName('string');
    const value = sensitive('string');
    await createStringSecret(client, id, value);

    expect(await cacheOver(source()).getSecretString(id)).toBe(value);
  });

  it('reads a binary secret, byte for byte', async () => {
    const id = uniqueName('binary');
    const bytes = new Uint8Array(randomBytes(300));
    await createBinarySecret(client, id, bytes);

    expect(await cacheOver(source()).getSecretBinary(id)).toEqual(bytes);
  });

  it('reads a JSON secret', async () => {
    const id = uniqueName('json');
    const value = { username: 'orders', password: sensitive('json'), port: 5432 };
    await createJsonSecret(client, id, value);

    expect(await cacheOver(source()).getSecretJson(id)).toEqual(value);
  });

  it('reads AWSPREVIOUS and a version by id', async () => {
    const id = uniqueName('stages');
    const first = sensitive('first');
    const second = sensitive('second');
    const created = await createStringSecret(client, id, first);
    await putSecretValue(client, id, second);
    const cache = cacheOver(source());

    expect(await cache.getSecretString(id)).toBe(second);
    expect(await cache.getSecretString(id, { versionStage: 'AWSPREVIOUS' })).toBe(first);
    expect(await cache.getSecretString(id, { versionId: created.VersionId as string })).toBe(first);
    const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: id }));
    expect(versions.Versions).toHaveLength(2);
  });

  it(`reports a missing secret as ${notFound}, with its id and no token`, async () => {
    const id = uniqueName('missing');

    const error = await rejection(cacheOver(source()).getSecretString(id));

    expect(error.code).toBe(notFound);
    expect(error.secretId).toBe(id);
    const rendered = renderingsOf(error);
    expectNoFragment(rendered, AGENT_TOKEN);
    expectNoFragment(rendered, SESSION_TOKEN);
  });

  it('sees a rotation once both caches have expired, not before', async () => {
    const id = uniqueName('rotation');
    const before = sensitive('before');
    const after = sensitive('after');
    await createStringSecret(client, id, before);
    const cache = cacheOver(source());
    expect(await cache.getSecretString(id)).toBe(before);
    const fetched = calls();

    await putSecretValue(client, id, after);
    now += CACHE_TTL_MS + 1;
    expect(await cache.getSecretString(id)).toBe(before);
    expect(calls()).toBe(fetched);

    now += SERVER_TTL_MS;
    expect(await cache.getSecretString(id)).toBe(after);
    expect(calls()).toBe(fetched + 1);
  });

  it('never renders the token', () => {
    const rendered = renderingsOf(source());
    expectNoFragment(rendered, AGENT_TOKEN);
    expectNoFragment(rendered, SESSION_TOKEN);
  });
});

describe('agentSource and the Agent', () => {
  it('reads through refreshNow=true to moto when asked, past a fresh Agent cache entry', async () => {
    const id = uniqueName('refresh-now');
    const before = sensitive('before');
    const after = sensitive('after');
    await createStringSecret(client, id, before);
    const source = agentSource({ port: agent.port });
    expect((await source.getSecretValue({ secretId: id, versionStage: 'AWSCURRENT' })).secretString).toBe(
      before,
    );
    await putSecretValue(client, id, after);
    const fetched = agent.log.calls.getSecretValue;

    const cached = await source.getSecretValue({ secretId: id, versionStage: 'AWSCURRENT' });
    const fresh = await source.getSecretValue({ secretId: id, versionStage: 'AWSCURRENT', refreshNow: true });

    expect(cached.secretString).toBe(before);
    expect(fresh.secretString).toBe(after);
    expect(agent.log.calls.getSecretValue).toBe(fetched + 1);
    expect(agent.log.requests.at(-1)?.url).toMatch(/&refreshNow=true$/);
  });

  it('makes cache.refreshNow() reach moto through the Agent cache', async () => {
    const id = uniqueName('cache-refresh-now');
    const before = sensitive('before');
    const after = sensitive('after');
    await createStringSecret(client, id, before);
    const cache = cacheOver(agentSource({ port: agent.port }));
    expect(await cache.getSecretString(id)).toBe(before);
    await putSecretValue(client, id, after);

    await cache.refreshNow(id);

    expect(await cache.getSecretString(id)).toBe(after);
    expect(agent.log.requests.at(-1)?.url).toMatch(/&refreshNow=true$/);
  });

  it('reads the token the installer file holds, and again after the Agent restarts with a new one', async () => {
    const id = uniqueName('token-file');
    const value = sensitive('token-file');
    await createStringSecret(client, id, value);
    const cache = cacheOver(agentSource({ port: agent.port }));
    expect(await cache.getSecretString(id)).toBe(value);

    const restarted = `Tk${randomUUID()}`;
    agent.setToken(restarted);
    writeFileSync(tokenFile, restarted);
    now += CACHE_TTL_MS + 1;
    try {
      expect(await cache.getSecretString(id)).toBe(value);
      expect(agent.log.requests.slice(-2).map(({ status }) => status)).toEqual([403, 200]);
    } finally {
      agent.setToken(AGENT_TOKEN);
      writeFileSync(tokenFile, AGENT_TOKEN);
    }
  });

  it('is ACCESS_DENIED with a wrong token, and no part of either token shows', async () => {
    const wrong = `wrong-${randomUUID()}`;

    const error = await rejection(
      cacheOver(agentSource({ port: agent.port, token: wrong })).getSecretString('x'),
    );

    expect(error.code).toBe('ACCESS_DENIED');
    expectNoFragment(renderingsOf(error), wrong);
    expectNoFragment(renderingsOf(error), AGENT_TOKEN);
  });

  it('serves a stale value through an Agent that stopped answering', async () => {
    const id = uniqueName('stale');
    const value = sensitive('stale');
    await createStringSecret(client, id, value);
    const down = await startAgentServer({ client, token: AGENT_TOKEN, now: clock.now });
    const cache = cacheOver(agentSource({ port: down.port }));
    expect(await cache.getSecretString(id)).toBe(value);
    await down.close();
    now += CACHE_TTL_MS + 1;

    const read = await cache.getSecretValue(id);

    expect(read.secretString).toBe(value);
    expect(read.stale).toBe(true);
  });
});

describe('the local Agent behaves as the Agent does', () => {
  const raw = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: agent.port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end();
    });
  const token = { 'X-Aws-Parameters-Secrets-Token': AGENT_TOKEN };

  it.each([
    ['/secretsmanager/get?secretId=a', {}, 403, 'Bad Token'],
    ['/secretsmanager/get?secretId=a', { 'X-Aws-Parameters-Secrets-Token': 'nope' }, 403, 'Bad Token'],
    ['/secretsmanager/get?secretId=a&abc=1', token, 400, 'unknown parameter: abc'],
    ['/secretsmanager/get?versionStage=AWSCURRENT', token, 400, 'missing parameter secretId'],
    ['/secretsmanager/get?secretId=a&refreshNow=yes', token, 400, 'invalid refreshNow value'],
    ['/secretsmanager/get?secretId=a', { ...token, 'X-Forwarded-For': '10.0.0.1' }, 400, 'Forwarded'],
    ['/nowhere', token, 404, 'Not found'],
    ['/ping', {}, 200, 'healthy'],
  ])('GET %s with %j is %i %j', async (path, headers, status, body) => {
    expect(await raw(path, headers)).toEqual({ status, body });
  });

  it('passes an AWS error through with its status (moto answers 404 where AWS answers 400) and __type', async () => {
    const answer = await raw(
      `/secretsmanager/get?secretId=${encodeURIComponent(uniqueName('nothing'))}`,
      token,
    );

    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ __type: 'ResourceNotFoundException' });
  });
});

describe('lambdaExtensionSource and the extension', () => {
  it('answers a missing secret and a denied one alike: the generic 400', async () => {
    const local = await startExtensionServer({ client, sessionToken: SESSION_TOKEN });
    try {
      const error = await rejection(
        lambdaExtensionSource({ port: local.port }).getSecretValue({ secretId: uniqueName('nope') }),
      );
      expect(error.code).toBe('FETCH_FAILED');
      expect(error.message).not.toContain(GENERIC_ERROR);
      expect(local.log.requests.map(({ status }) => status)).toEqual([400]);
    } finally {
      await local.close();
    }
  });

  it.each(['not-ready', 'refuse'] as const)(
    'waits out an init phase that answers %s, within warmupMs',
    async (mode) => {
      const id = uniqueName(`warmup-${mode}`);
      const value = sensitive('warmup');
      await createStringSecret(client, id, value);
      const initialising = await startExtensionServer({
        client,
        sessionToken: SESSION_TOKEN,
        init: { mode, initMs: 300 },
      });
      try {
        const cache = new SecretCache({
          source: lambdaExtensionSource({ port: initialising.port, warmupMs: 3_000 }),
        });

        expect(await cache.getSecretString(id)).toBe(value);
        if (mode === 'not-ready') {
          const statuses = initialising.log.requests.map(({ status }) => status);
          expect(statuses.at(-1)).toBe(200);
          expect(statuses.slice(0, -1).every((status) => status === 400)).toBe(true);
          expect(statuses.length).toBeGreaterThan(1);
        }
      } finally {
        await initialising.close();
      }
    },
  );

  it('gives up after warmupMs when the extension never becomes ready', async () => {
    const stuck = await startExtensionServer({
      client,
      sessionToken: SESSION_TOKEN,
      init: { mode: 'not-ready', initMs: 60_000 },
    });
    try {
      const error = await rejection(
        lambdaExtensionSource({ port: stuck.port, warmupMs: 200 }).getSecretValue({ secretId: 'x' }),
      );
      expect(error.code).toBe('FETCH_FAILED');
      expect(stuck.log.requests.every(({ status }) => status === 400)).toBe(true);
      expect(stuck.log.requests.length).toBeLessThan(15);
    } finally {
      await stuck.close();
    }
  });
});
