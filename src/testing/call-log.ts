/**
 * The Secrets Manager operations a memory source answers for the cache: what `SecretSource` asks of it.
 *
 * @example
 * ```ts
 * import { memorySource, type MemoryOperation } from 'secretcache/testing';
 *
 * const source = memorySource();
 * const batch: MemoryOperation = 'BatchGetSecretValue';
 * source.fail('denied', { operation: batch }); // a role without secretsmanager:BatchGetSecretValue
 * ```
 */
export type MemoryOperation = 'GetSecretValue' | 'BatchGetSecretValue';

/**
 * One call the code under test made to a memory source, as it made it (the setup methods are not logged).
 * A call that names neither a stage nor a version id reads `AWSCURRENT`; a batch always does.
 *
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import { type MemoryCall, memorySource } from 'secretcache/testing';
 *
 * const source = memorySource();
 * source.createSecret('prod/orders/db', 'pw-1');
 * await new SecretCache({ source }).getSecretString('prod/orders/db', { versionStage: 'AWSPREVIOUS' }).catch(() => {});
 * const [call]: readonly MemoryCall[] = source.calls;
 * // { operation: 'GetSecretValue', secretId: 'prod/orders/db', secretIds: ['prod/orders/db'],
 * //   versionStage: 'AWSPREVIOUS', versionId: undefined, time: ... }
 * ```
 */
export interface MemoryCall {
  readonly operation: MemoryOperation;
  /** The id the call named; for a batch, its ids joined with `,` (as its errors name them). */
  readonly secretId: string;
  /** Every id the call named: one for `GetSecretValue`. */
  readonly secretIds: readonly string[];
  /** The stage the call asked for, if it named one. */
  readonly versionStage: string | undefined;
  /** The version id the call asked for, if it named one. */
  readonly versionId: string | undefined;
  /** When the call arrived, by the source's clock. */
  readonly time: number;
}

/**
 * Which calls `callCount` counts: every field given must match. `secretId` matches a call that named the
 * secret by name or by ARN (either way), or a batch that listed it; `versionStage: 'AWSCURRENT'` also
 * matches calls that named no stage and no version id.
 *
 * @example
 * ```ts
 * import { type CallFilter, memorySource } from 'secretcache/testing';
 *
 * const source = memorySource();
 * const pendingReads: CallFilter = { secretId: 'prod/orders/db', versionStage: 'AWSPENDING' };
 * source.callCount(pendingReads); // 0
 * ```
 */
export interface CallFilter {
  readonly operation?: MemoryOperation;
  readonly secretId?: string;
  readonly versionStage?: string;
  readonly versionId?: string;
}

export const CALL_FILTER_KEYS: readonly string[] = ['operation', 'secretId', 'versionStage', 'versionId'];

/** The calls in order, each with the ARNs its ids named when it arrived (to match by name or by ARN). */
export class CallLog {
  #calls: MemoryCall[] = [];
  readonly #arns = new WeakMap<MemoryCall, ReadonlyArray<string | undefined>>();

  record(
    operation: MemoryOperation,
    secretIds: readonly string[],
    versionStage: string | undefined,
    versionId: string | undefined,
    time: number,
    arnOf: (secretId: string) => string | undefined,
  ): MemoryCall {
    const call: MemoryCall = Object.freeze({
      operation,
      secretId: secretIds.join(','),
      secretIds: Object.freeze([...secretIds]),
      versionStage,
      versionId,
      time,
    });
    this.#calls.push(call);
    this.#arns.set(call, secretIds.map(arnOf));
    return call;
  }

  /** A snapshot: later calls do not appear in it. */
  get calls(): readonly MemoryCall[] {
    return Object.freeze([...this.#calls]);
  }

  clear(): void {
    this.#calls = [];
  }

  /** Whether `call` named `secretId`, or the secret it names (`arn`, resolved now), by name or ARN. */
  names(call: MemoryCall, secretId: string, arn: string | undefined): boolean {
    const arns = this.#arns.get(call) ?? [];
    return call.secretIds.some((id, i) => id === secretId || (arn !== undefined && arns[i] === arn));
  }

  count(filter: CallFilter, arn: string | undefined): number {
    let count = 0;
    for (const call of this.#calls) {
      if (filter.operation !== undefined && call.operation !== filter.operation) continue;
      if (filter.secretId !== undefined && !this.names(call, filter.secretId, arn)) continue;
      if (filter.versionId !== undefined && call.versionId !== filter.versionId) continue;
      if (filter.versionStage !== undefined && stageOf(call) !== filter.versionStage) continue;
      count++;
    }
    return count;
  }
}

/** The stage a call reads: the one it names, else `AWSCURRENT` unless it names a version id. */
function stageOf(call: MemoryCall): string | undefined {
  return call.versionStage ?? (call.versionId === undefined ? 'AWSCURRENT' : undefined);
}
