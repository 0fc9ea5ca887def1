import type { CachedVersion } from './entry.js';
import { invalidArgument } from './errors.js';
import type { ReadOptions } from './options.js';
import type { StandardSchemaV1 } from './schema.js';

/**
 * How `withSecret` reads the value it hands to `fn`: with `getSecretString`, `getSecretBinary` or
 * `getSecretJson`.
 *
 * @example
 * ```ts
 * import { SecretCache, type SecretAs, type WithSecretValue } from 'secretcache';
 *
 * const cache = new SecretCache();
 * // Calls an HTTP API with its credential, whatever form it has, and retries once with a fresh one on a 401.
 * function withApiCredential<As extends SecretAs, R>(
 *   secretId: string,
 *   as: As,
 *   call: (credential: WithSecretValue<As, undefined>) => Promise<R>,
 * ) {
 *   return cache.withSecret(secretId, call, {
 *     as,
 *     shouldRefresh: (error) => (error as { status?: number }).status === 401,
 *   });
 * }
 * ```
 */
export type SecretAs = 'string' | 'binary' | 'json';

/**
 * Options of `withSecret`: how to read, when a failure means "refresh the secret", and the read's options. To
 * declare them apart from the call, use `satisfies`, so that `as` and `schema` keep their literal types.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { SecretCache, type WithSecretOptions } from 'secretcache';
 *
 * const Db = z.object({ host: z.string(), username: z.string(), password: z.string() });
 * const options = {
 *   as: 'json',
 *   schema: Db,
 *   // PostgreSQL's invalid_password: the secret was rotated after this value was cached.
 *   shouldRefresh: (error: unknown) => (error as { code?: string }).code === '28P01',
 * } satisfies WithSecretOptions<'json', typeof Db>;
 * const rows = await new SecretCache().withSecret('prod/orders/db', (db) => query(db, 'select 1'), options);
 * ```
 */
export interface WithSecretOptions<
  As extends SecretAs = 'string',
  Schema extends StandardSchemaV1 | undefined = undefined,
> extends ReadOptions {
  /**
   * Which accessor reads the value: `getSecretString`, `getSecretBinary` or `getSecretJson`.
   * @default 'string'
   */
  readonly as?: As;
  /** For `as: 'json'`: a Standard Schema to validate with, as in `getSecretJson`. */
  readonly schema?: Schema;
  /**
   * Whether `fn`'s error means the credential was rejected (for example a database's "password authentication
   * failed"), so the secret is refreshed and `fn` called once more. Required: only you know your driver's errors.
   */
  readonly shouldRefresh: (error: unknown) => boolean;
}

/**
 * The value `withSecret` hands to `fn`, by `as` and `schema`: name it to type a callback declared apart.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { z } from 'zod';
 * import { SecretCache, type WithSecretValue } from 'secretcache';
 *
 * const Db = z.object({ host: z.string(), username: z.string(), password: z.string() });
 * type DbCredentials = WithSecretValue<'json', typeof Db>; // z.infer<typeof Db>
 *
 * async function connect(db: DbCredentials): Promise<pg.Client> {
 *   const client = new pg.Client({ host: db.host, user: db.username, password: db.password });
 *   await client.connect(); // rejects with code 28P01 once the password was rotated
 *   return client;
 * }
 * const client = await new SecretCache().withSecret('prod/orders/db', connect, {
 *   as: 'json',
 *   schema: Db,
 *   shouldRefresh: (error) => (error as { code?: string }).code === '28P01',
 * });
 * ```
 */
export type WithSecretValue<
  As extends SecretAs,
  Schema extends StandardSchemaV1 | undefined,
> = As extends 'binary'
  ? Uint8Array
  : As extends 'json'
    ? Schema extends StandardSchemaV1
      ? StandardSchemaV1.InferOutput<Schema>
      : unknown
    : string;

/** The reads `withSecret` makes through the cache. */
export interface SecretReader {
  getSecretString(secretId: string, options?: ReadOptions): Promise<string>;
  getSecretBinary(secretId: string, options?: ReadOptions): Promise<Uint8Array>;
  getSecretJson(secretId: string, options?: ReadOptions): Promise<unknown>;
}

/** What `withSecret` needs of the cache's insides. */
export interface RotationHooks {
  /** The cached version a read of `secretId` with `options` is served from now. */
  currentVersion(secretId: string, options: ReadOptions): CachedVersion | undefined;
  /** Refreshes unless the version `fn` failed with (`seen`) was already replaced or is brand new. */
  refresh(secretId: string, options: ReadOptions, seen: CachedVersion | undefined): Promise<void>;
}

const ACCESSORS: ReadonlySet<string> = new Set(['string', 'binary', 'json']);

/** The body of `SecretCache.withSecret`: read, call, and on a rejected credential refresh once and call again. */
export async function withSecret<R>(
  reader: SecretReader,
  hooks: RotationHooks,
  secretId: string,
  fn: (value: never) => R | Promise<R>,
  options: WithSecretOptions<SecretAs, StandardSchemaV1 | undefined>,
): Promise<Awaited<R>> {
  if (typeof fn !== 'function') throw invalidArgument(secretId, 'Expected `fn` to be a function.');
  if (typeof options !== 'object' || options === null || typeof options.shouldRefresh !== 'function') {
    throw invalidArgument(secretId, 'Expected `shouldRefresh` to be a function.');
  }
  const as = options.as ?? 'string';
  if (!ACCESSORS.has(as))
    throw invalidArgument(secretId, "Expected `as` to be 'string', 'binary' or 'json'.");
  const read = (): Promise<unknown> =>
    as === 'json'
      ? reader.getSecretJson(secretId, options)
      : as === 'binary'
        ? reader.getSecretBinary(secretId, options)
        : reader.getSecretString(secretId, options);
  const call = fn as (value: unknown) => R | Promise<R>;

  const value = await read();
  const seen = hooks.currentVersion(secretId, options);
  try {
    return await call(value);
  } catch (error) {
    let refresh = false;
    try {
      refresh = options.shouldRefresh(error) === true;
    } catch {
      // A predicate that throws answers "no"; fn's own error is the one worth reporting.
    }
    if (!refresh) throw error;
    await hooks.refresh(secretId, options, seen);
    return await call(await read());
  }
}
