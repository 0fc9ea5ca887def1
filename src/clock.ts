/**
 * A source of the current time in milliseconds. Inject one to control time in tests.
 *
 * @example
 * ```ts
 * import { SecretCache, type Clock } from 'secretcache';
 *
 * let now = 0;
 * const clock: Clock = { now: () => now };
 * const cache = new SecretCache({ clock, ttlMs: 60_000 });
 * now += 61_000; // every entry is now expired
 * ```
 */
export interface Clock {
  /** Milliseconds on any monotone-enough scale; only differences are used. */
  now(): number;
}

/**
 * The default clock: `Date.now()`, read at most once per turn of the event loop.
 *
 * A clock read costs about as much as the rest of a warm cache read, so the first read of a turn caches the
 * time and a `setImmediate` forgets it in the same turn's check phase. Within one turn every read sees the
 * turn's start time; the next turn reads the clock anew. This keeps the TTL honest where a timer-based
 * debounce would not: libuv never blocks for I/O while an immediate is pending, so a process that idles (and a
 * Lambda sandbox that is frozen while it idles) has always forgotten the cached time before it wakes.
 *
 * It reads the wall clock, not `performance.now()`: a monotonic clock may not advance while a sandbox or VM is
 * paused, and a value must count as old after a freeze however long it lasted.
 *
 * Caches use one of their own unless given a `clock`; pass one instance to several caches to share its reads.
 *
 * @example
 * ```ts
 * import { SecretCache, TurnClock } from 'secretcache';
 *
 * const clock = new TurnClock();
 * const appSecrets = new SecretCache({ clock, ttlMs: 300_000 });
 * const tenantSecrets = new SecretCache({ clock, ttlMs: 60_000, maxEntries: 10_000 });
 * ```
 */
export class TurnClock implements Clock {
  #now = -1;
  readonly #forget = (): void => {
    this.#now = -1;
  };

  now(): number {
    if (this.#now < 0) {
      this.#now = Date.now();
      setImmediate(this.#forget);
    }
    return this.#now;
  }

  /**
   * Forget the cached time now, so the next read takes a fresh one: for code that computes for long within one
   * turn and then reads again.
   */
  reset(): void {
    this.#now = -1;
  }
}
