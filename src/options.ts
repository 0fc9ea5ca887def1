import type { Clock } from './clock.js';
import { invalidArgument, type SecretCacheError } from './errors.js';
import { isStandardSchema } from './json.js';
import type { StandardSchemaV1 } from './schema.js';
import type { SecretSource, SecretsManagerLike } from './source.js';

/**
 * Options of {@link SecretCache}. Every field is optional; the defaults suit a service that reads a few dozen
 * secrets on its hot paths.
 */
export interface SecretCacheOptions {
  /**
   * The Secrets Manager client to fetch with: a `SecretsManagerClient`, or anything with the same
   * `send(command, { abortSignal })`. Give either `client` or `source`, not both.
   * @default a `SecretsManagerClient` with the default region and credential chain, created on first fetch
   */
  readonly client?: SecretsManagerLike;
  /**
   * Where secrets come from, for transports other than the AWS SDK (and tests). Give either `client` or
   * `source`, not both.
   * @default an `AwsSecretSource` over `client`
   */
  readonly source?: SecretSource;
  /**
   * How old, in milliseconds, a served value may be. After that the next read fetches again. Reads pinned to a
   * `versionId` never expire (a version's value is immutable in Secrets Manager).
   * @default 300_000 (5 minutes)
   */
  readonly ttlMs?: number;
  /**
   * How many secret versions the cache holds at most; the least recently read goes first. Each distinct
   * (secret id, stage or version id) pair is one entry.
   * @default 1_000
   */
  readonly maxEntries?: number;
  /**
   * The staging label read when a call names neither `versionStage` nor `versionId`.
   * @default 'AWSCURRENT'
   */
  readonly versionStage?: string;
  /**
   * The clock TTLs are measured with. Tests inject a fake one.
   * @default `Date.now()`, read at most once per event-loop turn (see `TurnClock`)
   */
  readonly clock?: Clock;
}

/** Which version of a secret a read wants. Give at most one of the two. */
export interface ReadOptions {
  /**
   * A staging label: `'AWSCURRENT'`, `'AWSPREVIOUS'`, `'AWSPENDING'` or one of your own.
   * @default the cache's `versionStage`
   */
  readonly versionStage?: string;
  /** A version id; the value of a version never changes, so such a read is cached without a TTL. */
  readonly versionId?: string;
}

/** Options of `getSecretJson`: a version selector and, optionally, a Standard Schema to validate with. */
export interface JsonReadOptions<Schema extends StandardSchemaV1 | undefined = undefined>
  extends ReadOptions {
  /** Any Standard Schema v1 (zod, valibot, arktype...); validated once per fetched version. */
  readonly schema?: Schema;
}

/** The options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly versionStage: string;
}

export const DEFAULT_TTL_MS = 300_000;
export const DEFAULT_MAX_ENTRIES = 1_000;
export const DEFAULT_VERSION_STAGE = 'AWSCURRENT';
export const MAX_SECRET_ID_LENGTH = 2048;
export const MAX_VERSION_STAGE_LENGTH = 256;
export const MAX_VERSION_ID_LENGTH = 64;

function describe(value: unknown): string {
  if (typeof value === 'string') return `a string of length ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object' || typeof value === 'function') return `a value of type ${typeof value}`;
  return `${String(value)}`;
}

function isPositiveNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Validates the constructor's options once; a bad option is a `TypeError` naming it. */
export function resolveOptions(options: SecretCacheOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`Expected \`options\` to be an object, got ${describe(options)}.`);
  }
  const { ttlMs = DEFAULT_TTL_MS, maxEntries = DEFAULT_MAX_ENTRIES } = options ?? {};
  const versionStage = options?.versionStage ?? DEFAULT_VERSION_STAGE;
  if (!isPositiveNumber(ttlMs)) {
    throw new TypeError(
      `Expected \`ttlMs\` to be a positive, finite number of milliseconds, got ${describe(ttlMs)}.`,
    );
  }
  if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0) {
    throw new TypeError(`Expected \`maxEntries\` to be a positive integer, got ${describe(maxEntries)}.`);
  }
  if (stageProblem(versionStage) !== undefined) {
    throw new TypeError(
      `Expected \`versionStage\` to be a non-empty string of at most ${MAX_VERSION_STAGE_LENGTH} characters, got ${describe(versionStage)}.`,
    );
  }
  if (options?.clock !== undefined && typeof options.clock?.now !== 'function') {
    throw new TypeError('Expected `clock` to be an object with a `now()` method.');
  }
  if (options?.client !== undefined && typeof options.client?.send !== 'function') {
    throw new TypeError(
      'Expected `client` to be a SecretsManagerClient or an object with a `send()` method.',
    );
  }
  if (options?.source !== undefined && typeof options.source?.getSecretValue !== 'function') {
    throw new TypeError('Expected `source` to be an object with a `getSecretValue()` method.');
  }
  if (options?.client !== undefined && options.source !== undefined) {
    throw new TypeError('Expected either `client` or `source`, not both.');
  }
  return { ttlMs, maxEntries, versionStage };
}

function stageProblem(stage: unknown): string | undefined {
  if (typeof stage !== 'string' || stage.length === 0 || stage.length > MAX_VERSION_STAGE_LENGTH) {
    return `Expected \`versionStage\` to be a non-empty string of at most ${MAX_VERSION_STAGE_LENGTH} characters, got ${describe(stage)}.`;
  }
  return undefined;
}

/** Why `secretId` is not a usable secret id, or `undefined` when it is. */
export function secretIdProblem(secretId: unknown): string | undefined {
  if (typeof secretId !== 'string' || secretId.length === 0 || secretId.length > MAX_SECRET_ID_LENGTH) {
    return `Expected \`secretId\` to be a non-empty string of at most ${MAX_SECRET_ID_LENGTH} characters, got ${describe(secretId)}.`;
  }
  // NUL separates the parts of cache keys; Secrets Manager never allows it in a name or ARN.
  if (secretId.includes('\0')) return 'Expected `secretId` to contain no NUL character.';
  return undefined;
}

/** A validated version selector: what to ask AWS for, and the cache key it is stored under. */
export interface Selector {
  readonly secretId: string;
  readonly versionStage: string | undefined;
  readonly versionId: string | undefined;
  readonly key: string;
}

/**
 * Validates a read's arguments and names the version it wants. The cache key of a read of the default stage
 * is the secret id itself, so the hot path builds no string.
 */
export function resolveSelector(
  secretId: unknown,
  options: ReadOptions | null | undefined,
  defaultStage: string,
): Selector | SecretCacheError {
  const idProblem = secretIdProblem(secretId);
  if (idProblem !== undefined) return invalidArgument(secretId, idProblem);
  const id = secretId as string;
  if (options === undefined || options === null) {
    return { secretId: id, versionStage: defaultStage, versionId: undefined, key: id };
  }
  if (typeof options !== 'object') {
    return invalidArgument(id, `Expected \`options\` to be an object, got ${describe(options)}.`);
  }
  const { versionStage, versionId } = options;
  if (versionStage !== undefined) {
    const problem = stageProblem(versionStage);
    if (problem !== undefined) return invalidArgument(id, problem);
  }
  if (versionId !== undefined) {
    if (typeof versionId !== 'string' || versionId.length === 0 || versionId.length > MAX_VERSION_ID_LENGTH) {
      return invalidArgument(
        id,
        `Expected \`versionId\` to be a non-empty string of at most ${MAX_VERSION_ID_LENGTH} characters, got ${describe(versionId)}.`,
      );
    }
    if (versionStage !== undefined) {
      // A version id is immutable and a stage moves; caching the pair would mean neither rule holds.
      return invalidArgument(id, 'Expected `versionStage` or `versionId`, not both.');
    }
    return { secretId: id, versionStage: undefined, versionId, key: `${id}\0v\0${versionId}` };
  }
  if (versionStage === undefined || versionStage === defaultStage) {
    return { secretId: id, versionStage: defaultStage, versionId: undefined, key: id };
  }
  return { secretId: id, versionStage, versionId: undefined, key: `${id}\0s\0${versionStage}` };
}

/** Validates `getSecretJson`'s `schema` option. */
export function schemaProblem(schema: unknown): string | undefined {
  if (schema === undefined || isStandardSchema(schema)) return undefined;
  return 'Expected `schema` to implement Standard Schema v1 (an object with `~standard.validate`).';
}
