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
  vi.restoreAllMocks();
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

describe('Fetcher timeouts', () => {
  it('says which secret was not fetched and within how long', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const source: SecretSource = { getSecretValue: () => new Promise(() => {}) };
    const outcome = new Fetcher(source, DEFAULT_RETRY, 1_500).fetch(request).catch((e: unknown) => e);

    await vi.advanceTimersByTimeAsync(1_500);

    expect(await outcome).toMatchObject({
      code: 'TIMEOUT',
      secretId: 'db',
      message: 'Secret "db" was not fetched within 1500 ms.',
    });
  });

  it('names every id of a batch that timed out', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const source: SecretSource = {
      getSecretValue: () => new Promise(() => {}),
      batchGetSecretValue: () => new Promise(() => {}),
    };
    const outcome = new Fetcher(source, DEFAULT_RETRY, 1_000).batch(['db', 'api']).catch((e: unknown) => e);

    await vi.advanceTimersByTimeAsync(1_000);

    expect(await outcome).toMatchObject({
      code: 'TIMEOUT',
      secretId: 'db,api',
      message: 'Secret "db,api" was not fetched within 1000 ms.',
    });
  });

  it('works where setTimeout returns a plain number (fake timers of other tools, other runtimes)', async () => {
    const realSetTimeout = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, ms?: number) =>
      Number(realSetTimeout(callback, ms))) as unknown as typeof setTimeout);

    await expect(new Fetcher(scripted(version), DEFAULT_RETRY, 5_000).fetch(request)).resolves.toBe(version);
  });

  it('makes no attempt after the timeout, even when the aborted request fails like a signature error', async () => {
    // A sandbox thawing: the timeout fires, and the request signed before the freeze is rejected at once.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let calls = 0;
    const source: SecretSource = {
      getSecretValue: (_request, signal) => {
        calls++;
        if (signal?.aborted === true) return Promise.reject(named('InvalidSignatureException'));
        return new Promise((_, reject) =>
          signal?.addEventListener('abort', () => reject(named('InvalidSignatureException'))),
        );
      },
    };
    const outcome = new Fetcher(source, DEFAULT_RETRY, 1_000).fetch(request).catch((e: unknown) => e);

    await vi.advanceTimersByTimeAsync(1_000);

    expect(await outcome).toMatchObject({ code: 'TIMEOUT' });
    expect(calls).toBe(1);
  });
});

describe('Fetcher retries', () => {
  it('waits minTimeoutMs times a random factor between 1 and 2 before the first retry', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.9);
    const source = scripted(named('ThrottlingException'), version);
    const outcome = new Fetcher(source, { retries: 1, minTimeoutMs: 100, maxTimeoutMs: 1_000 }, 5_000).fetch(
      request,
    );

    await vi.advanceTimersByTimeAsync(189);
    const callsBeforeTheWaitEnds = source.calls;
    await vi.advanceTimersByTimeAsync(1);

    expect(callsBeforeTheWaitEnds).toBe(1);
    expect(source.calls).toBe(2);
    await expect(outcome).resolves.toBe(version);
  });

  it('does not keep the process alive while it waits to retry', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const source = scripted(named('ThrottlingException'), version);
    const outcome = new Fetcher(source, { retries: 1, minTimeoutMs: 100, maxTimeoutMs: 1_000 }, 5_000).fetch(
      request,
    );

    await vi.waitFor(() => expect(setTimeoutSpy).toHaveBeenCalledTimes(2)); // the fetch's timeout, the retry's wait
    const timers = setTimeoutSpy.mock.results.map((result) => result.value as NodeJS.Timeout);

    expect(timers.map((timer) => timer.hasRef())).toEqual([false, false]);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(outcome).resolves.toBe(version);
  });

  it("aborts the source's signal once the fetch failed for good, so a source's other requests stop", async () => {
    let signal: AbortSignal | undefined;
    const notFound = named('ResourceNotFoundException');
    const source: SecretSource = {
      getSecretValue: async (_request, given) => {
        signal = given;
        throw notFound;
      },
    };

    const error = await new Fetcher(source, noDelay, 5_000).fetch(request).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'NOT_FOUND' });
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(error);
  });
});

describe('Fetcher.canBatch', () => {
  it('is true only for a source with batchGetSecretValue', () => {
    const single = scripted(version);
    const batching: SecretSource = {
      ...single,
      getSecretValue: single.getSecretValue,
      batchGetSecretValue: async () => ({ versions: [], errors: [] }),
    };

    expect(new Fetcher(single, DEFAULT_RETRY, 5_000).canBatch).toBe(false);
    expect(new Fetcher(batching, DEFAULT_RETRY, 5_000).canBatch).toBe(true);
  });
});
