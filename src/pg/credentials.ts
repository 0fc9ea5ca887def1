import { SecretCacheError } from '../errors.js';

/**
 * What a connection takes from a database secret (the JSON Secrets Manager's RDS integration and rotation
 * templates write: `username`, `password`, `host`, `port`, `dbname`, `engine`).
 */
export interface DatabaseCredentials {
  readonly username: string;
  readonly password: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly dbname: string | undefined;
}

const ENGINES: ReadonlySet<string> = new Set(['postgres', 'aurora-postgresql']);

/**
 * The credentials in a database secret's parsed JSON, or a `SCHEMA_MISMATCH` error that names the field at fault
 * and never quotes a value.
 */
export function parseCredentials(secretId: string, value: unknown): DatabaseCredentials | SecretCacheError {
  const problem = (detail: string) =>
    new SecretCacheError(
      'SCHEMA_MISMATCH',
      secretId,
      `Secret "${secretId}" is not a PostgreSQL credential: ${detail}`,
    );
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return problem('expected a JSON object.');
  }
  const fields = value as Readonly<Record<string, unknown>>;
  const { username, password, host, port, dbname, engine } = fields;
  if (typeof username !== 'string' || username === '')
    return problem('expected a non-empty string `username`.');
  if (typeof password !== 'string') return problem('expected a string `password`.');
  if (host !== undefined && typeof host !== 'string') return problem('expected `host` to be a string.');
  if (dbname !== undefined && typeof dbname !== 'string') return problem('expected `dbname` to be a string.');
  if (engine !== undefined && (typeof engine !== 'string' || !ENGINES.has(engine))) {
    return problem("expected `engine`, when present, to be 'postgres' or 'aurora-postgresql'.");
  }
  // RDS writes the port as a number; hand-made secrets often hold it as a string.
  const portNumber = typeof port === 'string' && /^\d{1,5}$/.test(port) ? Number(port) : port;
  if (
    portNumber !== undefined &&
    (typeof portNumber !== 'number' || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65_535)
  ) {
    return problem('expected `port` to be a port number.');
  }
  return { username, password, host, port: portNumber, dbname };
}
