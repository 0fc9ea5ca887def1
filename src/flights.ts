import { backoffDelayMs, lifetimeMs } from './backoff.js';
import type { Clock } from './clock.js';
import { CachedVersion } from './entry.js';
import { SecretCacheError } from './errors.js';
import type { EventEmitter, FetchReason } from './events.js';
import type { Fetcher } from './fetcher.js';
import type { SecretSpec } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import { resolveSelector, type Selector } from './selector.js';
import { type BatchResult, MAX_BATCH_SIZE, type SecretVersion, toSecretCacheError } from './source.js';
import { NO_OPTIONS, type VersionStore } from './store.js';

const held = new WeakSet<Promise<unknown>>();
const noop = (): void => {};
// The longest delay a Node timer takes; the timer only has to exist, it never needs to fire.
const FOREVER_MS = 2_147_483_647;

/**
 * Keeps the event loop alive until `fetch` settles. The fetch's own timers (the retry delay, the timeout) are
 * unref'd so that a background refresh never holds a process open; but a caller awaiting a read at start-up may
 * have nothing else pending, and Node would exit under it (silently, with top-level `await`). One ref'd timer
 * per awaited fetch, however many readers join it.
 */
export function keepAlive(fetch: Promise<unknown>): void {
  if (held.has(fetch)) return;
  held.add(fetch);
  const timer = setInterval(noop, FOREVER_MS);
  const release = (): void => clearInterval(timer);
  fetch.then(release, release);
}

/** An answer with neither value is a failure of the fetch, so that every accessor reports it alike. */
function requireValue(version: SecretVersion, secretId: string): SecretVersion {
  if (version.secretString !== undefined || version.secretBinary !== undefined) return version;
  throw new SecretCacheError(
    'NO_VALUE',
    secretId,
    `Secret "${secretId}" version "${version.versionId}" has no value: Secrets Manager answered with neither SecretString nor SecretBinary.`,
  );
}

/**
 * The fetches of a cache: one in flight per key however many readers wait (single-flight), each outcome
 * recorded where it belongs (the new version with its jittered lifetime, or the failure with its backoff),
 * events for both, and `BatchGetSecretValue` for loads.
 */
export class Flights {
  /** Calls to the source started: single fetches and batch calls. */
  started = 0;
  /** Fetches that failed. */
  failed = 0;
  readonly #store: VersionStore;
  readonly #fetcher: Fetcher;
  readonly #events: EventEmitter;
  readonly #clock: Clock;
  readonly #options: ResolvedOptions;
  readonly #patience = new WeakMap<Promise<CachedVersion>, Promise<void>>();
  /** Set once a `BatchGetSecretValue` was denied: later loads fetch one secret at a time. */
  #batchDenied = false;

  constructor(
    store: VersionStore,
    fetcher: Fetcher,
    events: EventEmitter,
    clock: Clock,
    options: ResolvedOptions,
  ) {
    this.#store = store;
    this.#fetcher = fetcher;
    this.#events = events;
    this.#clock = clock;
    this.#options = options;
  }

  /**
   * Starts a fetch for `selector`, or joins the one in flight: concurrent misses share one source call. An
   * `awaited` fetch keeps the process alive until it settles (see {@link keepAlive}); a background one does not,
   * until a reader joins it.
   */
  fetch(selector: Selector, reason: FetchReason, awaited: boolean): Promise<CachedVersion> {
    const fetch =
      this.#store.inflight.get(selector.key) ??
      this.#track(selector, reason, this.#clock.now(), this.#fetchOne(selector, reason === 'refresh-now'));
    if (awaited) keepAlive(fetch);
    return fetch;
  }

  /**
   * Resolves after `ms` unless `fetch` settles first (then never): how long a reader that could be served a
   * stale value waits for the fetch. One timer per fetch, shared by its readers; unref'd, because an awaited
   * fetch is kept alive by {@link keepAlive}.
   */
  patience(fetch: Promise<CachedVersion>, ms: number): Promise<void> {
    let waited = this.#patience.get(fetch);
    if (waited === undefined) {
      waited = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        // Stryker disable next-line OptionalChaining: Node's timers always have unref; other runtimes' may not
        timer.unref?.();
        // Stryker disable next-line ArrowFunction: a timer left to fire resolves a promise no reader awaits any more
        const stop = (): void => clearTimeout(timer);
        fetch.then(stop, stop);
      });
      this.#patience.set(fetch, waited);
    }
    return waited;
  }

  /**
   * Warms the store for a load: every `AWSCURRENT` entry not held fresh, not in flight and not backing off is
   * fetched with `BatchGetSecretValue`, 20 ids a call, the calls in parallel. The batches register as the
   * fetches in flight of their keys before this returns, so reads made right after join them; whatever a batch
   * does not answer is left to those reads.
   */
  async prefetch(specs: readonly SecretSpec[]): Promise<void> {
    if (!this.#fetcher.canBatch || this.#batchDenied) return;
    const now = this.#clock.now();
    const { entries, failures, inflight } = this.#store;
    const wanted = new Map<string, Selector>();
    for (const spec of specs) {
      const selector = resolveSelector(spec.secretId, spec, this.#options.versionStage);
      if (selector instanceof SecretCacheError || selector.versionId !== undefined) continue;
      if (selector.versionStage !== 'AWSCURRENT' || wanted.has(selector.key)) continue;
      const entry = entries.peek(selector.key, NO_OPTIONS);
      const failure = failures.get(selector.key);
      if (entry !== undefined && now < entry.refreshAt) continue;
      if (inflight.has(selector.key) || (failure !== undefined && now < failure.retryAt)) continue;
      wanted.set(selector.key, selector);
    }
    // One id alone gains nothing from a batch call and costs its extra IAM permission.
    if (wanted.size < 2) return;
    const selectors = [...wanted.values()];
    const chunks: Selector[][] = [];
    for (let start = 0; start < selectors.length; start += MAX_BATCH_SIZE) {
      chunks.push(selectors.slice(start, start + MAX_BATCH_SIZE));
    }
    await Promise.all(chunks.map((chunk) => this.#batch(chunk, now)));
  }

  async #batch(selectors: readonly Selector[], startedAt: number): Promise<void> {
    this.started++;
    const batch: Promise<BatchResult> = this.#fetcher.batch(selectors.map((selector) => selector.secretId));
    const answerFor =
      (selector: Selector) =>
      (result: BatchResult): SecretVersion | Promise<SecretVersion> => {
        const id = selector.secretId;
        const version = result.versions.find((candidate) => candidate.name === id || candidate.arn === id);
        if (version !== undefined) return version;
        const failure = result.errors.find((candidate) => candidate.secretId === id);
        if (failure !== undefined) throw failure.error;
        return this.#fetchOne(selector); // answered under another name (a partial ARN, say): ask for it alone
      };
    const fallback =
      (selector: Selector) =>
      (error: SecretCacheError): Promise<SecretVersion> => {
        // Denied or unsupported batch calls are not the secrets' fault: fetch each alone, and stop batching.
        if (error.code !== 'ACCESS_DENIED' && error.code !== 'INVALID_REQUEST') {
          throw new SecretCacheError(error.code, selector.secretId, error.message, { cause: error.cause });
        }
        this.#batchDenied = true;
        return this.#fetchOne(selector);
      };
    const tracked = selectors.map((selector) =>
      this.#track(selector, 'load', startedAt, batch.then(answerFor(selector), fallback(selector))),
    );
    await Promise.allSettled(tracked);
  }

  /**
   * One `getSecretValue`. `refreshNow` (for `refreshNow()` and the refresh of a rejected credential) asks a
   * source with a cache of its own, such as the Secrets Manager Agent, to bypass it.
   */
  #fetchOne(selector: Selector, refreshNow = false): Promise<SecretVersion> {
    this.started++;
    const { secretId, versionStage, versionId } = selector;
    return this.#fetcher.fetch(
      refreshNow ? { secretId, versionStage, versionId, refreshNow } : { secretId, versionStage, versionId },
    );
  }

  /**
   * Makes `work` the fetch in flight for `selector`: while it runs, reads join it; when it answers, the
   * version is cached (unless `invalidate` dropped the key meanwhile) or the failure and its backoff recorded.
   */
  #track(
    selector: Selector,
    reason: FetchReason,
    startedAt: number,
    work: Promise<SecretVersion>,
  ): Promise<CachedVersion> {
    const { secretId, versionStage, versionId } = selector;
    const { inflight, failures } = this.#store;
    const fetch: Promise<CachedVersion> = work
      .then((version) => requireValue(version, secretId))
      .then(
        (version) => {
          const entry = this.#makeEntry(selector, version, startedAt);
          const fetchedVersionId = entry.fetchedVersionId;
          let replaced: CachedVersion | undefined;
          if (inflight.get(selector.key) === fetch) {
            inflight.delete(selector.key);
            replaced = this.#store.entries.peek(selector.key, NO_OPTIONS);
            this.#store.clearFailure(selector.key);
            this.#store.store(selector, entry);
          }
          if (this.#events.wantsFetch()) {
            const durationMs = this.#clock.now() - startedAt;
            const region = entry.region;
            this.#events.fetch(
              region === undefined
                ? { secretId, versionStage, versionId, durationMs, reason, fetchedVersionId }
                : { secretId, versionStage, versionId, durationMs, reason, fetchedVersionId, region },
            );
          }
          const oldVersionId = replaced?.fetchedVersionId;
          if (
            oldVersionId !== undefined &&
            oldVersionId !== fetchedVersionId &&
            this.#events.wantsVersionChange()
          ) {
            const newVersionId = fetchedVersionId;
            this.#events.versionChange({ secretId, versionStage, versionId, oldVersionId, newVersionId });
          }
          return entry;
        },
        (thrown: unknown) => {
          const error = toSecretCacheError(thrown, secretId);
          this.failed++;
          const failedAt = this.#clock.now();
          let retryInMs = 0;
          if (inflight.get(selector.key) === fetch) {
            inflight.delete(selector.key);
            const count = (failures.get(selector.key)?.failures ?? 0) + 1;
            retryInMs = backoffDelayMs(this.#options.backoff, count, Math.random());
            this.#store.recordFailure(selector.key, {
              failures: count,
              retryAt: failedAt + retryInMs,
              error,
            });
          }
          if (this.#events.wantsError()) {
            const durationMs = failedAt - startedAt;
            const code = error.code;
            this.#events.error({
              secretId,
              versionStage,
              versionId,
              durationMs,
              reason,
              code,
              error,
              retryInMs,
            });
          }
          throw error;
        },
      );
    inflight.set(selector.key, fetch);
    return fetch;
  }

  #makeEntry(selector: Selector, version: SecretVersion, startedAt: number): CachedVersion {
    if (selector.versionId !== undefined) {
      const forever = Number.POSITIVE_INFINITY;
      return new CachedVersion(selector, version, startedAt, forever, forever);
    }
    const { ttlMs, ttlJitter, refreshAheadMs } = this.#options;
    const isRefresh = this.#store.entries.has(selector.key);
    // Age counts from the request, not the answer: the value may have changed while it travelled.
    const lifetime = ttlJitter === 0 ? ttlMs : lifetimeMs(ttlMs, ttlJitter, isRefresh, Math.random());
    const expiresAt = startedAt + lifetime;
    const refreshAt = expiresAt - Math.min(refreshAheadMs, lifetime / 2);
    return new CachedVersion(selector, version, startedAt, expiresAt, refreshAt);
  }
}
