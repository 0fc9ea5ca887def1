import { SecretCacheError } from './errors.js';
import { deepFreeze, parseSecretJson, pickField, validateSecretJson } from './json.js';
import type { StandardSchemaV1 } from './schema.js';
import type { Selector } from './selector.js';
import type { SecretVersion } from './source.js';

/**
 * What `getSecretValue` resolves to: one version of a secret and its metadata. Frozen. `JSON.stringify` (what
 * pino and winston do), `util.inspect` (console output) and `String()` render it with the value redacted; the
 * value stays readable as `secretString` or `secretBinary`. `secretBinary` is a copy of its own for every read.
 *
 * @example
 * ```ts
 * import { SecretCache, type SecretRecord } from 'secretcache';
 *
 * const record: SecretRecord = await new SecretCache().getSecretValue('prod/orders/db');
 * if (record.stale) console.warn(`using ${record.name} version ${record.versionId} past its TTL`);
 * const value = record.secretString ?? record.secretBinary; // exactly one of them is set
 * ```
 */
export interface SecretRecord {
  readonly name: string;
  readonly arn: string;
  readonly versionId: string;
  readonly versionStages: readonly string[];
  readonly createdDate: Date | undefined;
  readonly secretString?: string;
  readonly secretBinary?: Uint8Array;
  /** Whether this value is past its TTL, served because AWS failed (see `staleIfErrorMs`). */
  readonly stale: boolean;
}

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * A record as `getSecretValue` hands it out. Loggers render objects with `JSON.stringify` (pino, winston) or
 * `util.inspect` (console): both, and `String()`, leave the value out, while it stays readable as a property.
 */
class Record implements SecretRecord {
  readonly name: string;
  readonly arn: string;
  readonly versionId: string;
  readonly versionStages: readonly string[];
  readonly createdDate: Date | undefined;
  declare readonly secretString?: string;
  declare readonly secretBinary?: Uint8Array;
  readonly stale: boolean;

  constructor(version: SecretVersion, stale: boolean, secretBinary: Uint8Array | undefined) {
    this.name = version.name;
    this.arn = version.arn;
    this.versionId = version.versionId;
    this.versionStages = Object.freeze([...version.versionStages]);
    this.createdDate = version.createdDate;
    if (version.secretString !== undefined) this.secretString = version.secretString;
    if (secretBinary !== undefined) this.secretBinary = secretBinary;
    this.stale = stale;
    Object.freeze(this);
  }

  toJSON(): object {
    const { name, arn, versionId, versionStages, createdDate, stale } = this;
    const value = this.secretString === undefined ? { secretBinary: REDACTED } : { secretString: REDACTED };
    return { name, arn, versionId, versionStages, createdDate, stale, ...value };
  }

  toString(): string {
    const value = this.secretString === undefined ? `<${this.secretBinary?.length ?? 0} bytes>` : REDACTED;
    return `SecretRecord { name: ${JSON.stringify(this.name)}, versionId: ${JSON.stringify(this.versionId)}, versionStages: ${JSON.stringify(this.versionStages)}, value: ${value}${this.stale ? ', stale: true' : ''} }`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

const REDACTED = '<redacted>';

/** Stands for "no schema" as a map key. */
const NO_SCHEMA = {};

/**
 * How many schemas, or fields, one version remembers outcomes for. Schemas are meant to be made once; one made
 * anew per call would otherwise grow the map on every read until the version is replaced.
 */
const MAX_REMEMBERED = 16;

function remember<K, V>(map: Map<K, V> | undefined, key: K, value: V): Map<K, V> {
  const target = map ?? new Map<K, V>();
  if (target.size >= MAX_REMEMBERED && !target.has(key)) target.clear();
  target.set(key, value);
  return target;
}

/**
 * The outcome remembered in `byField` for `field` and `schema`, made by `make` on first use. Both levels are
 * bounded by {@link remember}.
 */
function outcome(
  byField: Map<string, Map<object, Promise<unknown>>>,
  field: string,
  schema: StandardSchemaV1 | undefined,
  make: () => Promise<unknown>,
): Promise<unknown> {
  const schemaKey = schema ?? NO_SCHEMA;
  let bySchema = byField.get(field);
  let result = bySchema?.get(schemaKey);
  if (result === undefined) {
    result = settled(make());
    if (bySchema === undefined) {
      bySchema = new Map();
      remember(byField, field, bySchema);
    }
    remember(bySchema, schemaKey, result);
  }
  return result;
}

function settled<T>(promise: Promise<T>): Promise<T> {
  // Outcomes are stored and handed to many readers; a stored rejection must never count as unhandled.
  promise.catch(() => {});
  return promise;
}

/**
 * One cached version of a secret, with every derived form the accessors hand out made at most once: the
 * string as a resolved promise, the parsed JSON, each schema's output, the record.
 */
export class CachedVersion {
  /** Clock time after which a read no longer takes the hot path (refresh-ahead or expiry). */
  refreshAt: number;
  /** Clock time after which the value is stale. `Infinity` for a version pinned by id. */
  expiresAt: number;
  /** The string value as an already-resolved promise, so a warm read returns it without allocating. */
  readonly string: Promise<string> | undefined;
  /** Parsed, frozen JSON (or its failure), made on the first JSON read. */
  json: Promise<unknown> | undefined;
  /** The schema last used with this version, and its outcome: the one-slot fast path of `getSecretJson`. */
  schema: StandardSchemaV1 | undefined;
  schemaResult: Promise<unknown> | undefined;
  #otherSchemas: Map<StandardSchemaV1, Promise<unknown>> | undefined;
  #fields: Map<string, Map<object, Promise<unknown>>> | undefined;
  #refs: Map<string, Map<object, Promise<unknown>>> | undefined;
  /** The stale period last reported for this version (see `SecretCache#serveStale`), so each is reported once. */
  stalePeriod: object | undefined;
  /** The shared record of a string secret, made on the first `getSecretValue`. */
  record: Promise<SecretRecord> | undefined;
  readonly #version: SecretVersion;

  /** The cache key, secret id and selector this version was fetched for. */
  readonly key: string;
  readonly secretId: string;
  readonly versionStage: string | undefined;
  readonly versionId: string | undefined;

  constructor(
    selector: Selector,
    version: SecretVersion,
    readonly fetchedAt: number,
    expiresAt: number,
    refreshAt: number,
  ) {
    this.key = selector.key;
    this.secretId = selector.secretId;
    this.versionStage = selector.versionStage;
    this.versionId = selector.versionId;
    // A copy of its own: a source may hand over a Buffer that is a view on a shared pool, or keep writing to it.
    const bytes = version.secretBinary;
    this.#version = bytes === undefined ? version : { ...version, secretBinary: new Uint8Array(bytes) };
    this.expiresAt = expiresAt;
    this.refreshAt = refreshAt;
    this.string = version.secretString === undefined ? undefined : Promise.resolve(version.secretString);
  }

  /** The version id Secrets Manager answered with. */
  get fetchedVersionId(): string {
    return this.#version.versionId;
  }

  /** The string value, or a `WRONG_TYPE` rejection for a binary secret. */
  readString(): Promise<string> {
    return this.string ?? Promise.reject(this.#wrongType('binary', 'getSecretBinary'));
  }

  /** A fresh copy of the bytes (callers may zero theirs), or a `WRONG_TYPE` rejection for a string secret. */
  readBinary(): Promise<Uint8Array> {
    const bytes = this.#version.secretBinary;
    if (bytes === undefined) return Promise.reject(this.#wrongType('string', 'getSecretString'));
    return Promise.resolve(new Uint8Array(bytes));
  }

  /** The parsed, deep-frozen JSON: parsed on first use, the same object ever after. */
  readJson(): Promise<unknown> {
    if (this.json === undefined) {
      const text = this.#version.secretString;
      try {
        if (text === undefined) throw this.#wrongType('binary', 'getSecretBinary');
        this.json = Promise.resolve(deepFreeze(parseSecretJson(this.secretId, text)));
      } catch (error) {
        this.json = settled(Promise.reject(error));
      }
    }
    return this.json;
  }

  /** The schema's output for this version, validated once per schema. */
  readValidated(schema: StandardSchemaV1): Promise<unknown> {
    if (this.schema === schema && this.schemaResult !== undefined) return this.schemaResult;
    if (this.schema !== undefined && this.schemaResult !== undefined) {
      this.#otherSchemas = remember(this.#otherSchemas, this.schema, this.schemaResult);
    }
    let result = this.#otherSchemas?.get(schema);
    if (result === undefined) {
      result = settled(this.readJson().then((value) => validateSecretJson(this.secretId, schema, value)));
    }
    this.schema = schema;
    this.schemaResult = result;
    return result;
  }

  /**
   * One top-level field of the JSON (a manifest entry's `key`), validated by `schema` if given: once per field
   * and schema for this version, then shared.
   */
  readField(key: string, schema: StandardSchemaV1 | undefined): Promise<unknown> {
    this.#fields ??= new Map();
    return outcome(this.#fields, key, schema, () =>
      this.readJson().then((value) => {
        const field = pickField(this.secretId, value, key);
        return schema === undefined ? field : validateSecretJson(this.secretId, schema, field);
      }),
    );
  }

  /**
   * A reference's value (`secret.ref`): the string, or with `key` that top-level field of the JSON as a string
   * (a string field as it is, any other as its JSON text), validated by `schema` if given. Made once per field
   * and schema for this version, then shared.
   */
  readRef(key: string | undefined, schema: StandardSchemaV1 | undefined): Promise<unknown> {
    if (key === undefined && schema === undefined) return this.readString();
    this.#refs ??= new Map();
    // '' is never a key: an empty field of a reference means none.
    return outcome(this.#refs, key ?? '', schema, () => {
      const text =
        key === undefined
          ? this.readString()
          : this.readJson().then((value) => {
              const picked = pickField(this.secretId, value, key);
              return typeof picked === 'string' ? picked : JSON.stringify(picked);
            });
      return schema === undefined
        ? text
        : text.then((value) => validateSecretJson(this.secretId, schema, value));
    });
  }

  /** The record `getSecretValue` returns; shared for string secrets, a copy of its own for binary ones. */
  readRecord(stale: boolean): Promise<SecretRecord> {
    const binary = this.#version.secretBinary;
    if (stale || binary !== undefined)
      return Promise.resolve(new Record(this.#version, stale, binary && new Uint8Array(binary)));
    this.record ??= Promise.resolve(new Record(this.#version, false, undefined));
    return this.record;
  }

  #wrongType(actual: 'string' | 'binary', useInstead: string): SecretCacheError {
    return new SecretCacheError(
      'WRONG_TYPE',
      this.secretId,
      `Secret "${this.secretId}" holds a ${actual} value; read it with ${useInstead}.`,
    );
  }

  [inspectSymbol](): string {
    return `CachedVersion { key: ${JSON.stringify(this.key)}, versionId: ${JSON.stringify(this.fetchedVersionId)}, value: <redacted> }`;
  }
}
