/**
 * The stable codes a {@link SecretCacheError} carries. Branch on these, never on messages.
 *
 * - `NOT_FOUND`: the secret, or the requested version or stage of it, does not exist.
 * - `ACCESS_DENIED`: the caller's credentials may not read the secret or its KMS key.
 * - `DECRYPTION_FAILED`: Secrets Manager could not decrypt the value with its KMS key.
 * - `INVALID_REQUEST`: AWS rejected the request's parameters or the secret's state (for example, scheduled
 *   for deletion).
 * - `THROTTLED`: AWS throttled the request.
 * - `FETCH_FAILED`: any other failure to fetch: network, 5xx, an unexpected AWS error.
 * - `TIMEOUT`: a fetch took longer than `fetchTimeoutMs`.
 * - `ABORTED`: the caller's `signal` aborted the wait; the signal's reason is the `cause`.
 * - `WRONG_TYPE`: a string was asked of a binary secret, or bytes of a string secret.
 * - `NO_VALUE`: Secrets Manager answered with neither `SecretString` nor `SecretBinary` (a version created
 *   without a value yet, such as an `AWSPENDING` version before `PutSecretValue`).
 * - `INVALID_JSON`: the secret's string is not JSON.
 * - `SCHEMA_MISMATCH`: the parsed JSON does not satisfy the schema given to `getSecretJson`.
 * - `MISSING_KEY`: a manifest entry's `key` names a field the secret's JSON does not have.
 * - `LOAD_FAILED`: one or more entries of a manifest failed; `errors` lists each of them.
 * - `INVALID_ARGUMENT`: a call's arguments are malformed; nothing was fetched or cached.
 * - `EXPIRED`: a live entry (`cache.live`) is past its TTL and `staleIfErrorMs`, and its refresh has not
 *   answered yet (a process that was suspended for longer than both, for example).
 * - `CLOSED`: a live entry was read after its live object was closed.
 * - `MISSING_DEPENDENCY`: the AWS source needs `@aws-sdk/client-secrets-manager`, which is not installed (or
 *   failed to load); the message says what to install.
 *
 * @example
 * ```ts
 * import { isSecretCacheError, type SecretCacheErrorCode } from 'secretcache';
 *
 * // Worth retrying the request later: the others need a fix (IAM, KMS, the secret itself, the code).
 * const transient: ReadonlySet<SecretCacheErrorCode> = new Set(['THROTTLED', 'FETCH_FAILED', 'TIMEOUT']);
 * const isRetryable = (error: unknown): boolean => isSecretCacheError(error) && transient.has(error.code);
 * ```
 */
export type SecretCacheErrorCode =
  | 'NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'DECRYPTION_FAILED'
  | 'INVALID_REQUEST'
  | 'THROTTLED'
  | 'FETCH_FAILED'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'WRONG_TYPE'
  | 'NO_VALUE'
  | 'INVALID_JSON'
  | 'SCHEMA_MISMATCH'
  | 'MISSING_KEY'
  | 'LOAD_FAILED'
  | 'INVALID_ARGUMENT'
  | 'EXPIRED'
  | 'CLOSED'
  | 'MISSING_DEPENDENCY';

/**
 * One failed entry of a manifest load, as listed by a `LOAD_FAILED` error's `errors`: which entry, and why,
 * so one log line can name every secret a deployment is missing.
 *
 * @example
 * ```ts
 * import { isSecretCacheError, SecretCache, type SecretLoadFailure, secret } from 'secretcache';
 *
 * const manifest = { apiKey: secret.string('prod/orders/stripe-key'), db: secret.json('prod/orders/db') };
 * try {
 *   await new SecretCache().load(manifest);
 * } catch (error) {
 *   if (isSecretCacheError(error) && error.code === 'LOAD_FAILED') {
 *     const describe = ({ key, secretId, code }: SecretLoadFailure) => `${key} (${secretId}): ${code}`;
 *     console.error(`cannot start: ${error.errors.map(describe).join(', ')}`);
 *   }
 *   throw error;
 * }
 * ```
 */
export interface SecretLoadFailure {
  /** The manifest key of the entry that failed. */
  readonly key: string;
  /** The secret id the entry names. */
  readonly secretId: string;
  /** Why it failed. */
  readonly code: SecretCacheErrorCode;
  /** The entry's own error. */
  readonly error: SecretCacheError;
}

/**
 * Options of the {@link SecretCacheError} constructor, for a custom `SecretSource` that classifies its own
 * failures (anything else it throws is reported as `FETCH_FAILED`).
 *
 * @example
 * ```ts
 * import { SecretCacheError, type SecretCacheErrorOptions } from 'secretcache';
 *
 * // In a custom source: a missing secret is NOT_FOUND, with the transport's error kept as `cause`.
 * function notFound(secretId: string, cause: unknown): SecretCacheError {
 *   const options: SecretCacheErrorOptions = { cause };
 *   return new SecretCacheError('NOT_FOUND', secretId, `Secret "${secretId}" was not found.`, options);
 * }
 * ```
 */
export interface SecretCacheErrorOptions {
  /** The underlying error, typically the AWS SDK's. Never one whose message quotes a secret's value. */
  readonly cause?: unknown;
  /** For `LOAD_FAILED`: every entry that failed. */
  readonly errors?: readonly SecretLoadFailure[];
}

// A registry-wide symbol brands errors, so the check holds when a dual ESM/CJS install loads this class twice.
const brand = Symbol.for('secretcache.SecretCacheError');

/**
 * The one error class of secretcache. It carries a stable `code`, the `secretId` it concerns and, where there
 * is one, the AWS error as `cause`. Its message, stack, `toJSON()` and `util.inspect` rendering never contain
 * any part of a secret's value.
 *
 * @example
 * ```ts
 * import { SecretCache, isSecretCacheError } from 'secretcache';
 *
 * const cache = new SecretCache();
 * try {
 *   await cache.getSecretString('prod/orders/db');
 * } catch (error) {
 *   if (isSecretCacheError(error) && error.code === 'NOT_FOUND') {
 *     // provision the secret, or fall back
 *   }
 *   throw error;
 * }
 * ```
 */
export class SecretCacheError extends Error {
  override readonly name = 'SecretCacheError';
  /** Why the call failed; stable across releases. */
  readonly code: SecretCacheErrorCode;
  /** The secret id the failed call named (the manifest's ids joined, for `LOAD_FAILED`). */
  readonly secretId: string;
  /** For `LOAD_FAILED`: every failed entry; empty otherwise. */
  readonly errors: readonly SecretLoadFailure[];

  constructor(
    code: SecretCacheErrorCode,
    secretId: string,
    message: string,
    options?: SecretCacheErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.secretId = secretId;
    this.errors = options?.errors ?? [];
    Object.defineProperty(this, brand, { value: true });
  }

  /** A plain rendering for structured logs: name, code, secret id, message, and the cause's name. */
  toJSON(): Record<string, unknown> {
    const cause = this.cause as { name?: unknown } | undefined;
    return {
      name: this.name,
      code: this.code,
      secretId: this.secretId,
      message: this.message,
      ...(cause !== undefined && typeof cause.name === 'string' ? { cause: cause.name } : {}),
      ...(this.errors.length > 0
        ? { errors: this.errors.map(({ key, secretId, code }) => ({ key, secretId, code })) }
        : {}),
    };
  }
}

/**
 * Whether `error` is a {@link SecretCacheError}, also when it comes from another copy of this package (the
 * ESM and the CommonJS build loaded side by side).
 *
 * @example
 * ```ts
 * import { isSecretCacheError } from 'secretcache';
 *
 * function statusFor(error: unknown): number {
 *   return isSecretCacheError(error) && error.code === 'ACCESS_DENIED' ? 403 : 500;
 * }
 * ```
 */
export function isSecretCacheError(error: unknown): error is SecretCacheError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[brand] === true;
}

/** The errors a caller cannot fix by waiting: they are not retried and not hidden by stale values. */
export const PERMANENT_CODES: ReadonlySet<SecretCacheErrorCode> = new Set([
  'NOT_FOUND',
  'ACCESS_DENIED',
  'DECRYPTION_FAILED',
  'INVALID_REQUEST',
  'INVALID_ARGUMENT',
  'NO_VALUE',
  'MISSING_DEPENDENCY',
]);

/** Shorthand for the `INVALID_ARGUMENT` error every entry point raises on malformed input. */
export function invalidArgument(secretId: unknown, message: string): SecretCacheError {
  return new SecretCacheError('INVALID_ARGUMENT', typeof secretId === 'string' ? secretId : '', message);
}
