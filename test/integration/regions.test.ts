/**
 * regionalSource against a real moto_server: secrets created in us-east-1 and replicated to eu-west-1
 * (ReplicateSecretToRegions); the primary's client goes through the fault proxy (test/support/fault-proxy.ts),
 * the replica's straight to moto, signed for eu-west-1 (moto picks the region's backend by the signature's
 * scope). A real SecretCache reads through a primary outage (503s, then a hang) from the replica, with the
 * primary asked once per breaker window (counted at the proxy), and comes back to the primary after it.
 *
 * Both clients are built with `maxAttempts: 1`, so each attempt is one HTTP request. The clock is fake and moved
 * by hand; fetches are started by reads, and the test waits (in real time) for any to settle after each read.
 *
 * moto 5 quirks seen here (none of them relied on):
 * - The replica shares the primary's versions: a value put in us-east-1 is in eu-west-1 at once (AWS replicates
 *   asynchronously, usually within seconds).
 * - ReplicateSecretToRegions answers with `ARN` set to the SecretId as given (a name stays a name).
 * - A replica's ARN is the primary's with every occurrence of the primary's region replaced, in the name too
 *   (`svc/us-east-1/db` is `...:eu-west-1:...:secret:svc/eu-west-1/db-XXXXXX`); AWS changes the region field only.
 * - Partial ARNs never find a replica (moto keys replicas by full ARN), and in the primary a partial ARN's region
 *   field is ignored.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ReplicateSecretToRegionsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretCache } from '../../src/cache.js';
import { secret } from '../../src/manifest.js';
import {
  arnInRegion,
  type RegionalBatchResult,
  type RegionalSecretVersion,
  type RegionalSource,
  type RegionalSourceOptions,
  regionalSource,
} from '../../src/regions.js';
import { AwsSecretSource, type SecretSource, type SecretsManagerLike } from '../../src/source.js';
import { createStringSecret, putSecretValue } from '../support/moto.js';
import { useProxiedMoto } from '../support/proxied-moto.js';

const PRIMARY = 'us-east-1';
const REPLICA = 'eu-west-1';
const COOLDOWN_MS = 10_000;

const runId = randomUUID().slice(0, 8);
let seq = 0;
const uniqueName = (label: string): string => `regions-${runId}/${label}-${++seq}`;

const T0 = 1_700_000_000_000;
let now = T0;
const clock = { now: (): number => now };

const env = useProxiedMoto({ seed: 3 });
let replicaClient: SecretsManagerClient;
/** Requests sent to the replica, by operation (it is not behind the proxy). */
let replicaSent: string[] = [];
const replica: SecretsManagerLike = {
  send: (command, options) => {
    replicaSent.push(command.constructor.name.replace(/Command$/, ''));
    return replicaClient.send(command, options);
  },
};

beforeAll(() => {
  replicaClient = env.moto.client({ region: REPLICA, maxAttempts: 1 });
});

afterAll(() => {
  replicaClient?.destroy();
});

beforeEach(() => {
  now = T0;
  replicaSent = [];
});

/** Creates a secret in us-east-1 and replicates it to eu-west-1; returns its primary ARN. */
async function replicated(name: string, value: string): Promise<string> {
  const { ARN } = await createStringSecret(env.admin, name, value);
  await env.admin.send(
    new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: [{ Region: REPLICA }] }),
  );
  return ARN as string;
}

function regional(options: Partial<RegionalSourceOptions> = {}): RegionalSource {
  return regionalSource({
    regions: [PRIMARY, REPLICA],
    sourceFor: (region) => new AwsSecretSource(region === PRIMARY ? env.client : replica),
    clock,
    cooldownMs: COOLDOWN_MS,
    cooldownJitter: 0,
    ...options,
  });
}

/** The source a cache is given: the regional one, with the region of every answer it passes on recorded. */
function spied(
  source: RegionalSource,
): SecretSource & { readonly regions: string[]; readonly batches: string[] } {
  const regions: string[] = [];
  const batches: string[] = [];
  return {
    regions,
    batches,
    async getSecretValue(request, signal): Promise<RegionalSecretVersion> {
      const version = await source.getSecretValue(request, signal);
      regions.push(version.region);
      return version;
    },
    async batchGetSecretValue(secretIds, signal): Promise<RegionalBatchResult> {
      const result = await (source as Required<RegionalSource>).batchGetSecretValue(secretIds, signal);
      batches.push(...new Set(result.versions.map((version) => version.region)));
      return result;
    },
  };
}

/** Waits (in real time) until no fetch of `cache` is in flight. */
async function settle(cache: SecretCache): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (cache.stats().inflight > 0) {
    if (Date.now() > deadline) throw new Error('a fetch did not settle within 10 s');
    await sleep(1);
  }
}

const primaryGets = (): number => env.proxy.count('GetSecretValue');

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('moto_server replication, as regionalSource relies on it', () => {
  it("answers in eu-west-1 under the replica's ARN (the primary's but for the region); the primary's ARN is not found there", async () => {
    const name = uniqueName('facts');
    const primaryArn = await replicated(name, 'facts-v1');
    const replicaArn = arnInRegion(primaryArn, REPLICA);

    const described = await replicaClient.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described).toMatchObject({ ARN: replicaArn, Name: name, PrimaryRegion: PRIMARY });
    expect(replicaArn).not.toBe(primaryArn);
    expect(replicaArn.split(':')[3]).toBe(REPLICA);
    expect(replicaArn.slice(-7)).toBe(primaryArn.slice(-7)); // the same 6-character suffix

    for (const secretId of [name, replicaArn]) {
      const output = await replicaClient.send(new GetSecretValueCommand({ SecretId: secretId }));
      expect(output).toMatchObject({ ARN: replicaArn, Name: name, SecretString: 'facts-v1' });
    }
    // Why a full ARN must be sent with the replica's region: the primary's is not found there.
    expect(
      (await failure(replicaClient.send(new GetSecretValueCommand({ SecretId: primaryArn })))).name,
    ).toBe('ResourceNotFoundException');
    // A region the secret is not replicated to does not have it.
    const elsewhere = env.moto.client({ region: 'ap-south-1', maxAttempts: 1 });
    try {
      expect((await failure(elsewhere.send(new GetSecretValueCommand({ SecretId: name })))).name).toBe(
        'ResourceNotFoundException',
      );
    } finally {
      elsewhere.destroy();
    }
  });

  it('has the quirks noted above (moto 5): shared versions, region names rewritten in a replica ARN, no partial ARNs', async () => {
    const name = uniqueName(`quirk/${PRIMARY}/db`);
    const primaryArn = await replicated(name, 'quirk-v1');
    await putSecretValue(env.admin, name, 'quirk-v2');

    const byName = await replicaClient.send(new GetSecretValueCommand({ SecretId: name }));
    expect(byName.SecretString).toBe('quirk-v2');
    expect(byName.ARN).toBe(primaryArn.replaceAll(PRIMARY, REPLICA));
    expect(byName.ARN).not.toBe(arnInRegion(primaryArn, REPLICA));
    const partial = primaryArn.slice(0, -7);
    expect((await failure(replicaClient.send(new GetSecretValueCommand({ SecretId: partial })))).name).toBe(
      'ResourceNotFoundException',
    );
  });
});

describe('SecretCache over regionalSource, the primary behind a failing proxy', () => {
  it('reads from the replica through two minutes of 503s, asking the primary once per 10-second window, then returns to the primary', async () => {
    const name = uniqueName('outage');
    const arn = await replicated(name, 'outage-v1');
    const source = regional();
    const spy = spied(source);
    const cache = new SecretCache({ source: spy, clock, ttlMs: 1_000, ttlJitter: 0, retry: { retries: 0 } });

    expect(await cache.getSecretString(arn)).toBe('outage-v1');
    expect(spy.regions).toEqual([PRIMARY]);
    expect(primaryGets()).toBe(1);

    // Two minutes of 503s from us-east-1, a read each second: every read past the TTL fetches.
    env.proxy.inject('unavailable');
    env.proxy.resetCounters();
    spy.regions.length = 0;
    const OUTAGE_MS = 120_000;
    let served = 0;
    let failed = 0;
    let stale = 0;
    const primaryAskedAt: number[] = [];
    for (now = T0 + 1_000; now <= T0 + OUTAGE_MS; now += 1_000) {
      const before = primaryGets();
      try {
        const record = await cache.getSecretValue(arn);
        if (record.secretString === 'outage-v1') served++;
        if (record.stale) stale++;
      } catch {
        failed++;
      }
      await settle(cache);
      if (primaryGets() > before) primaryAskedAt.push(now - T0);
    }

    const windows = OUTAGE_MS / COOLDOWN_MS;
    process.stdout.write(
      `regions: 503 outage of ${OUTAGE_MS / 1_000} s: ${served} reads served (${stale} stale), ${failed} failed, ` +
        `${primaryGets()} primary requests in ${windows} windows, ${replicaSent.length} replica requests\n`,
    );
    expect({ served, failed, stale }).toEqual({ served: 120, failed: 0, stale: 0 });
    expect(primaryAskedAt).toEqual(Array.from({ length: windows }, (_, i) => 1_000 + i * COOLDOWN_MS));
    expect(env.proxy.counts().faulted.unavailable).toBe(windows);
    expect(replicaSent).toEqual(Array.from({ length: 120 }, () => 'GetSecretValue'));
    expect(new Set(spy.regions)).toEqual(new Set([REPLICA]));
    expect(spy.regions).toHaveLength(120);
    // The last attempt was at 111 s: its window ends as the loop does.
    expect(source.regionStates()[0]).toMatchObject({
      state: 'half-open',
      openUntil: T0 + 1_000 + windows * COOLDOWN_MS,
      failures: windows,
      lastFailureCode: 'FETCH_FAILED',
    });

    // The primary answers again: the first fetch after the window is its trial, and it closes the breaker.
    env.proxy.passThrough();
    await putSecretValue(env.admin, name, 'outage-v2');
    env.proxy.resetCounters();
    replicaSent = [];
    spy.regions.length = 0;
    now = T0 + 1_000 + windows * COOLDOWN_MS;
    expect(await cache.getSecretString(arn)).toBe('outage-v2');
    await settle(cache);
    for (let i = 0; i < 5; i++) {
      now += 1_000;
      expect(await cache.getSecretString(arn)).toBe('outage-v2');
      await settle(cache);
    }
    expect(spy.regions).toEqual(Array.from({ length: 6 }, () => PRIMARY));
    expect(primaryGets()).toBe(6);
    expect(replicaSent).toEqual([]);
    expect(source.regionStates()[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('reads from the replica while the primary hangs, each window costing one attempt of attemptTimeoutMs', async () => {
    const name = uniqueName('hang');
    await replicated(name, 'hang-v1');
    const ATTEMPT_TIMEOUT_MS = 300;
    const source = regional({ attemptTimeoutMs: ATTEMPT_TIMEOUT_MS });
    const spy = spied(source);
    const cache = new SecretCache({
      source: spy,
      clock,
      ttlMs: 1_000,
      ttlJitter: 0,
      retry: { retries: 0 },
      staleWaitMs: 2_000, // longer than one hung attempt: a read waits for the replica's answer
    });
    expect(await cache.getSecretString(name)).toBe('hang-v1');

    env.proxy.inject('hang');
    env.proxy.resetCounters();
    spy.regions.length = 0;
    const OUTAGE_MS = 60_000;
    let served = 0;
    let failed = 0;
    let slowest = 0;
    for (now = T0 + 1_000; now <= T0 + OUTAGE_MS; now += 1_000) {
      const started = performance.now();
      try {
        if ((await cache.getSecretString(name)) === 'hang-v1') served++;
      } catch {
        failed++;
      }
      slowest = Math.max(slowest, performance.now() - started);
      await settle(cache);
    }

    const windows = OUTAGE_MS / COOLDOWN_MS;
    process.stdout.write(
      `regions: hung primary for ${OUTAGE_MS / 1_000} s: ${served} reads served, ${failed} failed, ` +
        `${primaryGets()} primary requests (all hung) in ${windows} windows, slowest read ${Math.round(slowest)} ms\n`,
    );
    expect({ served, failed }).toEqual({ served: 60, failed: 0 });
    expect(primaryGets()).toBe(windows);
    expect(env.proxy.counts().faulted.hang).toBe(windows);
    expect(slowest).toBeGreaterThanOrEqual(ATTEMPT_TIMEOUT_MS - 10);
    expect(new Set(spy.regions)).toEqual(new Set([REPLICA]));
    expect(source.regionStates()[0]).toMatchObject({
      openUntil: T0 + 1_000 + windows * COOLDOWN_MS,
      failures: windows,
      lastFailureCode: 'TIMEOUT',
    });
    // Each hung request was aborted, so the proxy's held sockets close.
    await expect.poll(() => env.proxy.hanging, { timeout: 2_000 }).toBe(0);
  });

  it('loads a manifest through a primary outage with one batch from the replica, matched to the ids asked', async () => {
    const names = [uniqueName('batch-a'), uniqueName('batch-b')];
    const arnB = await replicated(names[1] as string, 'batch-b-v1');
    await replicated(names[0] as string, 'batch-a-v1');
    const source = regional();
    const spy = spied(source);
    const cache = new SecretCache({ source: spy, clock, retry: { retries: 0 } });
    env.proxy.inject('internal-error');

    const loaded = await cache.load({ a: secret.string(names[0] as string), b: secret.string(arnB) });

    expect(loaded).toEqual({ a: 'batch-a-v1', b: 'batch-b-v1' });
    expect(env.proxy.count('BatchGetSecretValue')).toBe(1);
    expect(primaryGets()).toBe(0);
    expect(replicaSent).toEqual(['BatchGetSecretValue']); // both answers matched: no id fetched alone
    expect(spy.batches).toEqual([REPLICA]);
  });

  it("takes the replica's NOT_FOUND as the answer for a secret that is not replicated", async () => {
    const name = uniqueName('unreplicated');
    await createStringSecret(env.admin, name, 'only-in-us-east-1');
    const source = regional();
    env.proxy.inject('unavailable');

    await expect(source.getSecretValue({ secretId: name })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(source.regionStates().map(({ state }) => state)).toEqual(['open', 'closed']);
  });
});
