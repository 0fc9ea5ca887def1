import { describeValue as describe } from './describe.js';
import { invalidArgument, SecretCacheError, type SecretLoadFailure } from './errors.js';
import { manifestKeyProblem } from './loaded.js';
import { unknownKeyProblem } from './option-table.js';
import type { StandardSchemaV1 } from './schema.js';
import { parseSecretRef } from './secret-ref.js';
import { resolveSelector, schemaProblem, secretIdProblem } from './selector.js';

/**
 * How a manifest entry reads its secret: the builder that made it, `secret.string`, `secret.binary`,
 * `secret.json` or `secret.ref`.
 *
 * @example
 * ```ts
 * import { type Manifest, type SecretKind, secret } from 'secretcache';
 *
 * const manifest = {
 *   apiKey: secret.string('prod/orders/stripe-key'),
 *   tlsKey: secret.binary('prod/orders/tls-key'),
 * };
 * const kindsOf = (m: Manifest): SecretKind[] => Object.values(m).map((spec) => spec.kind);
 * kindsOf(manifest); // ['string', 'binary']
 * ```
 */
export type SecretKind = 'string' | 'binary' | 'json' | 'ref';

/**
 * One entry of a manifest: which secret, which version, and how to read it. Made by {@link secret}; the type
 * parameter is what `load` hands back for it.
 *
 * @example
 * ```ts
 * import { type SecretSpec, secret } from 'secretcache';
 *
 * // A helper that names secrets by environment; its entries still load as strings.
 * const stage = process.env.STAGE ?? 'dev';
 * const appSecret = (name: string): SecretSpec<string> => secret.string(`${stage}/orders/${name}`);
 * const manifest = { apiKey: appSecret('stripe-key'), webhookKey: appSecret('stripe-webhook-key') };
 * ```
 */
export interface SecretSpec<T = unknown> {
  readonly kind: SecretKind;
  readonly secretId: string;
  readonly versionStage?: string;
  readonly versionId?: string;
  /** For `json` and `ref`: the Standard Schema the value (or the `key` field) is validated with. */
  readonly schema?: StandardSchemaV1;
  /** For `json` and `ref`: read one top-level field, as ECS's `secret-id:field::` does. */
  readonly key?: string;
  /** Type-level only: what the entry loads as. Never set. */
  readonly '~loaded'?: T;
}

/**
 * What a service needs: names of your choosing mapped to secret specs. Check a manifest against it with
 * `satisfies`: annotating it `: Manifest` would erase each entry's type, and `load` would return `unknown`s.
 *
 * @example
 * ```ts
 * import { type Manifest, SecretCache, secret } from 'secretcache';
 *
 * const manifest = {
 *   apiKey: secret.string('prod/orders/stripe-key'),
 *   tlsKey: secret.binary('prod/orders/tls-key'),
 * } satisfies Manifest;
 * const secrets = await new SecretCache().load(manifest); // apiKey: string, tlsKey: Uint8Array
 * ```
 */
export type Manifest = Readonly<Record<string, SecretSpec>>;

/**
 * What `load` resolves to for a manifest: each name typed by its spec. Name it to type the code that takes
 * the loaded secrets.
 *
 * @example
 * ```ts
 * import { type LoadedSecrets, SecretCache, secret } from 'secretcache';
 *
 * const manifest = {
 *   apiKey: secret.string('prod/orders/stripe-key'),
 *   tlsKey: secret.binary('prod/orders/tls-key'),
 * };
 * type Secrets = LoadedSecrets<typeof manifest>; // { readonly apiKey: string; readonly tlsKey: Uint8Array }
 *
 * const authHeader = (secrets: Secrets): string => `Bearer ${secrets.apiKey}`;
 * const header = authHeader(await new SecretCache().load(manifest));
 * ```
 */
export type LoadedSecrets<M extends Manifest> = {
  readonly [K in keyof M]: M[K] extends SecretSpec<infer T> ? T : never;
};

/**
 * Options of `secret.string` and `secret.binary`: at most one of stage and version id.
 *
 * @example
 * ```ts
 * import { type SpecOptions, secret } from 'secretcache';
 *
 * // While a token rotates, accept the previous one too.
 * const previous: SpecOptions = { versionStage: 'AWSPREVIOUS' };
 * const manifest = {
 *   token: secret.string('prod/orders/webhook-token'),
 *   previousToken: secret.string('prod/orders/webhook-token', previous),
 * };
 * ```
 */
export interface SpecOptions {
  /** @default the cache's `versionStage` */
  readonly versionStage?: string;
  readonly versionId?: string;
}

/**
 * Options of `secret.json`: a version selector, and optionally a schema and one field to load.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { type JsonSpecOptions, secret } from 'secretcache';
 *
 * // Only the password, from the JSON RDS rotation keeps ({ engine, host, port, username, password, ... }).
 * const password: JsonSpecOptions = { key: 'password' };
 * const manifest = {
 *   dbPassword: secret.json<string>('prod/orders/db', password),
 *   dbPort: secret.json('prod/orders/db', { key: 'port', schema: z.number().int() }), // loads as number
 * };
 * ```
 */
export interface JsonSpecOptions<Schema extends StandardSchemaV1 | undefined = undefined>
  extends SpecOptions {
  /** A Standard Schema (zod, valibot, arktype...) to validate with; the entry loads as its output type. */
  readonly schema?: Schema;
  /** One top-level field of the JSON to load instead of the whole object; absent fails with `MISSING_KEY`. */
  readonly key?: string;
}

/**
 * Options of `secret.ref`: what the reference does not say. The secret, its JSON key and its version come from
 * the reference itself.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { type RefSpecOptions, secret } from 'secretcache';
 *
 * const Port = z.coerce.number().int();
 * const options: RefSpecOptions<typeof Port> = { schema: Port };
 * const manifest = { dbPort: secret.ref('myapp/prod/db:port', options) }; // loads as number
 * ```
 */
export interface RefSpecOptions<Schema extends StandardSchemaV1 | undefined = undefined> {
  /** A Standard Schema the string is validated with (and maybe transformed); the entry loads as its output. */
  readonly schema?: Schema;
}

const SPEC_OPTIONS: Readonly<Record<Exclude<SecretKind, 'ref'>, ReadonlySet<string>>> = {
  string: new Set(['versionStage', 'versionId']),
  binary: new Set(['versionStage', 'versionId']),
  json: new Set(['versionStage', 'versionId', 'schema', 'key']),
};
const REF_OPTIONS: ReadonlySet<string> = new Set(['schema']);

function makeSpec<T>(
  kind: Exclude<SecretKind, 'ref'>,
  secretId: string,
  options: JsonSpecOptions<StandardSchemaV1 | undefined> | undefined,
): SecretSpec<T> {
  if (typeof options === 'object' && options !== null) {
    const unknown = unknownKeyProblem(options, SPEC_OPTIONS[kind], `options of secret.${kind}`);
    if (unknown !== undefined) throw invalidArgument(secretId, unknown);
  }
  // Only the selector: the read options a selector is checked against have no `schema` or `key`.
  const selector = resolveSelector(
    secretId,
    typeof options === 'object' && options !== null ? selectorOf(options) : options,
    'AWSCURRENT',
  );
  if (selector instanceof SecretCacheError) throw selector;
  const problem = schemaProblem(options?.schema);
  if (problem !== undefined) throw invalidArgument(secretId, problem);
  if (options?.key !== undefined && (typeof options.key !== 'string' || options.key.length === 0)) {
    throw invalidArgument(secretId, 'Expected `key` to be a non-empty string.');
  }
  return Object.freeze({
    kind,
    secretId,
    ...selectorOf(options ?? {}),
    ...(options?.schema === undefined ? {} : { schema: options.schema }),
    ...(options?.key === undefined ? {} : { key: options.key }),
  });
}

function selectorOf({ versionStage, versionId }: SpecOptions): SpecOptions {
  return {
    ...(versionStage === undefined ? {} : { versionStage }),
    ...(versionId === undefined ? {} : { versionId }),
  };
}

function json<Schema extends StandardSchemaV1>(
  secretId: string,
  options: JsonSpecOptions<Schema> & { readonly schema: Schema },
): SecretSpec<StandardSchemaV1.InferOutput<Schema>>;
function json<T = unknown>(secretId: string, options?: JsonSpecOptions): SecretSpec<T>;
function json(secretId: string, options?: JsonSpecOptions<StandardSchemaV1 | undefined>): SecretSpec {
  return makeSpec('json', secretId, options);
}

function ref<Schema extends StandardSchemaV1>(
  reference: string,
  options: RefSpecOptions<Schema> & { readonly schema: Schema },
): SecretSpec<StandardSchemaV1.InferOutput<Schema>>;
function ref(reference: string, options?: RefSpecOptions): SecretSpec<string>;
function ref(reference: string, options?: RefSpecOptions<StandardSchemaV1 | undefined>): SecretSpec {
  const parsed = parseSecretRef(reference);
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) {
      throw invalidArgument(
        reference,
        `Expected \`options\` of secret.ref to be an object, got ${describe(options)}.`,
      );
    }
    const unknown = unknownKeyProblem(options, REF_OPTIONS, 'options of secret.ref');
    if (unknown !== undefined) throw invalidArgument(reference, unknown);
  }
  const problem = schemaProblem(options?.schema);
  if (problem !== undefined) throw invalidArgument(reference, problem);
  const { secretId, jsonKey } = parsed;
  return Object.freeze({
    kind: 'ref',
    secretId,
    ...selectorOf(parsed),
    ...(options?.schema === undefined ? {} : { schema: options.schema }),
    ...(jsonKey === undefined ? {} : { key: jsonKey }),
  });
}

/**
 * Builders of manifest entries. Each checks its arguments when called (a bad one throws `INVALID_ARGUMENT`
 * naming the secret), so a broken manifest fails at import, not at the first request.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { SecretCache, secret } from 'secretcache';
 *
 * const manifest = {
 *   db: secret.json('prod/orders/db', { schema: z.object({ host: z.string(), password: z.string() }) }),
 *   apiKey: secret.string('prod/orders/stripe-key'),
 *   tlsKey: secret.binary('prod/orders/tls-key'),
 *   dbPassword: secret.json('prod/orders/db', { key: 'password' }),
 *   previous: secret.string('prod/orders/token', { versionStage: 'AWSPREVIOUS' }),
 *   dbUser: secret.ref('{{resolve:secretsmanager:prod/orders/db:SecretString:username}}'),
 * };
 * const secrets = await new SecretCache().load(manifest); // secrets.db.host: string, secrets.tlsKey: Uint8Array
 * ```
 */
export const secret = {
  /** A secret read as a string. */
  string: (secretId: string, options?: SpecOptions): SecretSpec<string> =>
    makeSpec('string', secretId, options),
  /** A secret read as bytes (a copy per load). */
  binary: (secretId: string, options?: SpecOptions): SecretSpec<Uint8Array> =>
    makeSpec('binary', secretId, options),
  /** A secret read as JSON: typed by `schema`, by the type argument, or `unknown`; `key` picks one field. */
  json,
  /**
   * A secret named by a reference (see `parseSecretRef`: an ECS ARN, a CloudFormation dynamic reference,
   * `name:json-key:version-stage:version-id`, a name): its string or, with a JSON key, that top-level field, as
   * a string when the field is one and as its JSON text otherwise. `schema` validates that string.
   */
  ref,
} as const;

/** The manifest's entries, checked: a manifest that is not an object of specs is `INVALID_ARGUMENT`. */
export function manifestEntries(manifest: unknown): Array<[string, SecretSpec]> {
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw invalidArgument('', 'Expected the manifest to be an object of `secret.*()` entries.');
  }
  const entries = Object.entries(manifest as Record<string, unknown>);
  for (const [name, spec] of entries) {
    const kind = (spec as Partial<SecretSpec> | null)?.kind;
    if (
      typeof spec !== 'object' ||
      spec === null ||
      (kind !== 'string' && kind !== 'binary' && kind !== 'json' && kind !== 'ref')
    ) {
      throw invalidArgument(
        '',
        `Expected manifest entry \`${name}\` to be made by secret.string, secret.binary, secret.json or secret.ref.`,
      );
    }
    // Entries made by hand (or changed after the builder checked them) are checked again where it is cheap.
    const problem = secretIdProblem((spec as SecretSpec).secretId) ?? manifestKeyProblem(name);
    if (problem !== undefined) throw invalidArgument('', `Manifest entry \`${name}\`: ${problem}`);
  }
  return entries as Array<[string, SecretSpec]>;
}

/** One `LOAD_FAILED` error for every entry that failed, listed by manifest key, secret id and code. */
export function loadFailed(failures: SecretLoadFailure[], total: number): SecretCacheError {
  const listed = failures
    .slice(0, 20)
    // No id: an environment variable that holds no reference (loadEnv).
    .map(
      (failure) =>
        `${failure.key}${failure.secretId === '' ? '' : ` (${failure.secretId})`}: ${failure.code}`,
    )
    .join('; ');
  const more = failures.length > 20 ? `; and ${failures.length - 20} more` : '';
  const ids = [...new Set(failures.flatMap((failure) => failure.secretId || []))].join(',');
  return new SecretCacheError(
    'LOAD_FAILED',
    ids,
    `Loading ${failures.length} of ${total} secrets failed: ${listed}${more}.`,
    {
      errors: failures,
    },
  );
}
