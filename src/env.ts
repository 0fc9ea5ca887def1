import { SecretCache } from './cache.js';
import { describeValue as describe } from './describe.js';
import {
  invalidArgument,
  isSecretCacheError,
  type SecretCacheError,
  type SecretLoadFailure,
} from './errors.js';
import { loadedSecrets, manifestKeyProblem } from './loaded.js';
import { loadFailed, type SecretSpec, secret } from './manifest.js';
import { unknownKeyProblem } from './option-table.js';

/**
 * What marks an environment variable's value as a reference to resolve: this prefix followed by any form
 * `parseSecretRef` reads (`secretsmanager:myapp/prod/db:password`), or a whole CloudFormation dynamic
 * reference (`{{resolve:secretsmanager:myapp/prod/db:SecretString:password}}`).
 */
const ENV_REF_PREFIX = 'secretsmanager:';
const DYNAMIC_REF_PREFIX = '{{resolve:secretsmanager:';

/**
 * The reference an environment variable's value holds, or `undefined` when it holds none: the rest of a value
 * that starts with `secretsmanager:`, or a whole `{{resolve:secretsmanager:...}}`. A bare ARN is not one: a
 * variable may hold an ARN on purpose, for code that calls AWS itself.
 *
 * @example
 * ```ts
 * import { envReference } from 'secretcache/env';
 *
 * envReference('secretsmanager:myapp/prod/db:password'); // 'myapp/prod/db:password'
 * envReference('{{resolve:secretsmanager:myapp/prod/db}}'); // '{{resolve:secretsmanager:myapp/prod/db}}'
 * envReference('postgres://localhost/app'); // undefined
 * const unresolved = Object.keys(process.env).filter((name) => envReference(process.env[name]) !== undefined);
 * ```
 */
export function envReference(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.startsWith(ENV_REF_PREFIX)) return value.slice(ENV_REF_PREFIX.length);
  if (value.startsWith(DYNAMIC_REF_PREFIX)) return value;
  return undefined;
}

/**
 * Options of {@link loadEnv}.
 *
 * @example
 * ```ts
 * import { type LoadEnvOptions, loadEnv } from 'secretcache/env';
 *
 * // In a test: resolve references from a fixture instead of the process's environment.
 * const options: LoadEnvOptions = { env: { DB_PASSWORD: 'secretsmanager:myapp/test/db:password' } };
 * const env = await loadEnv(options);
 * ```
 */
export interface LoadEnvOptions<Name extends string = string> {
  /**
   * The variables to look in.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The cache to load through: pass yours to share it with the rest of the service.
   * @default one `SecretCache` with default options, shared by every `loadEnv` call that passes none
   */
  readonly cache?: SecretCache;
  /**
   * Where to write the resolved values, each under its variable's name, once every one has loaded: pass
   * `process.env` to replace the references there. Nothing is written when any variable fails.
   * @default nowhere
   */
  readonly into?: Record<string, string | undefined>;
  /**
   * The variables to resolve, each of which must hold a reference (unset or not a reference fails with
   * `INVALID_ARGUMENT`); the result is typed by them.
   * @default every variable whose value is a reference
   */
  readonly names?: readonly Name[];
}

/**
 * What {@link loadEnv} resolves to: each variable's resolved value under its name. Frozen; renders as
 * `LoadedSecrets { DB_PASSWORD: <redacted>, ... }` in `util.inspect` and `String()`, and with every value
 * `"<redacted>"` in `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { type LoadedEnv, loadEnv } from 'secretcache/env';
 *
 * const connect = (env: LoadedEnv<'DB_PASSWORD' | 'DB_USER'>) => ({ user: env.DB_USER, password: env.DB_PASSWORD });
 * const db = connect(await loadEnv({ names: ['DB_PASSWORD', 'DB_USER'] }));
 * ```
 */
export type LoadedEnv<Name extends string = string> = string extends Name
  ? { readonly [name: string]: string }
  : { readonly [K in Name]: string };

const OPTION_NAMES: readonly string[] = ['env', 'cache', 'into', 'names'];

let defaultCache: SecretCache | undefined;

/** The cache of every `loadEnv` call that passes none, made on first use (constructing one does no I/O). */
function sharedCache(): SecretCache {
  defaultCache ??= new SecretCache();
  return defaultCache;
}

/**
 * Resolves the environment variables whose value is a secret reference, in one `cache.load` (batched,
 * single-flight, cached), so a service can drop its `.env` file and keep the references it already has. A
 * reference is `secretsmanager:` followed by any form `parseSecretRef` reads (an ECS ARN, `name`,
 * `name:json-key:version-stage:version-id`), or a whole CloudFormation dynamic reference
 * (`{{resolve:secretsmanager:...}}`). Each resolves to a string: the secret's, or its JSON field's (as its JSON
 * text when the field is not a string).
 *
 * Every variable that fails is reported at once: one `LOAD_FAILED` error whose `errors` list each by variable
 * name, secret id and code (a malformed reference is `INVALID_ARGUMENT`), never a value. `process.env` is
 * written only when passed as `into`.
 *
 * @param options - `env`, `cache`, `into`, `names`; an unknown option or a malformed one is a `TypeError`
 * @returns the resolved values by variable name: frozen, and rendered without them
 * @example
 * ```ts
 * import { loadEnv } from 'secretcache/env';
 *
 * // DB_PASSWORD=secretsmanager:myapp/prod/db:password
 * // API_KEY={{resolve:secretsmanager:myapp/prod/api-key}}
 * const env = await loadEnv({ names: ['DB_PASSWORD', 'API_KEY'] }); // { DB_PASSWORD: string; API_KEY: string }
 *
 * // Or resolve every reference in place, for code that reads process.env.
 * await loadEnv({ into: process.env });
 * ```
 */
export function loadEnv<const Name extends string>(
  options: LoadEnvOptions<Name> & { readonly names: readonly Name[] },
): Promise<LoadedEnv<Name>>;
export function loadEnv(options?: LoadEnvOptions): Promise<LoadedEnv>;
export async function loadEnv(options?: LoadEnvOptions): Promise<LoadedEnv> {
  checkOptions(options);
  const env = options?.env ?? process.env;
  const names =
    options?.names === undefined
      ? Object.keys(env).filter((name) => envReference(env[name]) !== undefined)
      : [...new Set(options.names)];

  const manifest: Record<string, SecretSpec> = {};
  const failures = new Map<string, SecretLoadFailure>();
  const fail = (key: string, error: SecretCacheError): void => {
    failures.set(key, { key, secretId: error.secretId, code: error.code, error });
  };
  for (const name of names) {
    // The value of a variable that holds no reference may be a secret itself: it is never quoted.
    const value = env[name];
    const ref = envReference(value);
    const keyProblem = manifestKeyProblem(name);
    if (keyProblem !== undefined) fail(name, invalidArgument('', keyProblem));
    else if (ref === undefined) {
      const why = value === undefined ? 'is not set' : 'holds no secret reference';
      fail(
        name,
        invalidArgument(
          '',
          `Variable ${name} ${why}; expected \`${ENV_REF_PREFIX}\` and a reference, or \`${DYNAMIC_REF_PREFIX}...}}\`.`,
        ),
      );
    } else {
      try {
        manifest[name] = secret.ref(ref);
      } catch (error) {
        if (!isSecretCacheError(error)) throw error;
        fail(name, error);
      }
    }
  }

  let loaded: Readonly<Record<string, unknown>> = {};
  if (Object.keys(manifest).length > 0) {
    try {
      loaded = await (options?.cache ?? sharedCache()).load(manifest);
    } catch (error) {
      if (!isSecretCacheError(error) || error.code !== 'LOAD_FAILED') throw error;
      for (const failure of error.errors) failures.set(failure.key, failure);
    }
  }
  if (failures.size > 0) {
    // In the order the variables were named, however they failed.
    const listed = names.flatMap((name) => failures.get(name) ?? []);
    throw loadFailed(listed, names.length);
  }

  const values = names.map((name) => [name, loaded[name] as string] as const);
  const into = options?.into;
  if (into !== undefined) for (const [name, value] of values) into[name] = value;
  return loadedSecrets(values) as LoadedEnv;
}

function checkOptions(options: LoadEnvOptions | undefined): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected \`options\` of loadEnv to be an object, got ${describe(options)}.`);
  }
  const unknown = unknownKeyProblem(options, OPTION_NAMES, 'options of loadEnv');
  if (unknown !== undefined) throw new TypeError(unknown);
  const { env, cache, into, names } = options;
  if (env !== undefined && (typeof env !== 'object' || env === null)) {
    throw new TypeError(`Expected \`env\` to be an object of variables, got ${describe(env)}.`);
  }
  if (cache !== undefined && typeof (cache as Partial<SecretCache> | null)?.load !== 'function') {
    throw new TypeError(`Expected \`cache\` to be a SecretCache, got ${describe(cache)}.`);
  }
  if (into !== undefined && (typeof into !== 'object' || into === null)) {
    throw new TypeError(`Expected \`into\` to be an object to write variables into, got ${describe(into)}.`);
  }
  if (
    names !== undefined &&
    (!Array.isArray(names) || !names.every((name) => typeof name === 'string' && name.length > 0))
  ) {
    throw new TypeError(`Expected \`names\` to be an array of variable names, got ${describe(names)}.`);
  }
}
