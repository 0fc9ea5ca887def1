import type { MemoryCall, MemoryOperation } from './call-log.js';

/**
 * What an injected failure does to the calls it applies to:
 *
 * - `'transient'`: fails with `FETCH_FAILED` (AWS's `InternalServiceError`, a 500): the cache retries it and
 *   serves stale values through it.
 * - `'throttled'`: fails with `THROTTLED` (`ThrottlingException`), also transient.
 * - `'denied'`: fails with `ACCESS_DENIED` (`AccessDeniedException`), permanent: the cache does not hide it.
 * - `'hang'`: never answers until released (`release()`) or aborted by the signal the cache passes, which is
 *   how `fetchTimeoutMs` ends it; then it rejects with the signal's reason, as `AwsSecretSource` does.
 *
 * @example
 * ```ts
 * import { type FailureKind, memorySource } from 'secretcache/testing';
 *
 * const source = memorySource();
 * const outage: FailureKind = 'transient';
 * source.fail(outage); // every call fails with FETCH_FAILED until cleared
 * ```
 */
export type FailureKind = 'transient' | 'throttled' | 'denied' | 'hang';

/**
 * Which calls an injected failure applies to, and for how long. Without options, every call until it is
 * cleared.
 *
 * @example
 * ```ts
 * import { type FailureOptions, memorySource } from 'secretcache/testing';
 *
 * const source = memorySource();
 * const twice: FailureOptions = { secretId: 'prod/orders/db', times: 2 };
 * source.fail('throttled', twice); // the next two calls that name prod/orders/db are throttled
 * ```
 */
export interface FailureOptions {
  /**
   * Only calls that name this secret, by name or ARN (either way). A batch that lists it fails as a whole,
   * except for `'denied'`, which AWS reports per secret: that id comes back in the batch's `errors`.
   * @default every call
   */
  readonly secretId?: string;
  /**
   * Only calls of this operation.
   * @default both
   */
  readonly operation?: MemoryOperation;
  /**
   * How many calls it applies to; then it is done.
   * @default Infinity (until cleared)
   */
  readonly times?: number;
}

export const FAILURE_OPTION_KEYS: readonly string[] = ['secretId', 'operation', 'times'];

/**
 * A failure `fail()` injected: how many calls it still applies to, how many it holds (a hang), and the
 * means to stop it.
 *
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import { type InjectedFailure, memorySource } from 'secretcache/testing';
 *
 * const source = memorySource();
 * source.createSecret('prod/orders/db', 'pw-1');
 * const hang: InjectedFailure = source.fail('hang', { times: 1 });
 * const read = new SecretCache({ source }).getSecretString('prod/orders/db');
 * hang.held; // 1: the call is waiting
 * hang.release(); // it answers now, from the secrets as they are now
 * await read; // 'pw-1'
 * ```
 */
export interface InjectedFailure {
  /** The kind given to `fail()`; `'custom'` for a function. */
  readonly kind: FailureKind | 'custom';
  /** How many more calls it applies to: `Infinity` until cleared, `0` once cleared or used up. */
  readonly remaining: number;
  /** How many calls it holds now (a hang); released, aborted or answered calls are not counted. */
  readonly held: number;
  /**
   * Lets every call it holds answer now: as a call arriving now would be answered, by the secrets as they are
   * now and the failures that apply now, except that no hang holds it again. Returns how many it released.
   * It goes on holding new calls until cleared or used up.
   */
  release(): number;
  /** Stops it applying to new calls. Calls a hang already holds stay held until released. */
  clear(): void;
}

/** One injected failure and the calls it holds. */
export class Failure implements InjectedFailure {
  readonly kind: FailureKind | 'custom';
  /** For `'custom'`: what to throw. */
  readonly make: ((call: MemoryCall) => unknown) | undefined;
  readonly secretId: string | undefined;
  readonly operation: MemoryOperation | undefined;
  #remaining: number;
  readonly #held = new Set<() => void>();

  constructor(kind: FailureKind | ((call: MemoryCall) => unknown), options: FailureOptions) {
    this.kind = typeof kind === 'function' ? 'custom' : kind;
    this.make = typeof kind === 'function' ? kind : undefined;
    this.secretId = options.secretId;
    this.operation = options.operation;
    this.#remaining = options.times ?? Number.POSITIVE_INFINITY;
  }

  get remaining(): number {
    return this.#remaining;
  }

  get held(): number {
    return this.#held.size;
  }

  /** Counts one call it applied to. */
  use(): void {
    this.#remaining--;
  }

  clear(): void {
    this.#remaining = 0;
  }

  /** Holds a call until `release()`, or rejects with the signal's reason when it aborts. No timer. */
  hold(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#held.delete(release);
        reject(signal?.reason);
      };
      const release = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.#held.delete(release);
        resolve();
      };
      this.#held.add(release);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): number {
    const held = [...this.#held];
    for (const release of held) release();
    return held.length;
  }
}

/** The failures of one source: which applies to a call, in the order they were injected. */
export class Failures {
  #failures: Failure[] = [];
  /** Every hang that may still hold calls, cleared or not, for the source's `release()`. */
  readonly #hangs = new Set<Failure>();

  add(failure: Failure): Failure {
    this.#failures.push(failure);
    if (failure.kind === 'hang') this.#hangs.add(failure);
    return failure;
  }

  /**
   * The first failure still in force that applies to `call`, of the hangs or of the others, counted as used.
   * Hangs come first: a held call meets the other failures once released.
   */
  take(
    call: MemoryCall,
    hang: boolean,
    names: (call: MemoryCall, secretId: string) => boolean,
  ): Failure | undefined {
    this.#failures = this.#failures.filter((failure) => failure.remaining > 0);
    const failure = this.#failures.find(
      (candidate) =>
        (candidate.kind === 'hang') === hang &&
        (candidate.operation === undefined || candidate.operation === call.operation) &&
        (candidate.secretId === undefined || names(call, candidate.secretId)),
    );
    failure?.use();
    return failure;
  }

  /** Stops every failure; held calls stay held until released. */
  clear(): void {
    for (const failure of this.#failures) failure.clear();
    this.#failures = [];
  }

  release(): number {
    let released = 0;
    for (const hang of this.#hangs) {
      released += hang.release();
      if (hang.remaining <= 0) this.#hangs.delete(hang);
    }
    return released;
  }

  get held(): number {
    let held = 0;
    for (const hang of this.#hangs) held += hang.held;
    return held;
  }
}
