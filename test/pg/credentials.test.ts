import { describe, expect, it } from 'vitest';
import { isSecretCacheError, type SecretCacheError } from '../../src/errors.js';
import { type DatabaseCredentials, parseCredentials } from '../../src/pg/credentials.js';

const RDS = {
  engine: 'postgres',
  host: 'db.internal',
  port: 5432,
  dbname: 'orders',
  username: 'orders_app',
  password: 'pw1',
} as const;

function accepted(value: unknown): DatabaseCredentials {
  const result = parseCredentials('prod/orders/db', value);
  if (isSecretCacheError(result)) throw new Error(`expected credentials, got: ${result.message}`);
  return result;
}

function rejected(value: unknown): SecretCacheError {
  const result = parseCredentials('prod/orders/db', value);
  if (!isSecretCacheError(result)) throw new Error(`expected SCHEMA_MISMATCH, got ${JSON.stringify(result)}`);
  expect(result.code).toBe('SCHEMA_MISMATCH');
  expect(result.secretId).toBe('prod/orders/db');
  return result;
}

/** The message for a secret at fault in `detail`: it names the secret and the field, never a value. */
const problem = (detail: string) => `Secret "prod/orders/db" is not a PostgreSQL credential: ${detail}`;

describe('parseCredentials', () => {
  it("takes the user, password, host, port and database of the JSON RDS's rotation templates write", () => {
    expect(accepted(RDS)).toEqual({
      username: 'orders_app',
      password: 'pw1',
      host: 'db.internal',
      port: 5432,
      dbname: 'orders',
    });
  });

  it('needs only username and password: host, port and database are left to the pool options', () => {
    expect(accepted({ username: 'orders_app', password: 'pw1' })).toEqual({
      username: 'orders_app',
      password: 'pw1',
      host: undefined,
      port: undefined,
      dbname: undefined,
    });
  });

  it.each(['postgres', 'aurora-postgresql'])('accepts the engine %s', (engine) => {
    expect(accepted({ ...RDS, engine }).username).toBe('orders_app');
  });

  it('accepts an empty password (a trust or peer login needs none)', () => {
    expect(accepted({ ...RDS, password: '' }).password).toBe('');
  });

  it.each([
    ['null', null],
    ['a string', 'postgres://orders_app:pw1@db.internal/orders'],
    ['a number', 5432],
    ['a boolean', true],
    ['an array', [RDS]],
  ])('rejects %s, which is no JSON object', (_, value) => {
    expect(rejected(value).message).toBe(problem('expected a JSON object.'));
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a number', 1001],
    ['null', null],
  ])('rejects a username that is %s', (_, username) => {
    expect(rejected({ ...RDS, username }).message).toBe(problem('expected a non-empty string `username`.'));
  });

  it.each([
    ['missing', undefined],
    ['a number', 1234],
    ['null', null],
  ])('rejects a password that is %s', (_, password) => {
    expect(rejected({ ...RDS, password }).message).toBe(problem('expected a string `password`.'));
  });

  it.each([
    ['host', 'a number', 10, 'expected `host` to be a string.'],
    ['host', 'null', null, 'expected `host` to be a string.'],
    ['dbname', 'a number', 5, 'expected `dbname` to be a string.'],
    ['dbname', 'an object', { name: 'orders' }, 'expected `dbname` to be a string.'],
  ])('rejects a %s that is %s', (field, _, value, detail) => {
    expect(rejected({ ...RDS, [field]: value }).message).toBe(problem(detail));
  });

  it.each([
    ['another engine', 'mysql'],
    ['the engine in capitals', 'Postgres'],
    ['a number', 5],
    ['null', null],
  ])('rejects %s as the engine', (_, engine) => {
    expect(rejected({ ...RDS, engine }).message).toBe(
      problem("expected `engine`, when present, to be 'postgres' or 'aurora-postgresql'."),
    );
  });

  it.each([
    [1, 1],
    [65_535, 65_535],
    ['6432', 6432],
    ['1', 1],
    ['65535', 65_535],
  ])('accepts the port %j as %d', (port, expected) => {
    expect(accepted({ ...RDS, port }).port).toBe(expected);
  });

  it.each([
    ['zero', 0],
    ['one past the last port', 65_536],
    ['negative', -5432],
    ['not an integer', 5432.5],
    ['a string of zero', '0'],
    ['a string past the last port', '65536'],
    ['a string of six digits', '100000'],
    ['a string with a leading space', ' 5432'],
    ['a string with a trailing space', '5432 '],
    ['a string with a sign', '+5432'],
    ['a string with a fraction', '5432.0'],
    ['a string in exponent form', '5e3'],
    ['an empty string', ''],
    ['a name', 'postgres'],
    ['an array holding a port', [5432]],
    ['a boolean', true],
    ['null', null],
  ])('rejects a port that is %s', (_, port) => {
    expect(rejected({ ...RDS, port }).message).toBe(problem('expected `port` to be a port number.'));
  });

  it('never quotes a value of the secret in its message', () => {
    const secret = { ...RDS, username: 'orders_app_qzv', password: 'hunter2-qzv-wxk', port: 'hunter2-port' };

    const { message } = rejected(secret);

    expect(message).not.toContain('qzv');
    expect(message).not.toContain('hunter2');
  });
});
