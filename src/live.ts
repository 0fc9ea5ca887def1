import { channel } from 'node:diagnostics_channel';
import type { Clock } from './clock.js';
import type { CachedVersion } from './entry.js';
import { invalidArgument, SecretCacheError } from './errors.js';
import { redactingPrototype } from './loaded.js';
import type { LoadedSecrets, Manifest, SecretSpec } from './manifest.js';
import { unknownKeyProblem } from './option-table.js';
import type { Selector } from './selector.js';

/**
 * A live entry took a new version of its secret, as `onChange` of `cache.live` and the `secretcache:live`
 * channel get it. When it is delivered, the entry's property already reads the new value. Holds no value.
 *
 * @example
 * ```ts
 * import { type LiveChangeEvent, SecretCache, secret } from 'secretcache';
 *
 * const onChange = ({ key, secretId, oldVersionId, newVersionId }: LiveChangeEvent): void =>
 *   logger.info({ key, secretId, oldVersionId, newVersionId }, 'secret rotated');
 * const secrets = await new SecretCache().live({ jwtKey: secret.string('prod/orders/jwt-key') }, { onChange });
 * ```
 */
export interface LiveChangeEvent {
  /** The manifest key of the entry. */
  readonly key: string;
  readonly secretId: string;
  /** The stage the entry reads, or `undefined` for an entry pinned to a version id (which never changes). */
  readonly versionStage: string | undefined;
  readonly oldVersionId: string;
  readonly newVersionId: string;
}

/**
 * Options of `cache.live`.
 *
 * @example
 * ```ts
 * import { type LiveOptions, SecretCache, secret } from 'secretcache';
 *
 * const options: LiveOptions = { onChange: ({ key }) => key === 'db' && pool.recycle() };
 * const secrets = await new SecretCache().live({ db: secret.json('prod/orders/db') }, options);
 * ```
 */
export interface LiveOptions {
  /**
   * Called, synchronously and after the property reads the new value, whenever an entry takes a new version of
   * its secret (a rotation, a stage moved). One that throws is ignored.
   * @default none
   */
  readonly onChange?: (event: LiveChangeEvent) => void;
}

/**
 * What `cache.live` resolves to: every manifest entry as a property typed as `load` types it, read
 * synchronously and kept fresh in the background, plus `close()` (and `Symbol.dispose`) to stop the refreshes.
 * Rendered (`util.inspect`, `JSON.stringify`, `String`) with every value redacted.
 *
 * @example
 * ```ts
 * import { type LiveSecrets, SecretCache, secret } from 'secretcache';
 *
 * const manifest = { jwtKey: secret.string('prod/orders/jwt-key') };
 * const secrets: LiveSecrets<typeof manifest> = await new SecretCache().live(manifest);
 * const sign = (claims: object) => jwt.sign(claims, secrets.jwtKey); // no await: the current key, always
 * process.on('SIGTERM', () => secrets.close());
 * ```
 */
export type LiveSecrets<M extends Manifest> = LoadedSecrets<M> & LiveControls;

/**
 * The methods of a live object besides its entries.
 *
 * @example
 * ```ts
 * import { type LiveControls, SecretCache, secret } from 'secretcache';
 *
 * const stopOnShutdown = (live: LiveControls) => process.once('SIGTERM', () => live.close());
 * stopOnShutdown(await new SecretCache().live({ apiKey: secret.string('prod/orders/api-key') }));
 * ```
 */
export interface LiveControls {
  /**
   * Stops every background refresh of this object and forgets it; reads of its entries throw `CLOSED` from
   * then on. The cache itself, and other live objects, are untouched. Calling it again does nothing.
   */
  close(): void;
  /** `close()`, for `using secrets = await cache.live(manifest)`. */
  [Symbol.dispose](): void;
}

/** What a live object needs of its cache; built by `SecretCache`, which owns the store and the fetches. */
export interface LiveAccess {
  readonly clock: Clock;
  readonly staleIfErrorMs: number;
  /** Whether a value past its lifetime may still be served after `error` (transient, or `staleOnAnyError`). */
  canServeStale(error: SecretCacheError): boolean;
  /** The selector of a manifest entry (already checked by `manifestEntries`). */
  selectorOf(spec: SecretSpec): Selector;
  /** The entry's value as `load` reads it from `entry`. */
  derive(entry: CachedVersion, spec: SecretSpec): Promise<unknown>;
  /** Calls `listener` with every version the store caches under `key`, until the returned function is called. */
  watch(key: string, listener: (entry: CachedVersion) => void): () => void;
  /**
   * A background fetch of `selector` (joining one in flight), or, while the key backs off, when to try again
   * and the error it backs off for. A fresh version other than `held` already cached is handed over as it is.
   */
  refresh(
    selector: Selector,
    held: CachedVersion,
  ): Promise<CachedVersion> | { readonly retryAt: number; readonly error: SecretCacheError };
  /** When the key's backoff ends, if it is backing off. */
  retryAt(selector: Selector): number | undefined;
  /** Reports (once per period) and counts a value served past its lifetime. */
  servedStale(entry: CachedVersion, code: SecretCacheError['code'], now: number, period: object): void;
}

/** One loaded entry of the manifest: its key, its spec, the version it was read from, and its value. */
export interface LiveStart {
  readonly key: string;
  readonly spec: SecretSpec;
  readonly entry: CachedVersion;
  readonly value: unknown;
}

export const liveChannel = channel('secretcache:live');

const LIVE_OPTION_NAMES: ReadonlySet<string> = new Set(['onChange']);
/** The longest delay a Node timer takes; a later refresh is reached by re-arming. */
const MAX_TIMER_MS = 2_147_483_647;
/** Live objects nobody holds any more stop refreshing once collected, even if never closed. */
const abandoned = new FinalizationRegistry<readonly LiveSlot[]>((slots) => {
  for (const slot of slots) slot.close();
});

/** Why `options` of `cache.live` are not acceptable. */
export function liveOptionsProblem(options: unknown): string | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) return 'Expected the options of live to be an object.';
  const unknown = unknownKeyProblem(options, LIVE_OPTION_NAMES, 'options of live');
  if (unknown !== undefined) return unknown;
  const { onChange } = options as LiveOptions;
  if (onChange !== undefined && typeof onChange !== 'function') {
    return 'Expected `onChange` to be a function.';
  }
  return undefined;
}

/** Why a manifest key cannot be a live entry: it would hide one of the object's own methods. */
export function liveKeyProblem(key: string): string | undefined {
  return key === 'close'
    ? 'Expected no manifest entry named `close`: a live object has a `close()` method of its own.'
    : undefined;
}

/**
 * One entry of a live object: the value last derived from the cache, the times it is good until, and the
 * refresh that keeps it so. The property getter is `read`; everything it does beyond one clock read and one
 * comparison happens only once the value is due.
 */
class LiveSlot {
  /** Clock time before which `read` returns `value` without a second look. `-Infinity` once closed. */
  refreshAt: number;
  expiresAt: number;
  value: unknown;
  readonly #access: LiveAccess;
  readonly #clock: Clock;
  readonly #key: string;
  readonly #spec: SecretSpec;
  readonly #selector: Selector;
  readonly #onChange: ((event: LiveChangeEvent) => void) | undefined;
  #entry: CachedVersion;
  /** The version being derived, so that only the latest one seen is adopted. */
  #pending: CachedVersion | undefined;
  /** Why the value may not be good any more: the last failed refresh, or a new version that failed to read. */
  #error: SecretCacheError | undefined;
  #refreshing = false;
  /** Clock time before which reads start no refresh: set while the cache holds a version this entry can't read. */
  #refreshFrom = Number.NEGATIVE_INFINITY;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #unwatch: () => void;

  constructor(access: LiveAccess, start: LiveStart, onChange: LiveOptions['onChange']) {
    this.#access = access;
    this.#clock = access.clock;
    this.#key = start.key;
    this.#spec = start.spec;
    this.#selector = access.selectorOf(start.spec);
    this.#onChange = onChange;
    this.#entry = start.entry;
    this.value = start.value;
    this.refreshAt = start.entry.refreshAt;
    this.expiresAt = start.entry.expiresAt;
    this.#unwatch = access.watch(this.#selector.key, (entry) => {
      // Runs inside a fetch's outcome, which must not fail for this entry's sake.
      try {
        this.#adopt(entry);
      } catch {
        // Nothing to do: the next refresh tries again.
      }
    });
    this.#arm(this.refreshAt);
  }

  read(): unknown {
    return this.#clock.now() < this.refreshAt ? this.value : this.#readDue();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.refreshAt = Number.NEGATIVE_INFINITY;
    clearTimeout(this.#timer);
    this.#unwatch();
  }

  /**
   * The read of a value that is due: within its lifetime it is served and a refresh started; past it, served
   * stale for at most `staleIfErrorMs` while a refresh runs (unless the last error rules stale values out);
   * beyond that, the last error.
   */
  #readDue(): unknown {
    if (this.#closed) throw this.#closedError();
    const now = this.#clock.now();
    this.#refresh(now);
    const error = this.#error;
    if (now >= this.expiresAt) {
      if (
        now >= this.expiresAt + this.#access.staleIfErrorMs ||
        (error !== undefined && !this.#access.canServeStale(error))
      ) {
        throw error ?? this.#expiredError(now);
      }
      this.#access.servedStale(this.#entry, error?.code ?? 'TIMEOUT', now, error ?? this.#entry);
    }
    return this.value;
  }

  /** Starts a refresh unless one runs or is not due yet, or arms the timer for the end of the key's backoff. */
  #refresh(now: number): void {
    if (this.#refreshing || this.#closed || now < this.#refreshFrom) return;
    const started = this.#access.refresh(this.#selector, this.#entry);
    if (!(started instanceof Promise)) {
      this.#error = started.error;
      this.#arm(started.retryAt);
      return;
    }
    this.#refreshing = true;
    // Within its lifetime the value needs no second look while the refresh runs: reads keep the fast path.
    if (now < this.expiresAt && this.refreshAt < this.expiresAt) this.refreshAt = this.expiresAt;
    started.then(
      (entry) => {
        this.#refreshing = false;
        this.#adopt(entry);
      },
      (error: SecretCacheError) => {
        this.#refreshing = false;
        this.#error = error;
        // The failure recorded the key's backoff; without one (invalidate dropped it), wait a second.
        const later = this.#clock.now();
        this.#arm(Math.max(this.#access.retryAt(this.#selector) ?? later + 1_000, later + 1));
      },
    );
  }

  /** Derives the value of a version the store cached (or a refresh brought), and takes it if still the latest. */
  #adopt(entry: CachedVersion): void {
    if (this.#closed || entry === this.#entry || entry === this.#pending) return;
    // A fetch that started before the one this value came from (it raced an invalidate) must not take it back.
    if (entry.fetchedAt < (this.#pending ?? this.#entry).fetchedAt) return;
    this.#pending = entry;
    this.#access.derive(entry, this.#spec).then(
      (value) => {
        if (this.#pending !== entry || this.#closed) return;
        this.#pending = undefined;
        this.#refreshFrom = Number.NEGATIVE_INFINITY;
        const oldVersionId = this.#entry.fetchedVersionId;
        this.#entry = entry;
        this.value = value;
        this.#error = undefined;
        this.expiresAt = entry.expiresAt;
        this.refreshAt = entry.refreshAt;
        this.#arm(entry.refreshAt);
        if (entry.fetchedVersionId !== oldVersionId) this.#changed(oldVersionId, entry.fetchedVersionId);
      },
      (error: SecretCacheError) => {
        if (this.#pending !== entry || this.#closed) return;
        this.#pending = undefined;
        // The cache now holds a version this entry cannot read (bad JSON, a schema it fails): reads would fail
        // the same way, so the old value counts as past its lifetime from now on.
        this.#error = error;
        const now = this.#clock.now();
        this.refreshAt = Math.min(this.refreshAt, now);
        this.expiresAt = Math.min(this.expiresAt, now);
        this.#refreshFrom = entry.refreshAt;
        this.#arm(entry.refreshAt);
      },
    );
  }

  #changed(oldVersionId: string, newVersionId: string): void {
    const wanted = this.#onChange !== undefined || liveChannel.hasSubscribers;
    if (!wanted) return;
    const { secretId, versionStage } = this.#selector;
    const event: LiveChangeEvent = { key: this.#key, secretId, versionStage, oldVersionId, newVersionId };
    try {
      this.#onChange?.(event);
    } catch {
      // A listener's failure is its own; the entry is already updated.
    }
    if (liveChannel.hasSubscribers) liveChannel.publish(event);
  }

  /** One unref'd timer per entry, at `at` on the cache's clock; re-armed when it fires early. */
  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed || at === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(Math.max(at - this.#clock.now(), 1), MAX_TIMER_MS);
    this.#timer = setTimeout(() => this.#due(at), delay);
    this.#timer.unref();
  }

  #due(at: number): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    // A clock that reads a cached or slower time than the timers' own: look again shortly.
    if (now < at) this.#arm(at);
    else this.#refresh(now);
  }

  #closedError(): SecretCacheError {
    const { secretId } = this.#selector;
    return new SecretCacheError(
      'CLOSED',
      secretId,
      `Live secret \`${this.#key}\` ("${secretId}") was read after its live object was closed.`,
    );
  }

  #expiredError(now: number): SecretCacheError {
    const { secretId } = this.#selector;
    return new SecretCacheError(
      'EXPIRED',
      secretId,
      `Live secret \`${this.#key}\` ("${secretId}") is ${Math.round(now - this.expiresAt)} ms past its TTL, beyond staleIfErrorMs, and its refresh has not answered yet.`,
    );
  }
}

/**
 * The prototype of every live object: its renderings, none of which shows a value (loggers render whole
 * objects: `JSON.stringify` for pino and winston, `util.inspect` for console).
 */
const LIVE_PROTOTYPE = redactingPrototype('LiveSecrets');

/**
 * The live object of a loaded manifest: one enumerable getter per entry over its {@link LiveSlot}, and `close`
 * as an own, non-enumerable function that needs no `this` (`process.once('SIGTERM', secrets.close)`). Frozen.
 */
export function liveSecrets(
  access: LiveAccess,
  started: readonly LiveStart[],
  options: LiveOptions | undefined,
): object {
  const onChange = options?.onChange;
  // A prototype of its own per object: V8 shares property-map transitions among objects of one prototype, and a
  // second object defining the same key with another getter would fall back to slow (dictionary) properties.
  const live = Object.create(Object.create(LIVE_PROTOTYPE)) as object;
  const slots = started.map((start) => {
    const slot = new LiveSlot(access, start, onChange);
    const get =
      start.spec.kind === 'binary'
        ? // A copy per read, as getSecretBinary gives: a caller may zero its bytes.
          (): unknown => new Uint8Array(slot.read() as Uint8Array)
        : (): unknown => slot.read();
    // defineProperty, not assignment: a key named `__proto__` must be a property, not a new prototype.
    Object.defineProperty(live, start.key, { get, enumerable: true });
    return slot;
  });
  // The token is the slots, not the object: an unregister token is held weakly, but `live` must stay collectable.
  const close = (): void => {
    abandoned.unregister(slots);
    for (const slot of slots) slot.close();
  };
  Object.defineProperties(live, { close: { value: close }, [Symbol.dispose]: { value: close } });
  abandoned.register(live, slots, slots);
  return Object.freeze(live);
}

/** Throws `INVALID_ARGUMENT` for options of `cache.live` that are not acceptable. */
export function checkLiveOptions(options: unknown): asserts options is LiveOptions | undefined {
  const problem = liveOptionsProblem(options);
  if (problem !== undefined) throw invalidArgument('', problem);
}
