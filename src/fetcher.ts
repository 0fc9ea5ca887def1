import { SecretCacheError, type SecretCacheErrorCode } from './errors.js';
import {
  type BatchResult,
  isSignatureError,
  type SecretRequest,
  type SecretSource,
  type SecretVersion,
  toSecretCacheError,
} from './source.js';

/**
 * Retries inside one fetch, for transient errors only (throttling, network, 5xx; the timeout is not retried:
 * `fetchTimeoutMs` bounds the whole fetch). These come on top of the AWS SDK's own retries (3 attempts in its
 * default `standard` mode), so the defaults are small: a fetch makes at most 2 x 3 HTTP requests.
 *
 * @example
 * ```ts
 * import { type RetryOptions, SecretCache } from 'secretcache';
 *
 * // A start-up job that would rather wait than fail: three retries, within a 30-second bound.
 * const retry: RetryOptions = { retries: 3, maxTimeoutMs: 5_000 };
 * const cache = new SecretCache({ retry, fetchTimeoutMs: 30_000 });
 * ```
 */
export interface RetryOptions {
  /**
   * Further attempts after the first.
   * @default 1
   */
  readonly retries?: number;
  /**
   * The wait before the first retry, in milliseconds (randomized up to twice that).
   * @default 100
   */
  readonly minTimeoutMs?: number;
  /**
   * The longest wait between two attempts, in milliseconds.
   * @default 1_000
   */
  readonly maxTimeoutMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { retries: 1, minTimeoutMs: 100, maxTimeoutMs: 1_000 };

const TRANSIENT: ReadonlySet<SecretCacheErrorCode> = new Set(['THROTTLED', 'FETCH_FAILED', 'TIMEOUT']);

/** Whether an error may go away by itself: throttling, network and 5xx failures, timeouts. */
export function isTransient(error: SecretCacheError): boolean {
  return TRANSIENT.has(error.code);
}

type PRetryModule = typeof import('p-retry');

/**
 * p-retry, imported on first use. The CommonJS build carries its own copy of it (p-retry ships ESM only) in a
 * chunk of its own, which `import()` hands over as `{ default: module.exports }`: both shapes are taken.
 */
async function importPRetry(): Promise<PRetryModule> {
  const loaded = (await import('p-retry')) as PRetryModule | { default: PRetryModule };
  return typeof loaded.default === 'function' ? (loaded as PRetryModule) : (loaded.default as PRetryModule);
}

/** A failure no retry can mend (or the abort): it ends the fetch with `error`. */
class Final {
  constructor(readonly error: unknown) {}
}

function timeoutError(secretId: string, timeoutMs: number): SecretCacheError {
  return new SecretCacheError(
    'TIMEOUT',
    secretId,
    `Secret "${secretId}" was not fetched within ${timeoutMs} ms.`,
  );
}

/**
 * Runs one fetch against a {@link SecretSource}: transient failures retried with `p-retry` (exponential, with
 * jitter), the whole fetch aborted after `timeoutMs` (the SDK gets the abort signal, so the HTTP request is
 * cancelled too), every failure turned into a {@link SecretCacheError}.
 */
export class Fetcher {
  readonly #source: SecretSource;
  readonly #retry: Required<RetryOptions>;
  readonly #timeoutMs: number;

  constructor(source: SecretSource, retry: Required<RetryOptions>, timeoutMs: number) {
    this.#source = source;
    this.#retry = retry;
    this.#timeoutMs = timeoutMs;
  }

  /** One `GetSecretValue`, retried and timed out. */
  fetch(request: SecretRequest): Promise<SecretVersion> {
    return this.#run(request.secretId, (signal) => this.#source.getSecretValue(request, signal));
  }

  /** Whether the source can fetch several secrets in one call. */
  get canBatch(): boolean {
    return typeof this.#source.batchGetSecretValue === 'function';
  }

  /** One `BatchGetSecretValue` for up to 20 ids, retried and timed out like a single fetch. */
  batch(secretIds: readonly string[]): Promise<BatchResult> {
    const source = this.#source as Required<SecretSource>;
    return this.#run(secretIds.join(','), (signal) => source.batchGetSecretValue(secretIds, signal));
  }

  #run<T>(secretId: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = timeoutError(secretId, this.#timeoutMs);
        controller.abort(error);
        reject(error);
      }, this.#timeoutMs);
      timer.unref?.();
    });
    timedOut.catch(() => {});
    let signatureRetried = false;
    const attempt = async (): Promise<T> => {
      try {
        return await call(controller.signal);
      } catch (thrown) {
        if (controller.signal.aborted) throw new Final(controller.signal.reason);
        // Once per fetch, whatever `retries` says: the SDK signs every send anew. A second one is an access error.
        if (!signatureRetried && isSignatureError(thrown)) {
          signatureRetried = true;
          return attempt();
        }
        const error = toSecretCacheError(thrown, secretId);
        throw isTransient(error) ? error : new Final(error);
      }
    };
    // The first attempt needs no p-retry: it is imported only when a transient failure is to be retried, which
    // keeps it (and its dependency) out of a cold start that never retries.
    const retried = attempt().catch((first: unknown) => {
      if (first instanceof Final) throw first.error;
      if (this.#retry.retries === 0) throw first;
      return this.#retryAfter(first, attempt, controller.signal);
    });
    // A source that ignores the signal must still not hold its readers past the timeout.
    // Success needs no abort: only the timer is cleared (an abort would build a DOMException per fetch).
    return Promise.race([retried, timedOut]).then(
      (value) => {
        clearTimeout(timer);
        return value;
      },
      (error: unknown) => {
        clearTimeout(timer);
        // Stop p-retry's pending delay and any request still running, for the timeout and every other failure.
        // Stryker disable next-line ConditionalExpression: abort() on an aborted controller is a no-op, so `true` is equivalent; `false` equals the BooleanLiteral mutant, which a test kills.
        if (!controller.signal.aborted) controller.abort(error);
        throw toSecretCacheError(error, secretId);
      },
    );
  }

  /** The retries after a first attempt failed with `first`: p-retry's backoff, as if it had made that attempt. */
  async #retryAfter<T>(first: unknown, attempt: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const { default: pRetry, AbortError } = await importPRetry();
    let pending: unknown = first;
    const again = async (): Promise<T> => {
      if (pending !== undefined) {
        const error = pending;
        pending = undefined;
        throw error;
      }
      try {
        return await attempt();
      } catch (error) {
        throw error instanceof Final ? new AbortError(error.error as Error) : error;
      }
    };
    return pRetry(again, {
      retries: this.#retry.retries,
      minTimeout: this.#retry.minTimeoutMs,
      maxTimeout: this.#retry.maxTimeoutMs,
      factor: 2,
      randomize: true,
      signal,
      unref: true,
    });
  }
}
