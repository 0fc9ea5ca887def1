import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type {
  CreatePendingContext,
  PendingContext,
  RotationTarget,
  RotationVersion,
} from '../../src/rotation/contract.js';
import { isRotationError, RotationError } from '../../src/rotation/errors.js';
import { rotationHandler } from '../../src/rotation/handler.js';
import { postgresTarget } from '../../src/rotation/postgres-target.js';
import { expectNoFragment, renderingsOf } from '../support/leaks.js';
import { type MotoServer, stagePendingPlaceholder, startMotoServer } from '../support/moto.js';
import { type PostgresServer, startPostgres } from '../support/postgres.js';

// postgresTarget against a real PostgreSQL: real roles, real logins, real SQLSTATEs. The rotation contexts are
// made by hand, so each test decides what the AWSCURRENT, AWSPENDING and AWSPREVIOUS versions hold.
const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db';
const SUPERUSER_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-admin';

let server: PostgresServer;
let admin: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Client(server.connectionConfig());
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

/** A role name no message or stack trace contains by chance (leak checks look for 5-character fragments). */
const roleName = (): string => `u${randomBytes(6).toString('hex')}`;
const newPassword = (): string => `P${randomBytes(15).toString('base64url')}`;

async function createRole(name: string, password: string): Promise<void> {
  await admin.query(
    `CREATE ROLE ${pg.escapeIdentifier(name)} WITH LOGIN PASSWORD ${pg.escapeLiteral(password)}`,
  );
}

async function roleExists(name: string): Promise<boolean> {
  const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  return rowCount === 1;
}

/** `undefined` when `username` logs in with `password`, else the SQLSTATE (or errno) of the failure. */
async function loginFailure(username: string, password: string): Promise<string | undefined> {
  const client = new pg.Client(server.connectionConfig(username, password));
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code';
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs `sql` as `username` and returns the rows. */
async function queryAs(username: string, password: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client(server.connectionConfig(username, password));
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Connections the target opened that are still open (the server takes a moment to see a close). */
async function expectNoTargetConnections(): Promise<void> {
  await vi.waitFor(
    async () => {
      const { rows } = await admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'secretcache-rotation'",
      );
      expect(rows[0]?.n).toBe(0);
    },
    { timeout: 5_000, interval: 20 },
  );
}

type Fields = Record<string, unknown>;
/** A database secret's JSON, as the tests write and read it. */
type Secret = Fields & { readonly username: string; readonly password: string };

function secretOf(username: string, password: string, extra: Fields = {}): Secret {
  return {
    engine: 'postgres',
    host: server.host,
    port: server.port,
    dbname: 'postgres',
    username,
    password,
    ...extra,
  };
}

/** A version as the handler hands it: `json()` parses, or throws INVALID_SECRET without quoting the value. */
function version(value: Fields | string, stage: string): RotationVersion {
  const secretString = typeof value === 'string' ? value : JSON.stringify(value);
  return {
    versionId: randomUUID(),
    versionStages: [stage],
    secretString,
    secretBinary: undefined,
    json() {
      let parsed: unknown;
      try {
        parsed = JSON.parse(secretString);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new RotationError('INVALID_SECRET', undefined, SECRET_ID, 'The version is not a JSON object.');
      }
      return parsed as Record<string, unknown>;
    },
  };
}

interface Versions {
  readonly current: Fields | string;
  readonly pending: Fields | string;
  readonly previous?: Fields | string;
  /** Other secrets `readSecret` can read: the superuser's. */
  readonly secrets?: Readonly<Record<string, Fields>>;
}

function pendingContext(step: 'setSecret' | 'testSecret', versions: Versions): PendingContext {
  const { previous, secrets = {} } = versions;
  return {
    step,
    secretId: SECRET_ID,
    token: randomUUID(),
    current: version(versions.current, 'AWSCURRENT'),
    pending: version(versions.pending, 'AWSPENDING'),
    previous: async () => (previous === undefined ? undefined : version(previous, 'AWSPREVIOUS')),
    readSecret: async (secretId) => {
      const value = secrets[secretId];
      if (value === undefined) throw new RotationError('AWS_FAILED', step, SECRET_ID, 'No such secret.');
      return version(value, 'AWSCURRENT');
    },
  };
}

function createContext(current: Fields | string, password = newPassword()): CreatePendingContext {
  return {
    step: 'createSecret',
    secretId: SECRET_ID,
    token: randomUUID(),
    current: version(current, 'AWSCURRENT'),
    randomPassword: async () => password,
  };
}

const superuserSecret = (): Fields => ({
  username: server.superuser.username,
  password: server.superuser.password,
});

/** createSecret, setSecret and testSecret by hand; returns the new current value. */
async function rotate(
  target: RotationTarget,
  current: Secret,
  previous?: Secret,
  password = newPassword(),
): Promise<Secret> {
  const created = await target.createPending?.(createContext(current, password));
  const pending = JSON.parse(String(created)) as Secret;
  const versions: Versions = {
    current,
    pending,
    ...(previous === undefined ? {} : { previous }),
    secrets: { [SUPERUSER_ID]: superuserSecret() },
  };
  await target.setPending(pendingContext('setSecret', versions));
  await target.testPending(pendingContext('testSecret', versions));
  return pending;
}

async function rejectionOf(promise: Promise<unknown>): Promise<RotationError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isRotationError(error)) throw new Error(`expected a RotationError, got ${String(error)}`);
  return error;
}

function expectNoneOf(error: unknown, ...values: string[]): void {
  const rendered = renderingsOf(error);
  for (const value of values) expectNoFragment(rendered, value);
}

const singleUser = () => postgresTarget({ strategy: 'single-user' });
const alternating = () => postgresTarget({ strategy: 'alternating-users', superuserSecretId: SUPERUSER_ID });

describe('postgresTarget options', () => {
  it('rejects an unknown option with the name it resembles', () => {
    expect(() => postgresTarget({ stratgy: 'single-user' } as never)).toThrow(
      new TypeError('Unknown option `stratgy` in options of postgresTarget; did you mean `strategy`?'),
    );
  });

  it('rejects options that are not an object, and a strategy it does not know', () => {
    expect(() => postgresTarget(null as never)).toThrow(TypeError);
    expect(() => postgresTarget({} as never)).toThrow(
      "Expected `strategy` to be 'single-user' or 'alternating-users', got undefined.",
    );
    expect(() => postgresTarget({ strategy: 'multi-user' } as never)).toThrow(
      "Expected `strategy` to be 'single-user' or 'alternating-users', got a string of length 10.",
    );
  });

  it('requires superuserSecretId for alternating users, and accepts it unused for a single user', () => {
    expect(() => postgresTarget({ strategy: 'alternating-users' })).toThrow(
      "Expected `superuserSecretId` with strategy 'alternating-users': a superuser creates the other user.",
    );
    expect(() => postgresTarget({ strategy: 'alternating-users', superuserSecretId: '' })).toThrow(
      'Expected `superuserSecretId` to be a non-empty string, got a string of length 0.',
    );
    expect(postgresTarget({ strategy: 'single-user', superuserSecretId: SUPERUSER_ID })).toHaveProperty(
      'setPending',
    );
  });

  it('rejects a credential in `connection`: the credentials are the secrets', () => {
    for (const key of ['user', 'password', 'connectionString']) {
      expect(() => postgresTarget({ strategy: 'single-user', connection: { [key]: 'x' } as never })).toThrow(
        `Expected no \`connection.${key}\`: the credentials come from the secrets.`,
      );
    }
    expect(() => postgresTarget({ strategy: 'single-user', connection: 'host=x' as never })).toThrow(
      'Expected `connection` to be an object, got a string of length 6.',
    );
  });

  it('rejects an empty testQuery', () => {
    expect(() => postgresTarget({ strategy: 'single-user', testQuery: ' ' })).toThrow(
      'Expected `testQuery` to be a non-empty string, got a string of length 1.',
    );
  });
});

describe('postgresTarget without pg installed', () => {
  afterEach(() => {
    vi.doUnmock('pg');
    vi.resetModules();
  });

  it('imports and creates versions, and fails setSecret and testSecret saying to install pg', async () => {
    vi.resetModules();
    vi.doMock('pg', () => {
      throw new Error("Cannot find package 'pg'");
    });
    const rotation = await import('../../src/rotation.js');
    const target = rotation.postgresTarget({ strategy: 'single-user' });
    const current = secretOf('someone', 'old-password');
    const versions = { current, pending: { ...current, password: 'new-password' } };

    await expect(target.createPending?.(createContext(current, 'new-password'))).resolves.toBe(
      JSON.stringify(versions.pending),
    );
    const set = await rejectionOf(target.setPending(pendingContext('setSecret', versions)));
    const test = await rejectionOf(target.testPending(pendingContext('testSecret', versions)));

    expect(set).toMatchObject({ code: 'SET_FAILED', step: 'setSecret', secretId: SECRET_ID });
    expect(set.message).toContain('npm install pg');
    expect(test).toMatchObject({ code: 'TEST_FAILED', step: 'testSecret' });
  });
});

describe('createPending', () => {
  it('single user: the current JSON, every field kept, with the new password', async () => {
    const current = secretOf('orders', 'old', { proxy: 'orders-proxy', port: '6543' });

    const created = await singleUser().createPending?.(createContext(current, 'the-new-one'));

    expect(JSON.parse(String(created))).toEqual({ ...current, password: 'the-new-one' });
  });

  it('alternating users: the clone for the original, the original for the clone', async () => {
    const target = alternating();

    const toClone = JSON.parse(
      String(await target.createPending?.(createContext(secretOf('orders', 'a'), 'b'))),
    );
    const back = JSON.parse(String(await target.createPending?.(createContext(toClone, 'c'))));

    expect(toClone).toEqual(secretOf('orders_clone', 'b'));
    expect(back).toEqual(secretOf('orders', 'c'));
  });

  it('alternating users: a clone name over 63 bytes is INVALID_SECRET, never truncated', async () => {
    // 58 bytes, 29 characters: the clone's 64 bytes are what PostgreSQL would cut.
    const wide = 'é'.repeat(29);

    const error = await rejectionOf(alternating().createPending!(createContext(secretOf(wide, 'pw'))));

    expect(error).toMatchObject({ code: 'INVALID_SECRET', step: 'createSecret' });
    expect(error.message).toContain('63 bytes');
    expect(error.message).not.toContain('é');
  });

  it('rejects a current version that is no PostgreSQL credential, naming the field and not the value', async () => {
    const cases: Array<[Secret, string]> = [
      [secretOf('kvothe', 'pw-pw-pw', { engine: 'mysql' }), '`engine`'],
      [secretOf('kvothe', 'pw-pw-pw', { host: undefined }), '`host`'],
      [secretOf('kvothe', 'pw-pw-pw', { port: 'fivefour' }), '`port`'],
      [secretOf('kvothe', 'pw-pw-pw', { port: 70_000 }), '`port`'],
      [secretOf('', 'pw-pw-pw'), '`username`'],
      [secretOf('kvothe', ''), '`password`'],
      [secretOf('kvothe\0x', 'pw-pw-pw'), '`username`'],
      [secretOf('kvothe', 'pw-pw-pw', { dbname: 5 }), '`dbname`'],
    ];
    for (const [current, field] of cases) {
      const error = await rejectionOf(singleUser().createPending!(createContext(current)));
      expect(error.code).toBe('INVALID_SECRET');
      expect(error.message).toContain(field);
      expectNoneOf(error, 'fivefour', 'kvothe', 'pw-pw-pw');
    }
  });
});

describe('single-user strategy', () => {
  it('sets the pending password with the current one, and testSecret logs in with it', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const pending = { ...current, password: newPassword() };

    await singleUser().setPending(pendingContext('setSecret', { current, pending }));
    await singleUser().testPending(pendingContext('testSecret', { current, pending }));

    expect(await loginFailure(name, pending.password)).toBeUndefined();
    expect(await loginFailure(name, current.password)).toBe('28P01');
    await expectNoTargetConnections();
  });

  it('is idempotent: a second setSecret finds the pending password set and changes nothing', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const pending = { ...current, password: newPassword() };
    const target = singleUser();

    await target.setPending(pendingContext('setSecret', { current, pending }));
    await target.setPending(pendingContext('setSecret', { current, pending }));

    expect(await loginFailure(name, pending.password)).toBeUndefined();
    await expectNoTargetConnections();
  });

  it('logs in with the previous password when the current one no longer works', async () => {
    const name = roleName();
    const previous = secretOf(name, newPassword());
    await createRole(name, previous.password);
    // A rotation that failed after its version became current but before the database took the password.
    const current = { ...previous, password: newPassword() };
    const pending = { ...previous, password: newPassword() };

    await singleUser().setPending(pendingContext('setSecret', { current, pending, previous }));

    expect(await loginFailure(name, pending.password)).toBeUndefined();
  });

  it('does not try a previous version of another user', async () => {
    const name = roleName();
    const other = roleName();
    const otherPassword = newPassword();
    await createRole(other, otherPassword);
    await createRole(name, newPassword());
    const current = secretOf(name, newPassword());
    const pending = { ...current, password: newPassword() };

    const error = await rejectionOf(
      singleUser().setPending(
        pendingContext('setSecret', { current, pending, previous: secretOf(other, otherPassword) }),
      ),
    );

    expect(error).toMatchObject({ code: 'SET_FAILED', cause: { code: '28P01' } });
    expect(await loginFailure(other, otherPassword)).toBeUndefined();
  });

  it('a pending version for another user is INVALID_SECRET, and no password changes', async () => {
    const name = roleName();
    const other = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    await createRole(other, 'other-password');
    const pending = { ...current, username: other, password: newPassword() };

    const error = await rejectionOf(
      singleUser().setPending(pendingContext('setSecret', { current, pending })),
    );

    expect(error).toMatchObject({ code: 'INVALID_SECRET', step: 'setSecret', secretId: SECRET_ID });
    expect(await loginFailure(other, 'other-password')).toBeUndefined();
    expect(await loginFailure(name, current.password)).toBeUndefined();
    expectNoneOf(error, name, other, pending.password, current.password);
  });

  it('a pending version for another host or port is INVALID_SECRET: the confused deputy', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);

    for (const elsewhere of [{ host: 'db.attacker.example' }, { port: server.port + 1 }]) {
      const pending = { ...current, ...elsewhere, password: newPassword() };
      const error = await rejectionOf(
        singleUser().setPending(pendingContext('setSecret', { current, pending })),
      );
      expect(error.code).toBe('INVALID_SECRET');
      expect(error.message).toContain('names a server (host or port) other than the AWSCURRENT one');
      expectNoneOf(error, 'attacker');
    }
    expect(await loginFailure(name, current.password)).toBeUndefined();
  });

  it('no credential logs in: SET_FAILED whose cause keeps 28P01 and nothing the server said', async () => {
    const name = roleName();
    await createRole(name, newPassword());
    const current = secretOf(name, newPassword());
    const pending = { ...current, password: newPassword() };
    const previous = { ...current, password: newPassword() };

    const error = await rejectionOf(
      singleUser().setPending(pendingContext('setSecret', { current, pending, previous })),
    );

    expect(error).toMatchObject({ code: 'SET_FAILED', step: 'setSecret' });
    expect(error.message).toContain('(28P01)');
    expect(error.cause).toMatchObject({ code: '28P01', message: 'PostgreSQL error 28P01' });
    expect(error.toJSON()).toMatchObject({ causeCode: '28P01' });
    // The server's own text names the user: "password authentication failed for user ..."
    expect(renderingsOf(error)).not.toContain('authentication failed');
    expectNoneOf(error, name, current.password, pending.password, previous.password);
    await expectNoTargetConnections();
  });

  it('testSecret with a password the server does not take is TEST_FAILED with code 28P01', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const pending = { ...current, password: newPassword() };

    const error = await rejectionOf(
      singleUser().testPending(pendingContext('testSecret', { current, pending })),
    );

    expect(error).toMatchObject({ code: 'TEST_FAILED', step: 'testSecret', cause: { code: '28P01' } });
    expectNoneOf(error, name, pending.password);
  });

  it('testSecret runs testQuery: a failing one is TEST_FAILED with its SQLSTATE, without the server text', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const target = postgresTarget({
      strategy: 'single-user',
      testQuery: 'SELECT * FROM no_such_table_xyzzy',
    });

    const error = await rejectionOf(
      target.testPending(pendingContext('testSecret', { current, pending: current })),
    );

    expect(error).toMatchObject({ code: 'TEST_FAILED', cause: { code: '42P01' } });
    expect(renderingsOf(error)).not.toContain('xyzzy');
    await expectNoTargetConnections();
  });

  it('passes connection options to every connection: a server that does not answer is ECONNREFUSED', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    const target = postgresTarget({ strategy: 'single-user', connection: { port: 1 } });

    const error = await rejectionOf(
      target.testPending(pendingContext('testSecret', { current, pending: current })),
    );

    expect(error).toMatchObject({ code: 'TEST_FAILED', cause: { code: 'ECONNREFUSED' } });
    // A network error's own message names the host and port, which are part of the secret's value.
    expect(renderingsOf(error)).not.toContain('127.0.0.1');
  });

  it('three rotations in a row: each password logs in, the one before does not', async () => {
    const name = roleName();
    let current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const target = singleUser();

    for (let rotation = 0; rotation < 3; rotation++) {
      const before = current;
      current = await rotate(target, current, before);
      expect(await loginFailure(name, current.password)).toBeUndefined();
      expect(await loginFailure(name, before.password)).toBe('28P01');
    }
    await expectNoTargetConnections();
  });
});

describe('alternating-users strategy', () => {
  it('first rotation creates the clone, with the privileges of the original; both users log in', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const table = `t_${roleName()}`;
    await admin.query(`CREATE TABLE ${table} (v int)`);
    await admin.query(`INSERT INTO ${table} VALUES (42)`);
    await admin.query(`ALTER TABLE ${table} OWNER TO ${pg.escapeIdentifier(name)}`);

    const pending = await rotate(alternating(), current);

    expect(pending.username).toBe(`${name}_clone`);
    expect(await queryAs(`${name}_clone`, pending.password, `SELECT v FROM ${table}`)).toEqual([{ v: 42 }]);
    expect(await loginFailure(name, current.password)).toBeUndefined();
    await expectNoTargetConnections();
  });

  it('second rotation changes the original password; the clone keeps working', async () => {
    const name = roleName();
    const first = secretOf(name, newPassword());
    await createRole(name, first.password);
    const target = alternating();

    const second = await rotate(target, first);
    const third = await rotate(target, second, first);

    expect(third.username).toBe(name);
    expect(await loginFailure(name, third.password)).toBeUndefined();
    expect(await loginFailure(name, first.password)).toBe('28P01');
    expect(await loginFailure(`${name}_clone`, second.password)).toBeUndefined();
  });

  it('three rotations: after each, the new current and the one before it log in', async () => {
    const name = roleName();
    let current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const target = alternating();

    for (let rotation = 0; rotation < 3; rotation++) {
      const before = current;
      current = await rotate(target, current, before);
      expect(await loginFailure(current.username, current.password)).toBeUndefined();
      expect(await loginFailure(before.username, before.password)).toBeUndefined();
    }
  });

  it('is idempotent: a second setSecret sets the same password again', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const pending = secretOf(`${name}_clone`, newPassword());
    const versions = { current, pending, secrets: { [SUPERUSER_ID]: superuserSecret() } };

    await alternating().setPending(pendingContext('setSecret', versions));
    await alternating().setPending(pendingContext('setSecret', versions));

    expect(await loginFailure(`${name}_clone`, pending.password)).toBeUndefined();
    await expectNoTargetConnections();
  });

  it('a pending user that is not the alternate is INVALID_SECRET, and no role is created', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const stranger = roleName();
    const pending = secretOf(stranger, newPassword());

    const error = await rejectionOf(
      alternating().setPending(
        pendingContext('setSecret', { current, pending, secrets: { [SUPERUSER_ID]: superuserSecret() } }),
      ),
    );

    expect(error.code).toBe('INVALID_SECRET');
    expect(await roleExists(stranger)).toBe(false);
    expectNoneOf(error, name, stranger, pending.password);
  });

  it('a current credential that does not log in is SET_FAILED before the superuser is asked', async () => {
    const name = roleName();
    await createRole(name, newPassword());
    const current = secretOf(name, newPassword());
    const pending = secretOf(`${name}_clone`, newPassword());
    let superuserReads = 0;
    const context = pendingContext('setSecret', { current, pending });

    const error = await rejectionOf(
      alternating().setPending({
        ...context,
        readSecret: async (id) => {
          superuserReads++;
          return context.readSecret(id);
        },
      }),
    );

    expect(error).toMatchObject({ code: 'SET_FAILED', cause: { code: '28P01' } });
    expect(superuserReads).toBe(0);
    expect(await roleExists(`${name}_clone`)).toBe(false);
  });

  it('a current user whose clone name would exceed 63 bytes is INVALID_SECRET at setSecret', async () => {
    const name = `${'x'.repeat(58)}`;
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const pending = secretOf(`${name}_clone`.slice(0, 63), newPassword());

    const error = await rejectionOf(
      alternating().setPending(
        pendingContext('setSecret', { current, pending, secrets: { [SUPERUSER_ID]: superuserSecret() } }),
      ),
    );

    expect(error.code).toBe('INVALID_SECRET');
    expect(await roleExists(`${name}_clon`)).toBe(false);
  });

  it('a superuser secret for another host is INVALID_SECRET', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const pending = secretOf(`${name}_clone`, newPassword());
    const secrets = { [SUPERUSER_ID]: { ...superuserSecret(), host: 'db.attacker.example' } };

    const error = await rejectionOf(
      alternating().setPending(pendingContext('setSecret', { current, pending, secrets })),
    );

    expect(error.code).toBe('INVALID_SECRET');
    expect(error.message).toContain(`superuser secret "${SUPERUSER_ID}"`);
    expect(await roleExists(`${name}_clone`)).toBe(false);
  });

  it('a wrong superuser password is SET_FAILED with a sanitized cause carrying 28P01', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const pending = secretOf(`${name}_clone`, newPassword());
    const wrong = newPassword();
    const secrets = { [SUPERUSER_ID]: { username: server.superuser.username, password: wrong } };

    const error = await rejectionOf(
      alternating().setPending(pendingContext('setSecret', { current, pending, secrets })),
    );

    expect(error).toMatchObject({ code: 'SET_FAILED', step: 'setSecret', secretId: SECRET_ID });
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause).toMatchObject({ code: '28P01', message: 'PostgreSQL error 28P01' });
    expect(Object.keys(error.cause as object).sort()).toEqual(['code', 'name']);
    expect(renderingsOf(error)).not.toContain('authentication failed');
    expectNoneOf(error, wrong, name, pending.password, current.password);
    expect(await roleExists(`${name}_clone`)).toBe(false);
    await expectNoTargetConnections();
  });

  it('a superuser secret that is missing is the handler client’s own RotationError', async () => {
    const name = roleName();
    const current = secretOf(name, newPassword());
    await createRole(name, current.password);
    const pending = secretOf(`${name}_clone`, newPassword());

    const error = await rejectionOf(
      alternating().setPending(pendingContext('setSecret', { current, pending, secrets: {} })),
    );

    expect(error.code).toBe('AWS_FAILED');
    await expectNoTargetConnections();
  });
});

describe('SQL injection through a secret', () => {
  const hostile = [
    'x"; DROP ROLE sentinel; --',
    "o'; DROP TABLE sentinel_t; --",
    '$$',
    '$$; DROP TABLE sentinel_t; $$',
    'back\\slash\\',
    "\\'; DROP TABLE sentinel_t; --",
    '"',
    "'",
    'ünï"cødé\'☃',
    "E'\\x27'",
  ];

  beforeAll(async () => {
    await admin.query('CREATE ROLE sentinel WITH LOGIN PASSWORD $$sentinel-password$$');
    await admin.query('CREATE TABLE sentinel_t (v int)');
  });

  afterEach(async () => {
    expect(await roleExists('sentinel')).toBe(true);
    const { rows } = await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'sentinel_t'",
    );
    expect(rows[0]?.n).toBe(1);
    const { rows: flags } = await admin.query<{ super: boolean }>(
      "SELECT rolsuper AS super FROM pg_roles WHERE rolname = 'sentinel'",
    );
    expect(flags[0]?.super).toBe(false);
  });

  it.each(hostile)(
    'single user: the password %j is set as it is, and nothing else runs',
    async (password) => {
      const name = roleName();
      const current = secretOf(name, newPassword());
      await createRole(name, current.password);
      const pending = { ...current, password: `${password}; ALTER ROLE sentinel SUPERUSER; --` };

      await singleUser().setPending(pendingContext('setSecret', { current, pending }));
      await singleUser().testPending(pendingContext('testSecret', { current, pending }));

      expect(await loginFailure(name, pending.password)).toBeUndefined();
    },
  );

  it.each(hostile)('alternating: the user %j gets a clone named exactly after it', async (hostileName) => {
    const name = `${hostileName} ${roleName()}`;
    const current = secretOf(name, `${hostileName}${newPassword()}`);
    await createRole(name, current.password);
    const target = alternating();

    const pending = await rotate(target, current, undefined, `${hostileName}${newPassword()}`);
    const back = await rotate(target, pending, current, `${newPassword()}${hostileName}`);

    expect(pending.username).toBe(`${name}_clone`);
    expect(await loginFailure(name, back.password)).toBeUndefined();
    expect(await roleExists(`${name}_clone`)).toBe(true);
    const { rows } = await admin.query<{ member: string }>(
      'SELECT m.rolname AS member FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid ' +
        'JOIN pg_roles m ON m.oid = a.member WHERE r.rolname = $1',
      [name],
    );
    expect(rows).toEqual([{ member: `${name}_clone` }]);
    expect(await loginFailure(`${name}_clone`, pending.password)).toBeUndefined();
  });
});

describe('rotationHandler(postgresTarget(...)) through moto_server', () => {
  let moto: MotoServer;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    moto = await startMotoServer();
    client = moto.client();
    await client.send(
      new CreateSecretCommand({ Name: SUPERUSER_ID, SecretString: JSON.stringify(superuserSecret()) }),
    );
  });

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  /** moto answers a GetSecretValue without a stage with the first version ever: always name one. */
  async function stage(secretId: string, versionStage: string): Promise<{ id: string; value: Secret }> {
    const out = await client.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: versionStage }),
    );
    return { id: String(out.VersionId), value: JSON.parse(String(out.SecretString)) as Secret };
  }

  /** A secret for a new role, rotation enabled (moto: rules, no immediate rotation, no Lambda). */
  async function rotatedSecret(): Promise<{ secretId: string; name: string }> {
    const name = roleName();
    const secretId = `e2e/${name}`;
    const initial = secretOf(name, newPassword());
    await createRole(name, initial.password);
    await client.send(new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(initial) }));
    await client.send(
      new RotateSecretCommand({
        SecretId: secretId,
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediately: false,
      }),
    );
    return { secretId, name };
  }

  async function rotateFully(handler: ReturnType<typeof rotationHandler>, secretId: string): Promise<string> {
    const token = randomUUID();
    await stagePendingPlaceholder(client, secretId, token);
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      await handler({ Step, SecretId: secretId, ClientRequestToken: token });
    }
    return token;
  }

  it('single user: three rotations, each AWSCURRENT logs in and the one before it no longer does', async () => {
    const { secretId, name } = await rotatedSecret();
    const handler = rotationHandler(singleUser(), { client, log: false });

    for (let rotation = 0; rotation < 3; rotation++) {
      const before = await stage(secretId, 'AWSCURRENT');
      const token = await rotateFully(handler, secretId);
      const after = await stage(secretId, 'AWSCURRENT');

      expect(after.id).toBe(token);
      expect(after.value).toEqual({ ...before.value, password: after.value.password });
      expect(await loginFailure(after.value.username, after.value.password)).toBeUndefined();
      expect(await loginFailure(name, before.value.password)).toBe('28P01');
      expect((await stage(secretId, 'AWSPREVIOUS')).id).toBe(before.id);
    }
    await expectNoTargetConnections();
  });

  it('alternating users: three rotations alternate the users, and AWSPREVIOUS keeps logging in', async () => {
    const { secretId, name } = await rotatedSecret();
    const table = `t_${roleName()}`;
    await admin.query(`CREATE TABLE ${table} (v int)`);
    await admin.query(`INSERT INTO ${table} VALUES (7)`);
    await admin.query(`GRANT SELECT ON ${table} TO ${pg.escapeIdentifier(name)}`);
    const handler = rotationHandler(alternating(), { client, log: false });
    const users: string[] = [];

    for (let rotation = 0; rotation < 3; rotation++) {
      const token = await rotateFully(handler, secretId);
      const current = await stage(secretId, 'AWSCURRENT');
      const previous = await stage(secretId, 'AWSPREVIOUS');

      expect(current.id).toBe(token);
      users.push(current.value.username);
      expect(await queryAs(current.value.username, current.value.password, `SELECT v FROM ${table}`)).toEqual(
        [{ v: 7 }],
      );
      expect(await loginFailure(previous.value.username, previous.value.password)).toBeUndefined();
    }
    expect(users).toEqual([`${name}_clone`, name, `${name}_clone`]);
    await expectNoTargetConnections();
  });
});
