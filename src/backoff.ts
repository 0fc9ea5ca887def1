/**
 * Backoff after a failed fetch: how long a key is left alone before the next attempt, so a failing secret
 * costs a few calls a minute, not one per read. Set it with the cache's `backoff` option.
 *
 * @example
 * ```ts
 * import { type BackoffOptions, SecretCache } from 'secretcache';
 *
 * // A fleet of thousands of tasks: back off harder, so a throttled account recovers sooner.
 * const backoff: BackoffOptions = { baseMs: 5_000, maxMs: 300_000 };
 * const cache = new SecretCache({ backoff });
 * ```
 */
export interface BackoffOptions {
  /**
   * The delay after the first failure, in milliseconds.
   * @default 1_000
   */
  readonly baseMs?: number;
  /**
   * How much each further consecutive failure multiplies the delay.
   * @default 2
   */
  readonly factor?: number;
  /**
   * The longest delay, in milliseconds.
   * @default 60_000
   */
  readonly maxMs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 1_000, factor: 2, maxMs: 60_000 };

/**
 * The delay before attempt `failures + 1`: `min(maxMs, baseMs * factor^(failures - 1))`, of which the lower half
 * is kept and the upper half is drawn at random ("equal jitter"), so a fleet that failed together retries
 * apart, and no key is retried sooner than half its nominal delay.
 */
export function backoffDelayMs(backoff: Required<BackoffOptions>, failures: number, random: number): number {
  const nominal = Math.min(backoff.maxMs, backoff.baseMs * backoff.factor ** Math.max(0, failures - 1));
  return nominal / 2 + (nominal / 2) * random;
}

/**
 * A value's lifetime under `ttlJitter`. A key's first lifetime is drawn from the whole window
 * `[ttl * (1 - jitter), ttl]`, which spreads a fleet that started together across it; each refresh after that
 * draws from the window's top tenth, which keeps that spread from collapsing at almost no cost in calls
 * (drawing every lifetime from the whole window would cost `jitter / 2` more calls and spread nothing more).
 */
export function lifetimeMs(ttlMs: number, jitter: number, isRefresh: boolean, random: number): number {
  const window = ttlMs * jitter * (isRefresh ? 0.1 : 1);
  return ttlMs - window * random;
}
