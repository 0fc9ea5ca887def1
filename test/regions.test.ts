/**
 * regionalSource over scripted sources (one per region) and a fake clock: which region a fetch goes to, the ARN
 * each region is sent, the breaker's windows, its half-open trial, the all-open fallback, attempt timeouts,
 * aborts, batches, the answer's region, the options, and the module's documentation and graph.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SecretCache } from '../src/cache.js';
import { isSecretCacheError, SecretCacheError, type SecretCacheErrorCode } from '../src/errors.js';
import {
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_COOLDOWN_MS,
  type RegionalSource,
  type RegionalSourceOptions,
  type RegionState,
  regionalSource,
} from '../src/regions.js';
import type { BatchResult, SecretRequest, SecretSource, SecretVersion } from '../src/source.js';

const PRIMARY = 'us-east-1';
const REPLICA = 'eu-west-1';
const ACCOUNT = '123456789012';
const arnOf = (region: string, name: string): string =>
  `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-AbCdEf`;

/** What a scripted source does with its next call. */
type Step =
  | 'ok'
  | SecretCacheErrorCode
  | 'hang' // never answers; rejects with the signal's reason when aborted
  | 'deaf' // never answers, whatever happens to the signal
  | 'held' // answers once the test calls release()
  | Error; // thrown as it is (an SDK error, say)

interface Scripted extends Required<SecretSource> {
  readonly region: string;
  readonly calls: Array<{ readonly request: SecretRequest; readonly signal: AbortSignal | undefined }>;
  readonly batches: Array<{
    readonly secretIds: readonly string[];
    readonly signal: AbortSignal | undefined;
  }>;
  /** The steps of the next calls, then `mode` for every call after them. */
  readonly queue: Step[];
  mode: Step;
  /** Answers every call held so far. */
  release(): void;
  /** Ids a batch reports NOT_FOUND for. */
  readonly missing: Set<string>;
  /** The versions answered so far, as the source made them. */
  readonly answered: SecretVersion[];
}

/** The secret's name in an id: the id, or the name in a full ARN (its suffix dropped). */
function nameIn(secretId: string): string {
  const match = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(secretId);
  return match?.[1] ?? secretId;
}

function scripted(region: string): Scripted {
  let held: Array<() => void> = [];
  const versionFor = (secretId: string): SecretVersion => ({
    name: nameIn(secretId),
    arn: arnOf(region, nameIn(secretId)),
    versionId: 'v1',
    versionStages: ['AWSCURRENT'],
    createdDate: undefined,
    secretString: `value-of-${nameIn(secretId)}`,
  });
  const act = <T>(secretId: string, signal: AbortSignal | undefined, answer: () => T): Promise<T> => {
    const step = source.queue.shift() ?? source.mode;
    if (step instanceof Error) return Promise.reject(step);
    switch (step) {
      case 'ok':
        return Promise.resolve(answer());
      case 'hang':
        return new Promise((_, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      case 'deaf':
        return new Promise(() => {});
      case 'held':
        return new Promise((resolve) => held.push(() => resolve(answer())));
      default:
        return Promise.reject(new SecretCacheError(step, secretId, `injected ${step} in ${region}`));
    }
  };
  const source: Scripted = {
    region,
    calls: [],
    batches: [],
    queue: [],
    mode: 'ok',
    missing: new Set(),
    answered: [],
    release() {
      const waiting = held;
      held = [];
      for (const answer of waiting) answer();
    },
    getSecretValue(request, signal) {
      source.calls.push({ request, signal });
      return act(request.secretId, signal, () => {
        const version = versionFor(request.secretId);
        source.answered.push(version);
        return version;
      });
    },
    batchGetSecretValue(secretIds, signal): Promise<BatchResult> {
      source.batches.push({ secretIds, signal });
      return act(secretIds.join(','), signal, () => ({
        versions: secretIds.filter((id) => !source.missing.has(id)).map(versionFor),
        errors: secretIds
          .filter((id) => source.missing.has(id))
          .map((secretId) => ({
            secretId,
            error: new SecretCacheError('NOT_FOUND', secretId, `Secret "${secretId}" was not found.`, {
              cause: new Error('ResourceNotFoundException'),
            }),
          })),
      }));
    },
  };
  return source;
}

/** An error as the AWS SDK throws it, for a source that passes SDK errors through. */
function sdkError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} (injected)`), { name, $metadata: {}, ...extra });
}

let now = 0;
const clock = { now: (): number => now };

interface Setup {
  readonly source: RegionalSource;
  readonly primary: Scripted;
  readonly replica: Scripted;
  readonly byRegion: Record<string, Scripted>;
}

/** Two regions (or the ones given), scripted, with the fake clock and no jitter unless asked. */
function setup(
  options: Partial<RegionalSourceOptions> = {},
  regions: readonly string[] = [PRIMARY, REPLICA],
): Setup {
  now = 0;
  const byRegion = Object.fromEntries(regions.map((region) => [region, scripted(region)]));
  const source = regionalSource({
    regions,
    sourceFor: (region) => byRegion[region] as Scripted,
    clock,
    cooldownJitter: 0,
    ...options,
  });
  return {
    source,
    primary: byRegion[regions[0] as string] as Scripted,
    replica: byRegion[regions[1] ?? (regions[0] as string)] as Scripted,
    byRegion,
  };
}

const stateOf = (source: RegionalSource, region: string): RegionState =>
  source.regionStates().find((state) => state.region === region) as RegionState;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got an answer');
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('regionalSource: which region a fetch goes to', () => {
  it('reads from the primary while it answers, and says so on the answer', async () => {
    const { source, primary, replica } = setup();

    const version = await source.getSecretValue({ secretId: 'prod/db' });

    expect(version).toMatchObject({ name: 'prod/db', secretString: 'value-of-prod/db', region: PRIMARY });
    expect(primary.calls).toHaveLength(1);
    expect(replica.calls).toHaveLength(0);
  });

  it.each<SecretCacheErrorCode>(['THROTTLED', 'FETCH_FAILED', 'TIMEOUT'])(
    'fetches the same secret from the next region when the primary fails with %s',
    async (code) => {
      const { source, primary, replica } = setup();
      primary.queue.push(code);

      const version = await source.getSecretValue({ secretId: 'prod/db', versionStage: 'AWSCURRENT' });

      expect(version).toMatchObject({ secretString: 'value-of-prod/db', region: REPLICA });
      expect(primary.calls).toHaveLength(1);
      expect(replica.calls.map(({ request }) => request)).toEqual([
        { secretId: 'prod/db', versionStage: 'AWSCURRENT' },
      ]);
    },
  );

  it('goes through the regions in order, skipping none it may ask', async () => {
    const { source, byRegion } = setup({}, [PRIMARY, REPLICA, 'ap-south-1']);
    byRegion[PRIMARY]?.queue.push('FETCH_FAILED');
    byRegion[REPLICA]?.queue.push('THROTTLED');

    const version = await source.getSecretValue({ secretId: 'prod/db' });

    expect(version.region).toBe('ap-south-1');
    expect(Object.values(byRegion).map((region) => region.calls.length)).toEqual([1, 1, 1]);
  });

  it.each<SecretCacheErrorCode>([
    'NOT_FOUND',
    'ACCESS_DENIED',
    'DECRYPTION_FAILED',
    'INVALID_REQUEST',
    'NO_VALUE',
  ])('never fails over on %s: it is the answer, and the primary stays closed', async (code) => {
    const { source, primary, replica } = setup();
    primary.queue.push(code);

    const error = await rejection(source.getSecretValue({ secretId: 'prod/db' }));

    expect(isSecretCacheError(error) && error.code).toBe(code);
    expect(replica.calls).toHaveLength(0);
    expect(stateOf(source, PRIMARY)).toMatchObject({ state: 'closed', failures: 0, attempts: 1 });
  });

  it('throws the permanent error itself, not a copy', async () => {
    const { source, primary } = setup();
    const denied = new SecretCacheError('ACCESS_DENIED', 'prod/db', 'denied (injected)');
    primary.queue.push(denied as unknown as Error);

    await expect(source.getSecretValue({ secretId: 'prod/db' })).rejects.toBe(denied);
  });

  it("takes a replica's permanent error as the answer too (a secret not replicated there is NOT_FOUND)", async () => {
    const { source, primary, replica } = setup();
    primary.queue.push('FETCH_FAILED');
    replica.queue.push('NOT_FOUND');

    const error = await rejection(source.getSecretValue({ secretId: 'prod/db' }));

    expect(isSecretCacheError(error) && error.code).toBe('NOT_FOUND');
    expect(stateOf(source, REPLICA).state).toBe('closed');
  });

  it('classifies what a source throws that is not a SecretCacheError by its AWS name, as the cache does', async () => {
    const { source, primary, replica } = setup();
    primary.queue.push(sdkError('ServiceUnavailable', { $fault: 'server' }));
    expect((await source.getSecretValue({ secretId: 'a' })).region).toBe(REPLICA);

    const second = setup();
    second.primary.queue.push(sdkError('SomeNewThrottle', { $retryable: { throttling: true } }));
    expect((await second.source.getSecretValue({ secretId: 'a' })).region).toBe(REPLICA);
    expect(stateOf(second.source, PRIMARY).lastFailureCode).toBe('THROTTLED');

    const third = setup();
    const notFound = sdkError('ResourceNotFoundException');
    third.primary.queue.push(notFound);
    await expect(third.source.getSecretValue({ secretId: 'a' })).rejects.toBe(notFound);
    expect(third.replica.calls).toHaveLength(0);
    expect(replica.calls).toHaveLength(1);
  });

  it('throws the last transient error when every region it could ask failed, and opens them all', async () => {
    const { source, primary, replica } = setup();
    primary.queue.push('THROTTLED');
    const last = new SecretCacheError('FETCH_FAILED', 'prod/db', 'the replica is down too (injected)');
    replica.queue.push(last as unknown as Error);

    await expect(source.getSecretValue({ secretId: 'prod/db' })).rejects.toBe(last);
    expect(source.regionStates().map(({ state }) => state)).toEqual(['open', 'open']);
  });
});

describe('regionalSource: the same secret in another region', () => {
  it('sends a full ARN to each region with that region, and keeps the rest of the request', async () => {
    const { source, primary, replica } = setup();
    primary.queue.push('FETCH_FAILED');
    const arn = arnOf(PRIMARY, 'prod/db');

    await source.getSecretValue({ secretId: arn, versionStage: 'AWSPREVIOUS', refreshNow: true });

    expect(primary.calls[0]?.request).toEqual({
      secretId: arn,
      versionStage: 'AWSPREVIOUS',
      refreshNow: true,
    });
    expect(replica.calls[0]?.request).toEqual({
      secretId: arnOf(REPLICA, 'prod/db'),
      versionStage: 'AWSPREVIOUS',
      refreshNow: true,
    });
  });

  it("sends an ARN of another region to the primary in the primary's region", async () => {
    const { source, primary } = setup();

    await source.getSecretValue({ secretId: arnOf('ap-south-1', 'prod/db') });

    expect(primary.calls[0]?.request.secretId).toBe(arnOf(PRIMARY, 'prod/db'));
  });

  it.each([
    ['a name', 'prod/db'],
    ['a partial ARN', `arn:aws:secretsmanager:${PRIMARY}:${ACCOUNT}:secret:prod/db`],
  ])('sends %s to every region as it is, the request object itself', async (_, secretId) => {
    const { source, primary, replica } = setup();
    primary.queue.push('FETCH_FAILED');
    const request = { secretId, versionId: 'v1' };

    await source.getSecretValue(request);

    expect(primary.calls[0]?.request).toBe(request);
    expect(replica.calls[0]?.request).toBe(request);
  });
});

describe('regionalSource: the answer', () => {
  it("is a new object with the region, the inner source's version left as it was", async () => {
    const { source, primary, replica } = setup();
    primary.queue.push('THROTTLED');

    const version = await source.getSecretValue({ secretId: 'prod/db' });

    const inner = replica.answered[0] as SecretVersion;
    expect(version).not.toBe(inner);
    expect(inner).not.toHaveProperty('region');
    expect(version).toEqual({ ...inner, arn: arnOf(PRIMARY, 'prod/db'), region: REPLICA });
  });

  it('names the secret by its primary ARN whichever region answered, so an ARN read matches its answer', async () => {
    const { source, primary } = setup();
    const arn = arnOf(PRIMARY, 'prod/db');

    const fromPrimary = await source.getSecretValue({ secretId: arn });
    primary.queue.push('FETCH_FAILED');
    now = 1;
    const fromReplica = await source.getSecretValue({ secretId: arn });

    expect([fromPrimary.arn, fromPrimary.region]).toEqual([arn, PRIMARY]);
    expect([fromReplica.arn, fromReplica.region]).toEqual([arn, REPLICA]);
  });
});

describe('regionalSource: the breaker', () => {
  it('skips a region that failed for cooldownMs, then sends it one trial', async () => {
    const { source, primary, replica } = setup({ cooldownMs: 10_000 });
    primary.queue.push('FETCH_FAILED');
    await source.getSecretValue({ secretId: 'a' });
    expect(stateOf(source, PRIMARY)).toMatchObject({ state: 'open', openUntil: 10_000 });

    now = 9_999;
    expect((await source.getSecretValue({ secretId: 'a' })).region).toBe(REPLICA);
    expect(primary.calls).toHaveLength(1);

    now = 10_000;
    expect(stateOf(source, PRIMARY).state).toBe('half-open');
    expect((await source.getSecretValue({ secretId: 'a' })).region).toBe(PRIMARY);
    expect(primary.calls).toHaveLength(2);
    expect(stateOf(source, PRIMARY)).toMatchObject({
      state: 'closed',
      openUntil: undefined,
      consecutiveFailures: 0,
    });
    expect(replica.calls).toHaveLength(2);
  });

  it('costs the primary one attempt per window through a ten-minute outage, every read served by the replica', async () => {
    const { source, primary, replica } = setup({ cooldownMs: DEFAULT_COOLDOWN_MS });
    primary.mode = 'FETCH_FAILED';
    const primaryCallTimes: number[] = [];
    const regions = new Set<string>();

    for (now = 0; now < 600_000; now += 1_000) {
      const before = primary.calls.length;
      regions.add((await source.getSecretValue({ secretId: 'prod/db' })).region);
      if (primary.calls.length > before) primaryCallTimes.push(now);
    }

    // Exactly one per 30-second window: at 0, 30 s, 60 s, ... 570 s.
    expect(primaryCallTimes).toEqual(Array.from({ length: 20 }, (_, i) => i * 30_000));
    expect(replica.calls).toHaveLength(600);
    expect(regions).toEqual(new Set([REPLICA]));
    expect(stateOf(source, PRIMARY)).toMatchObject({ attempts: 20, failures: 20, consecutiveFailures: 20 });
  });

  it('draws each window from [cooldownMs * (1 - cooldownJitter), cooldownMs]', async () => {
    const { source, primary } = setup({ cooldownMs: 30_000, cooldownJitter: 0.2 });
    primary.mode = 'THROTTLED';
    const primaryCallTimes: number[] = [];

    for (now = 0; now < 3_600_000; now += 500) {
      const before = primary.calls.length;
      await source.getSecretValue({ secretId: 'prod/db' });
      if (primary.calls.length > before) primaryCallTimes.push(now);
    }

    const gaps = primaryCallTimes.slice(1).map((time, i) => time - (primaryCallTimes[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(24_000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(30_000 + 500);
    expect(new Set(gaps).size).toBeGreaterThan(1); // jittered, not one fixed window
    expect(primaryCallTimes.length).toBeLessThanOrEqual(3_600_000 / 24_000 + 1);
  });

  it('sends a half-open region one trial while the other fetches keep going to the replica; its answer closes it', async () => {
    const { source, primary, replica } = setup({ cooldownMs: 10_000 });
    primary.queue.push('FETCH_FAILED', 'held');
    await source.getSecretValue({ secretId: 'a' });
    now = 10_000;

    const trial = source.getSecretValue({ secretId: 'a' });
    expect(stateOf(source, PRIMARY)).toMatchObject({ state: 'half-open', trial: true });
    const others = await Promise.all([
      source.getSecretValue({ secretId: 'b' }),
      source.getSecretValue({ secretId: 'c' }),
    ]);
    expect(others.map(({ region }) => region)).toEqual([REPLICA, REPLICA]);
    expect(primary.calls).toHaveLength(2);

    primary.release();
    expect((await trial).region).toBe(PRIMARY);
    expect(stateOf(source, PRIMARY)).toMatchObject({ state: 'closed', trial: false });
    expect((await source.getSecretValue({ secretId: 'd' })).region).toBe(PRIMARY);
    expect(replica.calls).toHaveLength(3);
  });

  it('opens a region for a new window when its trial fails, the trial failing over at once', async () => {
    const { source, primary, replica } = setup({ cooldownMs: 10_000 });
    primary.queue.push('FETCH_FAILED', 'TIMEOUT');
    await source.getSecretValue({ secretId: 'a' });

    now = 10_000;
    expect((await source.getSecretValue({ secretId: 'a' })).region).toBe(REPLICA);
    expect(stateOf(source, PRIMARY)).toMatchObject({
      state: 'open',
      openUntil: 20_000,
      consecutiveFailures: 2,
      lastFailureCode: 'TIMEOUT',
    });
    now = 19_999;
    await source.getSecretValue({ secretId: 'a' });
    expect(primary.calls).toHaveLength(2);
    expect(replica.calls).toHaveLength(3);
  });

  it('closes a half-open region that answers with a permanent error: it is up', async () => {
    const { source, primary } = setup({ cooldownMs: 10_000 });
    primary.queue.push('FETCH_FAILED', 'NOT_FOUND');
    await source.getSecretValue({ secretId: 'a' });
    now = 10_000;

    await expect(source.getSecretValue({ secretId: 'a' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(stateOf(source, PRIMARY).state).toBe('closed');
  });

  it('asks the region whose window ends first when every region is open, rather than failing without a call', async () => {
    const { source, byRegion } = setup({ cooldownMs: 30_000 }, [PRIMARY, REPLICA, 'ap-south-1']);
    const [us, eu, ap] = [PRIMARY, REPLICA, 'ap-south-1'].map((region) => byRegion[region]) as [
      Scripted,
      Scripted,
      Scripted,
    ];
    const calls = (): number[] => [us, eu, ap].map((region) => region.calls.length);
    // us-east-1 fails at 0 s (its window ends at 30 s), eu-west-1 at 1 s (31 s), ap-south-1 at 2 s (32 s).
    us.queue.push('FETCH_FAILED');
    expect((await source.getSecretValue({ secretId: 'a' })).region).toBe(REPLICA);
    now = 1_000;
    eu.queue.push('FETCH_FAILED');
    expect((await source.getSecretValue({ secretId: 'a' })).region).toBe('ap-south-1');
    now = 2_000;
    ap.queue.push('FETCH_FAILED');
    await expect(source.getSecretValue({ secretId: 'a' })).rejects.toMatchObject({ code: 'FETCH_FAILED' });
    expect(calls()).toEqual([1, 2, 2]);

    // Every region open: one call each time, to the window that ends first, which then starts anew.
    now = 3_000;
    us.queue.push('THROTTLED');
    await expect(source.getSecretValue({ secretId: 'a' })).rejects.toMatchObject({ code: 'THROTTLED' });
    expect(calls()).toEqual([2, 2, 2]);
    expect(stateOf(source, PRIMARY).openUntil).toBe(33_000);
    now = 4_000;
    eu.queue.push('THROTTLED');
    await expect(source.getSecretValue({ secretId: 'a' })).rejects.toMatchObject({ code: 'THROTTLED' });
    expect(calls()).toEqual([2, 3, 2]);
    now = 5_000;
    expect((await source.getSecretValue({ secretId: 'a' })).region).toBe('ap-south-1');
    expect(calls()).toEqual([2, 3, 3]);
    expect(source.regionStates().map(({ state }) => state)).toEqual(['open', 'open', 'closed']);
  });

  it('with one region, keeps asking it: a breaker with nowhere else to go skips nothing', async () => {
    const { source, primary } = setup({}, [PRIMARY]);
    primary.mode = 'THROTTLED';

    for (let i = 0; i < 5; i++) await rejection(source.getSecretValue({ secretId: 'a' }));

    expect(primary.calls).toHaveLength(5);
  });
});

describe('regionalSource: attempt timeouts and aborts', () => {
  it('aborts a hung attempt after attemptTimeoutMs with TIMEOUT and asks the replica', async () => {
    vi.useFakeTimers();
    const { source, primary, replica } = setup();
    primary.queue.push('hang');

    const pending = source.getSecretValue({ secretId: 'prod/db' });
    await vi.advanceTimersByTimeAsync(DEFAULT_ATTEMPT_TIMEOUT_MS - 1);
    expect(replica.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);

    expect((await pending).region).toBe(REPLICA);
    const signal = primary.calls[0]?.signal as AbortSignal;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({
      code: 'TIMEOUT',
      message: `Secret "prod/db" was not fetched from ${PRIMARY} within ${DEFAULT_ATTEMPT_TIMEOUT_MS} ms.`,
    });
    expect(stateOf(source, PRIMARY)).toMatchObject({ state: 'open', lastFailureCode: 'TIMEOUT' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('abandons a hung source that ignores its signal, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const { source, primary } = setup({ attemptTimeoutMs: 50 });
    primary.queue.push('deaf');

    const pending = source.getSecretValue({ secretId: 'prod/db' });
    await vi.advanceTimersByTimeAsync(50);

    expect((await pending).region).toBe(REPLICA);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails with TIMEOUT when every region hangs, each for attemptTimeoutMs', async () => {
    vi.useFakeTimers();
    const { source, primary, replica } = setup({ attemptTimeoutMs: 100 });
    primary.mode = 'hang';
    replica.mode = 'hang';

    const pending = rejection(source.getSecretValue({ secretId: 'prod/db' }));
    await vi.advanceTimersByTimeAsync(200);

    expect(await pending).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining(REPLICA) });
  });

  it("sets an unref'd timer per attempt, cleared when it settles, and none with an infinite attemptTimeoutMs", async () => {
    const setTimer = vi.spyOn(globalThis, 'setTimeout');
    const { source } = setup();
    await source.getSecretValue({ secretId: 'a' });
    const timer = setTimer.mock.results[0]?.value as NodeJS.Timeout;
    expect(setTimer).toHaveBeenCalledTimes(1);
    expect(timer.hasRef()).toBe(false);

    setTimer.mockClear();
    const unlimited = setup({ attemptTimeoutMs: Number.POSITIVE_INFINITY });
    await unlimited.source.getSecretValue({ secretId: 'a' });
    expect(setTimer).not.toHaveBeenCalled();
  });

  it("rejects with the caller's abort reason, aborts the attempt, and neither fails over nor opens the breaker", async () => {
    const { source, primary, replica } = setup();
    primary.queue.push('hang');
    const controller = new AbortController();
    const reason = new Error('the caller gave up');

    const pending = rejection(source.getSecretValue({ secretId: 'a' }, controller.signal));
    controller.abort(reason);

    expect(await pending).toBe(reason);
    expect(primary.calls[0]?.signal?.aborted).toBe(true);
    expect(replica.calls).toHaveLength(0);
    expect(stateOf(source, PRIMARY)).toMatchObject({ state: 'closed', failures: 0 });
  });

  it('rejects at once, asking no region, when the signal is already aborted', async () => {
    const { source, primary, replica } = setup();
    const reason = new Error('aborted before');

    await expect(source.getSecretValue({ secretId: 'a' }, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(primary.calls.length + replica.calls.length).toBe(0);
  });

  it('aborts a failover too, and releases a half-open trial for the next fetch', async () => {
    const { source, primary, replica } = setup({ cooldownMs: 10_000 });
    primary.queue.push('FETCH_FAILED', 'hang');
    await source.getSecretValue({ secretId: 'a' });
    now = 10_000;
    const controller = new AbortController();

    const pending = rejection(source.getSecretValue({ secretId: 'a' }, controller.signal));
    expect(stateOf(source, PRIMARY).trial).toBe(true);
    controller.abort(new Error('stop'));
    await pending;

    expect(stateOf(source, PRIMARY)).toMatchObject({ state: 'half-open', trial: false });
    expect((await source.getSecretValue({ secretId: 'a' })).region).toBe(PRIMARY);
    expect(replica.calls).toHaveLength(1);

    replica.mode = 'hang';
    primary.queue.push('THROTTLED');
    const second = new AbortController();
    const during = rejection(source.getSecretValue({ secretId: 'a' }, second.signal));
    await vi.waitFor(() => expect(replica.calls).toHaveLength(2));
    second.abort(new Error('stop again'));
    expect(await during).toMatchObject({ message: 'stop again' });
    expect(replica.calls[1]?.signal?.aborted).toBe(true);
  });
});

describe('regionalSource: batches', () => {
  it('has batchGetSecretValue only when every region has it', () => {
    const withBatch = setup().source;
    const without = regionalSource({
      regions: [PRIMARY, REPLICA],
      sourceFor: (region) => {
        const { getSecretValue } = scripted(region);
        return region === PRIMARY ? scripted(region) : { getSecretValue };
      },
    });

    expect(typeof withBatch.batchGetSecretValue).toBe('function');
    expect(without.batchGetSecretValue).toBeUndefined();
  });

  it('fails a whole batch over, each id sent as that region names it; its per-id errors are the answer', async () => {
    const { source, primary, replica } = setup();
    const arn = arnOf(PRIMARY, 'prod/api');
    const missingArn = arnOf(PRIMARY, 'prod/gone');
    primary.queue.push('THROTTLED');
    replica.missing.add(arnOf(REPLICA, 'prod/gone'));
    replica.missing.add('prod/old');

    const result = await source.batchGetSecretValue?.(['prod/db', arn, missingArn, 'prod/old']);

    expect(primary.batches[0]?.secretIds).toEqual(['prod/db', arn, missingArn, 'prod/old']);
    expect(replica.batches[0]?.secretIds).toEqual([
      'prod/db',
      arnOf(REPLICA, 'prod/api'),
      arnOf(REPLICA, 'prod/gone'),
      'prod/old',
    ]);
    // The cache matches answers by name or ARN, and errors by id: both as it asked.
    expect(result?.versions.map(({ name, arn, region }) => [name, arn, region])).toEqual([
      ['prod/db', arnOf(PRIMARY, 'prod/db'), REPLICA],
      ['prod/api', arn, REPLICA],
    ]);
    expect(result?.errors.map(({ secretId, error }) => [secretId, error.secretId, error.code])).toEqual([
      [missingArn, missingArn, 'NOT_FOUND'],
      ['prod/old', 'prod/old', 'NOT_FOUND'],
    ]);
    const renamed = result?.errors[0]?.error;
    expect(renamed?.cause).toEqual(new Error('ResourceNotFoundException'));
    expect(renamed?.message).toBe(`Secret "${arnOf(REPLICA, 'prod/gone')}" was not found.`);
  });

  it('does not fail a batch over on a permanent error, and shares its breakers with single fetches', async () => {
    const { source, primary, replica } = setup();
    primary.queue.push('ACCESS_DENIED');
    await expect(source.batchGetSecretValue?.(['a', 'b'])).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(replica.batches).toHaveLength(0);

    primary.queue.push('FETCH_FAILED');
    expect((await source.batchGetSecretValue?.(['a', 'b']))?.versions[0]?.region).toBe(REPLICA);
    expect((await source.getSecretValue({ secretId: 'a' })).region).toBe(REPLICA);
    expect(primary.calls).toHaveLength(0);
    expect(stateOf(source, PRIMARY).attempts).toBe(2);
  });

  it('times a batch attempt out like a single one', async () => {
    vi.useFakeTimers();
    const { source, primary } = setup({ attemptTimeoutMs: 10 });
    primary.queue.push('hang');

    const pending = source.batchGetSecretValue?.(['a', 'b']);
    await vi.advanceTimersByTimeAsync(10);

    expect((await pending)?.versions.map(({ region }) => region)).toEqual([REPLICA, REPLICA]);
    expect(primary.batches[0]?.signal?.reason).toMatchObject({ code: 'TIMEOUT', secretId: 'a,b' });
  });
});

describe('regionalSource: regionStates()', () => {
  it('reports every region, in order, closed at first', () => {
    const { source } = setup();

    expect(source.regionStates()).toEqual([
      {
        region: PRIMARY,
        state: 'closed',
        openUntil: undefined,
        trial: false,
        consecutiveFailures: 0,
        attempts: 0,
        failures: 0,
        lastFailureCode: undefined,
      },
      expect.objectContaining({ region: REPLICA, state: 'closed' }),
    ]);
  });

  it('is a frozen snapshot without secret ids or values', async () => {
    const { source, primary } = setup();
    primary.queue.push('FETCH_FAILED');
    await source.getSecretValue({ secretId: 'prod/orders/db' });

    const states = source.regionStates();
    const json = JSON.stringify(states);
    expect(json).not.toContain('prod/orders');
    expect(json).not.toContain('value-of');
    expect(Object.isFrozen(states)).toBe(true);
    expect(states.every((state) => Object.isFrozen(state))).toBe(true);
    expect(states[0]).toMatchObject({ state: 'open', failures: 1, lastFailureCode: 'FETCH_FAILED' });
  });
});

describe('regionalSource behind a SecretCache', () => {
  it('keeps a cache reading through a primary outage, the primary asked once per window', async () => {
    const { source, primary } = setup({ cooldownMs: 60_000 });
    primary.mode = 'FETCH_FAILED';
    const cache = new SecretCache({ source, clock, ttlMs: 1_000, ttlJitter: 0, retry: { retries: 0 } });
    const values: string[] = [];

    for (now = 0; now < 300_000; now += 2_000) values.push(await cache.getSecretString('prod/db'));

    expect(new Set(values)).toEqual(new Set(['value-of-prod/db']));
    expect(primary.calls).toHaveLength(5);
  });
});

describe('regionalSource options', () => {
  const base = { regions: [PRIMARY, REPLICA], sourceFor: (region: string) => scripted(region) };
  const make = (options: unknown) => () => regionalSource(options as RegionalSourceOptions);

  it('renders as regionalSource(regions) and lists its regions, frozen', () => {
    const source = regionalSource(base);

    expect(String(source)).toBe('regionalSource(us-east-1, eu-west-1)');
    expect(source.regions).toEqual([PRIMARY, REPLICA]);
    expect(Object.isFrozen(source.regions)).toBe(true);
    expect(Object.isFrozen(source)).toBe(true);
  });

  it('calls sourceFor once per region, in order, when it is made', () => {
    const sourceFor = vi.fn((region: string) => scripted(region));

    regionalSource({ regions: [PRIMARY, REPLICA, 'us-gov-west-1'], sourceFor });

    expect(sourceFor.mock.calls).toEqual([[PRIMARY], [REPLICA], ['us-gov-west-1']]);
  });

  it.each([null, 'us-east-1', 5, [base]])('refuses options that are not an object (%j)', (options) => {
    expect(make(options)).toThrow(/^Expected the options of regionalSource to be an object, got /);
  });

  it('names an unknown option and the one it resembles', () => {
    expect(make({ ...base, cooldown: 5 })).toThrow(
      new TypeError('Unknown option `cooldown` in options of regionalSource; did you mean `cooldownMs`?'),
    );
    expect(make({ ...base, region: PRIMARY })).toThrow(/Unknown option `region`.*did you mean `regions`\?/);
  });

  it.each([
    [undefined, 'undefined'],
    [[], 'an empty array'],
    ['us-east-1', 'a string of length 9'],
  ])('refuses regions %j', (regions, got) => {
    expect(make({ ...base, regions })).toThrow(
      new TypeError(
        `Expected \`regions\` to be a non-empty array of region names such as 'us-east-1', got ${got}.`,
      ),
    );
  });

  it.each(['US-EAST-1', 'useast1', 'us-east', ' us-east-1', 'eu-west-1a', 5, null])(
    'refuses the region %j, naming its index but not quoting it',
    (region) => {
      expect(make({ ...base, regions: [PRIMARY, region] })).toThrow(
        /^Expected `regions\[1\]` to be a region name such as 'us-east-1', got (a string of length \d+|5|null)\.$/,
      );
    },
  );

  it.each([
    'us-east-1',
    'us-gov-west-1',
    'cn-north-1',
    'ap-southeast-4',
    'il-central-1',
    'us-isob-east-1',
    'eusc-de-east-1',
  ])('accepts the region %s', (region) => {
    expect(make({ ...base, regions: [region] })).not.toThrow();
  });

  it('refuses a region named twice', () => {
    expect(make({ ...base, regions: [PRIMARY, REPLICA, PRIMARY] })).toThrow(
      new TypeError("Expected `regions` to name each region once, got 'us-east-1' twice."),
    );
  });

  it('refuses a sourceFor that is not a function, or returns no source', () => {
    expect(make({ ...base, sourceFor: undefined })).toThrow(
      new TypeError('Expected `sourceFor` to be a function, got undefined.'),
    );
    expect(
      make({ ...base, sourceFor: (region: string) => (region === REPLICA ? {} : scripted(region)) }),
    ).toThrow(
      new TypeError(
        "Expected `sourceFor('eu-west-1')` to return a SecretSource (an object with a `getSecretValue()` method), got a value of type object.",
      ),
    );
  });

  it.each([
    ['cooldownMs', 0, /^Expected `cooldownMs` to be a positive, finite number of milliseconds, got 0\.$/],
    ['cooldownMs', Number.POSITIVE_INFINITY, /^Expected `cooldownMs` to be a positive, finite number/],
    ['cooldownJitter', 1, /^Expected `cooldownJitter` to be a fraction in \[0, 1\), got 1\.$/],
    [
      'attemptTimeoutMs',
      -1,
      /^Expected `attemptTimeoutMs` to be a positive number of milliseconds, got -1\.$/,
    ],
    ['attemptTimeoutMs', '2000', /^Expected `attemptTimeoutMs` to be a positive number of milliseconds/],
    ['clock', Date, /^Expected `clock` to be an object with a `now\(\)` method/],
  ])('refuses %s = %s, naming it', (name, value, message) => {
    expect(make({ ...base, [name]: value })).toThrow(message);
  });

  it('accepts every optional option set to undefined', () => {
    expect(
      make({
        ...base,
        cooldownMs: undefined,
        cooldownJitter: undefined,
        attemptTimeoutMs: undefined,
        clock: undefined,
      }),
    ).not.toThrow();
  });
});

describe('src/regions.ts: documentation and module graph', () => {
  const srcDir = join(import.meta.dirname, '..', 'src');
  const text = readFileSync(join(srcDir, 'regions.ts'), 'utf8');
  const exported = [...text.matchAll(/^export (?:function|interface|type|const|class) (\w+)/gm)].map(
    ([, name]) => name as string,
  );

  it.each(exported)("documents %s with TSDoc and an @example importing from 'secretcache'", (name) => {
    const match = new RegExp(`^export (?:function|interface|type|const|class) ${name}\\b`, 'm').exec(text);
    const before = text.slice(0, match?.index).trimEnd();
    expect(before.endsWith('*/'), `${name} has no TSDoc`).toBe(true);
    const doc = before.slice(before.lastIndexOf('/**'));
    expect(doc).toContain('@example');
    expect(doc.slice(doc.indexOf('@example'))).toMatch(/from 'secretcache'/);
  });

  it('documents every option of RegionalSourceOptions, readonly, the optional ones with a @default', () => {
    const body = text.slice(text.indexOf('export interface RegionalSourceOptions'));
    const block = body.slice(0, body.indexOf('\n}\n'));
    const fields = [...block.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n\s*(readonly )?(\w+)(\??):/g)];

    expect(fields.map(([, , , field]) => field)).toEqual([
      'regions',
      'sourceFor',
      'cooldownMs',
      'cooldownJitter',
      'attemptTimeoutMs',
      'clock',
    ]);
    for (const [, doc = '', readonly, field, optional] of fields) {
      expect(readonly, `${field} is not readonly`).toBe('readonly ');
      if (optional === '?') expect(doc, `${field} has no @default`).toContain('@default');
    }
  });

  it('bundles without the AWS SDK, p-retry or the cache, importing only types from src/source.ts', async () => {
    const result = await build({
      entryPoints: [join(srcDir, 'regions.ts')],
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs).sort();

    expect(inputs).toEqual([
      'src/aws-errors.ts',
      'src/clock.ts',
      'src/describe.ts',
      'src/errors.ts',
      'src/option-table.ts',
      'src/regions.ts',
      'src/regions/breakers.ts',
    ]);
    expect(result.outputFiles[0]?.text).not.toMatch(/@aws-sdk|p-retry/);
    for (const file of ['regions.ts', 'regions/breakers.ts']) {
      const source = readFileSync(join(srcDir, file), 'utf8');
      for (const [statement] of source.matchAll(/^import[^;]*'\.\.?\/source\.js';/gm)) {
        expect(statement, `${file}: ${statement}`).toMatch(/^import type /);
      }
    }
  });
});
