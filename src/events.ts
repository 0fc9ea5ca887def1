import { channel } from 'node:diagnostics_channel';
import type { SecretCacheError, SecretCacheErrorCode } from './errors.js';

/**
 * Which secret version an event concerns. Never its value. Every event has these fields: `versionStage` for a
 * read by stage (the default), `versionId` for a read pinned to a version.
 *
 * @example
 * ```ts
 * import type { SecretEventTarget } from 'secretcache';
 *
 * // One label for any hook's event, to group logs and metrics by secret version.
 * const label = ({ secretId, versionStage, versionId }: SecretEventTarget): string =>
 *   `${secretId}@${versionId ?? versionStage}`;
 * ```
 */
export interface SecretEventTarget {
  readonly secretId: string;
  readonly versionStage: string | undefined;
  readonly versionId: string | undefined;
}

/**
 * A fetch that succeeded, as `hooks.onFetch` and the `secretcache:fetch` channel get it.
 *
 * @example
 * ```ts
 * import { type FetchEvent, SecretCache } from 'secretcache';
 *
 * const onFetch = ({ secretId, reason, durationMs }: FetchEvent): void =>
 *   logger.debug(`fetched ${secretId} (${reason}) in ${durationMs} ms`);
 * const cache = new SecretCache({ hooks: { onFetch } });
 * ```
 */
export interface FetchEvent extends SecretEventTarget {
  /** Milliseconds from the fetch's start to its answer (retries included). */
  readonly durationMs: number;
  /** Why it ran: a read that found nothing fresh, a refresh-ahead, a retry while stale, `refreshNow`, a load. */
  readonly reason: FetchReason;
  /** The version id Secrets Manager answered with. */
  readonly fetchedVersionId: string;
  /** The AWS region that answered, when the cache reads through several (`regions`). */
  readonly region?: string;
}

/**
 * A fetch that failed, as `hooks.onError` and the `secretcache:error` channel get it. Readers may still have
 * been served a stale value (see {@link StaleEvent}).
 *
 * @example
 * ```ts
 * import { type ErrorEvent, SecretCache } from 'secretcache';
 *
 * const onError = ({ secretId, reason, code, retryInMs }: ErrorEvent): void =>
 *   console.warn(`fetching ${secretId} (${reason}) failed with ${code}; next attempt in ${retryInMs} ms`);
 * const cache = new SecretCache({ hooks: { onError } });
 * ```
 */
export interface ErrorEvent extends SecretEventTarget {
  readonly durationMs: number;
  readonly reason: FetchReason;
  readonly code: SecretCacheErrorCode;
  readonly error: SecretCacheError;
  /** Milliseconds until the key is fetched again (the backoff), counted from the failure. */
  readonly retryInMs: number;
}

/**
 * A stale period of a secret version, as `hooks.onStale` and the `secretcache:stale` channel get it: reads are
 * being served a value past its TTL because AWS is failing (or, within `staleWaitMs`, slow), so the outage is
 * hidden from callers and this is the event to alert on. Reported when the period starts and at most once per
 * backoff window after that; `stats().staleServed` counts every stale read.
 *
 * @example
 * ```ts
 * import { SecretCache, type StaleEvent } from 'secretcache';
 *
 * const onStale = ({ secretId, staleForMs, code }: StaleEvent): void =>
 *   console.error(`serving ${secretId} ${Math.round(staleForMs / 1_000)} s past its TTL (AWS: ${code})`);
 * const cache = new SecretCache({ staleIfErrorMs: 6 * 3_600_000, hooks: { onStale } });
 * ```
 */
export interface StaleEvent extends SecretEventTarget {
  /** How long past its expiry the served value is, in milliseconds. */
  readonly staleForMs: number;
  /** The failure that keeps the value from being refreshed (`TIMEOUT` when a read stopped waiting for it). */
  readonly code: SecretCacheErrorCode;
}

/**
 * A fetch of a cached stage brought another version than the one cached, as `hooks.onVersionChange` and the
 * `secretcache:version` channel get it: the secret was rotated (or its stage moved). It is the moment to recycle
 * what was built from the old value, such as a connection pool. Carries version ids, never values.
 *
 * @example
 * ```ts
 * import { SecretCache, type VersionChangeEvent } from 'secretcache';
 *
 * const onVersionChange = ({ secretId, oldVersionId, newVersionId }: VersionChangeEvent): void => {
 *   logger.info(`secret ${secretId} rotated from ${oldVersionId} to ${newVersionId}`);
 *   if (secretId === 'prod/orders/db') pool.drain(); // new connections take the new password
 * };
 * const cache = new SecretCache({ hooks: { onVersionChange } });
 * ```
 */
export interface VersionChangeEvent extends SecretEventTarget {
  /** The version id that was cached. */
  readonly oldVersionId: string;
  /** The version id the fetch brought, cached now. */
  readonly newVersionId: string;
}

/**
 * A cached version left the cache, as `hooks.onEvict` and the `secretcache:evict` channel get it.
 *
 * @example
 * ```ts
 * import { type EvictEvent, SecretCache } from 'secretcache';
 *
 * // Evictions under steady traffic mean `maxEntries` is smaller than the set of secrets in use.
 * let evictions = 0;
 * const onEvict = ({ reason }: EvictEvent): void => {
 *   if (reason === 'evict') evictions++;
 * };
 * const cache = new SecretCache({ maxEntries: 200, hooks: { onEvict } });
 * ```
 */
export interface EvictEvent extends SecretEventTarget {
  /** `evict`: pushed out by `maxEntries`; `delete`: dropped by `invalidate`. */
  readonly reason: 'evict' | 'delete';
}

/**
 * Why the cache fetched: `miss`, a read found nothing fresh and waited; `refresh-ahead`, a read within
 * `refreshAheadMs` of expiry refreshed in the background; `stale-retry`, a background retry while a stale
 * value is served; `refresh-now`, `refreshNow` or a `withSecret` refresh; `load`, a manifest's
 * `BatchGetSecretValue`; `live`, a live object's background refresh of an entry that came due.
 *
 * @example
 * ```ts
 * import { type FetchReason, SecretCache } from 'secretcache';
 *
 * // Time only the fetches a caller may be waiting for; the background ones cost no latency.
 * const background: ReadonlySet<FetchReason> = new Set(['refresh-ahead', 'stale-retry', 'live']);
 * const cache = new SecretCache({
 *   hooks: {
 *     onFetch: ({ reason, durationMs }) => {
 *       if (!background.has(reason)) logger.debug(`a caller waited up to ${durationMs} ms for AWS`);
 *     },
 *   },
 * });
 * ```
 */
export type FetchReason = 'miss' | 'refresh-ahead' | 'stale-retry' | 'refresh-now' | 'load' | 'live';

/**
 * Callbacks for what the cache does. They run synchronously on the cache's path, so keep them quick; one that
 * throws is ignored. The same events go to `node:diagnostics_channel` as `secretcache:fetch`,
 * `secretcache:error`, `secretcache:stale`, `secretcache:evict` and `secretcache:version`.
 *
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 *
 * const cache = new SecretCache({
 *   hooks: {
 *     onError: ({ secretId, code, retryInMs }) => logger.warn({ secretId, code, retryInMs }, 'secret fetch failed'),
 *     onStale: ({ secretId, staleForMs }) => metrics.increment('secrets.stale', { secretId }),
 *   },
 * });
 * ```
 */
export interface SecretCacheHooks {
  readonly onFetch?: (event: FetchEvent) => void;
  readonly onError?: (event: ErrorEvent) => void;
  readonly onStale?: (event: StaleEvent) => void;
  readonly onEvict?: (event: EvictEvent) => void;
  readonly onVersionChange?: (event: VersionChangeEvent) => void;
}

/** The `node:diagnostics_channel` channels the cache publishes on. */
export const channels = {
  fetch: channel('secretcache:fetch'),
  error: channel('secretcache:error'),
  stale: channel('secretcache:stale'),
  evict: channel('secretcache:evict'),
  version: channel('secretcache:version'),
} as const;

/** Delivers events to the hooks and the channels; builds nothing when nobody listens. */
export class EventEmitter {
  readonly #hooks: SecretCacheHooks;

  constructor(hooks: SecretCacheHooks | undefined) {
    this.#hooks = hooks ?? {};
  }

  wantsFetch(): boolean {
    return this.#hooks.onFetch !== undefined || channels.fetch.hasSubscribers;
  }
  wantsError(): boolean {
    return this.#hooks.onError !== undefined || channels.error.hasSubscribers;
  }
  wantsStale(): boolean {
    return this.#hooks.onStale !== undefined || channels.stale.hasSubscribers;
  }
  wantsEvict(): boolean {
    return this.#hooks.onEvict !== undefined || channels.evict.hasSubscribers;
  }
  wantsVersionChange(): boolean {
    return this.#hooks.onVersionChange !== undefined || channels.version.hasSubscribers;
  }

  fetch(event: FetchEvent): void {
    deliver(this.#hooks.onFetch, channels.fetch, event);
  }
  error(event: ErrorEvent): void {
    deliver(this.#hooks.onError, channels.error, event);
  }
  stale(event: StaleEvent): void {
    deliver(this.#hooks.onStale, channels.stale, event);
  }
  evict(event: EvictEvent): void {
    deliver(this.#hooks.onEvict, channels.evict, event);
  }
  versionChange(event: VersionChangeEvent): void {
    deliver(this.#hooks.onVersionChange, channels.version, event);
  }
}

function deliver<E>(
  hook: ((event: E) => void) | undefined,
  target: { hasSubscribers: boolean; publish(message: unknown): void },
  event: E,
): void {
  // Stryker disable next-line ConditionalExpression: calling an absent hook throws a TypeError that the catch below swallows; the check only saves that throw.
  if (hook !== undefined) {
    try {
      hook(event);
    } catch {
      // A listener's failure is its own; the cache's work goes on.
    }
  }
  // Stryker disable next-line ConditionalExpression: publishing to a channel without subscribers does nothing; the check only saves the call.
  if (target.hasSubscribers) {
    try {
      target.publish(event);
    } catch {
      // Subscribers that throw are reported by diagnostics_channel itself; nothing to add.
    }
  }
}
