import type { SecretCache } from './cache.js';
import type { LoadedSecrets, Manifest } from './manifest.js';
import { checkOptions, preload } from './preload.js';

/**
 * The part of the Lambda context object this module names. `Context` from `@types/aws-lambda` is assignable
 * to it; it is declared here so that using `secretcache/lambda` does not require those types.
 *
 * @example
 * ```ts
 * import type { LambdaContext } from 'secretcache/lambda';
 *
 * const context: LambdaContext = { awsRequestId: 'local-1', getRemainingTimeInMillis: () => 3_000 };
 * ```
 */
export interface LambdaContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/**
 * Options of {@link withSecrets}.
 *
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import type { WithSecretsOptions } from 'secretcache/lambda';
 *
 * const options: WithSecretsOptions = { cache: new SecretCache({ ttlMs: 60_000 }) };
 * ```
 */
export interface WithSecretsOptions {
  /**
   * The cache to load with. Share one with the rest of the function's code to read other secrets through it.
   * @default a `new SecretCache()` (default options), made when `withSecrets` is called
   */
  readonly cache?: SecretCache;
}

const WITH_SECRETS_OPTIONS = ['cache'] as const satisfies ReadonlyArray<keyof WithSecretsOptions>;

/**
 * Wraps a Lambda handler so that every invocation gets the manifest's secrets, loaded and typed.
 *
 * Loading starts when `withSecrets` is called, at module level, so it overlaps the Lambda init phase; the
 * first invocation waits for it. If it fails, the process does not crash at import: each invocation loads again,
 * subject to the cache's backoff of the failed secrets (within it, an invocation rejects at once with the same
 * `LOAD_FAILED`, listing each failed entry, without calling AWS; after it, AWS is asked again). Every invocation then calls `cache.load(manifest)`, which
 * calls AWS only for values that expired, and refreshes ahead of expiry like any other read.
 *
 * The default clock reads `Date.now()` at most once per event-loop turn and forgets it within the same turn,
 * so a sandbox frozen between invocations still measures TTLs against the time of the new event.
 *
 * @param manifest - names of your choosing mapped to `secret.string()`, `secret.binary()`, `secret.json()`;
 *   a malformed manifest throws `INVALID_ARGUMENT` at once
 * @param handler - your handler, called with the event, the context and the loaded secrets
 * @param options - the cache to use; an unknown option is a `TypeError` that names it
 * @returns a handler for the Lambda runtime: `(event, context) => Promise<result>`
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { SecretCache, secret } from 'secretcache';
 * import { withSecrets } from 'secretcache/lambda';
 *
 * const cache = new SecretCache({ ttlMs: 5 * 60_000 });
 * const manifest = {
 *   db: secret.json('prod/orders/db', { schema: z.object({ host: z.string(), password: z.string() }) }),
 *   apiKey: secret.string('prod/orders/stripe-key'),
 * };
 *
 * export const handler = withSecrets(
 *   manifest,
 *   async (event: { orderId: string }, context, secrets) => {
 *     const db = await connect(secrets.db.host, secrets.db.password); // typed from the schema
 *     return { orderId: event.orderId, requestId: context.awsRequestId };
 *   },
 *   { cache },
 * );
 * ```
 */
export function withSecrets<
  M extends Manifest,
  E = unknown,
  R = unknown,
  C extends LambdaContext = LambdaContext,
>(
  manifest: M,
  handler: (event: E, context: C, secrets: LoadedSecrets<M>) => Promise<R>,
  options?: WithSecretsOptions,
): (event: E, context: C) => Promise<R> {
  if (typeof handler !== 'function') throw new TypeError('Expected `handler` to be a function.');
  checkOptions(options, WITH_SECRETS_OPTIONS, 'withSecrets');
  const secrets = preload(manifest, options?.cache, 'withSecrets');
  return async (event, context) => handler(event, context, await secrets());
}
