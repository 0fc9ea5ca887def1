import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js';
import type { Clock } from './clock.js';
import { describeValue as describe } from './describe.js';
import type { SecretCacheHooks } from './events.js';
import { DEFAULT_RETRY, type RetryOptions } from './fetcher.js';
import { type OptionSpec, resolveTable } from './option-table.js';
import type { StandardSchemaV1 } from './schema.js';
import { MAX_VERSION_STAGE_LENGTH } from './selector.js';
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
   * Replica regions to fail over to, the primary first: `['us-east-1', 'eu-west-1']`. A fetch that fails
   * transiently (throttling, 5xx, network, timeout) in one region is made in the next, for the same secret (a
   * full ARN gets that region); other errors never fail over. A region that failed is skipped for about 30 s,
   * so an outage costs one attempt per window. Each region gets its own `SecretsManagerClient`, made on the
   * first fetch. For clients of your own, pass `source: regionalSource({ regions, sourceFor })`. Not together
   * with `client` or `source`.
   * @default none: one client, in the SDK's default region
   */
  readonly regions?: readonly string[];
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
   * How long, in milliseconds, a read of an expired value waits for its refresh before it is served the last
   * good value (`stale: true`) while the fetch goes on. Applies only where a stale value may be served (within
   * `staleIfErrorMs`). `0` serves it at once; `Infinity` waits for the whole fetch.
   * @default 500
   */
  readonly staleWaitMs?: number;
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
  /**
   * Callbacks for fetches, errors, stale reads and evictions; see {@link SecretCacheHooks}. An unknown hook
   * name is a `TypeError`, as is any unknown option.
   */
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
  readonly staleWaitMs: number;
  readonly backoff: Required<BackoffOptions>;
  readonly retry: Required<RetryOptions>;
  readonly fetchTimeoutMs: number;
  readonly ttlJitter: number;
}

/**
 * The options of {@link SecretCache}: how each is checked, its default, and its line in the README (`npm run
 * docs:options` writes the README's table from it). `satisfies` keeps it in step with `SecretCacheOptions`.
 *
 * @example
 * ```ts
 * import { optionsMarkdown } from './option-table.js';
 * import { SECRET_CACHE_OPTIONS } from './options.js';
 *
 * SECRET_CACHE_OPTIONS.ttlMs.default; // 300_000
 * const table = optionsMarkdown(SECRET_CACHE_OPTIONS);
 * ```
 */
export const SECRET_CACHE_OPTIONS = {
  client: {
    kind: 'object-with-method',
    method: 'send',
    alias: 'a SecretsManagerClient',
    defaultDoc:
      'a `SecretsManagerClient` with the default region and credential chain, created on the first fetch',
    doc: 'the client to fetch with, called as `send(command, { abortSignal })`',
  },
  source: {
    kind: 'object-with-method',
    method: 'getSecretValue',
    excludes: 'client',
    defaultDoc: 'an `AwsSecretSource` over `client`',
    doc: 'a `SecretSource`: another transport (tests, a proxy); not together with `client`',
  },
  regions: {
    kind: 'region-list',
    excludes: ['client', 'source'],
    defaultDoc: "none: one client, in the SDK's default region",
    doc: 'read from the first region and fail over to the next on transient errors (throttling, 5xx, network, timeout), each region skipped for a while after one (see "Regions"); not together with `client` or `source`',
  },
  ttlMs: {
    kind: 'positive-ms',
    default: 300_000,
    doc: 'how old a served value may be; the next read after that fetches again (never for a `versionId`)',
  },
  maxEntries: {
    kind: 'positive-integer',
    // lru-cache reserves its slots up front, about 28 bytes each: a million is 28 MB before any secret is read.
    max: 1_000_000,
    default: 1_000,
    doc: 'LRU bound on cached versions (each secret + stage or version id is one); about 28 bytes per slot are reserved up front',
  },
  versionStage: {
    kind: 'string',
    maxLength: MAX_VERSION_STAGE_LENGTH,
    default: 'AWSCURRENT',
    doc: 'the stage read when a call names neither stage nor version id',
  },
  clock: {
    kind: 'object-with-method',
    method: 'now',
    defaultDoc: '`Date.now()`, read at most once per event-loop turn',
    doc: 'the time TTLs are measured with; tests inject a fake',
  },
  refreshAheadMs: {
    kind: 'non-negative-ms',
    below: 'ttlMs',
    default: ({ ttlMs }) => Math.min(10_000, Number(ttlMs) / 10),
    defaultDoc: '`ttlMs / 10`, at most `10_000`',
    doc: 'a read this close to expiry returns the cached value at once and starts one background refresh; `0` turns it off',
  },
  staleIfErrorMs: {
    kind: 'non-negative-ms',
    infinite: true,
    default: 3_600_000,
    doc: 'how long past expiry the last good value is served while refreshing fails transiently; `0` off, `Infinity` allowed',
  },
  staleOnAnyError: {
    kind: 'boolean',
    default: false,
    doc: 'also serve stale values on `NOT_FOUND`, `ACCESS_DENIED`, `DECRYPTION_FAILED`, `INVALID_REQUEST`',
  },
  staleWaitMs: {
    kind: 'non-negative-ms',
    infinite: true,
    default: 500,
    doc: 'how long a read of an expired value waits for its refresh before it gets the last good value (`stale: true`) and the fetch goes on; only where a stale value may be served (within `staleIfErrorMs`); `Infinity` waits for the whole fetch',
  },
  backoff: {
    kind: 'nested',
    doc: 'after a failed fetch the key is not fetched again for `min(maxMs, baseMs * factor^(n-1))`, of which the upper half is random',
    options: {
      baseMs: {
        kind: 'positive-ms',
        default: DEFAULT_BACKOFF.baseMs,
        doc: 'the delay after the first failure',
      },
      factor: {
        kind: 'multiplier',
        default: DEFAULT_BACKOFF.factor,
        doc: 'how much each further consecutive failure multiplies the delay',
      },
      maxMs: {
        kind: 'positive-ms',
        atLeast: 'baseMs',
        default: DEFAULT_BACKOFF.maxMs,
        doc: 'the longest delay',
      },
    } satisfies Record<keyof BackoffOptions, OptionSpec>,
  },
  retry: {
    kind: 'nested',
    doc: "retries of transient errors inside one fetch (`p-retry`), on top of the SDK's own",
    options: {
      retries: {
        kind: 'non-negative-integer',
        default: DEFAULT_RETRY.retries,
        doc: 'further attempts after the first',
      },
      minTimeoutMs: {
        kind: 'non-negative-ms',
        default: DEFAULT_RETRY.minTimeoutMs,
        doc: 'the wait before the first retry (randomized up to twice that)',
      },
      maxTimeoutMs: {
        kind: 'non-negative-ms',
        infinite: true,
        atLeast: 'minTimeoutMs',
        default: DEFAULT_RETRY.maxTimeoutMs,
        doc: 'the longest wait between two attempts',
      },
    } satisfies Record<keyof RetryOptions, OptionSpec>,
  },
  fetchTimeoutMs: {
    kind: 'positive-ms',
    // The longest delay `setTimeout` honours; a longer one fires at once.
    max: 2 ** 31 - 1,
    default: 5_000,
    doc: 'one fetch, retries included, fails with `TIMEOUT` after this; the SDK request is aborted',
  },
  ttlJitter: {
    kind: 'fraction',
    default: 0.5,
    doc: "a key's first lifetime is drawn from `[ttlMs * (1 - ttlJitter), ttlMs]`, later ones from that window's top tenth",
  },
  hooks: {
    kind: 'nested',
    doc: 'callbacks with secret id, stage, duration, code; never a value',
    options: {
      onFetch: { kind: 'function', doc: 'a fetch succeeded: why it ran and how long it took' },
      onError: { kind: 'function', doc: 'a fetch failed: its code, and when the key is fetched again' },
      onStale: {
        kind: 'function',
        doc: 'reads are being served a value past its TTL (AWS failing, or slower than `staleWaitMs`): once when that starts, then at most once per backoff window',
      },
      onEvict: { kind: 'function', doc: 'a version left the cache (`maxEntries`, `invalidate`)' },
      onVersionChange: {
        kind: 'function',
        doc: 'a fetch of a cached stage brought another version (a rotation): secret id, stage, `oldVersionId`, `newVersionId`',
      },
    } satisfies Record<keyof SecretCacheHooks | 'onVersionChange', OptionSpec>,
  },
} satisfies Record<keyof SecretCacheOptions, OptionSpec>;

/**
 * Validates the constructor's options once against {@link SECRET_CACHE_OPTIONS}: a bad or unknown option is a
 * `TypeError` naming it (and, for an unknown one, the option it is closest to).
 */
export function resolveOptions(options: SecretCacheOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}.`);
  }
  return resolveTable(SECRET_CACHE_OPTIONS, options ?? {}, 'SecretCache options');
}
