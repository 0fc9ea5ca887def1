import { LRUCache } from 'lru-cache';
import type { CachedVersion } from './entry.js';
import type { SecretCacheError } from './errors.js';
import { unknownKeyProblem } from './option-table.js';
import type { ReadOptions } from './options.js';
import type { Selector } from './selector.js';

/** The backoff state of a key whose last fetch failed. */
export interface Failure {
  readonly failures: number;
  readonly retryAt: number;
  readonly error: SecretCacheError;
}

/** Cache keys of the non-default selectors of one secret, kept so a warm pinned read builds no string. */
interface PinnedKeys {
  readonly byStage: Map<string, string>;
  readonly byVersionId: Map<string, string>;
}

/**
 * lru-cache's `get` and `peek` default their options to a fresh `{}`; one shared object saves that allocation on
 * every warm read where V8 does not inline the call. Not frozen: lru-cache writes its `status` field into it.
 */
export const NO_OPTIONS = {};

/**
 * Everything the cache holds, by cache key: the versions (an LRU bounded by `maxEntries`), the backoff of keys
 * whose fetch failed (bounded by `maxEntries` too), and the fetches in flight. Also the keys of pinned selectors
 * (`AWSPREVIOUS`, a version id), so that a warm pinned read finds its entry without building a key string.
 */
export class VersionStore {
  readonly entries: LRUCache<string, CachedVersion>;
  /** The backoff of failing keys; changed only through `recordFailure` and `clearFailure`, which bound it. */
  readonly failures: ReadonlyMap<string, Failure>;
  readonly #failures = new Map<string, Failure>();
  readonly inflight = new Map<string, Promise<CachedVersion>>();
  readonly #pinnedKeys = new Map<string, PinnedKeys>();
  /** Listeners of live entries, by key: each hears of every version cached under its key. */
  readonly #watchers = new Map<string, Set<(entry: CachedVersion) => void>>();
  readonly #maxEntries: number;

  /** `onRemove` hears of every version that leaves, but for one replaced by a newer version of its key. */
  constructor(maxEntries: number, onRemove: (entry: CachedVersion, reason: 'evict' | 'delete') => void) {
    this.entries = new LRUCache<string, CachedVersion>({
      max: maxEntries,
      dispose: (entry, key, reason) => {
        // Stryker disable next-line StringLiteral: `reason === ''` never holds, and forgetting a replaced version's pinned key is undone by store() at once
        if (reason === 'set') return;
        this.#forgetPinnedKey(entry.secretId, key);
        if (reason === 'evict' || reason === 'delete') onRemove(entry, reason);
      },
    });
    this.#maxEntries = maxEntries;
    this.failures = this.#failures;
  }

  /**
   * Records a key's backoff, dropping the key that failed least recently when `maxEntries` are held. A plain
   * map is enough here (failures are few and short-lived), and unlike lru-cache it reserves no slots up front.
   */
  recordFailure(key: string, failure: Failure): void {
    // Deleting first moves a key that fails again to the back of the line.
    if (!this.#failures.delete(key) && this.#failures.size >= this.#maxEntries) {
      const oldest = this.#failures.keys().next();
      if (oldest.done !== true) this.#failures.delete(oldest.value);
    }
    this.#failures.set(key, failure);
  }

  clearFailure(key: string): void {
    this.#failures.delete(key);
  }

  /**
   * The entry of a read with options, found without building a key; `undefined` sends it the slow way (which
   * also reports options that are malformed or not among `known`).
   */
  warmPinned(
    secretId: string,
    options: ReadOptions,
    defaultStage: string,
    known: ReadonlySet<string>,
  ): CachedVersion | undefined {
    if (typeof options !== 'object' || options === null || options.signal?.aborted === true) return undefined;
    // Stryker disable next-line StringLiteral: only whether there is a problem counts here; its message is dropped
    if (unknownKeyProblem(options, known, '') !== undefined) return undefined;
    const { versionStage, versionId } = options;
    if (versionId === undefined) {
      if (versionStage === undefined || versionStage === defaultStage)
        return this.entries.get(secretId, NO_OPTIONS);
      const key = this.#pinnedKeys.get(secretId)?.byStage.get(versionStage);
      return key === undefined ? undefined : this.entries.get(key, NO_OPTIONS);
    }
    if (versionStage !== undefined) return undefined;
    const key = this.#pinnedKeys.get(secretId)?.byVersionId.get(versionId);
    return key === undefined ? undefined : this.entries.get(key, NO_OPTIONS);
  }

  /** Caches `entry` under its selector's key, replacing the version held there, and tells the key's watchers. */
  store(selector: Selector, entry: CachedVersion): void {
    this.entries.set(selector.key, entry);
    const watchers = this.#watchers.get(selector.key);
    if (watchers !== undefined) for (const watcher of watchers) watcher(entry);
    if (selector.key === selector.secretId) return;
    let pinned = this.#pinnedKeys.get(selector.secretId);
    if (pinned === undefined) {
      pinned = { byStage: new Map(), byVersionId: new Map() };
      this.#pinnedKeys.set(selector.secretId, pinned);
    }
    if (selector.versionId === undefined) pinned.byStage.set(selector.versionStage as string, selector.key);
    else pinned.byVersionId.set(selector.versionId, selector.key);
  }

  /**
   * Calls `watcher` with every version cached under `key` from now on, until the returned function is called.
   * A watcher must not throw (it runs inside a fetch's outcome).
   */
  watch(key: string, watcher: (entry: CachedVersion) => void): () => void {
    let watchers = this.#watchers.get(key);
    if (watchers === undefined) {
      watchers = new Set();
      this.#watchers.set(key, watchers);
    }
    watchers.add(watcher);
    return () => {
      const current = this.#watchers.get(key);
      if (current?.delete(watcher) === true && current.size === 0) this.#watchers.delete(key);
    };
  }

  /** Drops every version, backoff and fetch in flight of one secret, or of all of them. */
  invalidate(secretId?: string): void {
    if (secretId === undefined) {
      this.inflight.clear();
      this.#failures.clear();
      this.entries.clear();
      this.#pinnedKeys.clear();
      return;
    }
    const prefix = `${secretId}\0`;
    const belongs = (key: string): boolean => key === secretId || key.startsWith(prefix);
    for (const key of [...this.inflight.keys()]) if (belongs(key)) this.inflight.delete(key);
    for (const key of [...this.#failures.keys()]) if (belongs(key)) this.#failures.delete(key);
    this.entries.delete(secretId);
    const pinned = this.#pinnedKeys.get(secretId);
    if (pinned !== undefined) {
      for (const key of [...pinned.byStage.values(), ...pinned.byVersionId.values()])
        this.entries.delete(key);
      this.#pinnedKeys.delete(secretId);
    }
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
