import { afterEach, describe, expect, it, vi } from 'vitest';
import { SecretCacheError } from '../src/errors.js';
import { DEFAULT_RETRY, Fetcher, isTransient } from '../src/fetcher.js';
import type { SecretRequest, SecretSource, SecretVersion } from '../src/source.js';

const version: SecretVersion = {
  name: 'db',
  arn: 'arn:db',
  versionId: 'v1',
  versionStages: ['AWSCURRENT'],
  createdDate: undefined,
  secretString: 'ok',
};
const request: SecretRequest = { secretId: 'db', versionStage: 'AWSCURRENT' };
const noDelay = { retries: 2, minTimeoutMs: 0, maxTimeoutMs: 0 };

function scripted(...answers: Array<unknown>): SecretSource & { calls: number } {
  const source = {
    calls: 0,
    async getSecretValue(): Promise<SecretVersion> {
      const answer = answers[Math.min(source.calls++, answers.length - 1)];
      if (answer instanceof Error) throw answer;
      return answer as SecretVersion;
    },
  };
  return source;
}

const named = (name: string) => Object.assign(new Error(name), { name });

afterEach(() => {
  vi.useRealTimers();
});

describe('Fetcher', () => {
  it('retries throttling and server errors, then answers', async () => {
    const source = scripted(named('ThrottlingException'), named('InternalServiceError'), version);

    await expect(new Fetcher(source, noDelay, 5_000).fetch(request)).resolves.toBe(version);
    expect(source.calls).toBe(3);
  });

  it('gives up after retries and reports the last error', async () => {
    const source = scripted(named('ThrottlingException'));

    await expect(new Fetcher(source, noDelay, 5_000).fetch(request)).rejects.toMatchObject({
      code: 'THROTTLED',
    });
    expect(source.calls).toBe(3);
  });

  it.each([
    'ResourceNotFoundException',
    'AccessDeniedException',
    'DecryptionFailure',
    'InvalidRequestException',
  ])('does not retry %s', async (name) => {
    const source = scripted(named(name), version);

    await expect(new Fetcher(source, noDelay, 5_000).fetch(request)).rejects.toBeInstanceOf(SecretCacheError);
    expect(source.calls).toBe(1);
  });

  it('times the whole fetch out with TIMEOUT, also when the source ignores the signal', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const source: SecretSource = { getSecretValue: () => new Promise(() => {}) };
    const outcome = new Fetcher(source, DEFAULT_RETRY, 1_500).fetch(request).catch((e: unknown) => e);

    await vi.advanceTimersByTimeAsync(1_500);

    expect(await outcome).toMatchObject({ code: 'TIMEOUT', secretId: 'db' });
  });

  it('hands the source a signal that aborts at the timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let signal: AbortSignal | undefined;
    const source: SecretSource = {
      getSecretValue: (_request, given) => {
        signal = given;
        return new Promise((_, reject) =>
          given?.addEventListener('abort', () => reject(named('AbortError'))),
        );
      },
    };
    const outcome = new Fetcher(source, DEFAULT_RETRY, 1_000).fetch(request).catch((e: unknown) => e);
    expect(signal?.aborted).toBe(false);

    await vi.advanceTimersByTimeAsync(1_000);

    expect(signal?.aborted).toBe(true);
    expect(await outcome).toMatchObject({ code: 'TIMEOUT' });
  });
});

describe('isTransient', () => {
  it('counts throttling, fetch failures and timeouts as transient, and nothing else', () => {
    const transient = ['THROTTLED', 'FETCH_FAILED', 'TIMEOUT'] as const;
    const permanent = [
      'NOT_FOUND',
      'ACCESS_DENIED',
      'DECRYPTION_FAILED',
      'INVALID_REQUEST',
      'WRONG_TYPE',
    ] as const;

    for (const code of transient) expect(isTransient(new SecretCacheError(code, 'x', 'm'))).toBe(true);
    for (const code of permanent) expect(isTransient(new SecretCacheError(code, 'x', 'm'))).toBe(false);
  });
});

describe('signature errors (hardening defect 11)', () => {
  const noRetries = { retries: 0, minTimeoutMs: 0, maxTimeoutMs: 0 };

  it.each(['InvalidSignatureException', 'SignatureDoesNotMatch'])(
    'retries a %s once with a newly signed request, even with no retries configured',
    async (name) => {
      const source = scripted(named(name), version);
      await expect(new Fetcher(source, noRetries, 5_000).fetch(request)).resolves.toBe(version);
      expect(source.calls).toBe(2);
    },
  );

  it.each(['InvalidSignatureException', 'SignatureDoesNotMatch'])(
    'reports a second %s in a row as ACCESS_DENIED, without further attempts',
    async (name) => {
      const source = scripted(named(name));
      await expect(new Fetcher(source, noDelay, 5_000).fetch(request)).rejects.toMatchObject({
        code: 'ACCESS_DENIED',
      });
      expect(source.calls).toBe(2);
    },
  );

  it('still retries a transient error after a signature error, within the configured retries', async () => {
    const source = scripted(named('InvalidSignatureException'), named('ThrottlingException'), version);
    await expect(new Fetcher(source, noDelay, 5_000).fetch(request)).resolves.toBe(version);
    expect(source.calls).toBe(3);
  });
});
