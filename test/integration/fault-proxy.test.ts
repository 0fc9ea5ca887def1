/**
 * Self-test of the fault-injecting proxy: every mode observed through a real SecretsManagerClient against a real
 * moto_server. The client is built with `maxAttempts: 1`, so each `send` is exactly one HTTP request and the
 * proxy's counts can be asserted exactly.
 */
import { randomUUID } from 'node:crypto';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, startFaultProxy } from '../support/fault-proxy.js';
import { createStringSecret } from '../support/moto.js';
import { useProxiedMoto } from '../support/proxied-moto.js';

const NAME = `fault-proxy-${randomUUID().slice(0, 8)}/db`;
const VALUE = 'proxy-value-v1';

const env = useProxiedMoto();

beforeAll(async () => {
  await createStringSecret(env.admin, NAME, VALUE);
});

const getValue = (abortSignal?: AbortSignal) =>
  env.client.send(
    new GetSecretValueCommand({ SecretId: NAME }),
    abortSignal === undefined ? {} : { abortSignal },
  );

async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the request to fail, but it succeeded');
}

describe('fault proxy in front of moto_server', () => {
  it('passes requests through to moto and counts them by operation and in total', async () => {
    const output = await getValue();
    expect(output.SecretString).toBe(VALUE);
    await env.client.send(new DescribeSecretCommand({ SecretId: NAME }));
    await getValue();

    expect(env.proxy.count('GetSecretValue')).toBe(2);
    expect(env.proxy.count('secretsmanager.GetSecretValue')).toBe(2);
    expect(env.proxy.count('DescribeSecret')).toBe(1);
    expect(env.proxy.counts()).toMatchObject({ total: 3, forwarded: 3, byOperation: { GetSecretValue: 2 } });

    env.proxy.resetCounters();
    expect(env.proxy.counts()).toMatchObject({ total: 0, forwarded: 0, byOperation: {} });
  });

  it('adds latency to a passed-through request', async () => {
    env.proxy.passThrough(150);
    const started = performance.now();
    expect((await getValue()).SecretString).toBe(VALUE);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(env.proxy.counts().forwarded).toBe(1);
  });

  it('answers ThrottlingException, which the SDK surfaces by name with HTTP 400', async () => {
    env.proxy.inject('throttle');
    const error = await failure(getValue());
    expect(error.name).toBe('ThrottlingException');
    expect(error.message).toBe('Rate exceeded');
    expect((error.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(400);
    expect(env.proxy.counts()).toMatchObject({ total: 1, forwarded: 0, faulted: { throttle: 1 } });
  });

  it('answers HTTP 500 InternalServiceError and HTTP 503 ServiceUnavailable as server errors', async () => {
    env.proxy.inject('internal-error');
    const internal = await failure(getValue());
    expect(internal.name).toBe('InternalServiceError');
    expect(internal.$fault).toBe('server');
    expect((internal.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(500);

    env.proxy.inject('unavailable');
    const unavailable = await failure(getValue());
    expect(unavailable.name).toBe('ServiceUnavailable');
    expect(unavailable.$fault).toBe('server');
    expect((unavailable.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(503);

    expect(env.proxy.counts()).toMatchObject({
      total: 2,
      forwarded: 0,
      faulted: { 'internal-error': 1, unavailable: 1 },
    });
  });

  it('resets the connection, which the SDK surfaces as a network error without an HTTP status', async () => {
    env.proxy.inject('reset');
    const error = await failure(getValue());
    expect((error.$metadata as { httpStatusCode?: number } | undefined)?.httpStatusCode).toBeUndefined();
    expect(`${String(error.code)} ${error.message}`).toMatch(/ECONNRESET|socket hang up/);
    expect(env.proxy.counts()).toMatchObject({ total: 1, faulted: { reset: 1 } });

    env.proxy.passThrough();
    expect((await getValue()).SecretString).toBe(VALUE); // the client recovers on a fresh connection
  });

  it('hangs: no answer arrives before the client aborts after 200 ms', async () => {
    env.proxy.inject('hang');
    const started = performance.now();
    const error = await failure(getValue(AbortSignal.timeout(200)));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(error.name).toMatch(/AbortError|TimeoutError/);
    expect(env.proxy.counts()).toMatchObject({ total: 1, forwarded: 0, faulted: { hang: 1 } });

    // The request was held open; the client's abort closes its socket, which the proxy stops tracking.
    await expect.poll(() => env.proxy.hanging, { timeout: 2_000 }).toBe(0);
  });

  it('faults only the named operations', async () => {
    env.proxy.inject('throttle', { operations: ['GetSecretValue'] });
    await env.client.send(new DescribeSecretCommand({ SecretId: NAME }));
    expect((await failure(getValue())).name).toBe('ThrottlingException');
    expect(env.proxy.counts()).toMatchObject({ total: 2, forwarded: 1, faulted: { throttle: 1 } });
  });

  it('faults a seeded fraction of requests, the same ones for the same seed', async () => {
    const outcomes = async (): Promise<boolean[]> => {
      env.proxy.seed(42);
      env.proxy.inject('unavailable', { probability: 0.3 });
      const results: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        results.push(
          await getValue().then(
            () => true,
            () => false,
          ),
        );
      }
      return results;
    };
    const first = await outcomes();
    const second = await outcomes();
    expect(second).toEqual(first);

    // The outcomes are the seeded RNG's draws: fault when random() < p.
    const random = seededRandom(42);
    const expected = first.map(() => !(random() < 0.3));
    expect(first).toEqual(expected);
    const failed = first.filter((ok) => !ok).length;
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(40);
    expect(env.proxy.counts()).toMatchObject({ total: 80, faulted: { unavailable: failed * 2 } });
  });

  it('close() destroys hung sockets and stops the server', async () => {
    const own = await startFaultProxy({ target: env.moto.endpoint, mode: { fault: 'hang' } });
    const ownClient = env.moto.client({ endpoint: own.endpoint, maxAttempts: 1 });
    try {
      const pending = failure(ownClient.send(new GetSecretValueCommand({ SecretId: NAME })));
      await expect.poll(() => own.hanging, { timeout: 2_000 }).toBe(1);
      await own.close();
      const error = await pending; // the SDK sees its connection die
      expect((error.$metadata as { httpStatusCode?: number } | undefined)?.httpStatusCode).toBeUndefined();
      expect(`${String(error.code)} ${error.message}`).toMatch(/ECONNRESET|socket hang up/);
      expect(own.hanging).toBe(0);
      await expect(fetch(`${own.endpoint}/`)).rejects.toThrow();
    } finally {
      ownClient.destroy();
      await own.close();
    }
  });
});
