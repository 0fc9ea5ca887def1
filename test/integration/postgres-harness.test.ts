import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../support/postgres.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

async function connectError(config: pg.ClientConfig): Promise<unknown> {
  const client = new pg.Client(config);
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('PostgreSQL harness', () => {
  let server: PostgresServer | undefined;

  afterAll(async () => {
    await server?.stop();
  });

  it('starts a server on 127.0.0.1 that the superuser logs in to with its password', async () => {
    server = await startPostgres();
    expect(server.host).toBe('127.0.0.1');
    expect(isAlive(server.pid)).toBe(true);

    const client = new pg.Client(server.connectionConfig());
    await client.connect();
    try {
      const { rows } = await client.query<{ user: string; max: string; fsync: string }>(
        "select current_user as user, current_setting('max_connections') as max, current_setting('fsync') as fsync",
      );
      expect(rows[0]).toEqual({ user: server.superuser.username, max: '200', fsync: 'off' });
    } finally {
      await client.end();
    }
  });

  it('rejects a wrong password with SQLSTATE 28P01, for the superuser and for a role it creates', async () => {
    if (server === undefined) throw new Error('no server');
    const admin = new pg.Client(server.connectionConfig());
    await admin.connect();
    try {
      await admin.query("CREATE ROLE harness_app WITH LOGIN PASSWORD 'right-password'");
    } finally {
      await admin.end();
    }

    expect(await connectError(server.connectionConfig(server.superuser.username, 'wrong'))).toMatchObject({
      code: '28P01',
    });
    expect(await connectError(server.connectionConfig('harness_app', 'wrong-password'))).toMatchObject({
      code: '28P01',
    });
    expect(await connectError(server.connectionConfig('harness_app', 'right-password'))).toBeUndefined();
  });

  it('stop() ends the server process, and a second stop() resolves too', async () => {
    if (server === undefined) throw new Error('no server');
    const { pid } = server;

    await server.stop();

    expect(isAlive(pid)).toBe(false);
    await server.stop();
    expect(
      await connectError({ ...server.connectionConfig(), connectionTimeoutMillis: 1_000 }),
    ).toBeInstanceOf(Error);
  });
});
