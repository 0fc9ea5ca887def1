import { LRUCache } from 'lru-cache';
import { type Clock, TurnClock } from './clock.js';
import { CachedVersion, type SecretRecord } from './entry.js';
import { invalidArgument } from './errors.js';
import {
  type JsonReadOptions,
  type ReadOptions,
  type ResolvedOptions,
  resolveOptions,
  resolveSelector,
  type SecretCacheOptions,
  type Selector,
  schemaProblem,
} from './options.js';
import type { StandardSchemaV1 } from './schema.js';
import { AwsSecretSource, type SecretSource, toSecretCacheError } from './source.js';

/** Counters since the cache was made (or since {@link SecretCache.invalidate} with no id, for `size`). */
export interface SecretCacheStats {
  /** Reads served from memory without waiting. */
  readonly hits: number;
  /** Reads that found nothing fresh and waited for a fetch (their own or one already in flight). */
  readonly misses: number;
  /** Fetches started (calls to the source; the SDK's own retries are not counted). */
  readonly fetches: number;
  /** Fetches that failed. */
  readonly errors: number;
  /** Secret versions held now. */
  readonly size: number;
}

/** Cache keys of the non-default selectors of one secret, kept so a warm pinned read builds no string. */
interface PinnedKeys {
  readonly byStage: Map<string, string>;
  readonly byVersionId: Map<string, string>;
}

type Accessor<T> = (entry: CachedVersion, options: ReadOptions | undefined) => Promise<T>;

const readString: Accessor<string> = (entry) => entry.readString();
const readBinary: Accessor<Uint8Array> = (entry) => entry.readBinary();
const readRecord: Accessor<SecretRecord> = (entry) => entry.readRecord(false);
const readJson: Accessor<unknown> = (entry, options) => {
  const schema = (options as JsonReadOptions<StandardSchemaV1> | undefined)?.schema;
  return schema === undefined ? entry.readJson() : entry.readValidated(schema);
};

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * A TTL + LRU cache in front of Secrets Manager's `GetSecretValue`. Concurrent reads of one secret share one
 * fetch; each (secret, stage or version id) is cached on its own; JSON is parsed and schema-checked once per
 * fetched version. A warm read is one map lookup and at most one clock read per event-loop turn, and returns an
 * already-resolved promise.
 *
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 *
 * const cache = new SecretCache({ ttlMs: 60_000 });
 * const apiKey = await cache.getSecretString('prod/orders/stripe-key');
 * const db = await cache.getSecretJson<{ username: string; password: string }>('prod/orders/db');
 * ```
 */
export class SecretCache {
  readonly #options: ResolvedOptions;
  readonly #source: SecretSource;
  readonly #clock: Clock;
  readonly #defaultStage: string;
  readonly #entries: LRUCache<string, CachedVersion>;
  readonly #pinnedKeys = new Map<string, PinnedKeys>();
  readonly #inflight = new Map<string, Promise<CachedVersion>>();
  #hits = 0;
  #misses = 0;
  #fetches = 0;
  #errors = 0;

  /**
   * @param options - see {@link SecretCacheOptions}; a malformed option throws a `TypeError` naming it.
   */
  constructor(options?: SecretCacheOptions) {
    this.#options = resolveOptions(options);
    this.#defaultStage = this.#options.versionStage;
    this.#source = options?.source ?? new AwsSecretSource(options?.client);
    this.#clock = options?.clock ?? new TurnClock();
    this.#entries = new LRUCache<string, CachedVersion>({
      max: this.#options.maxEntries,
      dispose: (entry, key, reason) => {
        if (reason !== 'set') this.#forgetPinnedKey(entry.secretId, key);
      },
    });
  }

  /**
   * Reads a secret's string value.
   *
   * @param secretId - the secret's name or ARN
   * @param options - the stage or version id to read; the cache's `versionStage` by default
   * @returns the value; rejects with `WRONG_TYPE` for a binary secret, or the fetch's error
   * @example
   * ```ts
   * import { SecretCache } from 'secretcache';
   *
   * const cache = new SecretCache();
   * const token = await cache.getSecretString('prod/orders/token');
   * const previous = await cache.getSecretString('prod/orders/token', { versionStage: 'AWSPREVIOUS' });
   * ```
   */
  getSecretString(secretId: string, options?: ReadOptions): Promise<string> {
    const entry = options === undefined ? this.#entries.get(secretId) : this.#warmPinned(secretId, options);
    if (entry?.string !== undefined && this.#clock.now() < entry.refreshAt) {
      this.#hits++;
      return entry.string;
    }
    return this.#read(secretId, options, readString);
  }

  /**
   * Reads a binary secret's bytes. Each call gets a copy of its own, so a caller may zero it after use.
   *
   * @returns the bytes; rejects with `WRONG_TYPE` for a string secret
   * @example
   * ```ts
   * import { SecretCache } from 'secretcache';
   *
   * const tlsKey = await new SecretCache().getSecretBinary('prod/orders/tls-key');
   * ```
   */
  getSecretBinary(secretId: string, options?: ReadOptions): Promise<Uint8Array> {
    const entry = options === undefined ? this.#entries.get(secretId) : this.#warmPinned(secretId, options);
    if (entry !== undefined && this.#clock.now() < entry.refreshAt) {
      this.#hits++;
      return entry.readBinary();
    }
    return this.#read(secretId, options, readBinary);
  }

  /**
   * Reads a secret's string as JSON: parsed once per fetched version and deep-frozen, so every warm read returns
   * the same object. With a `schema` (any Standard Schema v1: zod, valibot, arktype...) the value is validated
   * once per version and the schema's output is returned, typed.
   *
   * @returns the parsed value; rejects with `INVALID_JSON` or `SCHEMA_MISMATCH` (reported by path, never value)
   * @example
   * ```ts
   * import { z } from 'zod';
   * import { SecretCache } from 'secretcache';
   *
   * const Db = z.object({ host: z.string(), username: z.string(), password: z.string() });
   * const db = await new SecretCache().getSecretJson('prod/orders/db', { schema: Db });
   * db.password; // string
   * ```
   */
  getSecretJson<T = unknown>(secretId: string, options?: JsonReadOptions): Promise<T>;
  getSecretJson<Schema extends StandardSchemaV1>(
    secretId: string,
    options: JsonReadOptions<Schema> & { readonly schema: Schema },
  ): Promise<StandardSchemaV1.InferOutput<Schema>>;
  getSecretJson(secretId: string, options?: JsonReadOptions<StandardSchemaV1 | undefined>): Promise<unknown> {
    const entry = options === undefined ? this.#entries.get(secretId) : this.#warmPinned(secretId, options);
    if (entry !== undefined && this.#clock.now() < entry.refreshAt) {
      const schema = options?.schema;
      if (schema === undefined) {
        if (entry.json !== undefined) {
          this.#hits++;
          return entry.json;
        }
      } else if (entry.schema === schema && entry.schemaResult !== undefined) {
        this.#hits++;
        return entry.schemaResult;
      }
    }
    return this.#read(secretId, options, readJson);
  }

  /**
   * Reads a secret's version record: name, ARN, version id, stages, creation date and the value.
   *
   * @example
   * ```ts
   * import { SecretCache } from 'secretcache';
   *
   * const record = await new SecretCache().getSecretValue('prod/orders/db', { versionStage: 'AWSPREVIOUS' });
   * console.log(record.versionId, record.versionStages); // console.log(record) redacts the value
   * ```
   */
  getSecretValue(secretId: string, options?: ReadOptions): Promise<SecretRecord> {
    const entry = options === undefined ? this.#entries.get(secretId) : this.#warmPinned(secretId, options);
    if (entry?.record !== undefined && this.#clock.now() < entry.refreshAt) {
      this.#hits++;
      return entry.record;
    }
    return this.#read(secretId, options, readRecord);
  }

  /**
   * Fetches a secret now, whatever its age, and caches the result; shares a fetch already in flight.
   *
   * @returns resolves once the new value is cached; rejects with the fetch's error
   * @example
   * ```ts
   * import { SecretCache } from 'secretcache';
   *
   * const cache = new SecretCache();
   * // after rotating the secret yourself:
   * await cache.refreshNow('prod/orders/db');
   * ```
   */
  refreshNow(secretId: string, options?: ReadOptions): Promise<void> {
    const selector = resolveSelector(secretId, options, this.#defaultStage);
    if (!('key' in selector)) return Promise.reject(selector);
    return this.#fetch(selector).then(() => undefined);
  }

  /**
   * Drops a secret (every cached version and stage of it) or, with no id, everything. Fetches in flight
   * still answer the reads already waiting on them, but their results are not cached.
   *
   * @example
   * ```ts
   * import { SecretCache } from 'secretcache';
   *
   * const cache = new SecretCache();
   * cache.invalidate('prod/orders/db'); // the next read of it fetches
   * cache.invalidate(); // all of them
   * ```
   */
  invalidate(secretId?: string): void {
    if (secretId === undefined) {
      this.#inflight.clear();
      this.#entries.clear();
      this.#pinnedKeys.clear();
      return;
    }
    const prefix = `${secretId}\0`;
    for (const key of [...this.#inflight.keys()]) {
      if (key === secretId || key.startsWith(prefix)) this.#inflight.delete(key);
    }
    this.#entries.delete(secretId);
    const pinned = this.#pinnedKeys.get(secretId);
    if (pinned !== undefined) {
      for (const key of [...pinned.byStage.values(), ...pinned.byVersionId.values()])
        this.#entries.delete(key);
      this.#pinnedKeys.delete(secretId);
    }
  }

  /**
   * Counters of the cache's work. Holds no secret id and no value.
   *
   * @example
   * ```ts
   * import { SecretCache } from 'secretcache';
   *
   * const cache = new SecretCache();
   * const { hits, misses, fetches } = cache.stats();
   * ```
   */
  stats(): SecretCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      fetches: this.#fetches,
      errors: this.#errors,
      size: this.#entries.size,
    };
  }

  [inspectSymbol](): string {
    const { ttlMs, maxEntries, versionStage } = this.#options;
    return `SecretCache { ttlMs: ${ttlMs}, maxEntries: ${maxEntries}, versionStage: ${JSON.stringify(versionStage)}, stats: ${JSON.stringify(this.stats())} }`;
  }

  /** The entry of a warm read with options, found without building a key; `undefined` sends it the slow way. */
  #warmPinned(secretId: string, options: ReadOptions): CachedVersion | undefined {
    if (typeof options !== 'object' || options === null) return undefined;
    const { versionStage, versionId } = options;
    if (versionId === undefined) {
      if (versionStage === undefined || versionStage === this.#defaultStage)
        return this.#entries.get(secretId);
      const key = this.#pinnedKeys.get(secretId)?.byStage.get(versionStage);
      return key === undefined ? undefined : this.#entries.get(key);
    }
    if (versionStage !== undefined) return undefined;
    const key = this.#pinnedKeys.get(secretId)?.byVersionId.get(versionId);
    return key === undefined ? undefined : this.#entries.get(key);
  }

  /** The slow path of every read: validates, then serves fresh, joins a fetch in flight, or starts one. */
  #read<T>(secretId: string, options: ReadOptions | undefined, accessor: Accessor<T>): Promise<T> {
    const selector = resolveSelector(secretId, options, this.#defaultStage);
    if (!('key' in selector)) return Promise.reject(selector);
    const problem =
      accessor === readJson ? schemaProblem((options as JsonReadOptions | undefined)?.schema) : undefined;
    if (problem !== undefined) return Promise.reject(invalidArgument(secretId, problem));
    const entry = this.#entries.get(selector.key);
    if (entry !== undefined && this.#clock.now() < entry.expiresAt) {
      this.#hits++;
      return accessor(entry, options);
    }
    this.#misses++;
    return this.#fetch(selector).then((fetched) => accessor(fetched, options));
  }

  /** Starts a fetch for `selector`, or joins the one in flight: concurrent misses share one source call. */
  #fetch(selector: Selector): Promise<CachedVersion> {
    const pending = this.#inflight.get(selector.key);
    if (pending !== undefined) return pending;
    this.#fetches++;
    const startedAt = this.#clock.now();
    const request = {
      secretId: selector.secretId,
      versionStage: selector.versionStage,
      versionId: selector.versionId,
    };
    let fetched: Promise<Awaited<ReturnType<SecretSource['getSecretValue']>>>;
    try {
      fetched = Promise.resolve(this.#source.getSecretValue(request));
    } catch (error) {
      fetched = Promise.reject(error);
    }
    const fetch: Promise<CachedVersion> = fetched.then(
      (version) => {
        // Age counts from the request, not the answer: the value may have changed while it travelled.
        const expiresAt =
          selector.versionId === undefined ? startedAt + this.#options.ttlMs : Number.POSITIVE_INFINITY;
        const entry = new CachedVersion(
          selector.key,
          selector.secretId,
          version,
          startedAt,
          expiresAt,
          expiresAt,
        );
        if (this.#inflight.get(selector.key) === fetch) {
          this.#inflight.delete(selector.key);
          this.#store(selector, entry);
        }
        return entry;
      },
      (error: unknown) => {
        if (this.#inflight.get(selector.key) === fetch) this.#inflight.delete(selector.key);
        this.#errors++;
        throw toSecretCacheError(error, selector.secretId);
      },
    );
    this.#inflight.set(selector.key, fetch);
    return fetch;
  }

  #store(selector: Selector, entry: CachedVersion): void {
    this.#entries.set(selector.key, entry);
    if (selector.key === selector.secretId) return;
    let pinned = this.#pinnedKeys.get(selector.secretId);
    if (pinned === undefined) {
      pinned = { byStage: new Map(), byVersionId: new Map() };
      this.#pinnedKeys.set(selector.secretId, pinned);
    }
    if (selector.versionId === undefined) pinned.byStage.set(selector.versionStage as string, selector.key);
    else pinned.byVersionId.set(selector.versionId, selector.key);
  }

  #forgetPinnedKey(secretId: string, key: string): void {
    if (key === secretId) return;
    const pinned = this.#pinnedKeys.get(secretId);
    if (pinned === undefined) return;
    // Keys read `${secretId}\0s\0${stage}` or `${secretId}\0v\0${versionId}` (see resolveSelector).
    const kind = key.charAt(secretId.length + 1);
    (kind === 's' ? pinned.byStage : pinned.byVersionId).delete(key.slice(secretId.length + 3));
    if (pinned.byStage.size === 0 && pinned.byVersionId.size === 0) this.#pinnedKeys.delete(secretId);
  }
}
