import type { CachedVersion } from './entry.js';
import { invalidArgument } from './errors.js';
import { unknownKeyProblem } from './option-table.js';
import type { ReadOptions } from './options.js';
import type { StandardSchemaV1 } from './schema.js';
import { schemaProblem } from './selector.js';

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

/** What `withSecret` needs of the cache. */
export interface WithSecretAccess {
  /** The cached version a read of `secretId` with `options` is served (validated, waited for like any read). */
  read(secretId: string, options: ReadOptions): Promise<CachedVersion>;
  /** The version to try after `rejected` was rejected, or `undefined` when nothing else can be tried. */
  next(secretId: string, options: ReadOptions, rejected: CachedVersion): Promise<CachedVersion | undefined>;
  /** The version callers should start with instead of `entry` (a pending one that worked), or `entry`. */
  preferred(entry: CachedVersion): CachedVersion;
  /** Records that `used` worked after `rejected` was rejected. */
  worked(rejected: CachedVersion, used: CachedVersion): void;
}

// A registry-wide symbol, so that `secretcache/pg` finds a cache's insides also when the cache comes from the
// other build (ESM and CommonJS loaded side by side).
const ACCESS = Symbol.for('secretcache.withSecretAccess');

/** Attaches `access` to `cache`, non-enumerable: integrations (`secretcache/pg`) reach it with {@link accessOf}. */
export function attachAccess(cache: object, access: WithSecretAccess): void {
  Object.defineProperty(cache, ACCESS, { value: access });
}

/** The {@link WithSecretAccess} of a `SecretCache`, or `undefined` for anything else. */
export function accessOf(cache: unknown): WithSecretAccess | undefined {
  if (typeof cache !== 'object' || cache === null) return undefined;
  return (cache as { readonly [ACCESS]?: WithSecretAccess })[ACCESS];
}

const ACCESSORS: ReadonlySet<string> = new Set(['string', 'binary', 'json']);
const OPTION_NAMES: ReadonlySet<string> = new Set([
  'as',
  'schema',
  'shouldRefresh',
  'versionStage',
  'versionId',
  'signal',
]);

/**
 * The body of `SecretCache.withSecret`: read, call, and on a rejected credential call once more with what
 * {@link WithSecretAccess.next} names (a refreshed version, or the pending one during a rotation).
 */
export async function withSecret<R>(
  access: WithSecretAccess,
  secretId: string,
  fn: (value: never) => R | Promise<R>,
  options: WithSecretOptions<SecretAs, StandardSchemaV1 | undefined>,
): Promise<Awaited<R>> {
  if (typeof fn !== 'function') throw invalidArgument(secretId, 'Expected `fn` to be a function.');
  if (typeof options !== 'object' || options === null || typeof options.shouldRefresh !== 'function') {
    throw invalidArgument(secretId, 'Expected `shouldRefresh` to be a function.');
  }
  const unknown = unknownKeyProblem(options, OPTION_NAMES, 'options of withSecret');
  if (unknown !== undefined) throw invalidArgument(secretId, unknown);
  const as = options.as ?? 'string';
  if (!ACCESSORS.has(as))
    throw invalidArgument(secretId, "Expected `as` to be 'string', 'binary' or 'json'.");
  // A schema on a string or binary read would be ignored, as an unknown option would: the same error, then.
  const problem =
    as === 'json'
      ? schemaProblem(options.schema)
      : options.schema === undefined
        ? undefined
        : "Expected `schema` only with as: 'json'.";
  if (problem !== undefined) throw invalidArgument(secretId, problem);
  const { schema } = options;
  const readValue = (entry: CachedVersion): Promise<unknown> =>
    as === 'json'
      ? schema === undefined
        ? entry.readJson()
        : entry.readValidated(schema)
      : as === 'binary'
        ? entry.readBinary()
        : entry.readString();
  const call = fn as (value: unknown) => R | Promise<R>;

  const entry = access.preferred(await access.read(secretId, options));
  try {
    return await call(await readValue(entry));
  } catch (error) {
    let refresh = false;
    try {
      refresh = options.shouldRefresh(error) === true;
    } catch {
      // A predicate that throws answers "no"; fn's own error is the one worth reporting.
    }
    if (!refresh) throw error;
    const next = await access.next(secretId, options, entry);
    if (next === undefined) throw error;
    const result = await call(await readValue(next));
    access.worked(entry, next);
    return result;
  }
}
