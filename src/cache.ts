import type { LRUCache } from 'lru-cache';
import { type Clock, TurnClock } from './clock.js';
import { describeValue } from './describe.js';
import type { CachedVersion, SecretRecord } from './entry.js';
import {
  invalidArgument,
  SecretCacheError,
  type SecretCacheErrorCode,
  type SecretLoadFailure,
} from './errors.js';
import { EventEmitter, type FetchReason } from './events.js';
import { Fetcher, isTransient } from './fetcher.js';
import { Flights } from './flights.js';
import {
  checkLiveOptions,
  type LiveAccess,
  type LiveOptions,
  type LiveSecrets,
  type LiveStart,
  liveKeyProblem,
  liveSecrets,
} from './live.js';
import { loadedSecrets } from './loaded.js';
import {
  type LoadedSecrets,
  loadFailed,
  type Manifest,
  manifestEntries,
  type SecretSpec,
} from './manifest.js';
import { unknownKeyProblem } from './option-table.js';
import {
  type JsonReadOptions,
  type ReadOptions,
  type ResolvedOptions,
  resolveOptions,
  type SecretCacheOptions,
} from './options.js';
import { regionalSource } from './regions.js';
import { Rejections } from './rejections.js';
import type { StandardSchemaV1 } from './schema.js';
import {
  JSON_READ_OPTION_NAMES,
  READ_OPTION_NAMES,
  resolveSelector,
  type Selector,
  schemaProblem,
  secretIdProblem,
} from './selector.js';
import { AwsSecretSource, toSecretCacheError } from './source.js';
import { type Failure, NO_OPTIONS, VersionStore } from './store.js';
import {
  attachAccess,
  type SecretAs,
  type WithSecretAccess,
  type WithSecretOptions,
  type WithSecretValue,
  withSecret,
} from './with-secret.js';

/**
 * Counters since the cache was made, as `cache.stats()` returns them. Holds no secret id and no value, so it
 * can go to logs and metrics as it is.
 *
 * @example
 * ```ts
 * import { SecretCache, type SecretCacheStats } from 'secretcache';
 *
 * const cache = new SecretCache();
 * setInterval(() => {
 *   const stats: SecretCacheStats = cache.stats();
 *   const reads = stats.hits + stats.misses;
 *   logger.info({ hitRate: reads === 0 ? 1 : stats.hits / reads, staleServed: stats.staleServed });
 * }, 60_000).unref();
 * ```
 */
export interface SecretCacheStats {
  /** Reads served from memory without waiting (stale reads included). */
  readonly hits: number;
  /** Reads that found nothing fresh and waited for a fetch (their own or one already in flight). */
  readonly misses: number;
  /** Fetches started (the SDK's and `retry`'s attempts inside one fetch are not counted apart). */
  readonly fetches: number;
  /** Fetches that failed. */
  readonly errors: number;
  /** Secret versions held now. */
  readonly size: number;
  /** Reads answered with a value past its TTL because AWS was failing. */
  readonly staleServed: number;
  /** Background refreshes started by reads within `refreshAheadMs` of expiry. */
  readonly refreshAhead: number;
  /** Reads and refreshes that did not call AWS because the key was in its backoff window. */
  readonly backoffSkips: number;
  /** Fetches in flight now. */
  readonly inflight: number;
}

type Accessor<T> = (entry: CachedVersion, options: ReadOptions | undefined, stale: boolean) => Promise<T>;

const readString: Accessor<string> = (entry) => entry.readString();
const readBinary: Accessor<Uint8Array> = (entry) => entry.readBinary();
const readRecord: Accessor<SecretRecord> = (entry, _, stale) => entry.readRecord(stale);
const readEntry: Accessor<CachedVersion> = (entry) => Promise.resolve(entry);
const readJson: Accessor<unknown> = (entry, options) => {
  const schema = (options as JsonReadOptions<StandardSchemaV1> | undefined)?.schema;
  return schema === undefined ? entry.readJson() : entry.readValidated(schema);
};

const readSpec: Accessor<unknown> = (entry, options) => deriveSpec(entry, options as SecretSpec);

/** A manifest entry's value as `load` reads it from `entry`. */
function deriveSpec(entry: CachedVersion, spec: SecretSpec): Promise<unknown> {
  if (spec.kind === 'string') return entry.readString();
  if (spec.kind === 'binary') return entry.readBinary();
  const { key, schema } = spec;
  if (spec.kind === 'ref') return entry.readRef(key, schema);
  if (key === undefined) return schema === undefined ? entry.readJson() : entry.readValidated(schema);
  return entry.readField(key, schema);
}

/** A live entry's start: the version it was read from, with its value. */
const readSpecLive: Accessor<{ entry: CachedVersion; value: unknown }> = (entry, options) =>
  deriveSpec(entry, options as SecretSpec).then((value) => ({ entry, value }));

/**
 * Why a read's options are not acceptable to `accessor`: an unknown key, or a malformed schema. Manifest specs
 * and `withSecret` options were checked by the call that made them.
 */
function readOptionsProblem(
  accessor: Accessor<unknown>,
  options: ReadOptions | undefined,
): string | undefined {
  if (
    typeof options !== 'object' ||
    options === null ||
    accessor === readSpec ||
    accessor === readEntry ||
    accessor === (readSpecLive as Accessor<unknown>)
  ) {
    return undefined;
  }
  if (accessor !== readJson) return unknownKeyProblem(options, READ_OPTION_NAMES, 'read options');
  return (
    unknownKeyProblem(options, JSON_READ_OPTION_NAMES, 'options of getSecretJson') ??
    schemaProblem((options as JsonReadOptions).schema)
  );
}

const noop = (): void => {};
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * A TTL + LRU cache in front of Secrets Manager's `GetSecretValue`. Concurrent reads of one secret share one
 * fetch; each (secret, stage or version id) is cached on its own; JSON is parsed and schema-checked once per
 * fetched version. A warm read is one map lookup and at most one clock read per event-loop turn, and returns an
 * already-resolved promise. Values are refreshed ahead of expiry in the background, served stale (within a
 * bound) while AWS fails, and failed keys back off with jitter.
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
  readonly #clock: Clock;
  readonly #defaultStage: string;
  readonly #events: EventEmitter;
  readonly #store: VersionStore;
  readonly #flights: Flights;
  readonly #rejections: Rejections;
  // The store's maps, held here too so that a warm read reaches them in one property load.
  readonly #entries: LRUCache<string, CachedVersion>;
  readonly #failures: ReadonlyMap<string, Failure>;
  readonly #inflight: Map<string, Promise<CachedVersion>>;
  readonly #liveAccess: LiveAccess;
  #hits = 0;
  #misses = 0;
  #staleServed = 0;
  #refreshAhead = 0;
  #backoffSkips = 0;

  /**
   * @param options - see {@link SecretCacheOptions}; a malformed option throws a `TypeError` naming it.
   */
  constructor(options?: SecretCacheOptions) {
    this.#options = resolveOptions(options);
    this.#defaultStage = this.#options.versionStage;
    this.#clock = options?.clock ?? new TurnClock();
    this.#events = new EventEmitter(options?.hooks);
    this.#store = new VersionStore(this.#options.maxEntries, (entry, reason) => {
      if (!this.#events.wantsEvict()) return;
      const { secretId, versionStage, versionId } = entry;
      this.#events.evict({ secretId, versionStage, versionId, reason });
    });
    this.#entries = this.#store.entries;
    this.#failures = this.#store.failures;
    this.#inflight = this.#store.inflight;
    const regions = options?.regions;
    const source =
      options?.source ??
      (regions === undefined
        ? new AwsSecretSource(options?.client)
        : regionalSource({ regions, sourceFor: (region) => new AwsSecretSource(undefined, { region }) }));
    const fetcher = new Fetcher(source, this.#options.retry, this.#options.fetchTimeoutMs);
    this.#flights = new Flights(this.#store, fetcher, this.#events, this.#clock, this.#options);
    const { maxEntries } = this.#options;
    this.#rejections = new Rejections(
      this.#store,
      this.#flights,
      this.#clock,
      maxEntries,
      this.#defaultStage,
    );
    attachAccess(this, this.#withSecretAccess);
    this.#liveAccess = this.#makeLiveAccess();
  }

  /**
   * Reads a secret's string value.
   *
   * @param secretId - the secret's name or ARN
   * @param options - the stage or version id to read (the cache's `versionStage` by default), and a `signal`
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
    const entry =
      options === undefined
        ? this.#entries.get(secretId, NO_OPTIONS)
        : this.#store.warmPinned(secretId, options, this.#defaultStage, READ_OPTION_NAMES);
    if (entry?.string !== undefined && entry.secretId === secretId && this.#clock.now() < entry.refreshAt) {
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
    const entry =
      options === undefined
        ? this.#entries.get(secretId, NO_OPTIONS)
        : this.#store.warmPinned(secretId, options, this.#defaultStage, READ_OPTION_NAMES);
    if (entry !== undefined && entry.secretId === secretId && this.#clock.now() < entry.refreshAt) {
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
    const entry =
      options === undefined
        ? this.#entries.get(secretId, NO_OPTIONS)
        : this.#store.warmPinned(secretId, options, this.#defaultStage, JSON_READ_OPTION_NAMES);
    if (entry !== undefined && entry.secretId === secretId && this.#clock.now() < entry.refreshAt) {
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
   * Reads a secret's version record: name, ARN, version id, stages, creation date, the value, and whether it
   * was served stale.
   *
   * @example
   * ```ts
   * import { SecretCache } from 'secretcache';
   *
   * const record = await new SecretCache().getSecretValue('prod/orders/db', { versionStage: 'AWSPREVIOUS' });
   * logger.info(record.versionId, record.versionStages, record.stale); // util.inspect(record) redacts the value
   * ```
   */
  getSecretValue(secretId: string, options?: ReadOptions): Promise<SecretRecord> {
    const entry =
      options === undefined
        ? this.#entries.get(secretId, NO_OPTIONS)
        : this.#store.warmPinned(secretId, options, this.#defaultStage, READ_OPTION_NAMES);
    if (entry?.record !== undefined && entry.secretId === secretId && this.#clock.now() < entry.refreshAt) {
      this.#hits++;
      return entry.record;
    }
    return this.#read(secretId, options, readRecord);
  }

  /**
   * Fetches a secret now, whatever its age and any backoff, and caches the result; shares a fetch already in
   * flight.
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
    if (selector instanceof SecretCacheError) return Promise.reject(selector);
    const problem = readOptionsProblem(readString, options);
    if (problem !== undefined) return Promise.reject(invalidArgument(secretId, problem));
    if (options?.signal?.aborted === true) return Promise.reject(aborted(selector.secretId, options.signal));
    const now: unknown = this.#clock.now();
    if (typeof now !== 'number') return Promise.reject(badClock(selector.secretId, now));
    const done = this.#flights.fetch(selector, 'refresh-now', true).then(noop);
    return options?.signal === undefined ? done : this.#abortable(done, options.signal, selector.secretId);
  }

  /**
   * Calls `fn` with a secret's value; when `fn` throws and `shouldRefresh(error)` says the credential was
   * rejected (the secret was rotated under you), calls `fn` once more with a better candidate:
   * - the version that replaced the rejected one in the cache, if a refresh already brought one;
   * - else the stage fetched anew (the first rejection of a version always refetches; one fetch is shared by
   *   every caller that saw the same rejection, and forced fetches of a key are at least a second apart, so a
   *   credential that keeps failing cannot become an API storm);
   * - if the stage still names the rejected version, its `AWSPENDING` version, when one exists and differs: during
   *   a single-user rotation the database accepts it before `finishSecret` moves `AWSCURRENT`. A pending version
   *   that worked is used first by later calls until `AWSCURRENT` moves, so the window fails no call.
   *
   * A read pinned to a `versionId` is not refreshed (its value cannot change): `fn`'s error is rethrown.
   *
   * @param options - `as` (`'string'`, the default, `'binary'` or `'json'`), `shouldRefresh`, and the read's
   *   options (`versionStage`, `versionId`, `schema` for JSON, `signal`)
   * @returns what `fn` returns; rejects with `fn`'s error when it fails again or `shouldRefresh` says no, and
   *   with the refresh's `SecretCacheError` when the refresh itself fails
   * @example
   * ```ts
   * import { SecretCache } from 'secretcache';
   *
   * const cache = new SecretCache();
   * const rows = await cache.withSecret(
   *   'prod/orders/db',
   *   (db) => query(db, 'select 1'),
   *   { as: 'json', shouldRefresh: (error) => (error as { code?: string }).code === '28P01' }, // bad password
   * );
   * ```
   */
  withSecret<R, As extends SecretAs = 'string', Schema extends StandardSchemaV1 | undefined = undefined>(
    secretId: string,
    fn: (value: WithSecretValue<As, Schema>) => R | Promise<R>,
    options: WithSecretOptions<As, Schema>,
  ): Promise<Awaited<R>> {
    return withSecret(this.#withSecretAccess, secretId, fn, options);
  }

  /**
   * Loads every secret a manifest names, typed, and caches them: one `BatchGetSecretValue` per 20 secrets it
   * does not hold fresh (chunks in parallel, each id once), `GetSecretValue` for entries pinned to another stage
   * or a version id, and one `GetSecretValue` per id when the batch call is denied (it needs its own IAM
   * permission). A warm manifest loads without calling AWS. When any entry fails, rejects with one
   * `LOAD_FAILED` error whose `errors` list every failed entry (manifest key, secret id, code).
   *
   * @example
   * ```ts
   * import { z } from 'zod';
   * import { SecretCache, secret } from 'secretcache';
   *
   * const cache = new SecretCache();
   * const secrets = await cache.load({
   *   db: secret.json('prod/orders/db', { schema: z.object({ host: z.string(), password: z.string() }) }),
   *   apiKey: secret.string('prod/orders/stripe-key'),
   * });
   * secrets.db.password; // string
   * ```
   */
  async load<M extends Manifest>(manifest: M): Promise<LoadedSecrets<M>> {
    const loaded = await this.#loadAll(manifestEntries(manifest), readSpec);
    return loadedSecrets(loaded) as LoadedSecrets<M>;
  }

  /**
   * Loads a manifest as `load` does (the same batching, and the same `LOAD_FAILED` error), and resolves to an
   * object whose properties read the cache synchronously on every access, so a value kept from start-up
   * follows rotations:
   * - a fresh value is returned as it is (one clock read and one comparison; nothing allocated);
   * - each entry refreshes itself in the background when it comes due (`refreshAheadMs` before its TTL ends),
   *   on an unref'd timer, so an idle process still sees a rotation within its TTL; a version that any other read
   *   of the cache brings (`refreshNow`, `withSecret`, a refresh-ahead) is taken at once;
   * - past its TTL (the refresh failed, or a frozen Lambda sandbox thawed) the last good value is served while a
   *   refresh runs, for at most `staleIfErrorMs` (and, unless `staleOnAnyError`, only after transient errors);
   *   beyond that a read throws the last error, or `EXPIRED` when the refresh has not answered yet. This is the
   *   one read of the cache that never waits: in return, it can throw.
   *
   * A binary entry reads as a copy of its own on every access. Reads after `close()` throw `CLOSED`. A manifest
   * entry may not be named `close`.
   *
   * @param options - `onChange`, called after an entry took a new version (see {@link LiveOptions})
   * @returns the live object; rejects with `LOAD_FAILED` (every failed entry listed), or `INVALID_ARGUMENT`
   * @example
   * ```ts
   * import { z } from 'zod';
   * import { SecretCache, secret } from 'secretcache';
   *
   * const cache = new SecretCache();
   * const secrets = await cache.live({
   *   jwtKey: secret.string('prod/orders/jwt-key'),
   *   db: secret.json('prod/orders/db', { schema: z.object({ username: z.string(), password: z.string() }) }),
   * });
   * app.use((req, res, next) => verify(req, secrets.jwtKey, next)); // synchronous, current after a rotation
   * process.once('SIGTERM', secrets.close);
   * ```
   */
  async live<M extends Manifest>(manifest: M, options?: LiveOptions): Promise<LiveSecrets<M>> {
    checkLiveOptions(options);
    const entries = manifestEntries(manifest);
    for (const [key] of entries) {
      const problem = liveKeyProblem(key);
      if (problem !== undefined) throw invalidArgument('', `Manifest entry \`${key}\`: ${problem}`);
    }
    const loaded = await this.#loadAll(entries, readSpecLive);
    const started = loaded.map(([key, { entry, value }], index): LiveStart => {
      const spec = (entries[index] as [string, SecretSpec])[1];
      return { key, spec, entry, value };
    });
    return liveSecrets(this.#liveAccess, started, options) as LiveSecrets<M>;
  }

  /**
   * Reads every entry of a manifest with `accessor`: the batch calls first, then every entry's read (which joins
   * them). Rejects with one `LOAD_FAILED` error listing every entry that failed.
   */
  async #loadAll<T>(
    entries: ReadonlyArray<[string, SecretSpec]>,
    accessor: Accessor<T>,
  ): Promise<Array<[string, T]>> {
    // The batch calls register as the fetches in flight for their keys before this returns, so the reads below
    // join them: a key due for refresh-ahead is served at once, an expired one waits for its batch, and entries
    // pinned to another stage or a version id are fetched alongside, not after.
    this.#flights.prefetch(entries.map(([, spec]) => spec)).catch(noop);
    const settled = await Promise.allSettled(
      entries.map(([, spec]) => this.#read(spec.secretId, spec, accessor)),
    );
    const loaded: Array<[string, T]> = [];
    const failures: SecretLoadFailure[] = [];
    settled.forEach((outcome, index) => {
      const [key, spec] = entries[index] as [string, SecretSpec];
      if (outcome.status === 'fulfilled') loaded.push([key, outcome.value]);
      else {
        const error = toSecretCacheError(outcome.reason, spec.secretId);
        failures.push({ key, secretId: spec.secretId, code: error.code, error });
      }
    });
    if (failures.length > 0) throw loadFailed(failures, entries.length);
    return loaded;
  }

  /**
   * Drops a secret (every cached version and stage of it, and its backoff) or, with no id, everything. Fetches
   * in flight still answer the reads already waiting on them, but their results are not cached.
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
    const problem = secretId === undefined ? undefined : secretIdProblem(secretId);
    if (problem !== undefined) throw invalidArgument(secretId, problem);
    this.#store.invalidate(secretId);
  }

  /**
   * Counters of the cache's work. Holds no secret id and no value.
   *
   * @example
   * ```ts
   * import { SecretCache } from 'secretcache';
   *
   * const cache = new SecretCache();
   * const { hits, misses, fetches, staleServed } = cache.stats();
   * ```
   */
  stats(): SecretCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      fetches: this.#flights.started,
      errors: this.#flights.failed,
      size: this.#entries.size,
      staleServed: this.#staleServed,
      refreshAhead: this.#refreshAhead,
      backoffSkips: this.#backoffSkips,
      inflight: this.#inflight.size,
    };
  }

  [inspectSymbol](): string {
    const { ttlMs, maxEntries, versionStage } = this.#options;
    return `SecretCache { ttlMs: ${ttlMs}, maxEntries: ${maxEntries}, versionStage: ${JSON.stringify(versionStage)}, stats: ${JSON.stringify(this.stats())} }`;
  }

  /** What `withSecret` needs of the cache's insides: the version a read is served, and what to try next. */
  readonly #withSecretAccess: WithSecretAccess = {
    read: (secretId, options) => this.#read(secretId, options, readEntry),
    next: (secretId, options, rejected) => {
      const selector = resolveSelector(secretId, options, this.#defaultStage);
      if (selector instanceof SecretCacheError) return Promise.reject(selector);
      const next = this.#rejections.next(selector, rejected);
      return options.signal === undefined ? next : this.#abortable(next, options.signal, secretId);
    },
    preferred: (entry) => this.#rejections.preferred(entry),
    worked: (rejected, used) => this.#rejections.worked(rejected, used),
  };

  /** What live objects need of the cache's insides (see `live.ts`); made once the constructor set the fields. */
  #makeLiveAccess(): LiveAccess {
    return {
      clock: this.#clock,
      staleIfErrorMs: this.#options.staleIfErrorMs,
      canServeStale: this.#staleAfter,
      selectorOf: (spec) => resolveSelector(spec.secretId, spec, this.#defaultStage) as Selector,
      derive: deriveSpec,
      watch: (key, listener) => this.#store.watch(key, listener),
      refresh: (selector, held) => {
        const now = this.#clock.now();
        const cached = this.#entries.peek(selector.key, NO_OPTIONS);
        if (cached !== undefined && cached !== held && now < cached.refreshAt) return Promise.resolve(cached);
        const failure = this.#inflight.has(selector.key) ? undefined : this.#backingOff(selector.key, now);
        return failure ?? this.#flights.fetch(selector, 'live', false);
      },
      retryAt: (selector) => this.#failures.get(selector.key)?.retryAt,
      servedStale: (entry, code, now, period) => this.#reportStale(entry, code, now, period),
    };
  }

  /**
   * The slow path of every read. In order: fresh (maybe starting a refresh-ahead), backing off (stale value or
   * the last error, without calling AWS), known failing (stale value, retry in the background), or fetch and
   * wait (falling back to the stale value if that fetch fails transiently).
   */
  #read<T>(secretId: string, options: ReadOptions | undefined, accessor: Accessor<T>): Promise<T> {
    const selector = resolveSelector(secretId, options, this.#defaultStage);
    if (selector instanceof SecretCacheError) return Promise.reject(selector);
    const problem = readOptionsProblem(accessor, options);
    if (problem !== undefined) return Promise.reject(invalidArgument(secretId, problem));
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(aborted(selector.secretId, signal));

    const now = this.#clock.now();
    // An injected clock's answer is checked here, on the slow path only: every TTL and fetch time comes from it.
    if (typeof now !== 'number') return Promise.reject(badClock(selector.secretId, now));
    const entry = this.#entries.get(selector.key, NO_OPTIONS);
    if (entry !== undefined && now < entry.expiresAt) {
      this.#hits++;
      if (now >= entry.refreshAt) this.#refreshInBackground(selector, 'refresh-ahead', now);
      return accessor(entry, options, false);
    }
    const failure = this.#failures.get(selector.key);
    if (failure !== undefined && now < failure.retryAt) {
      this.#backoffSkips++;
      if (entry !== undefined && this.#canServeStale(entry, failure.error, now)) {
        this.#hits++;
        return this.#serveStale(entry, failure.error.code, now, failure, options, accessor);
      }
      return Promise.reject(failure.error);
    }
    if (entry !== undefined && failure !== undefined && this.#canServeStale(entry, failure.error, now)) {
      this.#hits++;
      this.#refreshInBackground(selector, 'stale-retry', now);
      return this.#serveStale(entry, failure.error.code, now, failure, options, accessor);
    }

    this.#misses++;
    const fetch = this.#flights.fetch(selector, 'miss', true);
    const served = (fetched: CachedVersion): Promise<T> => accessor(fetched, options, false);
    const failed = (error: SecretCacheError): Promise<T> => {
      const later = this.#clock.now();
      if (entry !== undefined && this.#canServeStale(entry, error, later)) {
        // The period is the failure this fetch recorded (or, if invalidate dropped it, the error itself).
        const period = this.#failures.get(selector.key) ?? error;
        return this.#serveStale(entry, error.code, later, period, options, accessor);
      }
      return Promise.reject(error);
    };
    // A value that may be served stale is worth more than a wait for a hung endpoint: after `staleWaitMs` the
    // reader takes it, and the fetch goes on (its outcome is cached as usual).
    const { staleWaitMs, staleIfErrorMs, fetchTimeoutMs } = this.#options;
    const staleUntil =
      entry !== undefined &&
      staleWaitMs < fetchTimeoutMs &&
      now < entry.expiresAt + staleIfErrorMs &&
      (failure === undefined || this.#canServeStale(entry, failure.error, now))
        ? entry.expiresAt + staleIfErrorMs
        : undefined;
    if (staleUntil === undefined && signal === undefined) return fetch.then(served, failed);

    // Several ways to stop waiting: each reader is settled by exactly one of them, and only that one counts.
    return new Promise<T>((resolve, reject) => {
      let waiting = true;
      const stop = (): boolean => {
        if (!waiting) return false;
        waiting = false;
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (stop()) reject(aborted(selector.secretId, signal as AbortSignal));
      };
      fetch.then(
        (fetched) => {
          if (stop()) resolve(served(fetched));
        },
        (error: SecretCacheError) => {
          if (stop()) resolve(failed(error));
        },
      );
      if (staleUntil !== undefined) {
        this.#flights.patience(fetch, staleWaitMs).then(() => {
          const later = this.#clock.now();
          // Past the stale window by now: keep waiting for the fetch, as any read of an older value would.
          if (later < staleUntil && stop()) {
            resolve(this.#serveStale(entry as CachedVersion, 'TIMEOUT', later, fetch, options, accessor));
          }
        });
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #canServeStale(entry: CachedVersion, error: SecretCacheError, now: number): boolean {
    return now < entry.expiresAt + this.#options.staleIfErrorMs && this.#staleAfter(error);
  }

  /** Whether a value past its TTL may be served after `error` at all: transient ones, or any with `staleOnAnyError`. */
  readonly #staleAfter = (error: SecretCacheError): boolean =>
    this.#options.staleOnAnyError || isTransient(error);

  /**
   * Serves `entry` past its TTL. `period` names the stale period the read belongs to (the failure of one backoff
   * window, or the fetch a reader stopped waiting for): it is reported once, however many reads it serves.
   */
  #serveStale<T>(
    entry: CachedVersion,
    code: SecretCacheErrorCode,
    now: number,
    period: object,
    options: ReadOptions | undefined,
    accessor: Accessor<T>,
  ): Promise<T> {
    this.#reportStale(entry, code, now, period);
    return accessor(entry, options, true);
  }

  #reportStale(entry: CachedVersion, code: SecretCacheErrorCode, now: number, period: object): void {
    this.#staleServed++;
    if (entry.stalePeriod !== period && this.#events.wantsStale()) {
      entry.stalePeriod = period;
      const { secretId, versionStage, versionId } = entry;
      this.#events.stale({ secretId, versionStage, versionId, staleForMs: now - entry.expiresAt, code });
    }
  }

  /** The failure `key` is backing off for at `now` (a fetch skipped, and counted so), or `undefined`. */
  #backingOff(key: string, now: number): Failure | undefined {
    const failure = this.#failures.get(key);
    if (failure === undefined || now >= failure.retryAt) return undefined;
    this.#backoffSkips++;
    return failure;
  }

  /** Starts a fetch no reader waits for, unless one is in flight or the key is backing off. */
  #refreshInBackground(selector: Selector, reason: FetchReason, now: number): void {
    if (this.#inflight.has(selector.key) || this.#backingOff(selector.key, now) !== undefined) return;
    if (reason === 'refresh-ahead') this.#refreshAhead++;
    // The outcome is recorded by #fetch (the entry, or the failure and its backoff); nobody else awaits it.
    this.#flights.fetch(selector, reason, false).catch(noop);
  }

  /** Rejects with `ABORTED` when `signal` fires first; the shared fetch goes on for everyone else. */
  #abortable<T>(promise: Promise<T>, signal: AbortSignal, secretId: string): Promise<T> {
    if (signal.aborted) return Promise.reject(aborted(secretId, signal));
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(aborted(secretId, signal));
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}

function badClock(secretId: string, now: unknown): SecretCacheError {
  return invalidArgument(
    secretId,
    `Expected \`clock.now()\` to return a number of milliseconds, got ${describeValue(now)}.`,
  );
}

function aborted(secretId: string, signal: AbortSignal): SecretCacheError {
  return new SecretCacheError(
    'ABORTED',
    secretId,
    `Reading secret "${secretId}" was aborted by the caller.`,
    {
      cause: signal.reason,
    },
  );
}
