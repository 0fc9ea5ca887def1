import { type Clock, TurnClock } from './clock.js';
import { describeValue } from './describe.js';
import { SecretCacheError, type SecretCacheErrorCode } from './errors.js';
import { isRegionName, type OptionTable, resolveTable, unknownKeyProblem } from './option-table.js';
import { type Breaker, Router, type RouterTiming } from './regions/breakers.js';
import type { BatchResult, SecretRequest, SecretSource, SecretVersion } from './source.js';

/**
 * How long a region that failed transiently is skipped, at most: the default `cooldownMs` of
 * {@link RegionalSourceOptions}.
 *
 * @example
 * ```ts
 * import { DEFAULT_COOLDOWN_MS, regionalSource } from 'secretcache';
 *
 * // A primary that fails comes back into use twice as late as by default.
 * const source = regionalSource({ regions, sourceFor, cooldownMs: 2 * DEFAULT_COOLDOWN_MS });
 * ```
 */
export const DEFAULT_COOLDOWN_MS = 30_000;

/**
 * The default `attemptTimeoutMs` of {@link RegionalSourceOptions}: under the cache's `fetchTimeoutMs` (5 s) with
 * room for a second region. A hung primary costs 2 s, and the replica still has 3 s to answer before the cache
 * gives up on the fetch.
 *
 * @example
 * ```ts
 * import { DEFAULT_ATTEMPT_TIMEOUT_MS, SecretCache, regionalSource } from 'secretcache';
 *
 * // Three regions, each with a full attempt inside one fetch.
 * const source = regionalSource({ regions: ['us-east-1', 'us-east-2', 'us-west-2'], sourceFor });
 * const cache = new SecretCache({ source, fetchTimeoutMs: 3 * DEFAULT_ATTEMPT_TIMEOUT_MS });
 * ```
 */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 2_000;

/**
 * Options of {@link regionalSource}. `regions` and `sourceFor` are required; an unknown key or a malformed value
 * is a `TypeError` that names it.
 *
 * @example
 * ```ts
 * import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 * import { AwsSecretSource, type RegionalSourceOptions, SecretCache, regionalSource } from 'secretcache';
 *
 * // us-east-1 first; eu-west-1 holds replicas (ReplicateSecretToRegions) and answers while it is down.
 * const options: RegionalSourceOptions = {
 *   regions: ['us-east-1', 'eu-west-1'],
 *   sourceFor: (region) => new AwsSecretSource(new SecretsManagerClient({ region })),
 *   cooldownMs: 60_000,
 * };
 * const cache = new SecretCache({ source: regionalSource(options) });
 * ```
 */
export interface RegionalSourceOptions {
  /**
   * The regions to read from, in order of preference: the first is the primary (where the secrets are
   * created), the others hold their replicas. Region names such as `'us-east-1'`, each once, at least one.
   * All of them must be in one partition (`aws`, `aws-cn`, `aws-us-gov`, ...).
   */
  readonly regions: readonly string[];
  /**
   * The source of one region, called once per region when the source is made (constructing a
   * `SecretsManagerClient` does no I/O). Batches fail over only when every region's source has
   * `batchGetSecretValue`.
   */
  readonly sourceFor: (region: string) => SecretSource;
  /**
   * How long, in milliseconds, a region that failed transiently is skipped. The window is drawn from
   * `[cooldownMs * (1 - cooldownJitter), cooldownMs]`, so a fleet whose primary failed at the same moment does
   * not come back to it at the same moment. While another region answers, a region that keeps failing costs at
   * most one attempt per window.
   * @default 30_000 (30 s)
   */
  readonly cooldownMs?: number;
  /**
   * A fraction in `[0, 1)`: how much shorter than `cooldownMs` a window may be drawn. `0` makes every window
   * exactly `cooldownMs` long.
   * @default 0.2
   */
  readonly cooldownJitter?: number;
  /**
   * The longest one region's attempt may take, in milliseconds; then its request is aborted, the attempt counts
   * as a transient failure (`TIMEOUT`), and the next region is asked. For an `AwsSecretSource` one attempt is one
   * `send`, the SDK's own retries included. Keep it under the cache's `fetchTimeoutMs` (5,000 by default), so a
   * hung region leaves time for the next: the default leaves 3 s for the replica; with `n` regions,
   * `n * attemptTimeoutMs <= fetchTimeoutMs` gives each a full attempt. `Infinity` (or anything above about
   * 24.8 days) sets no limit but the caller's signal.
   * @default 2_000
   */
  readonly attemptTimeoutMs?: number;
  /**
   * The clock breaker windows are measured with. Tests inject a fake one; pass the cache's to share it.
   * @default a `TurnClock` (`Date.now()`, read at most once per turn of the event loop)
   */
  readonly clock?: Clock;
}

const REGIONAL_SOURCE_OPTIONS = {
  cooldownMs: {
    kind: 'positive-ms',
    default: DEFAULT_COOLDOWN_MS,
    doc: 'how long a region that failed transiently is skipped, at most',
  },
  cooldownJitter: {
    kind: 'fraction',
    default: 0.2,
    doc: 'how much shorter than `cooldownMs` a window may be drawn',
  },
  attemptTimeoutMs: {
    kind: 'positive-ms',
    infinite: true,
    default: DEFAULT_ATTEMPT_TIMEOUT_MS,
    doc: "the longest one region's attempt may take",
  },
  clock: { kind: 'object-with-method', method: 'now', doc: 'the clock breaker windows are measured with' },
} as const satisfies OptionTable;

const OPTION_NAMES: readonly string[] = ['regions', 'sourceFor', ...Object.keys(REGIONAL_SOURCE_OPTIONS)];

/**
 * What a {@link regionalSource} answers: the inner source's version, as a new object, with the region that
 * answered. Its `arn` names the secret in the primary region (the first of `regions`) whichever region answered,
 * so a secret has one ARN however it was served (a replica's ARN differs from the primary's in the region only),
 * and the cache matches a batch's answers to the ARNs it asked for.
 *
 * @example
 * ```ts
 * import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 * import { AwsSecretSource, type RegionalSecretVersion, regionalSource } from 'secretcache';
 *
 * const source = regionalSource({
 *   regions: ['us-east-1', 'eu-west-1'],
 *   sourceFor: (region) => new AwsSecretSource(new SecretsManagerClient({ region })),
 * });
 * const version: RegionalSecretVersion = await source.getSecretValue({ secretId: 'prod/orders/db' });
 * if (version.region !== 'us-east-1') console.warn(`prod/orders/db served by the replica in ${version.region}`);
 * ```
 */
export interface RegionalSecretVersion extends SecretVersion {
  /** The region whose source answered: the primary, or the replica a fetch failed over to. */
  readonly region: string;
}

/**
 * What a {@link regionalSource}'s `batchGetSecretValue` answers: one region's whole answer. Versions carry the
 * region, as {@link RegionalSecretVersion}; errors name the ids as the caller gave them (a full ARN in the
 * primary's form, where it was sent to a replica in the replica's).
 *
 * @example
 * ```ts
 * import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 * import { AwsSecretSource, type RegionalBatchResult, regionalSource } from 'secretcache';
 *
 * const source = regionalSource({
 *   regions: ['us-east-1', 'eu-west-1'],
 *   sourceFor: (region) => new AwsSecretSource(new SecretsManagerClient({ region })),
 * });
 * const result: RegionalBatchResult = await source.batchGetSecretValue!(['prod/orders/db', 'prod/orders/api']);
 * const regions = new Set(result.versions.map((version) => version.region)); // one region answered the batch
 * ```
 */
export interface RegionalBatchResult extends BatchResult {
  readonly versions: readonly RegionalSecretVersion[];
}

/**
 * One region's circuit breaker, as {@link RegionalSource.regionStates} reports it: no secret ids, no values.
 *
 * - `closed`: fetches go to this region (the first closed one in `regions`).
 * - `open`: it failed transiently less than a window ago; fetches skip it.
 * - `half-open`: its window is over; the next fetch that comes to it is its trial (`trial` is `true` while that
 *   runs), others keep skipping it. The trial's answer closes it; a transient failure opens it for a new window.
 *
 * @example
 * ```ts
 * import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 * import { AwsSecretSource, type RegionState, regionalSource } from 'secretcache';
 *
 * const source = regionalSource({
 *   regions: ['us-east-1', 'eu-west-1'],
 *   sourceFor: (region) => new AwsSecretSource(new SecretsManagerClient({ region })),
 * });
 * // A gauge per region for the metrics scrape: 0 closed, 1 half-open, 2 open.
 * const level = { closed: 0, 'half-open': 1, open: 2 } as const;
 * const gauges = source.regionStates().map((state: RegionState) => [state.region, level[state.state]]);
 * ```
 */
export interface RegionState {
  readonly region: string;
  readonly state: 'closed' | 'open' | 'half-open';
  /** Clock time at which an open window ends; `undefined` when closed. */
  readonly openUntil: number | undefined;
  /** Whether a half-open trial is running now. */
  readonly trial: boolean;
  /** Transient failures since the region last answered. */
  readonly consecutiveFailures: number;
  /** Calls made to this region's source (single fetches and batches). */
  readonly attempts: number;
  /** Of those, the ones that failed transiently (and failed over, where another region was left). */
  readonly failures: number;
  /** The code of the last transient failure; `undefined` before the first. */
  readonly lastFailureCode: SecretCacheErrorCode | undefined;
}

/**
 * The {@link SecretSource} {@link regionalSource} returns: it reads from one region at a time and fails over to
 * the next on transient errors, with a circuit breaker per region.
 *
 * @example
 * ```ts
 * import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 * import { AwsSecretSource, type RegionalSource, SecretCache, regionalSource } from 'secretcache';
 *
 * const source: RegionalSource = regionalSource({
 *   regions: ['eu-west-1', 'eu-central-1'],
 *   sourceFor: (region) => new AwsSecretSource(new SecretsManagerClient({ region })),
 * });
 * const cache = new SecretCache({ source });
 * setInterval(() => console.log(JSON.stringify(source.regionStates())), 60_000).unref();
 * ```
 */
export interface RegionalSource extends SecretSource {
  /** The regions, in order of preference, as given. */
  readonly regions: readonly string[];
  getSecretValue(request: SecretRequest, signal?: AbortSignal): Promise<RegionalSecretVersion>;
  /** Present when every region's source has it. */
  batchGetSecretValue?(secretIds: readonly string[], signal?: AbortSignal): Promise<RegionalBatchResult>;
  /** A snapshot of every region's breaker, in the order of `regions`; frozen, and safe to log. */
  regionStates(): readonly RegionState[];
}

// A full ARN: partition, the region field, then the account and a name with its 6-character suffix (the
// characters Secrets Manager allows in a name). A partial ARN (no suffix) does not match and is left alone.
const FULL_ARN =
  /^(arn:aws(?:-[a-z]+)*:secretsmanager:)[a-z0-9-]+(:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6})$/;

/**
 * The same secret id for another region: a full Secrets Manager ARN
 * (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-SUFFIX`) with its region field replaced, which is
 * the ARN Secrets Manager gives the secret's replica in `region`. A name, a partial ARN (no 6-character suffix)
 * and anything else are returned as they are. A partial ARN whose name happens to end in `-` and six letters or
 * digits (`db-backup`) reads as a full one; its region is replaced too.
 *
 * @param secretId - a secret's name or ARN
 * @param region - the region to name, such as `'eu-west-1'`
 * @example
 * ```ts
 * import { arnInRegion } from 'secretcache';
 *
 * arnInRegion('arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf', 'eu-west-1');
 * // 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf'
 * arnInRegion('prod/db', 'eu-west-1'); // 'prod/db'
 * ```
 */
export function arnInRegion(secretId: string, region: string): string {
  const match = FULL_ARN.exec(secretId);
  return match === null ? secretId : `${match[1]}${region}${match[2]}`;
}

/**
 * A {@link SecretSource} over one source per region, for secrets replicated to other regions
 * (`ReplicateSecretToRegions`): a fetch goes to the first region whose breaker is closed and, when it fails
 * transiently (`THROTTLED`, `FETCH_FAILED`, `TIMEOUT`), the same secret is fetched from the next region. Any
 * other error (`NOT_FOUND`, `ACCESS_DENIED`, `DECRYPTION_FAILED`, `INVALID_REQUEST`, ...) is the answer and is
 * not failed over, also when a replica gives it (so replicate every secret you read to every region listed).
 *
 * The same secret in another region: a full ARN is sent with that region (see {@link arnInRegion}); a name is
 * sent as it is; a partial ARN too, so it keeps naming the primary's region: read by name or full ARN.
 *
 * The breaker of each region:
 * - A transient failure opens it for a window drawn from `[cooldownMs * (1 - cooldownJitter), cooldownMs]`;
 *   fetches skip it meanwhile, so an outage of the primary costs one attempt per window, not one per fetch.
 * - When the window ends it is half-open: the next fetch to reach it is its one trial, while other fetches keep
 *   skipping it. An answer (a value, or an error that is not transient) closes it; a transient failure opens it
 *   for a new window. A fetch the caller aborts leaves it as it was (a trial is released for the next fetch).
 * - When every region is open (or half-open with its trial running), a fetch still makes one call: to the region
 *   whose window ends first, rather than failing without asking anyone.
 * - Each fetch asks each region at most once, in the order of `regions`; when the last one it could ask failed
 *   transiently, that error is thrown (and the cache retries, or serves a stale value, as for any source).
 * - Fetches already running when a breaker opens are not recalled: at the start of an outage each of them makes
 *   its attempt.
 *
 * Each attempt is aborted after `attemptTimeoutMs` (a `TIMEOUT`, transient: the next region is asked); the
 * caller's `signal` aborts everything, and the fetch rejects with its reason. The only timer is the attempt's,
 * unref'd and cleared when the attempt settles. Batches (`batchGetSecretValue`, when every region's source has
 * it) fail over the same way, as a whole; the region that answers answers for every id, its per-id errors
 * included.
 *
 * @param options - see {@link RegionalSourceOptions}
 * @returns a {@link RegionalSource}, whose answers carry the `region` that gave them (see
 *   {@link RegionalSecretVersion}); it renders as `regionalSource(us-east-1, eu-west-1)`
 * @example
 * ```ts
 * import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 * import { AwsSecretSource, SecretCache, regionalSource } from 'secretcache';
 *
 * const source = regionalSource({
 *   regions: ['us-east-1', 'us-west-2'],
 *   sourceFor: (region) => new AwsSecretSource(new SecretsManagerClient({ region })),
 * });
 * const cache = new SecretCache({ source });
 * const db = await cache.getSecretJson('prod/orders/db'); // from us-west-2 while us-east-1 is failing
 * ```
 */
export function regionalSource(options: RegionalSourceOptions): RegionalSource {
  const { regions, sourceFor, resolved, clock } = checkOptions(options);
  const breakers: Breaker[] = regions.map((region) => {
    const source = sourceFor(region);
    if (typeof (source as Partial<SecretSource> | null)?.getSecretValue !== 'function') {
      throw new TypeError(
        `Expected \`sourceFor('${region}')\` to return a SecretSource (an object with a \`getSecretValue()\` method), got ${describeValue(source)}.`,
      );
    }
    return {
      region,
      source,
      openUntil: undefined,
      trial: false,
      consecutiveFailures: 0,
      attempts: 0,
      failures: 0,
      lastFailureCode: undefined,
    };
  });
  const router = new Router(breakers, clock, resolved);
  const primary = regions[0] as string;
  const answer = (version: SecretVersion, region: string): RegionalSecretVersion => ({
    ...version,
    arn: arnInRegion(version.arn, primary),
    region,
  });

  const source: RegionalSource & { toString(): string } = {
    regions,
    getSecretValue(request: SecretRequest, signal?: AbortSignal): Promise<RegionalSecretVersion> {
      return router.run(
        request.secretId,
        ({ source, region }, attemptSignal) => {
          const secretId = arnInRegion(request.secretId, region);
          return source
            .getSecretValue(secretId === request.secretId ? request : { ...request, secretId }, attemptSignal)
            .then((version) => answer(version, region));
        },
        signal,
      );
    },
    regionStates: () => router.states(),
    toString: () => `regionalSource(${regions.join(', ')})`,
  };
  if (breakers.every(({ source }) => typeof source.batchGetSecretValue === 'function')) {
    source.batchGetSecretValue = (secretIds, signal) =>
      router.run(
        secretIds.join(','),
        ({ source, region }, attemptSignal) => {
          const sent = secretIds.map((secretId) => arnInRegion(secretId, region));
          return (source as Required<SecretSource>)
            .batchGetSecretValue(sent, attemptSignal)
            .then((result) => batchAnswer(result, secretIds, sent, region, answer));
        },
        signal,
      );
  }
  return Object.freeze(source);
}

/** One region's batch answer, with each version stamped and each error naming the id as the caller gave it. */
function batchAnswer(
  result: BatchResult,
  secretIds: readonly string[],
  sent: readonly string[],
  region: string,
  answer: (version: SecretVersion, region: string) => RegionalSecretVersion,
): RegionalBatchResult {
  return {
    versions: result.versions.map((version) => answer(version, region)),
    errors: result.errors.map((failure) => {
      const index = sent.indexOf(failure.secretId);
      const secretId = index === -1 ? failure.secretId : (secretIds[index] as string);
      if (secretId === failure.secretId) return failure;
      const { code, message, cause, errors } = failure.error;
      return { secretId, error: new SecretCacheError(code, secretId, message, { cause, errors }) };
    }),
  };
}

interface Checked {
  readonly regions: readonly string[];
  readonly sourceFor: (region: string) => SecretSource;
  readonly resolved: RouterTiming;
  readonly clock: Clock;
}

function checkOptions(options: unknown): Checked {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      `Expected the options of regionalSource to be an object, got ${describeValue(options)}.`,
    );
  }
  const unknown = unknownKeyProblem(options, OPTION_NAMES, 'options of regionalSource');
  if (unknown !== undefined) throw new TypeError(unknown);
  const given = options as Readonly<Record<string, unknown>>;
  const regions = checkRegions(given.regions);
  const sourceFor = given.sourceFor;
  if (typeof sourceFor !== 'function') {
    throw new TypeError(`Expected \`sourceFor\` to be a function, got ${describeValue(sourceFor)}.`);
  }
  const resolved = resolveTable(REGIONAL_SOURCE_OPTIONS, given, 'options of regionalSource', OPTION_NAMES);
  const clock = (given.clock as Clock | undefined) ?? new TurnClock();
  return { regions, sourceFor: sourceFor as (region: string) => SecretSource, resolved, clock };
}

function checkRegions(value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) {
    const got = Array.isArray(value) ? 'an empty array' : describeValue(value);
    throw new TypeError(
      `Expected \`regions\` to be a non-empty array of region names such as 'us-east-1', got ${got}.`,
    );
  }
  const seen = new Set<string>();
  value.forEach((region: unknown, index) => {
    if (!isRegionName(region)) {
      throw new TypeError(
        `Expected \`regions[${index}]\` to be a region name such as 'us-east-1', got ${describeValue(region)}.`,
      );
    }
    // A region name is no secret: quoting it is what makes the message useful.
    if (seen.has(region))
      throw new TypeError(`Expected \`regions\` to name each region once, got '${region}' twice.`);
    seen.add(region);
  });
  return Object.freeze([...(value as string[])]);
}
