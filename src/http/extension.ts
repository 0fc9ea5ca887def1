import type { SecretSource } from '../source.js';
import {
  checkSourceOptions,
  DEFAULT_PORT,
  EXTENSION_LOOSE_OPTIONS,
  EXTENSION_SOURCE_OPTIONS,
} from './options.js';
import { HttpSecretSource } from './source.js';
import { EXTENSION_TOKEN_VARIABLES, TokenStore } from './token.js';

/** The variable the extension takes its port from (the Lambda function's configuration sets it). */
const PORT_VARIABLE = 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT';

/**
 * Options of {@link lambdaExtensionSource}. Every field is optional; the defaults match the extension's own. An
 * unknown key or a malformed value is a `TypeError` that names it.
 *
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import { type LambdaExtensionSourceOptions, lambdaExtensionSource } from 'secretcache/http';
 *
 * // A function whose init phase is long: keep retrying a starting extension for up to 4 s.
 * const options: LambdaExtensionSourceOptions = { warmupMs: 4_000 };
 * const cache = new SecretCache({ source: lambdaExtensionSource(options), fetchTimeoutMs: 8_000 });
 * ```
 */
export interface LambdaExtensionSourceOptions {
  /**
   * The extension's port.
   * @default the variable `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` (read at the first request), else 2773
   */
  readonly port?: number;
  /**
   * The extension's address: `'127.0.0.1'`, `'::1'` or `'localhost'` (connected to as `127.0.0.1`; no name is
   * resolved). Anything else is a `TypeError`: the token goes to a loopback address only.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * How long one HTTP request may take, in milliseconds, from connecting to the last byte of the answer.
   * @default 2_000
   */
  readonly timeoutMs?: number;
  /**
   * How long, in milliseconds from this source's first request, a refused connection or a "not ready" answer
   * is retried (pauses of 10 ms growing to 250 ms, jittered) rather than reported. The extension serves only once
   * the sandbox's invoke phase has begun, so a read started during the init phase (a `withSecrets` manifest loaded
   * at module level) waits here until it does. The first answer that is not "not ready" ends the warm-up. `0`
   * turns it off. Keep it under the cache's `fetchTimeoutMs`, which bounds the whole fetch.
   * @default 3_000
   */
  readonly warmupMs?: number;
}

/**
 * A source that reads through the AWS Parameters and Secrets Lambda Extension, the layer that caches secrets in a
 * Lambda sandbox: `GET /secretsmanager/get` on a loopback address, with the sandbox's `AWS_SESSION_TOKEN` in
 * `X-Aws-Parameters-Secrets-Token`. Nothing but `node:http`: no AWS SDK is loaded. Construction does no I/O and
 * reads no variable; the port and the token are read at the first request, which is never made at import.
 *
 * Requests send `secretId`, and `versionStage` or `versionId` when the cache names them, percent-encoded. The
 * extension has no way to be told to bypass its cache: a `refreshNow()` of the cache reaches Secrets Manager only
 * once the extension's own entry has expired (its `SECRETS_MANAGER_TTL`, at most 300 s).
 *
 * Errors are `SecretCacheError`s with the secret's id; no message quotes a value, the token or a body:
 * - The extension answers 400 with one generic text for a missing secret or version, denied access, throttling
 *   and a network failure alike. That is `FETCH_FAILED`, a transient code: through an outage the cache keeps
 *   serving a stale value (a permanent code would drop it), and a secret that does not exist costs a retry
 *   and the backoff. The extension's log in CloudWatch says which it was. A body that names an AWS error
 *   (`ResourceNotFoundException`...) gets that error's code, as with the SDK source.
 * - "Not ready" answers and refused connections are retried within `warmupMs`, then `FETCH_FAILED`; a 5xx, a
 *   reset connection are `FETCH_FAILED`; a 429 is `THROTTLED`; a request longer than `timeoutMs` is `TIMEOUT`.
 * - A token refused (401, 403) after reading `AWS_SESSION_TOKEN` again, or no `AWS_SESSION_TOKEN` at all, is
 *   `ACCESS_DENIED`; a 404 or 405 is `INVALID_REQUEST`; a malformed `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` is
 *   `INVALID_REQUEST`.
 *
 * Freshness: the extension caches for `SECRETS_MANAGER_TTL` (300 s by default, and at most), so a value the cache
 * serves may be as old as that plus the cache's `ttlMs`, plus `staleIfErrorMs` while refreshing fails.
 *
 * @param options - see {@link LambdaExtensionSourceOptions}
 * @returns a `SecretSource` for `new SecretCache({ source })`; it renders as `lambdaExtensionSource(127.0.0.1:2773)`
 * @example
 * ```ts
 * import { SecretCache, secret } from 'secretcache';
 * import { lambdaExtensionSource } from 'secretcache/http';
 * import { withSecrets } from 'secretcache/lambda';
 *
 * // The extension caches for up to 5 minutes too: a short TTL here keeps the sum low.
 * const cache = new SecretCache({ source: lambdaExtensionSource(), ttlMs: 60_000 });
 * export const handler = withSecrets({ apiKey: secret.string('prod/orders/stripe-key') }, async (event, context, secrets) => {
 *   return { ok: secrets.apiKey.length > 0 };
 * }, { cache });
 * ```
 */
export function lambdaExtensionSource(options?: LambdaExtensionSourceOptions): SecretSource {
  const { resolved, given, address } = checkSourceOptions(
    EXTENSION_SOURCE_OPTIONS,
    EXTENSION_LOOSE_OPTIONS,
    options,
    'lambdaExtensionSource',
  );
  const port = given.port as number | undefined;
  return new HttpSecretSource({
    kind: 'extension',
    madeBy: 'lambdaExtensionSource',
    serverName: 'the Lambda extension',
    address,
    port: port ?? portFromEnv,
    timeoutMs: resolved.timeoutMs,
    warmupMs: resolved.warmupMs,
    token: new TokenStore({ kind: 'env', variables: EXTENSION_TOKEN_VARIABLES, files: false }),
  });
}

/** The port the Lambda function's configuration gives the extension, or why it is not one. */
function portFromEnv(): number | string {
  const value = process.env[PORT_VARIABLE];
  if (value === undefined || value === '') return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  return port >= 1 && port <= 65_535 ? port : `${PORT_VARIABLE} is not a port number (1 to 65535)`;
}
