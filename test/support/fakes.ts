import type { Clock } from '../../src/clock.js';
import type { SecretRequest, SecretSource, SecretVersion } from '../../src/source.js';
import { type InjectedFailure, type MemoryCall, type MemorySource, memorySource } from '../../src/testing.js';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(public time = 1_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/**
 * The unit tests' Secrets Manager: a thin shell over `memorySource` (`secretcache/testing`) with the handles the
 * tests were written against: `put` (creating the secret on its first value), `stagePending` and
 * `finishRotation`, `calls` and `callsFor`, and two settable hooks, `gate` (every call made while it is set waits
 * for it) and `failWith` (every call rejects with what it returns, after the gate). Version ids are `v1`, `v2`...
 * across the source. It answers single reads only: loads go through `getSecretValue`, one id at a time.
 */
export class FakeSource implements SecretSource {
  /** The memory source underneath, for what the shell does not offer (stages moved by hand, hangs, ARNs). */
  readonly memory: MemorySource = memorySource({ versionIds: 'counter' });
  #gate: Promise<void> | undefined;
  #gateHang: InjectedFailure | undefined;
  #failWith: ((request: MemoryCall) => unknown) | undefined;
  #failure: InjectedFailure | undefined;

  /** Every call so far (a snapshot), each with the request's `secretId`, `versionStage` and `versionId`. */
  get calls(): readonly MemoryCall[] {
    return this.memory.calls;
  }

  /** When set, every call made from then on waits for this promise before answering. */
  get gate(): Promise<void> | undefined {
    return this.#gate;
  }

  set gate(gate: Promise<void> | undefined) {
    this.#gateHang?.clear();
    this.#gate = gate;
    this.#gateHang = undefined;
    if (gate === undefined) return;
    const hang = this.memory.fail('hang');
    this.#gateHang = hang;
    // A resolved gate holds no later call (as `await gate` would not), and lets go of the ones it holds.
    void gate.then(() => {
      hang.clear();
      hang.release();
    });
  }

  /** When set, every call rejects with what this returns (as the SDK would have thrown it). */
  get failWith(): ((request: MemoryCall) => unknown) | undefined {
    return this.#failWith;
  }

  set failWith(failWith: ((request: MemoryCall) => unknown) | undefined) {
    this.#failure?.clear();
    this.#failWith = failWith;
    this.#failure = failWith === undefined ? undefined : this.memory.fail(failWith);
  }

  /** Creates the secret, or puts a new AWSCURRENT version of it (AWSPREVIOUS follows); returns the version id. */
  put(secretId: string, value: string | Uint8Array): string {
    return this.#exists(secretId)
      ? this.memory.putSecretValue(secretId, value).versionId
      : this.memory.createSecret(secretId, value).versionId;
  }

  /** Adds a version labelled AWSPENDING, as a rotation's createSecret step does. */
  stagePending(secretId: string, value: string): string {
    return this.memory.putSecretValue(secretId, value, { versionStages: ['AWSPENDING'] }).versionId;
  }

  /** Moves AWSCURRENT to the AWSPENDING version (AWSPREVIOUS to the old one), as finishSecret does. */
  finishRotation(secretId: string): void {
    const { versions } = this.memory.describeSecret(secretId);
    const pending = versions.find((version) => version.versionStages.includes('AWSPENDING'));
    if (pending === undefined) throw new Error(`no pending version of ${secretId}`);
    const current = versions.find((version) => version.versionStages.includes('AWSCURRENT'));
    this.memory.updateVersionStage(secretId, 'AWSCURRENT', {
      moveTo: pending.versionId,
      ...(current === undefined ? {} : { removeFrom: current.versionId }),
    });
    this.memory.updateVersionStage(secretId, 'AWSPENDING', { removeFrom: pending.versionId });
  }

  callsFor(secretId: string): number {
    return this.memory.callCount({ secretId });
  }

  getSecretValue(request: SecretRequest, signal?: AbortSignal): Promise<SecretVersion> {
    return this.memory.getSecretValue(request, signal);
  }

  #exists(secretId: string): boolean {
    try {
      this.memory.describeSecret(secretId);
      return true;
    } catch {
      return false;
    }
  }
}

/** A promise and its resolve, to hold fetches open. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
