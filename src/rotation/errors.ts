import type { RotationStep } from './contract.js';

/**
 * Why a rotation step failed. Branch on these, never on messages.
 *
 * - `INVALID_EVENT`: the event is not a Secrets Manager rotation event (unknown step, a field missing, empty or
 *   not printable).
 * - `ROTATION_NOT_ENABLED`: `DescribeSecret` says rotation is not enabled for the secret.
 * - `UNKNOWN_VERSION`: the event's token names no version of the secret.
 * - `NOT_PENDING`: the token's version is neither `AWSCURRENT` nor `AWSPENDING`.
 * - `INVALID_SECRET`: a version's value does not fit the target (not JSON, a field missing, a user the strategy
 *   may not change, a host other than the current one).
 * - `SET_FAILED`: the target could not make the system accept the pending credential.
 * - `TEST_FAILED`: the system does not accept the pending credential.
 * - `AWS_FAILED`: a Secrets Manager call failed; its error is the `cause`.
 *
 * @example
 * ```ts
 * import { isRotationError, type RotationErrorCode } from 'secretcache/rotation';
 *
 * // Failures an operator must fix before the next attempt, as opposed to ones a retry of the step may clear.
 * const needsOperator: ReadonlySet<RotationErrorCode> = new Set(['ROTATION_NOT_ENABLED', 'INVALID_SECRET']);
 * const page = (error: unknown) => isRotationError(error) && needsOperator.has(error.code);
 * ```
 */
export type RotationErrorCode =
  | 'INVALID_EVENT'
  | 'ROTATION_NOT_ENABLED'
  | 'UNKNOWN_VERSION'
  | 'NOT_PENDING'
  | 'INVALID_SECRET'
  | 'SET_FAILED'
  | 'TEST_FAILED'
  | 'AWS_FAILED';

const brand = Symbol.for('secretcache.RotationError');

/**
 * The error a rotation handler fails a step with: a stable `code`, the `step` and the `secretId` (both as the
 * event gave them; empty when the event did not), never any part of a secret's value. The `cause` is the AWS
 * SDK's error for `AWS_FAILED`; for a database's failure it is a copy that keeps the SQLSTATE and drops the
 * server's text, which can quote user names.
 *
 * @example
 * ```ts
 * import { isRotationError, rotationHandler, type RotationTarget } from 'secretcache/rotation';
 *
 * declare const target: RotationTarget;
 * const rotate = rotationHandler(target);
 * export async function handler(event: Parameters<typeof rotate>[0]) {
 *   try {
 *     await rotate(event);
 *   } catch (error) {
 *     if (isRotationError(error)) console.error(JSON.stringify(error)); // code, step, secretId, message
 *     throw error; // Secrets Manager retries the step
 *   }
 * }
 * ```
 */
export class RotationError extends Error {
  override readonly name = 'RotationError';
  readonly code: RotationErrorCode;
  /** The step that failed, or `undefined` when the event named none that is known. */
  readonly step: RotationStep | undefined;
  /** The event's `SecretId`. */
  readonly secretId: string;

  constructor(
    code: RotationErrorCode,
    step: RotationStep | undefined,
    secretId: string,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.step = step;
    this.secretId = secretId;
    Object.defineProperty(this, brand, { value: true });
  }

  /** A plain rendering for structured logs: name, code, step, secret id, message, and the cause's name. */
  toJSON(): Record<string, unknown> {
    const cause = this.cause as { name?: unknown; code?: unknown } | undefined;
    return {
      name: this.name,
      code: this.code,
      step: this.step,
      secretId: this.secretId,
      message: this.message,
      ...(cause !== undefined && typeof cause.name === 'string' ? { cause: cause.name } : {}),
      ...(cause !== undefined && typeof cause.code === 'string' ? { causeCode: cause.code } : {}),
    };
  }
}

/**
 * Whether `error` is a {@link RotationError}, also when it comes from another copy of this package.
 *
 * @example
 * ```ts
 * import { isRotationError } from 'secretcache/rotation';
 *
 * const retryable = (error: unknown) => isRotationError(error) && error.code === 'AWS_FAILED';
 * ```
 */
export function isRotationError(error: unknown): error is RotationError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[brand] === true;
}
