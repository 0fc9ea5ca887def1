import type { Client, ClientConfig } from 'pg';
import { describeValue } from '../describe.js';
import { unknownKeyProblem } from '../option-table.js';
import type { CreatePendingContext, PendingContext, RotationTarget, RotationVersion } from './contract.js';
import { isRotationError, RotationError } from './errors.js';
import {
  alternateUsername,
  MAX_ROLE_NAME_BYTES,
  type PostgresCredential,
  parsePostgresCredential,
  type ServerDefaults,
} from './postgres-credentials.js';

/**
 * `pg.Client` options for {@link postgresTarget}: everything but the credential, which comes from the secrets.
 *
 * @example
 * ```ts
 * import type { PostgresConnectionOptions } from 'secretcache/rotation';
 *
 * const connection: PostgresConnectionOptions = { ssl: { rejectUnauthorized: true }, connectionTimeoutMillis: 3_000 };
 * ```
 */
export type PostgresConnectionOptions = Omit<ClientConfig, 'user' | 'password' | 'connectionString'>;

/**
 * Options of {@link postgresTarget}.
 *
 * @example
 * ```ts
 * import type { PostgresTargetOptions } from 'secretcache/rotation';
 *
 * const options: PostgresTargetOptions = {
 *   strategy: 'alternating-users',
 *   superuserSecretId: 'prod/orders/db-admin',
 *   connection: { ssl: { rejectUnauthorized: true } },
 * };
 * ```
 */
export interface PostgresTargetOptions {
  /**
   * How the credential changes.
   * - `'single-user'`: the secret's user changes its own password. Connections open before `setSecret` stay
   *   open; a new login with the old password fails from `setSecret` until clients read the new version (a
   *   `secretcache/pg` pool retries such a `28P01` with the `AWSPENDING` version).
   * - `'alternating-users'`: two users, `name` and `name_clone`, take turns; each rotation gives the other one a
   *   new password, so the current credential keeps working until the next rotation. On the first rotation
   *   the superuser creates the clone, a member of the original role, so it acts with the original's privileges.
   *
   * No default: the choice decides which users exist.
   */
  readonly strategy: 'single-user' | 'alternating-users';
  /**
   * The secret of a user that may create roles and change their passwords (`CREATEROLE`, or an RDS master
   * user): JSON `{ username, password, host?, port?, dbname? }`, its server by default the rotated secret's and,
   * when given, required to be the same host and port. Read at `setSecret`, with the handler's client.
   * Required by `'alternating-users'`; `'single-user'` accepts it and never reads it, so one options object
   * serves either strategy.
   * @default none
   */
  readonly superuserSecretId?: string;
  /**
   * `pg.Client` options for every connection the target opens: `ssl`, timeouts, and `host`, `port` or
   * `database` to override the secret's `host`, `port` and `dbname` (a tunnel, a proxy). `user`, `password`
   * and `connectionString` are not allowed: the credentials are the secrets'.
   * @default `{ connectionTimeoutMillis: 5_000, application_name: 'secretcache-rotation' }`, merged under yours
   */
  readonly connection?: PostgresConnectionOptions;
  /**
   * The statement `testSecret` runs after logging in with the pending credential.
   * @default `'SELECT 1'`
   */
  readonly testQuery?: string;
}

const OPTION_NAMES = [
  'strategy',
  'superuserSecretId',
  'connection',
  'testQuery',
] as const satisfies ReadonlyArray<keyof PostgresTargetOptions>;
const CREDENTIAL_KEYS = ['user', 'password', 'connectionString'] as const;
// pg waits forever for a server by default; a Lambda would wait out its whole timeout (AWS's templates use 5 s).
const CONNECTION_DEFAULTS: PostgresConnectionOptions = {
  connectionTimeoutMillis: 5_000,
  application_name: 'secretcache-rotation',
};
/** PostgreSQL's SQLSTATE `invalid_password`: the one login failure another credential may get past. */
const INVALID_PASSWORD = '28P01';

interface Settings {
  readonly superuserSecretId: string | undefined;
  readonly connection: PostgresConnectionOptions;
  readonly testQuery: string;
}

/**
 * A rotation target for a PostgreSQL user (RDS, Aurora PostgreSQL, or any PostgreSQL), with the single-user or
 * the alternating-users strategy of Secrets Manager's rotation templates. The secret is JSON
 * `{ engine?, host, port?, username, password, dbname? }` (`port` 5432 and `dbname` `'postgres'` by default).
 *
 * - `createSecret`: the current JSON with a new password (and, alternating, the other user's name).
 * - `setSecret`: checks that the pending version names the expected user on the same host and port (a pending
 *   version pointing elsewhere would make the rotation change a password there), then sets the password.
 *   Single-user logs in as the user (with the pending password if a retried step already set it, else the
 *   current one, else the previous one) and runs `ALTER ROLE`. Alternating logs in with the current credential
 *   first (only its holder may rotate the pair), then as the superuser creates the other user (`CREATE ROLE`
 *   and `GRANT current TO pending`, in one transaction) or changes its password.
 * - `testSecret`: logs in with the pending credential and runs `testQuery`.
 *
 * Names and passwords reach SQL only through `pg`'s `escapeIdentifier` and `escapeLiteral`. Every connection is
 * closed, also on failure. Failures are `RotationError`s (`INVALID_SECRET`, `SET_FAILED`, `TEST_FAILED`) whose
 * messages never carry a user name or password; a database error's `cause` is a copy with only its SQLSTATE
 * `code` (the server's text can quote user names). `pg` (8.11 or later) is loaded on first use, so importing
 * `secretcache/rotation` does not need it.
 *
 * @param options - the strategy, the superuser's secret, connection options and the test query; an unknown
 *   option or a bad value is a `TypeError`
 * @returns a target for `rotationHandler`
 * @example
 * ```ts
 * import { postgresTarget, rotationHandler } from 'secretcache/rotation';
 *
 * export const handler = rotationHandler(
 *   postgresTarget({ strategy: 'alternating-users', superuserSecretId: 'prod/orders/db-admin' }),
 * );
 * ```
 */
export function postgresTarget(options: PostgresTargetOptions): RotationTarget {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('Expected the options of postgresTarget to be an object.');
  }
  const unknown = unknownKeyProblem(options, OPTION_NAMES, 'options of postgresTarget');
  if (unknown !== undefined) throw new TypeError(unknown);
  const { strategy, superuserSecretId, connection = {}, testQuery = 'SELECT 1' } = options;
  if (strategy !== 'single-user' && strategy !== 'alternating-users') {
    throw new TypeError(
      `Expected \`strategy\` to be 'single-user' or 'alternating-users', got ${describeValue(strategy)}.`,
    );
  }
  if (
    superuserSecretId !== undefined &&
    (typeof superuserSecretId !== 'string' || superuserSecretId === '')
  ) {
    throw new TypeError(
      `Expected \`superuserSecretId\` to be a non-empty string, got ${describeValue(superuserSecretId)}.`,
    );
  }
  if (strategy === 'alternating-users' && superuserSecretId === undefined) {
    throw new TypeError(
      "Expected `superuserSecretId` with strategy 'alternating-users': a superuser creates the other user.",
    );
  }
  if (typeof connection !== 'object' || connection === null || Array.isArray(connection)) {
    throw new TypeError(`Expected \`connection\` to be an object, got ${describeValue(connection)}.`);
  }
  for (const key of CREDENTIAL_KEYS) {
    if (key in connection) {
      throw new TypeError(`Expected no \`connection.${key}\`: the credentials come from the secrets.`);
    }
  }
  if (typeof testQuery !== 'string' || testQuery.trim() === '') {
    throw new TypeError(`Expected \`testQuery\` to be a non-empty string, got ${describeValue(testQuery)}.`);
  }
  const settings: Settings = {
    superuserSecretId,
    connection: { ...CONNECTION_DEFAULTS, ...connection },
    testQuery,
  };
  const testPending = (context: PendingContext) => testSecret(settings, context);
  return strategy === 'single-user'
    ? {
        createPending: createSingleUser,
        setPending: (context) => setSingleUser(settings, context),
        testPending,
      }
    : {
        createPending: createAlternating,
        setPending: (context) => setAlternating(settings, context),
        testPending,
      };
}

/** createSecret, single user: the same user with a new password. */
async function createSingleUser(context: CreatePendingContext): Promise<string> {
  credentialOf(context, context.current, 'The AWSCURRENT version');
  return JSON.stringify({ ...context.current.json(), password: await context.randomPassword() });
}

/** createSecret, alternating users: the other user of the pair, with a new password. */
async function createAlternating(context: CreatePendingContext): Promise<string> {
  const current = credentialOf(context, context.current, 'The AWSCURRENT version');
  const username = alternateOf(context, current);
  return JSON.stringify({ ...context.current.json(), username, password: await context.randomPassword() });
}

/** setSecret, single user: the user changes its own password. */
async function setSingleUser(settings: Settings, context: PendingContext): Promise<void> {
  const current = credentialOf(context, context.current, 'The AWSCURRENT version');
  const pending = credentialOf(context, context.pending, 'The AWSPENDING version');
  if (pending.username !== current.username) {
    throw invalid(
      context,
      'The AWSPENDING version names a user other than the AWSCURRENT one: the single-user strategy only ' +
        "changes the current user's password.",
    );
  }
  requireSameServer(context, current, pending, 'The AWSPENDING version');
  const driver = await loadDriver(context);
  let login: Login;
  try {
    // The pending password first: if a retried step already set it, there is nothing left to do.
    login = await firstAccepted(driver, settings, current, [
      async () => pending,
      async () => current,
      async () => previousLogin(context, current),
    ]);
  } catch (error) {
    throw failure(
      context,
      'Could not log in to PostgreSQL with the AWSPENDING, AWSCURRENT or AWSPREVIOUS credential',
      error,
    );
  }
  const { client, index } = login;
  try {
    if (index === 0) return;
    await client.query(
      `ALTER ROLE ${driver.escapeIdentifier(pending.username)} WITH PASSWORD ${driver.escapeLiteral(pending.password)}`,
    );
  } catch (error) {
    throw failure(context, 'PostgreSQL did not change the password', error);
  } finally {
    await close(client);
  }
}

/** setSecret, alternating users: the superuser creates the pending user, or changes its password. */
async function setAlternating(settings: Settings, context: PendingContext): Promise<void> {
  const current = credentialOf(context, context.current, 'The AWSCURRENT version');
  const pending = credentialOf(context, context.pending, 'The AWSPENDING version');
  if (pending.username !== alternateOf(context, current)) {
    throw invalid(
      context,
      "The AWSPENDING version names a user other than the AWSCURRENT user's alternate (its name with `_clone` " +
        'added or removed).',
    );
  }
  requireSameServer(context, current, pending, 'The AWSPENDING version');
  const driver = await loadDriver(context);
  // Only the holder of a working current credential may have its pair rotated: a secret naming a user it has no
  // password for must not get the superuser to set one.
  try {
    await close(await logIn(driver, settings, current, current));
  } catch (error) {
    throw failure(context, 'Could not log in to PostgreSQL with the AWSCURRENT credential', error);
  }
  const superuserSecretId = settings.superuserSecretId as string;
  const superuser = credentialOf(
    context,
    await context.readSecret(superuserSecretId),
    `The superuser secret "${superuserSecretId}"`,
    current,
  );
  requireSameServer(context, current, superuser, `The superuser secret "${superuserSecretId}"`);
  let client: Client;
  try {
    client = await logIn(driver, settings, superuser, superuser);
  } catch (error) {
    throw failure(context, 'Could not log in to PostgreSQL with the superuser secret', error);
  }
  const role = driver.escapeIdentifier(pending.username);
  const password = driver.escapeLiteral(pending.password);
  try {
    // One transaction: a clone created without its grant would be changed, never granted, by the retried step.
    await client.query('BEGIN');
    const existing = await client.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [
      pending.username,
    ]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE ROLE ${role} WITH LOGIN PASSWORD ${password}`);
      // A member of the original role has its privileges, those of the objects it owns included.
      await client.query(`GRANT ${driver.escapeIdentifier(current.username)} TO ${role}`);
    } else {
      await client.query(`ALTER ROLE ${role} WITH PASSWORD ${password}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(ignore);
    throw failure(context, 'PostgreSQL did not create the AWSPENDING user or change its password', error);
  } finally {
    await close(client);
  }
}

/** testSecret: the pending credential logs in and runs the test query. */
async function testSecret(settings: Settings, context: PendingContext): Promise<void> {
  const pending = credentialOf(context, context.pending, 'The AWSPENDING version');
  const driver = await loadDriver(context);
  let client: Client;
  try {
    client = await logIn(driver, settings, pending, pending);
  } catch (error) {
    throw failure(context, 'PostgreSQL did not accept the AWSPENDING credential', error);
  }
  try {
    await client.query(settings.testQuery);
  } catch (error) {
    throw failure(context, 'The test query failed with the AWSPENDING credential', error);
  } finally {
    await close(client);
  }
}

type Driver = typeof import('pg');
type Context = CreatePendingContext | PendingContext;

/** The user name and password to log in with. */
type Credential = Pick<PostgresCredential, 'username' | 'password'>;

interface Login {
  readonly client: Client;
  /** Which candidate logged in. */
  readonly index: number;
}

let driverLoad: Promise<Driver> | undefined;

/** `pg`, imported on first use; a `RotationError` saying to install it when it is missing or too old. */
async function loadDriver(context: PendingContext): Promise<Driver> {
  driverLoad ??= import('pg').then(
    // pg is CommonJS: its exports are the ESM namespace's default, and what a CJS build's import() resolves to.
    (loaded) => ((loaded as unknown as { default?: Driver }).default ?? loaded) as Driver,
  );
  let driver: Driver;
  try {
    driver = await driverLoad;
  } catch (error) {
    driverLoad = undefined;
    throw new RotationError(
      failureCode(context),
      context.step,
      context.secretId,
      'postgresTarget needs the `pg` package (8.11 or later): npm install pg',
      { cause: error },
    );
  }
  if (typeof driver.escapeIdentifier !== 'function' || typeof driver.escapeLiteral !== 'function') {
    throw new RotationError(
      failureCode(context),
      context.step,
      context.secretId,
      'postgresTarget needs `pg` 8.11 or later (for escapeIdentifier and escapeLiteral): npm install pg@8',
    );
  }
  return driver;
}

/** A connected client, or the error `connect` failed with (the client closed). */
async function logIn(
  driver: Driver,
  settings: Settings,
  server: ServerDefaults,
  credential: Credential,
): Promise<Client> {
  const config: ClientConfig = {
    host: server.host,
    port: server.port,
    database: server.dbname,
    ...settings.connection,
    user: credential.username,
    password: credential.password,
  };
  const client = new driver.Client(config);
  // A connection the server drops while idle is an 'error' event; unhandled, it would crash the function.
  client.on('error', ignore);
  try {
    await client.connect();
  } catch (error) {
    await close(client);
    throw error;
  }
  return client;
}

/**
 * Logs in with the first credential PostgreSQL accepts, moving to the next only after a `28P01` (wrong
 * password): any other failure (the network, TLS, a missing database) would stop every candidate alike.
 * A candidate that yields `undefined` is skipped. Throws the last `28P01` when none is accepted.
 */
async function firstAccepted(
  driver: Driver,
  settings: Settings,
  server: ServerDefaults,
  candidates: ReadonlyArray<() => Promise<Credential | undefined>>,
): Promise<Login> {
  let rejection: unknown;
  for (const [index, candidate] of candidates.entries()) {
    const credential = await candidate();
    if (credential === undefined) continue;
    try {
      return { client: await logIn(driver, settings, server, credential), index };
    } catch (error) {
      if (sqlStateOf(error) !== INVALID_PASSWORD) throw error;
      rejection = error;
    }
  }
  throw rejection;
}

/**
 * The `AWSPREVIOUS` credential, when the secret has one for the same user on the same server: the password the
 * database may still have if an earlier rotation failed after `setSecret`. A previous version that is no such
 * credential is no fallback, and no error.
 */
async function previousLogin(
  context: PendingContext,
  current: PostgresCredential,
): Promise<Credential | undefined> {
  const previous = await context.previous();
  if (previous === undefined) return undefined;
  let fields: Readonly<Record<string, unknown>>;
  try {
    fields = previous.json();
  } catch {
    return undefined;
  }
  const credential = parsePostgresCredential(fields);
  if (typeof credential === 'string' || credential.username !== current.username) return undefined;
  if (credential.host !== current.host || credential.port !== current.port) return undefined;
  return credential;
}

/** The credential in a version's JSON, or an `INVALID_SECRET` naming what is wrong (never a value). */
function credentialOf(
  context: Context,
  version: RotationVersion,
  what: string,
  defaults?: ServerDefaults,
): PostgresCredential {
  const credential = parsePostgresCredential(version.json(), defaults);
  if (typeof credential === 'string') {
    throw invalid(context, `${what} is not a PostgreSQL credential: ${credential}.`);
  }
  return credential;
}

/** The other user of the alternating pair, or `INVALID_SECRET` when its name would not fit PostgreSQL. */
function alternateOf(context: Context, current: PostgresCredential): string {
  const alternate = alternateUsername(current.username);
  if (alternate === undefined) {
    throw invalid(
      context,
      `The AWSCURRENT user has no alternate: its name with \`_clone\` added or removed would be empty or longer than ${MAX_ROLE_NAME_BYTES} bytes.`,
    );
  }
  return alternate;
}

/** A version that names another server would have the rotation change a password there: the confused deputy. */
function requireSameServer(
  context: PendingContext,
  current: PostgresCredential,
  other: PostgresCredential,
  what: string,
): void {
  if (other.host !== current.host || other.port !== current.port) {
    throw invalid(context, `${what} names a server (host or port) other than the AWSCURRENT one.`);
  }
}

function invalid(context: Context, message: string): RotationError {
  return new RotationError('INVALID_SECRET', context.step, context.secretId, message);
}

function failureCode(context: PendingContext): 'SET_FAILED' | 'TEST_FAILED' {
  return context.step === 'setSecret' ? 'SET_FAILED' : 'TEST_FAILED';
}

/**
 * The step's failure for `error`: a `RotationError` passes through (a version that is not JSON, a failed AWS
 * read); anything else becomes the step's code with a sanitized cause.
 */
function failure(context: PendingContext, message: string, error: unknown): RotationError {
  if (isRotationError(error)) return error;
  const cause = sanitizedCause(error);
  const code = (cause as { code?: string }).code;
  return new RotationError(
    failureCode(context),
    context.step,
    context.secretId,
    code === undefined ? `${message}.` : `${message} (${code}).`,
    { cause },
  );
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
const ERRNO = /^E[A-Z0-9_]{1,30}$/;
const PLAIN_NAME = /^[A-Za-z]\w{0,39}$/;
/** pg's own messages that quote nothing from a server or a secret. */
const CLIENT_MESSAGES: ReadonlySet<string> = new Set([
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Query read timeout',
]);

function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && SQLSTATE.test(code) ? code : undefined;
}

/**
 * A copy of a `pg` or network error that keeps its `name` and its code (a SQLSTATE such as `28P01`, or an errno
 * such as `ECONNREFUSED`) and drops the rest: a server's message can quote a user name, a network error's the
 * host and port.
 */
function sanitizedCause(error: unknown): Error {
  const original = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const sqlState = sqlStateOf(error);
  const errno = typeof original.code === 'string' && ERRNO.test(original.code) ? original.code : undefined;
  const code = sqlState ?? errno;
  const message =
    sqlState !== undefined
      ? `PostgreSQL error ${sqlState}`
      : errno !== undefined
        ? `Connection error ${errno}`
        : typeof original.message === 'string' && CLIENT_MESSAGES.has(original.message)
          ? original.message
          : 'PostgreSQL client error';
  const cause = new Error(message);
  cause.name = typeof original.name === 'string' && PLAIN_NAME.test(original.name) ? original.name : 'Error';
  if (code !== undefined) Object.defineProperty(cause, 'code', { value: code, enumerable: true });
  return cause;
}

async function close(client: Client): Promise<void> {
  await client.end().catch(ignore);
}

function ignore(): void {}
