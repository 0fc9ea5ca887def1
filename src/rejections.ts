import type { Clock } from './clock.js';
import type { CachedVersion } from './entry.js';
import { isSecretCacheError } from './errors.js';
import type { Flights } from './flights.js';
import { resolveSelector, type Selector } from './selector.js';
import { NO_OPTIONS, type VersionStore } from './store.js';

/**
 * Forced fetches of one key are at least this far apart, however many rejections arrive: a credential that keeps
 * failing costs at most one `GetSecretValue` per stage per second, not one per failed login.
 */
export const FORCED_FETCH_SPACING_MS = 1_000;

/** The rejected versions one key remembers: enough for rotations that follow each other closely. */
const MAX_REJECTED = 4;

interface KeyState {
  /** Version ids a caller reported rejected, newest last. */
  readonly rejected: string[];
  forcedAt: number;
  pendingForcedAt: number;
  /** A pending version that worked while AWSCURRENT still named `insteadOf`: used first, until AWSCURRENT moves. */
  preferred: { readonly insteadOf: string; readonly entry: CachedVersion } | undefined;
}

/**
 * What to try after a caller's credential was rejected (`withSecret`, and connection pools that follow a
 * rotation). Secrets Manager's rotation moves `AWSCURRENT` last: during a single-user rotation, between
 * `setSecret` and `finishSecret`, the database already accepts the `AWSPENDING` password while `AWSCURRENT` still
 * names the old one. So:
 * - a version that was replaced in the cache meanwhile: use the new one, fetching nothing;
 * - the first rejection of a version always refetches its stage; later ones at most once per
 *   {@link FORCED_FETCH_SPACING_MS} (concurrent rejections share the fetch in flight);
 * - if the stage still names the rejected version, the `AWSPENDING` version, when there is one and it differs.
 */
export class Rejections {
  readonly #store: VersionStore;
  readonly #flights: Flights;
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #defaultStage: string;
  readonly #states = new Map<string, KeyState>();

  constructor(store: VersionStore, flights: Flights, clock: Clock, maxKeys: number, defaultStage: string) {
    this.#defaultStage = defaultStage;
    this.#store = store;
    this.#flights = flights;
    this.#clock = clock;
    this.#maxKeys = maxKeys;
  }

  /** The version to hand a caller that read `entry`: a pending one that already replaced it, or `entry`. */
  preferred(entry: CachedVersion): CachedVersion {
    const preferred = this.#states.get(entry.key)?.preferred;
    return preferred !== undefined && preferred.insteadOf === entry.fetchedVersionId
      ? preferred.entry
      : entry;
  }

  /** Records that `used` worked where `rejected` had been rejected, so later callers start with it. */
  worked(rejected: CachedVersion, used: CachedVersion): void {
    if (used.key === rejected.key) return;
    const state = this.#states.get(rejected.key);
    if (state !== undefined) state.preferred = { insteadOf: rejected.fetchedVersionId, entry: used };
  }

  /**
   * The version to try after `rejected` (read through `selector`) was rejected; `undefined` when nothing else can
   * be tried (a read pinned to a version id). Rejects with the refresh's error when AWSCURRENT cannot be fetched.
   */
  async next(selector: Selector, rejected: CachedVersion): Promise<CachedVersion | undefined> {
    if (selector.versionId !== undefined) return undefined;
    // A preferred pending version that is rejected in turn (a rotation rolled back) is preferred no longer.
    const known = this.#states.get(selector.key);
    if (known?.preferred?.entry === rejected) known.preferred = undefined;
    const rejectedId = rejected.fetchedVersionId;
    const held = this.#peek(selector.key);
    // The stage's cached version, if it is news: not the rejected one, and not one rejected before (a pending
    // version that worked may be rejected by the next rotation while the stage still caches the version it
    // replaced).
    if (
      held !== undefined &&
      held !== rejected &&
      held.fetchedVersionId !== rejectedId &&
      known?.rejected.includes(held.fetchedVersionId) !== true
    ) {
      return held;
    }

    const state = this.#state(selector.key);
    const first = !state.rejected.includes(rejectedId);
    if (first) {
      state.rejected.push(rejectedId);
      if (state.rejected.length > MAX_REJECTED) state.rejected.shift();
      state.preferred = undefined;
    }
    const now = this.#clock.now();
    let current: CachedVersion | undefined;
    if (first || now - state.forcedAt >= FORCED_FETCH_SPACING_MS) {
      state.forcedAt = now;
      current = await this.#flights.fetch(selector, 'refresh-now', true);
    } else {
      current = (await this.#store.inflight.get(selector.key)) ?? this.#peek(selector.key);
    }
    if (current === undefined || current.fetchedVersionId !== rejectedId) return current;
    if (selector.versionStage === PENDING) return current;

    const pending = await this.#pending(selector, state, first, now);
    return pending !== undefined && pending.fetchedVersionId !== rejectedId ? pending : current;
  }

  /** The AWSPENDING version of `selector`'s secret, fetched under the same spacing; `undefined` when there is none. */
  async #pending(
    selector: Selector,
    state: KeyState,
    first: boolean,
    now: number,
  ): Promise<CachedVersion | undefined> {
    const pendingSelector = resolveSelector(selector.secretId, PENDING_OPTIONS, this.#defaultStage);
    if (isSecretCacheError(pendingSelector)) return undefined;
    const cached = this.#peek(pendingSelector.key);
    if (!first && now - state.pendingForcedAt < FORCED_FETCH_SPACING_MS) {
      return (await this.#store.inflight.get(pendingSelector.key)?.catch(() => undefined)) ?? cached;
    }
    state.pendingForcedAt = now;
    // No pending version (NOT_FOUND, or one without a value yet) is the common case outside a rotation.
    return this.#flights.fetch(pendingSelector, 'refresh-now', true).catch(() => undefined);
  }

  #peek(key: string): CachedVersion | undefined {
    return this.#store.entries.peek(key, NO_OPTIONS);
  }

  #state(key: string): KeyState {
    let state = this.#states.get(key);
    if (state === undefined) {
      // Bounded like the cache: the key that was rejected least recently goes first.
      if (this.#states.size >= this.#maxKeys) {
        const oldest = this.#states.keys().next();
        if (oldest.done !== true) this.#states.delete(oldest.value);
      }
      state = {
        // Stryker disable next-line ArrayDeclaration: a placeholder element is no version id a source returns
        rejected: [],
        forcedAt: Number.NEGATIVE_INFINITY,
        pendingForcedAt: Number.NEGATIVE_INFINITY,
        preferred: undefined,
      };
      this.#states.set(key, state);
    }
    return state;
  }
}

const PENDING = 'AWSPENDING';
const PENDING_OPTIONS = { versionStage: PENDING } as const;
