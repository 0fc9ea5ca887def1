/**
 * The circuit breakers of `regionalSource` and the one loop that walks them for a fetch or a batch. The rules
 * are documented on `regionalSource` (src/regions.ts); this module is internal.
 */

// The AWS error table without the AWS SDK: src/source.ts has the same one, and loads the SDK (a test keeps the
// two in step).
import { CODE_BY_AWS_NAME } from '../aws-errors.js';
import type { Clock } from '../clock.js';
import { isSecretCacheError, SecretCacheError, type SecretCacheErrorCode } from '../errors.js';
import type { RegionState } from '../regions.js';
import type { SecretSource } from '../source.js';

/** `setTimeout` fires at once for longer delays; an `attemptTimeoutMs` above this sets no timer at all. */
const MAX_TIMER_MS = 2_147_483_647;

/** The codes the cache treats as transient (`isTransient` in src/fetcher.ts): only these fail over. */
const TRANSIENT: ReadonlySet<SecretCacheErrorCode> = new Set(['THROTTLED', 'FETCH_FAILED', 'TIMEOUT']);

/** One region: its source and its breaker's state. */
export interface Breaker {
  readonly region: string;
  readonly source: SecretSource;
  /** Clock time its open window ends; `undefined` when closed. */
  openUntil: number | undefined;
  trial: boolean;
  consecutiveFailures: number;
  attempts: number;
  failures: number;
  lastFailureCode: SecretCacheErrorCode | undefined;
}

export type Call<T> = (breaker: Breaker, signal: AbortSignal) => Promise<T>;

/** The region a fetch asks next; `trial` when the fetch took its half-open trial. */
interface Choice {
  readonly breaker: Breaker;
  readonly index: number;
  readonly trial: boolean;
}

/** How a thrown value is classified: a `SecretCacheError` by its code, anything else as `toSecretCacheError` would. */
export function codeOf(error: unknown): SecretCacheErrorCode {
  if (isSecretCacheError(error)) return error.code;
  const name = (error as { name?: unknown } | null | undefined)?.name;
  const code = typeof name === 'string' ? CODE_BY_AWS_NAME.get(name) : undefined;
  if (code !== undefined) return code;
  const throttled = (error as { $retryable?: { throttling?: boolean } } | null | undefined)?.$retryable;
  return throttled?.throttling === true ? 'THROTTLED' : 'FETCH_FAILED';
}

/** The timing of the breakers, as `regionalSource` resolved its options. */
export interface RouterTiming {
  readonly cooldownMs: number;
  readonly cooldownJitter: number;
  readonly attemptTimeoutMs: number;
}

/** The breakers, and the one loop that walks them for a fetch or a batch. */
export class Router {
  readonly #breakers: readonly Breaker[];
  readonly #clock: Clock;
  readonly #cooldownMs: number;
  readonly #cooldownJitter: number;
  readonly #attemptTimeoutMs: number;

  constructor(breakers: readonly Breaker[], clock: Clock, resolved: RouterTiming) {
    this.#breakers = breakers;
    this.#clock = clock;
    this.#cooldownMs = resolved.cooldownMs;
    this.#cooldownJitter = resolved.cooldownJitter;
    this.#attemptTimeoutMs = resolved.attemptTimeoutMs;
  }

  async run<T>(label: string, call: Call<T>, signal: AbortSignal | undefined): Promise<T> {
    signal?.throwIfAborted();
    const tried: boolean[] = this.#breakers.map(() => false);
    let next: Choice | undefined = this.#eligible(tried) ?? this.#soonest();
    let lastError: unknown;
    while (next !== undefined) {
      const { breaker, index, trial } = next;
      tried[index] = true;
      breaker.attempts++;
      try {
        const value = await this.#attempt(breaker, label, call, signal);
        this.#close(breaker);
        return value;
      } catch (thrown) {
        if (signal?.aborted === true) {
          if (trial) breaker.trial = false;
          throw signal.reason;
        }
        const code = codeOf(thrown);
        if (!TRANSIENT.has(code)) {
          this.#close(breaker); // the region answered: it is up, and its answer stands
          throw thrown;
        }
        this.#open(breaker, code);
        lastError = thrown;
      }
      next = this.#eligible(tried);
    }
    throw lastError;
  }

  /** The first region not yet tried whose breaker lets a fetch through; a half-open one's trial is taken. */
  #eligible(tried: readonly boolean[]): Choice | undefined {
    const now = this.#clock.now();
    for (let index = 0; index < this.#breakers.length; index++) {
      const breaker = this.#breakers[index] as Breaker;
      if (tried[index] === true) continue;
      if (breaker.openUntil === undefined) return { breaker, index, trial: false };
      if (now >= breaker.openUntil && !breaker.trial) {
        breaker.trial = true;
        return { breaker, index, trial: true };
      }
    }
    return undefined;
  }

  /** Every region open: the one whose window ends first (a running trial's counts as never ending). */
  #soonest(): Choice {
    let index = 0;
    let soonest = Number.POSITIVE_INFINITY;
    this.#breakers.forEach((breaker, i) => {
      const ends = breaker.trial ? Number.POSITIVE_INFINITY : (breaker.openUntil as number);
      if (ends < soonest) {
        soonest = ends;
        index = i;
      }
    });
    return { breaker: this.#breakers[index] as Breaker, index, trial: false };
  }

  #close(breaker: Breaker): void {
    breaker.openUntil = undefined;
    breaker.trial = false;
    breaker.consecutiveFailures = 0;
  }

  #open(breaker: Breaker, code: SecretCacheErrorCode): void {
    breaker.openUntil = this.#clock.now() + this.#cooldownMs * (1 - this.#cooldownJitter * Math.random());
    breaker.trial = false;
    breaker.consecutiveFailures++;
    breaker.failures++;
    breaker.lastFailureCode = code;
  }

  /** One call to one region, settled by its answer, its `attemptTimeoutMs`, or the caller's signal. */
  #attempt<T>(breaker: Breaker, label: string, call: Call<T>, signal: AbortSignal | undefined): Promise<T> {
    const controller = new AbortController();
    const timeoutMs = this.#attemptTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        done();
        controller.abort(signal?.reason);
        reject(signal?.reason);
      };
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      if (timeoutMs <= MAX_TIMER_MS) {
        timer = setTimeout(() => {
          done();
          const error = new SecretCacheError(
            'TIMEOUT',
            label,
            `Secret "${label}" was not fetched from ${breaker.region} within ${timeoutMs} ms.`,
          );
          controller.abort(error);
          reject(error);
        }, timeoutMs);
        timer.unref?.();
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      let pending: Promise<T>;
      try {
        pending = call(breaker, controller.signal);
      } catch (thrown) {
        done();
        reject(thrown);
        return;
      }
      // A source that ignores its signal is abandoned at the timeout; its late answer, or error, goes nowhere.
      pending.then(
        (value) => {
          done();
          resolve(value);
        },
        (error: unknown) => {
          done();
          reject(error);
        },
      );
    });
  }

  states(): readonly RegionState[] {
    const now = this.#clock.now();
    return Object.freeze(
      this.#breakers.map(
        ({
          region,
          openUntil,
          trial,
          consecutiveFailures,
          attempts,
          failures,
          lastFailureCode,
        }): RegionState =>
          Object.freeze({
            region,
            state: openUntil === undefined ? 'closed' : now < openUntil ? 'open' : 'half-open',
            openUntil,
            trial,
            consecutiveFailures,
            attempts,
            failures,
            lastFailureCode,
          }),
      ),
    );
  }
}
