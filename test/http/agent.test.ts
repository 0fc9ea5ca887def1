/**
 * The Agent source on the wire, against a scripted server: what each request carries, how each answer is read,
 * where the token comes from, and that no error or rendering carries a value or the token.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { isSecretCacheError, type SecretCacheError } from '../../src/errors.js';
import { agentSource } from '../../src/http.js';
import type { SecretRequest, SecretSource } from '../../src/source.js';
import { expectNoFragment, renderingsOf } from '../support/leaks.js';
import { agentBody, closedPort, type ScriptedServer, startScriptedServer } from './scripted-server.js';

const TOKEN = 'Zq8WmX3vT1pLk9Rb';
const VALUE = 'hunter2-SENSITIVE-value-8c1f';
const TOKEN_VARIABLES = ['AWS_TOKEN', 'AWS_SESSION_TOKEN', 'AWS_CONTAINER_AUTHORIZATION_TOKEN'] as const;

let server: ScriptedServer;
let dir: string;

beforeAll(async () => {
  server = await startScriptedServer(() => ({ status: 500 }));
  dir = mkdtempSync(join(tmpdir(), 'secretcache-agent-'));
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const name of TOKEN_VARIABLES) vi.stubEnv(name, undefined);
  server.setScript(() => agentBody('app/db', VALUE));
  (server.requests as unknown[]).length = 0;
});

afterEach(() => {
  vi.unstubAllEnvs();
});

const source = (options: Parameters<typeof agentSource>[0] = {}): SecretSource =>
  agentSource({ port: server.port, token: TOKEN, ...options });

async function rejection(promise: Promise<unknown>): Promise<SecretCacheError> {
  const error = await promise.then(
    () => expect.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  expect(isSecretCacheError(error)).toBe(true);
  return error as SecretCacheError;
}

/** Fails when an error or its renderings carry the token or the value. */
function expectClean(value: unknown): void {
  const rendered = renderingsOf(value);
  expectNoFragment(rendered, TOKEN);
  expectNoFragment(rendered, VALUE);
}

describe('requests', () => {
  it('sends a GET to /secretsmanager/get with the token header and only the parameters it was given', async () => {
    await source().getSecretValue({ secretId: 'app/db' });
    await source().getSecretValue({ secretId: 'app/db', versionStage: 'AWSPREVIOUS' });
    await source().getSecretValue({ secretId: 'app/db', versionId: 'v-9' });
    await source().getSecretValue({ secretId: 'app/db', versionStage: 'AWSCURRENT', versionId: 'v-9' });

    const [plain, staged, pinned, both] = server.requests;
    expect(plain?.method).toBe('GET');
    expect(plain?.headers['x-aws-parameters-secrets-token']).toBe(TOKEN);
    expect(plain?.url).toBe('/secretsmanager/get?secretId=app%2Fdb');
    expect(staged?.url).toBe('/secretsmanager/get?secretId=app%2Fdb&versionStage=AWSPREVIOUS');
    expect(pinned?.url).toBe('/secretsmanager/get?secretId=app%2Fdb&versionId=v-9');
    expect(both?.url).toBe('/secretsmanager/get?secretId=app%2Fdb&versionStage=AWSCURRENT&versionId=v-9');
    for (const request of server.requests) expect(request.headers['x-forwarded-for']).toBeUndefined();
  });

  it.each([
    ['a+b', 'a%2Bb'],
    ['path/to/secret', 'path%2Fto%2Fsecret'],
    ['with space', 'with%20space'],
    ['100%', '100%25'],
    ['naïve-日本-🔑', encodeURIComponent('naïve-日本-🔑')],
    ['a&b=c#d?e', 'a%26b%3Dc%23d%3Fe'],
    [
      'arn:aws:secretsmanager:us-east-1:1:secret:x',
      'arn%3Aaws%3Asecretsmanager%3Aus-east-1%3A1%3Asecret%3Ax',
    ],
  ])('percent-encodes %j as %s, which the server decodes back exactly', async (secretId, encoded) => {
    await source().getSecretValue({ secretId, versionStage: secretId });

    const [request] = server.requests;
    expect(request?.url).toBe(`/secretsmanager/get?secretId=${encoded}&versionStage=${encoded}`);
    expect(request?.query).toEqual([
      ['secretId', secretId],
      ['versionStage', secretId],
    ]);
  });

  it('refuses an id with a lone surrogate (it has no UTF-8 form) with INVALID_ARGUMENT, sending nothing', async () => {
    const error = await rejection(source().getSecretValue({ secretId: 'bad\uD800id' }));

    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(server.requests).toHaveLength(0);
  });

  it('adds refreshNow=true only when the request asks for a fresh value', async () => {
    await source().getSecretValue({ secretId: 'a', refreshNow: true });
    await source().getSecretValue({ secretId: 'a', refreshNow: false });
    await source().getSecretValue({ secretId: 'a', versionStage: 'AWSPENDING', refreshNow: true });

    expect(server.requests.map(({ url }) => url)).toEqual([
      '/secretsmanager/get?secretId=a&refreshNow=true',
      '/secretsmanager/get?secretId=a',
      '/secretsmanager/get?secretId=a&versionStage=AWSPENDING&refreshNow=true',
    ]);
  });

  it('asks an Agent that refuses refreshNow again without it, and does not send it again', async () => {
    server.setScript(({ query }) =>
      query.some(([name]) => name === 'refreshNow')
        ? { status: 400, body: 'unknown parameter: refreshNow' }
        : agentBody('a', VALUE),
    );
    const agent = source();

    const first = await agent.getSecretValue({ secretId: 'a', refreshNow: true });
    await agent.getSecretValue({ secretId: 'a', refreshNow: true });

    expect(first.secretString).toBe(VALUE);
    expect(server.requests.map(({ url }) => url)).toEqual([
      '/secretsmanager/get?secretId=a&refreshNow=true',
      '/secretsmanager/get?secretId=a',
      '/secretsmanager/get?secretId=a',
    ]);
  });

  it('makes no request and reads no variable at construction', async () => {
    const read = vi.fn();
    const env = new Proxy(process.env, {
      get: (target, name) => {
        read(name);
        return Reflect.get(target, name);
      },
    });
    const original = process.env;
    process.env = env;
    try {
      agentSource({ port: server.port });
    } finally {
      process.env = original;
    }

    expect(read).not.toHaveBeenCalled();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.requests).toHaveLength(0);
  });

  it('reuses one keep-alive connection for consecutive requests', async () => {
    const agent = source();
    await agent.getSecretValue({ secretId: 'a' });
    await agent.getSecretValue({ secretId: 'a' });

    expect(server.requests.map(({ headers }) => headers.connection)).toEqual(['keep-alive', 'keep-alive']);
  });
});

describe('the token', () => {
  it('is the `token` option when given, whatever the environment says', async () => {
    vi.stubEnv('AWS_TOKEN', 'from-env');

    await agentSource({ port: server.port, token: 'from-option' }).getSecretValue({ secretId: 'a' });

    expect(server.requests[0]?.headers['x-aws-parameters-secrets-token']).toBe('from-option');
  });

  it.each([
    [{ AWS_TOKEN: 't1', AWS_SESSION_TOKEN: 't2', AWS_CONTAINER_AUTHORIZATION_TOKEN: 't3' }, 't1'],
    [{ AWS_SESSION_TOKEN: 't2', AWS_CONTAINER_AUTHORIZATION_TOKEN: 't3' }, 't2'],
    [{ AWS_CONTAINER_AUTHORIZATION_TOKEN: 't3' }, 't3'],
    [{ AWS_TOKEN: '', AWS_SESSION_TOKEN: 't2' }, ''],
  ])('is otherwise the first variable set, in the Agent order (%j gives %j)', async (variables, expected) => {
    for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, value);

    await agentSource({ port: server.port }).getSecretValue({ secretId: 'a' });

    expect(server.requests[0]?.headers['x-aws-parameters-secrets-token']).toBe(expected);
  });

  it('is read at the first request, not at construction', async () => {
    const agent = agentSource({ port: server.port });
    vi.stubEnv('AWS_SESSION_TOKEN', 'set-after-construction');

    await agent.getSecretValue({ secretId: 'a' });

    expect(server.requests[0]?.headers['x-aws-parameters-secrets-token']).toBe('set-after-construction');
  });

  it('is the trimmed content of the file a file:// value names, from a variable or the option', async () => {
    const file = join(dir, 'awssmatoken');
    writeFileSync(file, '  file-token-1\n');
    vi.stubEnv('AWS_TOKEN', `file://${file}`);

    await agentSource({ port: server.port }).getSecretValue({ secretId: 'a' });
    await agentSource({ port: server.port, token: `file://${file}` }).getSecretValue({ secretId: 'a' });

    expect(server.requests.map(({ headers }) => headers['x-aws-parameters-secrets-token'])).toEqual([
      'file-token-1',
      'file-token-1',
    ]);
  });

  it('is ACCESS_DENIED, naming the variables, when none is set; nothing is sent', async () => {
    const error = await rejection(agentSource({ port: server.port }).getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('ACCESS_DENIED');
    expect(error.message).toContain('AWS_TOKEN, AWS_SESSION_TOKEN, AWS_CONTAINER_AUTHORIZATION_TOKEN');
    expect(server.requests).toHaveLength(0);
  });

  it('is ACCESS_DENIED, naming the file and the error code, when the file cannot be read', async () => {
    const missing = join(dir, 'no-such-token');
    vi.stubEnv('AWS_TOKEN', `file://${missing}`);

    const error = await rejection(agentSource({ port: server.port }).getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('ACCESS_DENIED');
    expect(error.message).toContain(missing);
    expect(error.message).toContain('ENOENT');
  });

  it('on a 403, is read again once and the request retried once with the new token', async () => {
    const file = join(dir, 'rotating-token');
    writeFileSync(file, 'old-token');
    server.setScript(({ headers }) =>
      headers['x-aws-parameters-secrets-token'] === 'new-token'
        ? agentBody('a', VALUE)
        : { status: 403, body: 'Bad Token' },
    );
    const agent = agentSource({ port: server.port, token: `file://${file}` });
    const before = await rejection(agent.getSecretValue({ secretId: 'a' }));
    writeFileSync(file, 'new-token');

    const version = await agent.getSecretValue({ secretId: 'a' });

    expect(before.code).toBe('ACCESS_DENIED');
    expect(version.secretString).toBe(VALUE);
    expect(server.requests.map(({ headers }) => headers['x-aws-parameters-secrets-token'])).toEqual([
      'old-token',
      'old-token',
      'new-token',
    ]);
  });

  it('on a 403 with an unchanged token, is not retried; a second 403 after a new token is not retried again', async () => {
    const file = join(dir, 'always-refused');
    writeFileSync(file, 'token-a');
    server.setScript((_, index) => {
      if (index === 0) writeFileSync(file, 'token-b');
      return { status: 403, body: 'Bad Token' };
    });

    const error = await rejection(
      agentSource({ port: server.port, token: `file://${file}` }).getSecretValue({ secretId: 'a' }),
    );

    expect(error.code).toBe('ACCESS_DENIED');
    expect(server.requests).toHaveLength(2);
    (server.requests as unknown[]).length = 0;

    const again = await rejection(source({ token: 'literal-refused' }).getSecretValue({ secretId: 'a' }));
    expect(again.code).toBe('ACCESS_DENIED');
    expect(server.requests).toHaveLength(1);
  });

  it('lets concurrent requests refused with the same token all retry with the one read again', async () => {
    const file = join(dir, 'shared-token');
    writeFileSync(file, 'stale');
    let release: () => void = () => undefined;
    const allArrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    let refused = 0;
    server.setScript(async ({ headers }) => {
      if (headers['x-aws-parameters-secrets-token'] === 'fresh') return agentBody('a', VALUE);
      refused += 1;
      if (refused === 3) {
        writeFileSync(file, 'fresh');
        release();
      }
      await allArrived;
      return { status: 403, body: 'Bad Token' };
    });
    const agent = agentSource({ port: server.port, token: `file://${file}` });

    const versions = await Promise.all([1, 2, 3].map(() => agent.getSecretValue({ secretId: 'a' })));

    expect(versions.map(({ secretString }) => secretString)).toEqual([VALUE, VALUE, VALUE]);
    expect(server.requests.map(({ headers }) => headers['x-aws-parameters-secrets-token'])).toEqual([
      'stale',
      'stale',
      'stale',
      'fresh',
      'fresh',
      'fresh',
    ]);
  });

  it('never appears in an error or a rendering of the source', async () => {
    server.setScript(() => ({ status: 403, body: 'Bad Token' }));
    const agent = source();

    const error = await rejection(agent.getSecretValue({ secretId: 'a' }));

    expectClean(error);
    expectClean(agent);
    expect(String(agent)).toBe(`agentSource(127.0.0.1:${server.port})`);
    expect(JSON.parse(JSON.stringify(agent))).toEqual({
      source: 'agentSource',
      host: '127.0.0.1',
      port: server.port,
    });
  });
});

describe('answers', () => {
  it('reads an Agent body: epoch seconds in a string, stages, ARN, version id', async () => {
    const version = await source().getSecretValue({ secretId: 'app/db' });

    expect(version).toEqual({
      name: 'app/db',
      arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf',
      versionId: 'v-1',
      versionStages: ['AWSCURRENT'],
      createdDate: new Date(1_700_000_000_123),
      secretString: VALUE,
    });
  });

  it('reads an extension-style body too: an ISO date, a null value field, ResultMetadata', async () => {
    server.setScript(() => ({
      status: 200,
      json: {
        ARN: 'arn:x',
        Name: 'a',
        VersionId: 'v-2',
        SecretString: null,
        SecretBinary: Buffer.from([0, 1, 2, 255]).toString('base64'),
        VersionStages: ['AWSPREVIOUS'],
        CreatedDate: '2024-05-06T07:08:09.010Z',
        ResultMetadata: {},
      },
    }));

    const version = await source().getSecretValue({ secretId: 'a' });

    expect(version.createdDate).toEqual(new Date('2024-05-06T07:08:09.010Z'));
    expect(version.secretBinary).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect(version.secretString).toBeUndefined();
    expect('secretString' in version).toBe(false);
  });

  it('takes absent and null metadata as absent (the Agent writes null for a missing ARN or date)', async () => {
    server.setScript(() => ({
      status: 200,
      json: { ARN: null, Name: null, VersionId: null, CreatedDate: null, SecretString: VALUE },
    }));

    const version = await source().getSecretValue({ secretId: 'fallback-name' });

    expect(version).toEqual({
      name: 'fallback-name',
      arn: '',
      versionId: '',
      versionStages: [],
      createdDate: undefined,
      secretString: VALUE,
    });
  });

  it('passes a version with no value through (the cache reports NO_VALUE)', async () => {
    server.setScript(() => ({
      status: 200,
      json: { Name: 'a', VersionId: 'p', VersionStages: ['AWSPENDING'] },
    }));

    const version = await source().getSecretValue({ secretId: 'a' });

    expect(version.secretString).toBeUndefined();
    expect(version.secretBinary).toBeUndefined();
  });

  it.each([
    [
      'a SecretString that is a number',
      { SecretString: 12_345_678 },
      'SecretString that is not a string (a number)',
    ],
    [
      'a SecretString that is an object',
      { SecretString: { password: VALUE } },
      'SecretString that is not a string',
    ],
    ['a SecretBinary that is not base64', { SecretBinary: `${VALUE}!` }, 'SecretBinary that is not base64'],
    ['both values', { SecretString: VALUE, SecretBinary: 'AAEC' }, 'both a SecretString and a SecretBinary'],
    [
      'a date that is no date',
      { SecretString: VALUE, CreatedDate: `${VALUE}` },
      'CreatedDate that is not a date',
    ],
    [
      'stages that are not strings',
      { SecretString: VALUE, VersionStages: [1] },
      'VersionStages that are not',
    ],
    ['a Name that is a number', { SecretString: VALUE, Name: 7 }, 'Name that is not a string'],
  ])('refuses %s with FETCH_FAILED, quoting nothing', async (_, fields, phrase) => {
    server.setScript(() => ({ status: 200, json: { Name: 'a', ...fields } }));

    const error = await rejection(source().getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('FETCH_FAILED');
    expect(error.message).toContain(phrase);
    expectClean(error);
    expectNoFragment(renderingsOf(error), '12345678');
  });

  it.each([
    ['a 200', 200],
    ['a 400', 400],
    ['a 500', 500],
  ])('reports a body that is not JSON in %s by its length only', async (_, status) => {
    const body = `{"SecretString": "${VALUE}" <- broken`;
    server.setScript(() => ({ status, body }));

    const error = await rejection(source().getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe(status === 400 ? 'INVALID_REQUEST' : 'FETCH_FAILED');
    if (status === 200) expect(error.message).toContain(`${Buffer.byteLength(body)} bytes`);
    expectClean(error);
  });

  it('reports JSON that is not an object by its type only', async () => {
    server.setScript(() => ({ status: 200, json: VALUE }));

    const error = await rejection(source().getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('FETCH_FAILED');
    expect(error.message).toContain('JSON that is not an object (a string)');
    expectClean(error);
  });
});

describe('errors', () => {
  const awsError =
    (status: number, type: string, message = 'AWS says why') =>
    () => ({
      status,
      json: { __type: type, message },
    });

  it.each([
    [400, 'ResourceNotFoundException', 'NOT_FOUND'],
    [400, 'AccessDeniedException', 'ACCESS_DENIED'],
    [400, 'DecryptionFailure', 'DECRYPTION_FAILED'],
    [400, 'InvalidRequestException', 'INVALID_REQUEST'],
    [400, 'InvalidParameterException', 'INVALID_REQUEST'],
    [400, 'ThrottlingException', 'THROTTLED'],
    [400, 'InvalidSignatureException', 'ACCESS_DENIED'],
    [400, 'com.amazonaws.secretsmanager#ResourceNotFoundException', 'NOT_FOUND'],
    [400, 'SomethingNewException', 'FETCH_FAILED'],
    [500, 'InternalServiceError', 'FETCH_FAILED'],
    [500, 'InternalFailure', 'FETCH_FAILED'],
    [502, 'ConnectionError', 'FETCH_FAILED'],
    [504, 'TimeoutError', 'FETCH_FAILED'],
  ])('maps HTTP %i %s to %s, keeping AWS message as the cause', async (status, type, code) => {
    server.setScript(awsError(status, type));

    const error = await rejection(source().getSecretValue({ secretId: 'app/db' }));

    expect(error.code).toBe(code);
    expect(error.secretId).toBe('app/db');
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain(type.replace(/^.*#/, ''));
    expect((error.cause as Error).message).toBe('AWS says why');
    expect((error.cause as Error).name).toBe(type.replace(/^.*#/, ''));
  });

  it('reads the AWS error name from the Agent JSON that an unescaped quote in the message broke', async () => {
    const body = '{"__type":"ResourceNotFoundException", "message":"Secret "x" not found"}';
    server.setScript(() => ({ status: 400, body }));

    const error = await rejection(source().getSecretValue({ secretId: 'x' }));

    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).not.toContain('not found"');
  });

  it.each([
    [400, 'unknown parameter: abc', 'INVALID_REQUEST'],
    [400, 'Forwarded', 'INVALID_REQUEST'],
    [404, 'Not found', 'INVALID_REQUEST'],
    [405, 'Not allowed', 'INVALID_REQUEST'],
    [429, 'Connection limit exceeded', 'THROTTLED'],
    [503, 'Serving not enabled. Hit the /start_serving endpoint to enable serving requests.', 'FETCH_FAILED'],
    [500, '{"__type":"InternalFailure"}', 'FETCH_FAILED'],
    [302, 'elsewhere', 'FETCH_FAILED'],
  ])('maps the Agent plain HTTP %i (%s) to %s, not quoting the body', async (status, body, code) => {
    server.setScript(() => ({ status, body }));

    const error = await rejection(source().getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe(code);
    if (!body.startsWith('{')) expect(error.message).not.toContain(body);
  });

  it('is FETCH_FAILED naming the address for a refused connection, and TIMEOUT for a hung request', async () => {
    const port = await closedPort();
    const refused = await rejection(agentSource({ port, token: TOKEN }).getSecretValue({ secretId: 'a' }));
    server.setScript(() => 'hang');
    const started = performance.now();
    const hung = await rejection(source({ timeoutMs: 150 }).getSecretValue({ secretId: 'a' }));
    const elapsed = performance.now() - started;

    expect(refused.code).toBe('FETCH_FAILED');
    expect(refused.message).toContain(`127.0.0.1:${port}`);
    expect(refused.message).toContain('refused');
    expect(hung.code).toBe('TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2_000);
    expectClean(refused);
    expectClean(hung);
  });

  it('is FETCH_FAILED for a connection reset before the answer', async () => {
    server.setScript(() => 'reset');

    const error = await rejection(source().getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('FETCH_FAILED');
  });

  it('is FETCH_FAILED for an answer cut off in its body, quoting none of it', async () => {
    server.setScript(() => 'truncated');

    const error = await rejection(source().getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('FETCH_FAILED');
    expect(renderingsOf(error)).not.toContain('half');
  });

  it('is FETCH_FAILED for an answer larger than 1 MiB, by its size only', async () => {
    server.setScript(() => ({ status: 200, body: `${VALUE}${'x'.repeat(1_100_000)}` }));

    const error = await rejection(source().getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('FETCH_FAILED');
    expect(error.message).toContain('exceeds 1048576 bytes');
    expectClean(error);
  });

  it('retries once on a fresh connection when a reused keep-alive one was closed under it', async () => {
    const agent = source();
    await agent.getSecretValue({ secretId: 'a' });
    server.setScript((_, index) => (index === 1 ? 'reset' : agentBody('a', VALUE)));

    const version = await agent.getSecretValue({ secretId: 'a' });

    expect(version.secretString).toBe(VALUE);
    expect(server.requests).toHaveLength(3);
  });

  it('aborts the request when the signal aborts, rejecting with its reason', async () => {
    server.setScript(() => 'hang');
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const pending = source({ timeoutMs: 10_000 }).getSecretValue({ secretId: 'a' }, controller.signal);
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));

    controller.abort(reason);

    await expect(pending).rejects.toBe(reason);
  });

  it('rejects at once with the reason of a signal that had already aborted, sending nothing', async () => {
    const reason = new Error('already');

    await expect(source().getSecretValue({ secretId: 'a' }, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(server.requests).toHaveLength(0);
  });
});

describe('a request with every field', () => {
  it('types as a SecretRequest', () => {
    const request: SecretRequest = { secretId: 'a', versionStage: 'S', versionId: 'V', refreshNow: true };
    expect(request.refreshNow).toBe(true);
  });
});
