import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import type { Clock } from './clock.js';
import { describeValue as describe } from './describe.js';
import type { SecretCacheHooks } from './events.js';
import { DEFAULT_RETRY, type RetryOptions } from './fetcher.js';
import type { StandardSchemaV1 } from './schema.js';
import { MAX_VERSION_STAGE_LENGTH, stageProblem } from './selector.js';
import type { SecretSource, SecretsManagerLike } from './source.js';

/**
 * Options of {@link SecretCache}. Every field is optional; the defaults suit a service that reads a few dozen
 * secrets on its hot paths.
 *
 * @example
 * ```ts
 * import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 * import { SecretCache, type SecretCacheOptions } from 'secretcache';
 *
 * const options: SecretCacheOptions = {
 *   client: new SecretsManagerClient({ region: 'eu-west-1' }),
 *   ttlMs: 60_000, // see a rotation within a minute
 *   staleIfErrorMs: 6 * 3_600_000, // ride out a long Secrets Manager outage
 *   hooks: { onError: ({ secretId, code }) => console.warn(`secret ${secretId}: ${code}`) },
 * };
 * const cache = new SecretCache(options);
 * ```
 */
export interface SecretCacheOptions {
  /**
   * The Secrets Manager client to fetch with: a `SecretsManagerClient`, or anything with the same
   * `send(command, { abortSignal })`. Give either `client` or `source`, not both.
   * @default a `SecretsManagerClient` with the default region and credential chain, created on first fetch
   */
  readonly client?: SecretsManagerLike;
  /**
   * Where secrets come from, for transports other than the AWS SDK (and tests). Give either `client` or
   * `source`, not both.
   * @default an `AwsSecretSource` over `client`
   */
  readonly source?: SecretSource;
  /**
   * How old, in milliseconds, a served value may be. After that the next read fetches again. Reads pinned to a
   * `versionId` never expire (a version's value is immutable in Secrets Manager).
   * @default 300_000 (5 minutes)
   */
  readonly ttlMs?: number;
  /**
   * How many secret versions the cache holds at most; the least recently read goes first. Each distinct
   * (secret id, stage or version id) pair is one entry.
   * @default 1_000
   */
  readonly maxEntries?: number;
  /**
   * The staging label read when a call names neither `versionStage` nor `versionId`.
   * @default 'AWSCURRENT'
   */
  readonly versionStage?: string;
  /**
   * The clock TTLs are measured with. Tests inject a fake one.
   * @default `Date.now()`, read at most once per event-loop turn (see `TurnClock`)
   */
  readonly clock?: Clock;
  /**
   * How long before expiry, in milliseconds, a read starts a background refresh while it returns the cached
   * value at once. Under steady traffic no reader waits for AWS after the first fetch. `0` turns it off.
   * @default `ttlMs / 10`, at most 10_000 (10 s with the default TTL)
   */
  readonly refreshAheadMs?: number;
  /**
   * How long past its expiry, in milliseconds, the last good value is served while refreshing it fails with a
   * transient error (throttling, network, 5xx, timeout). Reads that find such a value never wait for AWS; the
   * cache retries in the background on the backoff schedule. `0` turns it off; `Infinity` is allowed.
   * @default 3_600_000 (1 hour)
   */
  readonly staleIfErrorMs?: number;
  /**
   * Serve stale values on every error, also `NOT_FOUND`, `ACCESS_DENIED` and `DECRYPTION_FAILED` (which are
   * otherwise reported at once, since waiting will not fix them).
   * @default false
   */
  readonly staleOnAnyError?: boolean;
  /**
   * After a failed fetch, how long that key is left alone: reads in that window get the stale value (see
   * `staleIfErrorMs`) or the last error at once, without calling AWS. Also caches `NOT_FOUND` negatively.
   * @default { baseMs: 1_000, factor: 2, maxMs: 60_000 }, each delay with equal jitter
   */
  readonly backoff?: BackoffOptions;
  /**
   * Retries inside one fetch, for transient errors only, with `p-retry` (on top of the SDK's own retries).
   * @default { retries: 1, minTimeoutMs: 100, maxTimeoutMs: 1_000 }
   */
  readonly retry?: RetryOptions;
  /**
   * How long one fetch (its retries included) may take before it fails with `TIMEOUT`; the SDK request is
   * aborted through its `abortSignal`.
   * @default 5_000
   */
  readonly fetchTimeoutMs?: number;
  /**
   * A fraction in `[0, 1)`: each value's lifetime is drawn from `[ttlMs * (1 - ttlJitter), ttlMs]`, so a fleet
   * started together does not refresh together. A key's first lifetime spans the whole window; later ones its
   * top tenth, which keeps the spread at almost no extra calls.
   * @default 0.5
   */
  readonly ttlJitter?: number;
  /** Callbacks for fetches, errors, stale reads and evictions; see {@link SecretCacheHooks}. */
  readonly hooks?: SecretCacheHooks;
}

/**
 * Which version of a secret a read wants, and a signal to stop waiting for it. Give at most one of
 * `versionStage` and `versionId`.
 *
 * @example
 * ```ts
 * import { type ReadOptions, SecretCache } from 'secretcache';
 *
 * const cache = new SecretCache();
 * // Wait no longer than this request may take; the fetch goes on for other readers.
 * const options: ReadOptions = { signal: AbortSignal.timeout(2_000) };
 * const token = await cache.getSecretString('prod/orders/token', options);
 * const pinned = await cache.getSecretString('prod/orders/token', {
 *   versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
 * });
 * ```
 */
export interface ReadOptions {
  /**
   * A staging label: `'AWSCURRENT'`, `'AWSPREVIOUS'`, `'AWSPENDING'` or one of your own.
   * @default the cache's `versionStage`
   */
  readonly versionStage?: string;
  /** A version id; the value of a version never changes, so such a read is cached without a TTL. */
  readonly versionId?: string;
  /**
   * Stops this caller's wait (rejecting with `ABORTED`, the signal's reason as `cause`) without cancelling the
   * fetch that other readers share.
   */
  readonly signal?: AbortSignal;
}

/**
 * Options of `getSecretJson`: a version selector and, optionally, a Standard Schema to validate with. To
 * declare them apart from the call, use `satisfies`, so that `schema` stays required and types the result.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { type JsonReadOptions, SecretCache } from 'secretcache';
 *
 * // In a rotation Lambda's testSecret step: the pending credentials, validated.
 * const Db = z.object({ host: z.string(), username: z.string(), password: z.string() });
 * const pending = { versionStage: 'AWSPENDING', schema: Db } satisfies JsonReadOptions<typeof Db>;
 * const db = await new SecretCache().getSecretJson('prod/orders/db', pending); // typed by Db
 * ```
 */
export interface JsonReadOptions<Schema extends StandardSchemaV1 | undefined = undefined>
  extends ReadOptions {
  /** Any Standard Schema v1 (zod, valibot, arktype...); validated once per fetched version. */
  readonly schema?: Schema;
}

/** The options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly versionStage: string;
  readonly refreshAheadMs: number;
  readonly staleIfErrorMs: number;
  readonly staleOnAnyError: boolean;
  readonly backoff: Required<BackoffOptions>;
  readonly retry: Required<RetryOptions>;
  readonly fetchTimeoutMs: number;
  readonly ttlJitter: number;
}

export const DEFAULT_TTL_MS = 300_000;
export const DEFAULT_MAX_ENTRIES = 1_000;
export const DEFAULT_VERSION_STAGE = 'AWSCURRENT';
export const DEFAULT_STALE_IF_ERROR_MS = 3_600_000;
export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
export const DEFAULT_TTL_JITTER = 0.5;

function isPositiveNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Validates the constructor's options once; a bad option is a `TypeError` naming it. */
export function resolveOptions(options: SecretCacheOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}.`);
  }
  const { ttlMs = DEFAULT_TTL_MS, maxEntries = DEFAULT_MAX_ENTRIES } = options ?? {};
  const versionStage = options?.versionStage ?? DEFAULT_VERSION_STAGE;
  if (!isPositiveNumber(ttlMs)) {
    throw new TypeError(
      `Expected \`ttlMs\` to be a positive, finite number of milliseconds, got ${describe(ttlMs)}.`,
    );
  }
  if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0) {
    throw new TypeError(`Expected \`maxEntries\` to be a positive integer, got ${describe(maxEntries)}.`);
  }
  if (stageProblem(versionStage) !== undefined) {
    throw new TypeError(
      `Expected \`versionStage\` to be a non-empty string of at most ${MAX_VERSION_STAGE_LENGTH} characters, got ${describe(versionStage)}.`,
    );
  }
  if (options?.clock !== undefined && typeof options.clock?.now !== 'function') {
    throw new TypeError('Expected `clock` to be an object with a `now()` method.');
  }
  if (options?.client !== undefined && typeof options.client?.send !== 'function') {
    throw new TypeError(
      'Expected `client` to be a SecretsManagerClient or an object with a `send()` method.',
    );
  }
  if (options?.source !== undefined && typeof options.source?.getSecretValue !== 'function') {
    throw new TypeError('Expected `source` to be an object with a `getSecretValue()` method.');
  }
  if (options?.client !== undefined && options.source !== undefined) {
    throw new TypeError('Expected either `client` or `source`, not both.');
  }
  const refreshAheadMs = options?.refreshAheadMs ?? Math.min(10_000, ttlMs / 10);
  if (!isNonNegativeNumber(refreshAheadMs) || !Number.isFinite(refreshAheadMs) || refreshAheadMs >= ttlMs) {
    throw new TypeError(
      `Expected \`refreshAheadMs\` to be a non-negative number of milliseconds below \`ttlMs\`, got ${describe(refreshAheadMs)}.`,
    );
  }
  const staleIfErrorMs = options?.staleIfErrorMs ?? DEFAULT_STALE_IF_ERROR_MS;
  if (!isNonNegativeNumber(staleIfErrorMs)) {
    throw new TypeError(
      `Expected \`staleIfErrorMs\` to be a non-negative number of milliseconds, got ${describe(staleIfErrorMs)}.`,
    );
  }
  const staleOnAnyError = options?.staleOnAnyError ?? false;
  if (typeof staleOnAnyError !== 'boolean') {
    throw new TypeError(`Expected \`staleOnAnyError\` to be a boolean, got ${describe(staleOnAnyError)}.`);
  }
  const fetchTimeoutMs = options?.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  if (!isPositiveNumber(fetchTimeoutMs) || fetchTimeoutMs > 2_147_483_647) {
    throw new TypeError(
      `Expected \`fetchTimeoutMs\` to be a positive number of milliseconds (at most 2^31 - 1), got ${describe(fetchTimeoutMs)}.`,
    );
  }
  const ttlJitter = options?.ttlJitter ?? DEFAULT_TTL_JITTER;
  if (!isNonNegativeNumber(ttlJitter) || ttlJitter >= 1) {
    throw new TypeError(`Expected \`ttlJitter\` to be a fraction in [0, 1), got ${describe(ttlJitter)}.`);
  }
  const backoff = { ...DEFAULT_BACKOFF, ...definedFields(options?.backoff, 'backoff') };
  if (!isPositiveNumber(backoff.baseMs))
    throw new TypeError(
      `Expected \`backoff.baseMs\` to be a positive number of milliseconds, got ${describe(backoff.baseMs)}.`,
    );
  if (!isPositiveNumber(backoff.factor) || backoff.factor < 1)
    throw new TypeError(
      `Expected \`backoff.factor\` to be a number of at least 1, got ${describe(backoff.factor)}.`,
    );
  if (!isPositiveNumber(backoff.maxMs) || backoff.maxMs < backoff.baseMs)
    throw new TypeError(
      `Expected \`backoff.maxMs\` to be a number of milliseconds of at least \`backoff.baseMs\`, got ${describe(backoff.maxMs)}.`,
    );
  const retry = { ...DEFAULT_RETRY, ...definedFields(options?.retry, 'retry') };
  if (!Number.isSafeInteger(retry.retries) || retry.retries < 0)
    throw new TypeError(
      `Expected \`retry.retries\` to be a non-negative integer, got ${describe(retry.retries)}.`,
    );
  if (!isNonNegativeNumber(retry.minTimeoutMs) || !Number.isFinite(retry.minTimeoutMs))
    throw new TypeError(
      `Expected \`retry.minTimeoutMs\` to be a non-negative number of milliseconds, got ${describe(retry.minTimeoutMs)}.`,
    );
  if (!isNonNegativeNumber(retry.maxTimeoutMs) || retry.maxTimeoutMs < retry.minTimeoutMs)
    throw new TypeError(
      `Expected \`retry.maxTimeoutMs\` to be a number of milliseconds of at least \`retry.minTimeoutMs\`, got ${describe(retry.maxTimeoutMs)}.`,
    );
  if (options?.hooks !== undefined && (typeof options.hooks !== 'object' || options.hooks === null)) {
    throw new TypeError(`Expected \`hooks\` to be an object, got ${describe(options.hooks)}.`);
  }
  for (const [name, hook] of Object.entries(options?.hooks ?? {})) {
    if (hook !== undefined && typeof hook !== 'function') {
      throw new TypeError(`Expected \`hooks.${name}\` to be a function, got ${describe(hook)}.`);
    }
  }
  return {
    ttlMs,
    maxEntries,
    versionStage,
    refreshAheadMs,
    staleIfErrorMs,
    staleOnAnyError,
    backoff,
    retry,
    fetchTimeoutMs,
    ttlJitter,
  };
}

function isNonNegativeNumber(value: unknown): value is number {
  return typeof value === 'number' && !Number.isNaN(value) && value >= 0;
}

/** The fields of a nested options object that are set, so `{ baseMs: undefined }` keeps the default. */
function definedFields<T extends object>(value: T | undefined, name: string): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`Expected \`${name}\` to be an object, got ${describe(value)}.`);
  }
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
