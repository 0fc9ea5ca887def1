import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { SecretCache } from '../cache.js';
import type { CachedVersion } from '../entry.js';
import { isSecretCacheError } from '../errors.js';
import { unknownKeyProblem } from '../option-table.js';
import type { ReadOptions } from '../options.js';
import { accessOf, type WithSecretAccess } from '../with-secret.js';
import { type DatabaseCredentials, parseCredentials } from './credentials.js';

/**
 * `pg.Pool` options for {@link createPool}: everything but the credential, which comes from the secret.
 *
 * @example
 * ```ts
 * import type { SecretPoolConfig } from 'secretcache/pg';
 *
 * const pool: SecretPoolConfig = { max: 20, idleTimeoutMillis: 30_000, ssl: { rejectUnauthorized: true } };
 * ```
 */
export type SecretPoolConfig = Omit<pg.PoolConfig, 'user' | 'password' | 'connectionString'>;

/**
 * Options of {@link createPool}.
 *
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import type { CreatePoolOptions } from 'secretcache/pg';
 *
 * const options: CreatePoolOptions = {
 *   cache: new SecretCache(),
 *   secretId: 'prod/orders/db',
 *   pool: { max: 10 },
 * };
 * ```
 */
export interface CreatePoolOptions {
  /** The cache the credentials are read through: no AWS call while the secret is fresh in it. */
  readonly cache: SecretCache;
  /**
   * The database secret: JSON with `username` and `password`, and optionally `host`, `port`, `dbname` and
   * `engine` (`'postgres'` or `'aurora-postgresql'`), as RDS and the rotation templates write it.
   */
  readonly secretId: string;
  /**
   * The stage to read.
   * @default the cache's `versionStage` (`'AWSCURRENT'` unless you changed it)
   */
  readonly versionStage?: string;
  /**
   * Your `pg.Pool` options (`max`, `idleTimeoutMillis`, `ssl`, `Client`...), passed to every inner pool. `host`,
   * `port` and `database`, when given, win over the secret's `host`, `port` and `dbname` (a tunnel, a proxy).
   * `user`, `password` and `connectionString` are not allowed: the credential is the secret's.
   * @default `{}` (pg's defaults)
   */
  readonly pool?: SecretPoolConfig;
}

/**
 * What {@link createPool} returns: the parts of a `pg.Pool` applications use, with the same signatures (promise
 * and callback forms), and its events (`connect`, `acquire`, `release`, `remove`, `error`). An idle client's
 * `error` (the server closed the connection) is emitted when you listen for it; unlike `pg.Pool`, an `error` with
 * no listener does not crash the process (pg already dropped the broken client).
 *
 * @example
 * ```ts
 * import type { SecretPool } from 'secretcache/pg';
 *
 * async function countOrders(db: SecretPool): Promise<number> {
 *   const { rows } = await db.query<{ n: string }>('select count(*) as n from orders');
 *   return Number(rows[0]?.n);
 * }
 * ```
 */
export interface SecretPool extends EventEmitter {
  query: pg.Pool['query'];
  connect: pg.Pool['connect'];
  end: pg.Pool['end'];
  /** Clients open in every inner pool, checked out or idle. */
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  /** Whether `end()` was called. */
  readonly ending: boolean;
  /** Whether `end()` finished: every client is closed. */
  readonly ended: boolean;
}

const OPTION_NAMES = ['cache', 'secretId', 'versionStage', 'pool'] as const satisfies ReadonlyArray<
  keyof CreatePoolOptions
>;
const CREDENTIAL_KEYS = ['user', 'password', 'connectionString'] as const;
const FORWARDED_EVENTS = ['connect', 'acquire', 'release', 'remove'] as const;
/** Rejected version ids one pool remembers: enough for rotations that follow each other closely. */
const MAX_REJECTED = 8;
/** Logins after a 28P01, each with a version the cache named that this connect has not tried yet. */
const MAX_RETRIES = 2;
/** PostgreSQL's SQLSTATE `invalid_password`: the only error that means "this credential is no longer valid". */
const INVALID_PASSWORD = '28P01';

/**
 * A `pg.Pool` whose connections log in with a database secret read through a {@link SecretCache}, and which
 * follows rotations:
 * - each new connection takes the credential the cache holds (no AWS call while it is fresh); when the
 *   secret's version changes, new connections use the new one, and open connections stay as they are;
 * - when the user name (or host, port, database) changes, as in an alternating-users rotation, it opens a new
 *   inner pool for the new user and ends the old one once its checked-out clients are released;
 * - a connection rejected with `28P01` (bad password) refreshes the secret the way `cache.withSecret` does (one
 *   fetch shared by every rejected connection, at most one forced fetch a second, and the `AWSPENDING` version
 *   during a single-user rotation, before `finishSecret` moves `AWSCURRENT`) and connects again: at most twice
 *   more, each time with a version this connect has not tried (a refresh may name a version that a second
 *   rotation within one TTL already replaced).
 * Any other error passes through untouched, as `pg` raised it.
 *
 * @param options - the cache, the secret, the stage and your `pg.Pool` options; an unknown option is a `TypeError`
 * @returns an object with `query`, `connect` and `end` as a `pg.Pool` has
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import { createPool } from 'secretcache/pg';
 *
 * const cache = new SecretCache();
 * const db = createPool({ cache, secretId: 'prod/orders/db', pool: { max: 10, idleTimeoutMillis: 30_000 } });
 * const { rows } = await db.query('select now() as now');
 * await db.end();
 * ```
 */
export function createPool(options: CreatePoolOptions): SecretPool {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('Expected the options of createPool to be an object.');
  }
  const unknown = unknownKeyProblem(options, OPTION_NAMES, 'options of createPool');
  if (unknown !== undefined) throw new TypeError(unknown);
  const access = accessOf(options.cache);
  if (access === undefined) throw new TypeError('Expected `cache` to be a SecretCache.');
  if (typeof options.secretId !== 'string' || options.secretId === '') {
    throw new TypeError('Expected `secretId` to be a non-empty string.');
  }
  const { versionStage } = options;
  if (versionStage !== undefined && (typeof versionStage !== 'string' || versionStage === '')) {
    throw new TypeError('Expected `versionStage` to be a non-empty string.');
  }
  const pool = options.pool ?? {};
  if (typeof pool !== 'object' || pool === null) throw new TypeError('Expected `pool` to be an object.');
  for (const key of CREDENTIAL_KEYS) {
    if (key in pool) {
      throw new TypeError(
        `Expected no \`pool.${key}\`: the credential comes from the secret "${options.secretId}".`,
      );
    }
  }
  return new RotatingPool(access, options.secretId, versionStage === undefined ? {} : { versionStage }, pool);
}

/** One inner `pg.Pool`: the connections of one user on one server. */
interface Generation {
  readonly identity: string;
  readonly inner: pg.Pool;
  /** The version new connections of this pool log in with. */
  best: CachedVersion;
  credentials: DatabaseCredentials;
}

type ConnectCallback = (error: Error | undefined) => void;
interface ConnectableClient {
  connect(callback: ConnectCallback): void;
}
type ClientClass = new (config: pg.PoolConfig) => ConnectableClient;

class RotatingPool extends EventEmitter implements SecretPool {
  readonly #access: WithSecretAccess;
  readonly #secretId: string;
  readonly #readOptions: ReadOptions;
  readonly #config: SecretPoolConfig;
  readonly #Client: ClientClass;
  /** Which version a client logged in with: the password function records it. */
  readonly #attempted = new WeakMap<object, CachedVersion>();
  /** Which version a failed connection attempt used, by its error. */
  readonly #failedWith = new WeakMap<object, CachedVersion>();
  /** Version ids PostgreSQL rejected, newest last: not used again unless a refresh names them. */
  // Stryker disable next-line ArrayDeclaration: a placeholder element is no version id a source returns, and it is the first one shifted out
  readonly #rejected: string[] = [];
  #active: Generation | undefined;
  /** Inner pools of earlier users, and their `end()` once it was called. */
  readonly #retired = new Map<pg.Pool, Promise<void> | undefined>();
  #ended: Promise<void> | undefined;
  #isEnded = false;

  constructor(
    access: WithSecretAccess,
    secretId: string,
    readOptions: ReadOptions,
    config: SecretPoolConfig,
  ) {
    super();
    this.#access = access;
    this.#secretId = secretId;
    this.#readOptions = readOptions;
    this.#config = config;
    this.#Client = credentialClient(
      (config.Client as unknown as ClientClass | undefined) ?? (pg.Client as unknown as ClientClass),
      this.#attempted,
      this.#failedWith,
    );
  }

  get totalCount(): number {
    return this.#sum((inner) => inner.totalCount);
  }

  get idleCount(): number {
    return this.#sum((inner) => inner.idleCount);
  }

  get waitingCount(): number {
    return this.#sum((inner) => inner.waitingCount);
  }

  get ending(): boolean {
    return this.#ended !== undefined;
  }

  get ended(): boolean {
    return this.#isEnded;
  }

  connect: pg.Pool['connect'] = ((
    callback?: (error: unknown, client?: pg.PoolClient, done?: () => void) => void,
  ) => {
    const connected = this.#connect();
    if (typeof callback !== 'function') return connected;
    connected.then(
      (client) => callback(undefined, client, client.release),
      (error: unknown) => callback(error, undefined, noop),
    );
    return undefined;
  }) as pg.Pool['connect'];

  query: pg.Pool['query'] = ((text: unknown, values?: unknown, callback?: unknown) => {
    // pg's `query(text, callback)` form: the callback in the values' place.
    const callbackOnly = typeof values === 'function';
    const result = this.#query(text, callbackOnly ? undefined : values);
    if (callbackOnly) callback = values;
    if (typeof callback !== 'function') return result;
    const done = callback as (error: unknown, result?: pg.QueryResult) => void;
    result.then(
      (rows) => done(undefined, rows),
      (error: unknown) => done(error),
    );
    return undefined;
  }) as pg.Pool['query'];

  end: pg.Pool['end'] = ((callback?: () => void) => {
    if (this.#ended === undefined) {
      const endings = [...this.#retired].map(([inner, ending]) => ending ?? inner.end().catch(noop));
      if (this.#active !== undefined) endings.push(this.#active.inner.end().catch(noop));
      this.#active = undefined;
      this.#ended = Promise.all(endings).then(() => {
        this.#isEnded = true;
      });
    }
    if (typeof callback !== 'function') return this.#ended;
    this.#ended.then(callback);
    return undefined;
  }) as pg.Pool['end'];

  async #query(text: unknown, values: unknown): Promise<pg.QueryResult> {
    const client = await this.#connect();
    try {
      const result = await client.query(text as string, values as unknown[] | undefined);
      client.release();
      return result;
    } catch (error) {
      // As pg.Pool's own query does: a failed statement may leave the session in a state the next user of the
      // connection must not inherit (an open transaction), so the connection is closed, not reused.
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  async #connect(): Promise<pg.PoolClient> {
    if (this.#ended !== undefined) throw endedError();
    const access = this.#access;
    const entry = access.preferred(await access.read(this.#secretId, this.#readOptions));
    const generation = await this.#offer(entry, false);
    try {
      return await this.#connectTo(generation.inner);
    } catch (error) {
      return this.#connectAfterRejection(error, entry);
    }
  }

  /**
   * After a login failed with `error`: when it is a 28P01, logs in with what the cache names next. A refresh can
   * name a version that a second rotation already replaced (two rotations within one TTL, the second between
   * setSecret and finishSecret), so a new version's 28P01 is followed once more; a version tried already in
   * this connect ends it, and so does any other error.
   */
  async #connectAfterRejection(error: unknown, read: CachedVersion): Promise<pg.PoolClient> {
    const access = this.#access;
    let failure = error;
    let rejected = read;
    const tried = new Set<string>();
    for (let retry = 0; retry < MAX_RETRIES && isInvalidPassword(failure); retry++) {
      rejected = this.#failedWith.get(failure as object) ?? rejected;
      tried.add(rejected.fetchedVersionId);
      this.#reject(rejected.fetchedVersionId);
      const next = await access.next(this.#secretId, this.#readOptions, rejected);
      if (next === undefined || tried.has(next.fetchedVersionId)) break;
      if (this.#ended !== undefined) throw endedError();
      try {
        const client = await this.#connectTo((await this.#offer(next, true)).inner);
        access.worked(rejected, this.#attempted.get(client) ?? next);
        return client;
      } catch (retryError) {
        failure = retryError;
      }
    }
    throw failure;
  }

  async #connectTo(inner: pg.Pool): Promise<pg.PoolClient> {
    try {
      return await inner.connect();
    } finally {
      this.#endWhenNoneWaits(inner);
    }
  }

  /**
   * The inner pool new connections of `entry`'s credential go to, made the active one when `entry` is news:
   * - a version PostgreSQL rejected is not used again unless `chosen` (what a refresh named after a rejection);
   * - a version older than the one in use does not replace it (concurrent reads that resolved out of order);
   * - another user (or server) opens a new inner pool, and the old one ends once its clients are released.
   */
  async #offer(entry: CachedVersion, chosen: boolean): Promise<Generation> {
    const before = this.#active;
    if (before !== undefined && entry === before.best) return before;
    // Parsed once per version and kept by the cache; a secret that is not JSON rejects with INVALID_JSON.
    const credentials = parseCredentials(this.#secretId, await entry.readJson());
    if (isSecretCacheError(credentials)) throw credentials;
    if (this.#ended !== undefined) throw endedError();
    const active = this.#active;
    if (chosen) {
      const index = this.#rejected.indexOf(entry.fetchedVersionId);
      if (index !== -1) this.#rejected.splice(index, 1);
    } else if (
      active !== undefined &&
      (this.#rejected.includes(entry.fetchedVersionId) || entry.fetchedAt < active.best.fetchedAt)
    ) {
      return active;
    }
    const identity = identityOf(credentials);
    if (active !== undefined && active.identity === identity) {
      active.best = entry;
      active.credentials = credentials;
      return active;
    }
    const generation = this.#open(identity, entry, credentials);
    if (active !== undefined) this.#retire(active.inner);
    this.#active = generation;
    return generation;
  }

  #open(identity: string, entry: CachedVersion, credentials: DatabaseCredentials): Generation {
    const config = this.#config;
    const attempted = this.#attempted;
    const generation: Generation = {
      identity,
      best: entry,
      credentials,
      inner: undefined as unknown as pg.Pool,
    };
    const inner = new pg.Pool({
      ...config,
      host: config.host ?? credentials.host,
      port: config.port ?? credentials.port,
      database: config.database ?? credentials.dbname,
      user: credentials.username,
      // pg calls this for each new connection, with the client as `this`: the version is recorded per client,
      // so a rejection is charged to the version that was actually tried.
      password: function (this: object) {
        attempted.set(this, generation.best);
        return generation.credentials.password;
      },
      Client: this.#Client as unknown as pg.PoolConfig['Client'],
    });
    (generation as { inner: pg.Pool }).inner = inner;
    inner.on('error', (error, client) => {
      if (this.listenerCount('error') > 0) this.emit('error', error, client);
    });
    for (const name of FORWARDED_EVENTS) {
      inner.on(name, (...args: unknown[]) => {
        if (this.listenerCount(name) > 0) this.emit(name, ...args);
      });
    }
    return generation;
  }

  #retire(inner: pg.Pool): void {
    this.#retired.set(inner, undefined);
    this.#endWhenNoneWaits(inner);
  }

  /**
   * Ends a retired inner pool once no connect waits in its queue: pg.Pool's `end()` never serves the callers
   * already queued, so it must wait for them (they get the old user's released clients, valid until the next
   * rotation, or a 28P01 the retry handles). `end()` itself waits for checked-out clients to be released, so
   * queries in flight on the old user finish undisturbed.
   */
  #endWhenNoneWaits(inner: pg.Pool): void {
    if (!this.#retired.has(inner) || this.#retired.get(inner) !== undefined || inner.waitingCount > 0) return;
    const forget = () => {
      this.#retired.delete(inner);
    };
    this.#retired.set(inner, inner.end().then(forget, forget));
  }

  #reject(versionId: string): void {
    if (this.#rejected.includes(versionId)) return;
    this.#rejected.push(versionId);
    if (this.#rejected.length > MAX_REJECTED) this.#rejected.shift();
  }

  #sum(count: (inner: pg.Pool) => number): number {
    let total = 0;
    for (const inner of this.#retired.keys()) total += count(inner);
    if (this.#active !== undefined) total += count(this.#active.inner);
    return total;
  }
}

/**
 * `Base` (pg's `Client`, or the one in your pool options) with `connect` charging its failure to the version
 * its password came from, so that the pool knows which credential PostgreSQL rejected.
 */
function credentialClient(
  Base: ClientClass,
  attempted: WeakMap<object, CachedVersion>,
  failedWith: WeakMap<object, CachedVersion>,
): ClientClass {
  return class CredentialClient extends Base {
    override connect(callback: ConnectCallback): void {
      super.connect((error) => {
        if (error !== undefined && error !== null) {
          const version = attempted.get(this);
          if (version !== undefined && typeof error === 'object') failedWith.set(error, version);
        }
        callback(error);
      });
    }
  };
}

function identityOf({ username, host, port, dbname }: DatabaseCredentials): string {
  return JSON.stringify([username, host, port, dbname]);
}

function isInvalidPassword(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === INVALID_PASSWORD
  );
}

/** The error pg.Pool raises for the same mistake, with the same message. */
function endedError(): Error {
  return new Error('Cannot use a pool after calling end on the pool');
}

function noop(): void {}
