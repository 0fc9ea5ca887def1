import { SecretCacheError } from './errors.js';
import { deepFreeze, parseSecretJson, pickField, validateSecretJson } from './json.js';
import {
  arnOf,
  compactNames,
  type Names,
  nameOf,
  type Shape,
  sharedShape,
  sharedStages,
} from './metadata.js';
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
  /** The AWS region that answered, when the cache reads through several (`regions`); absent otherwise. */
  readonly region?: string;
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
  declare readonly region?: string;

  constructor(fields: Omit<SecretRecord, 'stale'>, stale: boolean) {
    this.name = fields.name;
    this.arn = fields.arn;
    this.versionId = fields.versionId;
    this.versionStages = fields.versionStages;
    this.createdDate = fields.createdDate;
    if (fields.secretString !== undefined) this.secretString = fields.secretString;
    if (fields.secretBinary !== undefined) this.secretBinary = fields.secretBinary;
    this.stale = stale;
    if (fields.region !== undefined) this.region = fields.region;
    Object.freeze(this);
  }

  toJSON(): object {
    const { name, arn, versionId, versionStages, createdDate, stale, region } = this;
    const value = this.secretString === undefined ? { secretBinary: REDACTED } : { secretString: REDACTED };
    return {
      name,
      arn,
      versionId,
      versionStages,
      createdDate,
      stale,
      ...(region === undefined ? {} : { region }),
      ...value,
    };
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

function wrongType(secretId: string, actual: 'string' | 'binary', useInstead: string): SecretCacheError {
  return new SecretCacheError(
    'WRONG_TYPE',
    secretId,
    `Secret "${secretId}" holds a ${actual} value; read it with ${useInstead}.`,
  );
}

/**
 * What a version rarely needs, made on its first use: a version only ever read as a string carries none of
 * it, and every slot a version holds costs 8 bytes per cached entry.
 */
class Derived {
  json: Promise<unknown> | undefined = undefined;
  schema: StandardSchemaV1 | undefined = undefined;
  schemaResult: Promise<unknown> | undefined = undefined;
  otherSchemas: Map<StandardSchemaV1, Promise<unknown>> | undefined = undefined;
  fields: Map<string, Map<object, Promise<unknown>>> | undefined = undefined;
  refs: Map<string, Map<object, Promise<unknown>>> | undefined = undefined;
  stalePeriod: object | undefined = undefined;
  record: Promise<SecretRecord> | undefined = undefined;
  unusual: Unusual | undefined = undefined;
}

/** What a version keeps only when its lifetime or its answer is out of the ordinary. */
interface Unusual {
  /** The expiry, when it is not `refreshAt` plus the shape's `aheadMs`. */
  readonly expiresAt: number | undefined;
  /** The version id a read by id asked for, when the source answered with another (which AWS never does). */
  readonly askedVersionId: string | undefined;
  /** The bytes of a version a source answered with both a string and bytes (which AWS never does). */
  readonly bytes: Uint8Array | undefined;
  /** A `createdDate` that was not a Date (which the type rules out), as the source gave it. */
  readonly createdDate: unknown;
}

/**
 * One cached version of a secret, with every derived form the accessors hand out made at most once: the
 * string as a resolved promise, the parsed JSON, each schema's output, the record.
 *
 * It is all a cached entry keeps of a fetch's answer, and laid out for size: a cache of 10,000 secrets holds
 * 10,000 of them. What versions share is one {@link Shape}; the name and ARN are kept in their shortest form
 * (see `compactNames`) and the created date as a number, both rebuilt for a record; whatever only some reads
 * need is a {@link Derived} made on demand. It has no private methods: those give each instance a slot more.
 */
export class CachedVersion {
  /**
   * Clock time after which a read no longer takes the hot path (refresh-ahead or expiry). Read-only: the
   * expiry is kept relative to it (see `expiresAt`).
   */
  readonly refreshAt: number;
  /** The string value as an already-resolved promise, so a warm read returns it without allocating. */
  readonly string: Promise<string> | undefined;
  /** The secret id and cache key this version was fetched for. */
  readonly secretId: string;
  readonly key: string;
  /** Clock time the fetch that brought this version started. */
  readonly fetchedAt: number;
  /** The version id Secrets Manager answered with. */
  readonly fetchedVersionId: string;
  /** The string, or (when `string` is undefined) a copy of the bytes of its own. */
  readonly #value: string | Uint8Array | undefined;
  readonly #shape: Shape;
  /** The name and ARN, with the shape's `arnPrefix` and `readByArn` (see `compactNames`). */
  readonly #names: string | Names;
  /** `createdDate`'s time in ms: a number costs 16 bytes, a Date 112. */
  readonly #createdDate: number | undefined;
  #derived: Derived | undefined;

  constructor(
    selector: Selector,
    version: SecretVersion,
    fetchedAt: number,
    expiresAt: number,
    refreshAt: number,
  ) {
    const { secretId, versionId } = selector;
    const text = version.secretString;
    const bytes = version.secretBinary;
    const created = version.createdDate;
    const stages = version.versionStages;
    const names = compactNames(secretId, version.name, version.arn);
    this.refreshAt = refreshAt;
    this.string = text === undefined ? undefined : Promise.resolve(text);
    this.secretId = secretId;
    this.key = selector.key;
    this.fetchedAt = fetchedAt;
    this.fetchedVersionId = version.versionId;
    // A copy of its own: a source may hand over a Buffer that is a view on a shared pool, or keep writing to it.
    this.#value = text ?? (bytes === undefined ? undefined : new Uint8Array(bytes));
    // A version pinned by id never expires (both Infinity); others are refreshed `refreshAheadMs` ahead, or half
    // their lifetime when that is shorter (a random fraction, not worth sharing: the expiry is kept instead).
    const aheadMs = expiresAt === refreshAt ? 0 : expiresAt - refreshAt;
    const exact = Number.isInteger(aheadMs) && Object.is(refreshAt + aheadMs, expiresAt);
    this.#shape = sharedShape({
      versionStage: selector.versionStage,
      byVersionId: versionId !== undefined,
      // Anything but an array (which the type rules out) is kept as it came and copied into each record.
      versionStages: Array.isArray(stages) ? sharedStages(stages) : stages,
      arnPrefix: names.arnPrefix,
      readByArn: names.readByArn,
      aheadMs: exact ? aheadMs : 0,
      region: typeof version.region === 'string' ? version.region : undefined,
    });
    this.#names = names.rest;
    this.#createdDate = created instanceof Date ? created.getTime() : undefined;
    this.#derived = undefined;
    // What no well-behaved source answers is kept aside, as it came, so that every read sees it as before.
    const askedVersionId = versionId !== version.versionId ? versionId : undefined;
    const both = text !== undefined && bytes !== undefined;
    const oddDate = created !== undefined && !(created instanceof Date);
    if (!exact || askedVersionId !== undefined || both || oddDate) {
      CachedVersion.#more(this).unusual = {
        expiresAt: exact ? undefined : expiresAt,
        askedVersionId,
        bytes: both ? new Uint8Array(bytes) : undefined,
        createdDate: oddDate ? created : undefined,
      };
    }
  }

  /** `entry`'s {@link Derived}, made on first use. Static: an instance method would cost every instance a slot. */
  static #more(entry: CachedVersion): Derived {
    entry.#derived ??= new Derived();
    return entry.#derived;
  }

  /**
   * Clock time after which the value is stale. `Infinity` for a version pinned by id. Kept as `refreshAt` plus
   * the shape's `aheadMs` (the same for nearly every version), which saves each version 24 bytes.
   */
  get expiresAt(): number {
    return this.#derived?.unusual?.expiresAt ?? this.refreshAt + this.#shape.aheadMs;
  }

  /** The stage this version was fetched for; `undefined` for a version read by id. */
  get versionStage(): string | undefined {
    return this.#shape.versionStage;
  }

  /** The region that answered, when the source said (`regionalSource`). */
  get region(): string | undefined {
    return this.#shape.region;
  }

  /** The version id this version was read by, if it was. */
  get versionId(): string | undefined {
    if (!this.#shape.byVersionId) return undefined;
    return this.#derived?.unusual?.askedVersionId ?? this.fetchedVersionId;
  }

  /** Parsed, frozen JSON (or its failure), made on the first JSON read. */
  get json(): Promise<unknown> | undefined {
    return this.#derived?.json;
  }

  /** The schema last used with this version, and its outcome: the one-slot fast path of `getSecretJson`. */
  get schema(): StandardSchemaV1 | undefined {
    return this.#derived?.schema;
  }

  get schemaResult(): Promise<unknown> | undefined {
    return this.#derived?.schemaResult;
  }

  /** The stale period last reported for this version (see `SecretCache#serveStale`), so each is reported once. */
  get stalePeriod(): object | undefined {
    return this.#derived?.stalePeriod;
  }

  set stalePeriod(period: object | undefined) {
    CachedVersion.#more(this).stalePeriod = period;
  }

  /** The shared record of a string secret, made on the first `getSecretValue`. */
  get record(): Promise<SecretRecord> | undefined {
    return this.#derived?.record;
  }

  /** The string value, or a `WRONG_TYPE` rejection for a binary secret. */
  readString(): Promise<string> {
    return this.string ?? Promise.reject(wrongType(this.secretId, 'binary', 'getSecretBinary'));
  }

  /** A fresh copy of the bytes (callers may zero theirs), or a `WRONG_TYPE` rejection for a string secret. */
  readBinary(): Promise<Uint8Array> {
    const bytes =
      this.string === undefined ? (this.#value as Uint8Array | undefined) : this.#derived?.unusual?.bytes;
    if (bytes === undefined) return Promise.reject(wrongType(this.secretId, 'string', 'getSecretString'));
    return Promise.resolve(new Uint8Array(bytes));
  }

  /** The parsed, deep-frozen JSON: parsed on first use, the same object ever after. */
  readJson(): Promise<unknown> {
    const derived = CachedVersion.#more(this);
    if (derived.json === undefined) {
      try {
        if (this.string === undefined) throw wrongType(this.secretId, 'binary', 'getSecretBinary');
        derived.json = Promise.resolve(deepFreeze(parseSecretJson(this.secretId, this.#value as string)));
      } catch (error) {
        derived.json = settled(Promise.reject(error));
      }
    }
    return derived.json;
  }

  /** The schema's output for this version, validated once per schema. */
  readValidated(schema: StandardSchemaV1): Promise<unknown> {
    const derived = CachedVersion.#more(this);
    if (derived.schema === schema && derived.schemaResult !== undefined) return derived.schemaResult;
    if (derived.schema !== undefined && derived.schemaResult !== undefined) {
      derived.otherSchemas = remember(derived.otherSchemas, derived.schema, derived.schemaResult);
    }
    let result = derived.otherSchemas?.get(schema);
    if (result === undefined) {
      result = settled(this.readJson().then((value) => validateSecretJson(this.secretId, schema, value)));
    }
    derived.schema = schema;
    derived.schemaResult = result;
    return result;
  }

  /**
   * One top-level field of the JSON (a manifest entry's `key`), validated by `schema` if given: once per field
   * and schema for this version, then shared.
   */
  readField(key: string, schema: StandardSchemaV1 | undefined): Promise<unknown> {
    const derived = CachedVersion.#more(this);
    derived.fields ??= new Map();
    return outcome(derived.fields, key, schema, () =>
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
    const derived = CachedVersion.#more(this);
    derived.refs ??= new Map();
    // '' is never a key: an empty field of a reference means none.
    return outcome(derived.refs, key ?? '', schema, () => {
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
    const bytes =
      this.string === undefined ? (this.#value as Uint8Array | undefined) : this.#derived?.unusual?.bytes;
    const shared = !stale && bytes === undefined;
    if (shared && this.#derived?.record !== undefined) return this.#derived.record;
    const { versionStages } = this.#shape;
    const created = this.#createdDate;
    const record = Promise.resolve(
      new Record(
        {
          name: nameOf(this.secretId, this.#shape, this.#names),
          arn: arnOf(this.secretId, this.#shape, this.#names),
          versionId: this.fetchedVersionId,
          // Arrays were made frozen and shared (see sharedStages); anything else a source gave is copied.
          versionStages: Array.isArray(versionStages) ? versionStages : Object.freeze([...versionStages]),
          // A Date of the record's own: the time is kept as a number, so no change to one record's Date reaches a
          // record made later.
          createdDate:
            created === undefined ? (this.#derived?.unusual?.createdDate as undefined) : new Date(created),
          ...(this.string === undefined ? {} : { secretString: this.#value as string }),
          ...(bytes === undefined ? {} : { secretBinary: new Uint8Array(bytes) }),
          ...(this.#shape.region === undefined ? {} : { region: this.#shape.region }),
        },
        stale,
      ),
    );
    if (shared) CachedVersion.#more(this).record = record;
    return record;
  }

  [inspectSymbol](): string {
    return `CachedVersion { key: ${JSON.stringify(this.key)}, versionId: ${JSON.stringify(this.fetchedVersionId)}, value: <redacted> }`;
  }
}
