import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretCache } from '../../src/cache.js';
import { createPool, type SecretPool } from '../../src/pg/pool.js';
import { FakeClock, FakeSource } from '../support/fakes.js';
import { type PostgresServer, startPostgres } from '../support/postgres.js';

// createPool against a real PostgreSQL: real logins, real SQLSTATEs, real roles. The secret comes from an
// in-memory source, so each test moves AWSCURRENT and AWSPENDING by hand.
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

let roles = 0;
/** A new login role with a password, allowed to connect; returns its name. */
async function createRole(password: string): Promise<string> {
  const name = `app_${++roles}`;
  await admin.query(
    `CREATE ROLE ${pg.escapeIdentifier(name)} WITH LOGIN PASSWORD ${pg.escapeLiteral(password)}`,
  );
  return name;
}

async function setPassword(role: string, password: string): Promise<void> {
  await admin.query(`ALTER ROLE ${pg.escapeIdentifier(role)} WITH PASSWORD ${pg.escapeLiteral(password)}`);
}

function secretFor(username: string, password: string): string {
  return JSON.stringify({
    engine: 'postgres',
    host: server.host,
    port: server.port,
    dbname: 'postgres',
    username,
    password,
  });
}

function setup(poolOptions: Record<string, unknown> = {}) {
  const source = new FakeSource();
  const clock = new FakeClock();
  const cache = new SecretCache({ source, clock, ttlMs: 300_000, ttlJitter: 0, retry: { retries: 0 } });
  const pool = createPool({ cache, secretId: 'db', pool: { max: 5, ...poolOptions } });
  return { source, clock, cache, pool };
}

/** Opens `count` connections at once (so each logs in anew), runs `current_user` on each, releases them all. */
async function loginUsers(pool: SecretPool, count: number): Promise<string[]> {
  const clients = await Promise.all(Array.from({ length: count }, () => pool.connect()));
  try {
    return await Promise.all(
      clients.map(
        async (client) => (await client.query<{ u: string }>('select current_user as u')).rows[0]?.u ?? '',
      ),
    );
  } finally {
    for (const client of clients) client.release(true);
  }
}

describe('createPool against PostgreSQL', () => {
  it('queries as the user the secret names', async () => {
    const role = await createRole('first-pw');
    const { source, pool } = setup();
    source.put('db', secretFor(role, 'first-pw'));

    const { rows } = await pool.query<{ u: string }>('select current_user as u');

    expect(rows).toEqual([{ u: role }]);
    await pool.end();
  });

  it('recovers from a password changed under it: 28P01, one refresh, every connection logs in', async () => {
    const role = await createRole('old-pw');
    const { source, clock, pool } = setup();
    source.put('db', secretFor(role, 'old-pw'));
    await loginUsers(pool, 1);
    await setPassword(role, 'new-pw');
    source.put('db', secretFor(role, 'new-pw'));
    clock.advance(5_000);
    const calls = source.callsFor('db');

    const users = await loginUsers(pool, 5);

    expect(users).toEqual(Array(5).fill(role));
    expect(source.callsFor('db') - calls).toBe(1);
    await pool.end();
  });

  it('logs in with AWSPENDING in the window of a single-user rotation, before AWSCURRENT moves', async () => {
    const role = await createRole('pw-1');
    const { source, clock, pool } = setup();
    source.put('db', secretFor(role, 'pw-1'));
    await loginUsers(pool, 1);
    source.stagePending('db', secretFor(role, 'pw-2'));
    await setPassword(role, 'pw-2');
    clock.advance(5_000);

    const during = await loginUsers(pool, 5);
    source.finishRotation('db');
    clock.advance(300_001);
    const after = await loginUsers(pool, 5);

    expect(during).toEqual(Array(5).fill(role));
    expect(after).toEqual(Array(5).fill(role));
    await pool.end();
  });

  it('follows an alternating-users rotation to the other user, and the old pool ends', async () => {
    const role = await createRole('a-pw');
    const clone = await createRole('b-pw');
    const { source, clock, pool } = setup();
    source.put('db', secretFor(role, 'a-pw'));
    const held = await pool.connect();
    source.put('db', secretFor(clone, 'b-pw'));
    clock.advance(300_001);

    const users = await loginUsers(pool, 3);

    expect(users).toEqual(Array(3).fill(clone));
    expect((await held.query<{ u: string }>('select current_user as u')).rows[0]?.u).toBe(role);
    held.release();
    await expect.poll(() => pool.totalCount).toBe(0);
    await pool.end();
  });

  it("passes PostgreSQL's other errors through as pg raised them", async () => {
    const role = await createRole('pw');
    const { source, pool } = setup();
    source.put('db', secretFor(role, 'pw'));

    const error = await pool.query('select * from no_such_table').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(pg.DatabaseError);
    expect((error as pg.DatabaseError).code).toBe('42P01');
    await pool.end();
  });

  it('rejects with 28P01 when neither AWSCURRENT nor AWSPENDING is accepted, after one refresh', async () => {
    const role = await createRole('right-pw');
    const { source, pool } = setup();
    source.put('db', secretFor(role, 'wrong-pw'));

    const error = await pool.connect().catch((caught: unknown) => caught);

    expect((error as pg.DatabaseError).code).toBe('28P01');
    expect(source.callsFor('db')).toBeLessThanOrEqual(3);
    await pool.end();
  });
});
