/**
 * The Lambda extension source on the wire, against a scripted server: its token and port from the environment,
 * its body dialect, its one generic 400, and the warm-up while the sandbox initialises.
 */
import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { isSecretCacheError, type SecretCacheError } from '../../src/errors.js';
import { lambdaExtensionSource } from '../../src/http.js';
import { expectNoFragment, renderingsOf } from '../support/leaks.js';
import { closedPort, type ScriptedServer, startScriptedServer } from './scripted-server.js';

const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLEsessionToken42';
const VALUE = 'extension-SENSITIVE-value-77aa';

let server: ScriptedServer;

const extensionBody = (secretId: string, value: string) => ({
  status: 200,
  json: {
    ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretId}-AbCdEf`,
    CreatedDate: '2024-01-02T03:04:05.678Z',
    Name: secretId,
    SecretBinary: null,
    SecretString: value,
    VersionId: 'v-1',
    VersionStages: ['AWSCURRENT'],
    ResultMetadata: {},
  },
});

beforeAll(async () => {
  server = await startScriptedServer(() => ({ status: 500 }));
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  vi.stubEnv('AWS_SESSION_TOKEN', SESSION_TOKEN);
  vi.stubEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', String(server.port));
  server.setScript(({ query }) => extensionBody(query[0]?.[1] ?? '', VALUE));
  (server.requests as unknown[]).length = 0;
});

afterEach(() => {
  vi.unstubAllEnvs();
});

async function rejection(promise: Promise<unknown>): Promise<SecretCacheError> {
  const error = await promise.then(
    () => expect.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  expect(isSecretCacheError(error)).toBe(true);
  return error as SecretCacheError;
}

describe('requests', () => {
  it('sends AWS_SESSION_TOKEN to the port PARAMETERS_SECRETS_EXTENSION_HTTP_PORT names, both read at the first request', async () => {
    const source = lambdaExtensionSource();
    vi.stubEnv('AWS_SESSION_TOKEN', 'set-later');

    const version = await source.getSecretValue({ secretId: 'app/key' });

    expect(version.secretString).toBe(VALUE);
    expect(server.requests[0]?.url).toBe('/secretsmanager/get?secretId=app%2Fkey');
    expect(server.requests[0]?.headers['x-aws-parameters-secrets-token']).toBe('set-later');
  });

  it('prefers the port option to the variable', async () => {
    vi.stubEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', '1');

    await lambdaExtensionSource({ port: server.port }).getSecretValue({ secretId: 'a' });

    expect(server.requests).toHaveLength(1);
  });

  it('uses port 2773 when the variable is unset or empty', async () => {
    vi.stubEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', '');
    const source = lambdaExtensionSource({ warmupMs: 0, timeoutMs: 500 });

    const error = await rejection(source.getSecretValue({ secretId: 'a' }));

    expect(error.message).toContain('127.0.0.1:2773');
  });

  it.each(['abc', '0', '65536', '80 80', '-1'])(
    'is INVALID_REQUEST naming the variable when it is %j, sending nothing',
    async (value) => {
      vi.stubEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', value);

      const error = await rejection(lambdaExtensionSource().getSecretValue({ secretId: 'a' }));

      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT');
      expect(server.requests).toHaveLength(0);
    },
  );

  it('never sends refreshNow (the extension has no such parameter): its own cache decides', async () => {
    await lambdaExtensionSource().getSecretValue({
      secretId: 'a',
      versionStage: 'AWSPREVIOUS',
      refreshNow: true,
    });

    expect(server.requests[0]?.url).toBe('/secretsmanager/get?secretId=a&versionStage=AWSPREVIOUS');
  });

  it('is ACCESS_DENIED without AWS_SESSION_TOKEN, sending nothing', async () => {
    vi.stubEnv('AWS_SESSION_TOKEN', undefined);

    const error = await rejection(lambdaExtensionSource().getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('ACCESS_DENIED');
    expect(error.message).toContain('AWS_SESSION_TOKEN');
    expect(server.requests).toHaveLength(0);
  });

  it('ignores a file:// session token (only the Agent reads token files)', async () => {
    vi.stubEnv('AWS_SESSION_TOKEN', 'file:///etc/hostname');

    await lambdaExtensionSource().getSecretValue({ secretId: 'a' });

    expect(server.requests[0]?.headers['x-aws-parameters-secrets-token']).toBe('file:///etc/hostname');
  });

  it('renders without the token', async () => {
    const source = lambdaExtensionSource();
    expect(String(source)).toBe('lambdaExtensionSource(127.0.0.1)');

    await source.getSecretValue({ secretId: 'a' });

    expect(String(source)).toBe(`lambdaExtensionSource(127.0.0.1:${server.port})`);
    expectNoFragment(renderingsOf(source), SESSION_TOKEN);
  });
});

describe('answers', () => {
  it('reads the extension dialect: an ISO date, the unused value null, ResultMetadata', async () => {
    const version = await lambdaExtensionSource().getSecretValue({ secretId: 'app/key' });

    expect(version).toEqual({
      name: 'app/key',
      arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/key-AbCdEf',
      versionId: 'v-1',
      versionStages: ['AWSCURRENT'],
      createdDate: new Date('2024-01-02T03:04:05.678Z'),
      secretString: VALUE,
    });
  });

  it('reads an Agent-style epoch date too', async () => {
    server.setScript(() => ({
      status: 200,
      json: { Name: 'a', SecretString: VALUE, CreatedDate: '1569534789.046' },
    }));

    const version = await lambdaExtensionSource().getSecretValue({ secretId: 'a' });

    expect(version.createdDate).toEqual(new Date(1_569_534_789_046));
  });

  it('maps its generic 400 to FETCH_FAILED (transient), explaining why, quoting nothing', async () => {
    server.setScript(() => ({ status: 400, body: 'an unexpected error occurred while executing request' }));

    const error = await rejection(lambdaExtensionSource().getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('FETCH_FAILED');
    expect(error.message).toContain('HTTP 400 without saying why');
    expect(error.message).not.toContain('unexpected error');
  });

  it.each([
    [400, 'ResourceNotFoundException: Secrets Manager cannot find the specified secret.', 'NOT_FOUND'],
    [400, '{"__type":"AccessDeniedException","message":"no"}', 'ACCESS_DENIED'],
    [429, 'slow down', 'THROTTLED'],
    [500, 'boom', 'FETCH_FAILED'],
    [404, 'not found', 'INVALID_REQUEST'],
    [401, 'unauthorized', 'ACCESS_DENIED'],
    [403, 'forbidden', 'ACCESS_DENIED'],
  ])('maps HTTP %i %j to %s', async (status, body, code) => {
    server.setScript(() => ({ status, body }));

    const error = await rejection(lambdaExtensionSource({ warmupMs: 0 }).getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe(code);
  });

  it('reads AWS_SESSION_TOKEN again once after a refusal, and retries when it changed', async () => {
    server.setScript(({ headers }) =>
      headers['x-aws-parameters-secrets-token'] === 'renewed'
        ? extensionBody('a', VALUE)
        : { status: 401, body: '' },
    );
    const source = lambdaExtensionSource();
    await rejection(source.getSecretValue({ secretId: 'a' }));
    vi.stubEnv('AWS_SESSION_TOKEN', 'renewed');

    const version = await source.getSecretValue({ secretId: 'a' });

    expect(version.secretString).toBe(VALUE);
    expect(server.requests).toHaveLength(3);
  });
});

describe('warm-up', () => {
  const NOT_READY = { status: 400, body: 'not ready to serve traffic, please wait' } as const;

  it('retries "not ready" answers until the extension serves, within warmupMs', async () => {
    server.setScript(({ query }, index) =>
      index < 4 ? NOT_READY : extensionBody(query[0]?.[1] ?? '', VALUE),
    );

    const version = await lambdaExtensionSource({ warmupMs: 2_000 }).getSecretValue({ secretId: 'a' });

    expect(version.secretString).toBe(VALUE);
    expect(server.requests).toHaveLength(5);
  });

  it('gives up after warmupMs from the first request, with a bounded number of attempts', async () => {
    server.setScript(() => NOT_READY);
    const source = lambdaExtensionSource({ warmupMs: 300 });
    const started = performance.now();

    const error = await rejection(source.getSecretValue({ secretId: 'a' }));
    const elapsed = performance.now() - started;

    expect(error.code).toBe('FETCH_FAILED');
    expect(error.message).toContain('still not ready');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
    // Pauses start at 10-20 ms and double to 125-250 ms: at most ~12 attempts fit in 300 ms.
    expect(server.requests.length).toBeGreaterThanOrEqual(3);
    expect(server.requests.length).toBeLessThanOrEqual(14);

    // The window is counted from the source's first request: a later request does not reopen it.
    (server.requests as unknown[]).length = 0;
    await rejection(source.getSecretValue({ secretId: 'a' }));
    expect(server.requests).toHaveLength(1);
  });

  it('retries refused connections until the extension listens', async () => {
    const port = await closedPort();
    const late = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(extensionBody('a', VALUE).json));
    });
    const timer = setTimeout(() => late.listen(port, '127.0.0.1'), 150);
    try {
      const version = await lambdaExtensionSource({ port, warmupMs: 3_000 }).getSecretValue({
        secretId: 'a',
      });

      expect(version.secretString).toBe(VALUE);
    } finally {
      clearTimeout(timer);
      late.closeAllConnections();
      await new Promise((resolve) => late.close(resolve));
    }
  });

  it('reports refused connections at once when warmupMs is 0', async () => {
    const port = await closedPort();
    const started = performance.now();

    const error = await rejection(
      lambdaExtensionSource({ port, warmupMs: 0 }).getSecretValue({ secretId: 'a' }),
    );

    expect(error.code).toBe('FETCH_FAILED');
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('reports "not ready" at once, saying so, when warmupMs is 0', async () => {
    server.setScript(() => NOT_READY);

    const error = await rejection(lambdaExtensionSource({ warmupMs: 0 }).getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('FETCH_FAILED');
    expect(error.message).toContain('still not ready (HTTP 400) (warmupMs is 0: no wait)');
    expect(server.requests).toHaveLength(1);
  });

  it('ends with the first real answer: a later "not ready" is reported, not retried', async () => {
    const source = lambdaExtensionSource({ warmupMs: 5_000 });
    await source.getSecretValue({ secretId: 'a' });
    server.setScript(() => NOT_READY);
    (server.requests as unknown[]).length = 0;

    const error = await rejection(source.getSecretValue({ secretId: 'a' }));

    expect(error.code).toBe('FETCH_FAILED');
    expect(server.requests).toHaveLength(1);
  });

  it('stops waiting when the signal aborts', async () => {
    server.setScript(() => NOT_READY);
    const controller = new AbortController();
    const reason = new Error('invocation ending');
    const pending = lambdaExtensionSource({ warmupMs: 10_000 }).getSecretValue(
      { secretId: 'a' },
      controller.signal,
    );
    await vi.waitFor(() => expect(server.requests.length).toBeGreaterThanOrEqual(2));

    controller.abort(reason);

    await expect(pending).rejects.toBe(reason);
    const attempts = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.requests).toHaveLength(attempts);
  });
});
