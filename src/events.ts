import { channel } from 'node:diagnostics_channel';
import type { SecretCacheError, SecretCacheErrorCode } from './errors.js';

/** Which secret version an event concerns. Never its value. */
export interface SecretEventTarget {
  readonly secretId: string;
  readonly versionStage: string | undefined;
  readonly versionId: string | undefined;
}

/** A fetch that succeeded. */
export interface FetchEvent extends SecretEventTarget {
  /** Milliseconds from the fetch's start to its answer (retries included). */
  readonly durationMs: number;
  /** Why it ran: a read that found nothing fresh, a refresh-ahead, a retry while stale, `refreshNow`, a load. */
  readonly reason: FetchReason;
}

/** A fetch that failed. */
export interface ErrorEvent extends SecretEventTarget {
  readonly durationMs: number;
  readonly reason: FetchReason;
  readonly code: SecretCacheErrorCode;
  readonly error: SecretCacheError;
  /** Milliseconds until the key is fetched again (the backoff), counted from the failure. */
  readonly retryInMs: number;
}

/** A read served a value past its TTL because AWS is failing. */
export interface StaleEvent extends SecretEventTarget {
  /** How long past its expiry the served value is, in milliseconds. */
  readonly staleForMs: number;
  /** The failure that keeps the value from being refreshed. */
  readonly code: SecretCacheErrorCode;
}

/** A cached version left the cache. */
export interface EvictEvent extends SecretEventTarget {
  /** `evict`: pushed out by `maxEntries`; `delete`: dropped by `invalidate`. */
  readonly reason: 'evict' | 'delete';
}

export type FetchReason = 'miss' | 'refresh-ahead' | 'stale-retry' | 'refresh-now' | 'load';

/**
 * Callbacks for what the cache does. They run synchronously on the cache's path, so keep them quick; one that
 * throws is ignored. The same events go to `node:diagnostics_channel` as `secretcache:fetch`,
 * `secretcache:error`, `secretcache:stale` and `secretcache:evict`.
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
}

/** The `node:diagnostics_channel` channels the cache publishes on. */
export const channels = {
  fetch: channel('secretcache:fetch'),
  error: channel('secretcache:error'),
  stale: channel('secretcache:stale'),
  evict: channel('secretcache:evict'),
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
}

function deliver<E>(
  hook: ((event: E) => void) | undefined,
  target: { hasSubscribers: boolean; publish(message: unknown): void },
  event: E,
): void {
  if (hook !== undefined) {
    try {
      hook(event);
    } catch {
      // A listener's failure is its own; the cache's work goes on.
    }
  }
  if (target.hasSubscribers) {
    try {
      target.publish(event);
    } catch {
      // Subscribers that throw are reported by diagnostics_channel itself; nothing to add.
    }
  }
}
