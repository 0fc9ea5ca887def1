import type { SecretCache } from './cache.js';
import type { LoadedSecrets, Manifest } from './manifest.js';
import { checkOptions, preload } from './preload.js';

/**
 * Options of {@link secretsMiddleware}.
 *
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import type { SecretsMiddlewareOptions } from 'secretcache/middy';
 *
 * const options: SecretsMiddlewareOptions<'vault'> = { cache: new SecretCache(), contextKey: 'vault' };
 * ```
 */
export interface SecretsMiddlewareOptions<K extends string = 'secrets'> {
  /**
   * The cache to load with.
   * @default a `new SecretCache()` (default options), made when `secretsMiddleware` is called
   */
  readonly cache?: SecretCache;
  /**
   * The property of the Lambda context the loaded secrets are put on. Pick one the context does not have.
   * @default 'secrets'
   */
  readonly contextKey?: K;
}

/**
 * What {@link secretsMiddleware} adds to the Lambda context: the manifest's loaded secrets under `K`.
 *
 * @example
 * ```ts
 * import type { Context } from 'aws-lambda';
 * import middy from '@middy/core';
 * import { secret } from 'secretcache';
 * import { type SecretsContext, secretsMiddleware } from 'secretcache/middy';
 *
 * const manifest = { apiKey: secret.string('prod/orders/stripe-key') };
 * const lambdaHandler = async (event: unknown, context: Context & SecretsContext<typeof manifest>) =>
 *   context.secrets.apiKey.length;
 * export const handler = middy(lambdaHandler).use(secretsMiddleware(manifest));
 * ```
 */
export type SecretsContext<M extends Manifest, K extends string = 'secrets'> = {
  readonly [P in K]: LoadedSecrets<M>;
};

/**
 * The Lambda context object as middy types it: the fields of `Context` from `@types/aws-lambda`, declared here
 * so that this module's types need neither that package nor `@middy/core`. middy's `use()` takes the context
 * type of a middleware only when it has all of them.
 *
 * @example
 * ```ts
 * import type { MiddyLambdaContext } from 'secretcache/middy';
 *
 * const requestIdOf = (context: MiddyLambdaContext): string => context.awsRequestId;
 * ```
 */
export interface MiddyLambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  getRemainingTimeInMillis(): number;
  // biome-ignore lint/suspicious/noExplicitAny: the deprecated callbacks are typed so by @types/aws-lambda.
  done(error?: Error, result?: any): void;
  fail(error: Error | string): void;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  succeed(messageOrObject: any, object?: any): void;
}

/**
 * A middy middleware object. Its shape is declared here, not imported, so that `secretcache/middy` needs
 * neither `@middy/core` nor `@types/aws-lambda`; middy's `use()` infers `TContext` from it.
 *
 * @example
 * ```ts
 * import { secret } from 'secretcache';
 * import {
 *   type MiddyLambdaContext,
 *   type SecretsContext,
 *   type SecretsMiddleware,
 *   secretsMiddleware,
 * } from 'secretcache/middy';
 *
 * const manifest = { apiKey: secret.string('prod/orders/stripe-key') };
 * const middleware: SecretsMiddleware<MiddyLambdaContext & SecretsContext<typeof manifest>> =
 *   secretsMiddleware(manifest);
 * ```
 */
export interface SecretsMiddleware<TContext> {
  /** Loads the manifest and puts the secrets on `request.context`; resolves to nothing (no early response). */
  readonly before: (request: { readonly context: TContext }) => Promise<void>;
}

const SECRETS_MIDDLEWARE_OPTIONS = ['cache', 'contextKey'] as const satisfies ReadonlyArray<
  keyof SecretsMiddlewareOptions
>;

/**
 * A middy middleware that loads a manifest's secrets with the cache before the handler runs and puts them,
 * typed, on the Lambda context (`context.secrets` by default).
 *
 * Like `withSecrets` from `secretcache/lambda`, it starts loading when it is created, at module level, so the
 * fetch overlaps the init phase; an initial failure never crashes the import; each invocation loads again,
 * subject to the cache's backoff of the failed secrets. Each invocation loads from the cache, which calls AWS only for values that
 * expired. The secrets are put on the context as a non-enumerable property, so logging the context object
 * does not print them. `@middy/core` is an optional peer dependency; this module does not import it.
 *
 * @param manifest - names of your choosing mapped to `secret.string()`, `secret.binary()`, `secret.json()`;
 *   a malformed manifest throws `INVALID_ARGUMENT` at once
 * @param options - the cache, and the context property to use; an unknown option is a `TypeError` that
 *   names it
 * @example
 * ```ts
 * import middy from '@middy/core';
 * import { z } from 'zod';
 * import { SecretCache, secret } from 'secretcache';
 * import { secretsMiddleware } from 'secretcache/middy';
 *
 * const manifest = {
 *   db: secret.json('prod/orders/db', { schema: z.object({ host: z.string(), password: z.string() }) }),
 *   apiKey: secret.string('prod/orders/stripe-key'),
 * };
 *
 * export const handler = middy<{ orderId: string }>()
 *   .use(secretsMiddleware(manifest, { cache: new SecretCache() }))
 *   .handler(async (event, context) => {
 *     context.secrets.db.password; // string
 *     return { orderId: event.orderId };
 *   });
 * ```
 */
export function secretsMiddleware<M extends Manifest, K extends string = 'secrets'>(
  manifest: M,
  options?: SecretsMiddlewareOptions<K>,
): SecretsMiddleware<MiddyLambdaContext & SecretsContext<M, K>> {
  checkOptions(options, SECRETS_MIDDLEWARE_OPTIONS, 'secretsMiddleware');
  const key: string = options?.contextKey ?? 'secrets';
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError('Expected `contextKey` to be a non-empty string.');
  }
  const secrets = preload(manifest, options?.cache, 'secretsMiddleware');
  return {
    before: async (request) => {
      const value = await secrets();
      Object.defineProperty(request.context, key, { value, writable: true, configurable: true });
    },
  };
}
