/**
 * The longest role name PostgreSQL keeps: `NAMEDATALEN - 1` bytes. It truncates a longer one without an error, so
 * the statement would name another role.
 */
export const MAX_ROLE_NAME_BYTES = 63;

/** A PostgreSQL login as a database secret holds it, with the defaults filled in. */
export interface PostgresCredential {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly dbname: string;
}

/** Where a credential whose secret names no server logs in (the superuser's: the rotated secret's server). */
export interface ServerDefaults {
  readonly host: string;
  readonly port: number;
  readonly dbname: string;
}

const ENGINES: ReadonlySet<string> = new Set(['postgres', 'aurora-postgresql']);
const DEFAULT_PORT = 5432;
const DEFAULT_DBNAME = 'postgres';
const CLONE_SUFFIX = '_clone';

/**
 * The credential in a database secret's JSON (`{ engine?, host, port?, username, password, dbname? }`, as RDS and
 * the rotation templates write it), or what is wrong with it: a phrase naming the field, never quoting a value.
 *
 * @param fields - the secret's parsed JSON object
 * @param defaults - the server to use when the secret names none; without it, `host` is required
 */
export function parsePostgresCredential(
  fields: Readonly<Record<string, unknown>>,
  defaults?: ServerDefaults,
): PostgresCredential | string {
  const { engine, host, port, username, password, dbname } = fields;
  if (engine !== undefined && (typeof engine !== 'string' || !ENGINES.has(engine))) {
    return "expected `engine`, when present, to be 'postgres' or 'aurora-postgresql'";
  }
  if (typeof username !== 'string' || username === '') return 'expected a non-empty string `username`';
  // A NUL cannot be sent in a query, and PostgreSQL cannot store one: reject it before it truncates anything.
  if (username.includes('\0')) return 'expected `username` without a NUL character';
  if (Buffer.byteLength(username, 'utf8') > MAX_ROLE_NAME_BYTES) {
    return `expected \`username\` of at most ${MAX_ROLE_NAME_BYTES} bytes (PostgreSQL would truncate it)`;
  }
  if (typeof password !== 'string' || password === '') return 'expected a non-empty string `password`';
  if (password.includes('\0')) return 'expected `password` without a NUL character';
  if (host === undefined && defaults === undefined) return 'expected a non-empty string `host`';
  if (host !== undefined && (typeof host !== 'string' || host === '')) {
    return 'expected `host` to be a non-empty string';
  }
  // RDS writes the port as a number; hand-made secrets often hold it as a string.
  const portNumber = typeof port === 'string' && /^\d{1,5}$/.test(port) ? Number(port) : port;
  if (
    portNumber !== undefined &&
    (typeof portNumber !== 'number' || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65_535)
  ) {
    return 'expected `port` to be a port number';
  }
  if (dbname !== undefined && (typeof dbname !== 'string' || dbname === '')) {
    return 'expected `dbname` to be a non-empty string';
  }
  return {
    username,
    password,
    host: host ?? (defaults as ServerDefaults).host,
    port: portNumber ?? defaults?.port ?? DEFAULT_PORT,
    dbname: dbname ?? defaults?.dbname ?? DEFAULT_DBNAME,
  };
}

/**
 * The other user of an alternating pair: `name_clone` for `name`, and `name` for `name_clone`. `undefined` when
 * that name would be empty or longer than PostgreSQL keeps (never a truncated name).
 */
export function alternateUsername(username: string): string | undefined {
  const alternate = username.endsWith(CLONE_SUFFIX)
    ? username.slice(0, -CLONE_SUFFIX.length)
    : `${username}${CLONE_SUFFIX}`;
  if (alternate === '' || Buffer.byteLength(alternate, 'utf8') > MAX_ROLE_NAME_BYTES) return undefined;
  return alternate;
}
