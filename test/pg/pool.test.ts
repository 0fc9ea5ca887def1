import { afterEach, describe, expect, it } from 'vitest';
import { SecretCache } from '../../src/cache.js';
import { isSecretCacheError } from '../../src/errors.js';
import { createPool, type SecretPool } from '../../src/pg/pool.js';
import { dbSecret, FakeDatabase, FakeDatabaseError } from '../support/fake-pg.js';
import { deferred, FakeClock, FakeSource } from '../support/fakes.js';
import { expectNoFragment, renderingsOf } from '../support/leaks.js';

const pools: SecretPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
});

/** The error pg.Pool rejects a use after `end()` with: the message compared whole, and an Error. */
const ENDED = new Error('Cannot use a pool after calling end on the pool');

function setup(poolOptions: Record<string, unknown> = {}, versionStage?: string) {
  const source = new FakeSource();
  const clock = new FakeClock();
  const database = new FakeDatabase();
  const cache = new SecretCache({ source, clock, ttlMs: 300_000, ttlJitter: 0, retry: { retries: 0 } });
  const pool = createPool({
    cache,
    secretId: 'db',
    ...(versionStage === undefined ? {} : { versionStage }),
    pool: { Client: database.Client as never, ...poolOptions },
  });
  pools.push(pool);
  return { source, clock, database, cache, pool };
}

/** Opens `count` connections at once and keeps them checked out, so that the next ones must log in anew. */
async function checkOut(pool: SecretPool, count: number) {
  return Promise.all(Array.from({ length: count }, () => pool.connect()));
}

describe('createPool', () => {
  it("logs in with the secret's user, password, host, port and database", async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');

    const result = await pool.query('select current_user');

    expect(result.rows).toEqual([{ user: 'orders_app' }]);
    expect(database.attempts).toEqual([
      {
        user: 'orders_app',
        password: 'pw1',
        host: 'db.internal',
        port: 5432,
        database: 'orders',
        accepted: true,
      },
    ]);
  });

  it("lets the pool options' host, port and database win over the secret's", async () => {
    const { source, database, pool } = setup({ host: '127.0.0.1', port: 6543, database: 'tunnelled' });
    source.put('db', dbSecret('orders_app', 'pw1', { port: '5432' }));
    database.passwords.set('orders_app', 'pw1');

    await pool.query('select 1');

    expect(database.attempts[0]).toMatchObject({ host: '127.0.0.1', port: 6543, database: 'tunnelled' });
  });

  it('reads a port given as a string in the secret as a number', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1', { port: '6432' }));
    database.passwords.set('orders_app', 'pw1');

    await pool.query('select 1');

    expect(database.attempts[0]?.port).toBe(6432);
  });

  it('calls AWS once for many new connections while the secret is fresh', async () => {
    const { source, database, pool } = setup({ max: 20 });
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');

    const clients = await checkOut(pool, 20);
    for (const client of clients) client.release();

    expect(database.attempts).toHaveLength(20);
    expect(source.callsFor('db')).toBe(1);
  });

  it('logs new connections in with the new password once the cache holds a new version', async () => {
    const { source, clock, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    const first = await pool.connect();
    source.put('db', dbSecret('orders_app', 'pw2'));
    database.passwords.set('orders_app', 'pw2');
    clock.advance(300_001);

    const second = await pool.connect();

    expect(database.attempts.map(({ password, accepted }) => [password, accepted])).toEqual([
      ['pw1', true],
      ['pw2', true],
    ]);
    first.release();
    second.release();
  });

  it('opens a new inner pool when the user changes, and ends the old one once its clients are released', async () => {
    const { source, clock, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    database.passwords.set('orders_app_clone', 'pw2');
    const old = await pool.connect();
    const idle = await pool.connect();
    idle.release();
    source.put('db', dbSecret('orders_app_clone', 'pw2'));
    clock.advance(300_001);

    const fresh = await pool.connect();

    expect(database.attempts.at(-1)).toMatchObject({ user: 'orders_app_clone', accepted: true });
    // The old pool's idle client is closed at once; the checked-out one keeps working until it is released.
    expect(pool.totalCount).toBe(2);
    await expect(old.query('select 1')).resolves.toMatchObject({ rows: [{ user: 'orders_app' }] });
    old.release();
    await Promise.resolve();
    expect(pool.totalCount).toBe(1);
    expect(database.openConnections).toBe(1);
    fresh.release();
  });

  it('serves the connects queued in the old user’s pool when the user changes, then ends that pool', async () => {
    const { source, clock, database, pool } = setup({ max: 1 });
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    database.passwords.set('orders_app_clone', 'pw2');
    const busy = await pool.connect();
    const queued = pool.connect(); // waits in the old pool's queue: max 1
    await new Promise((resolve) => setImmediate(resolve));
    source.put('db', dbSecret('orders_app_clone', 'pw2'));
    clock.advance(300_001);
    const fresh = await pool.connect(); // opens the new user's pool and retires the old one

    busy.release();
    const served = await queued;

    await expect(served.query('select 1')).resolves.toMatchObject({ rows: [{ user: 'orders_app' }] });
    served.release();
    await expect.poll(() => pool.totalCount).toBe(1);
    fresh.release();
  });

  it('refreshes once for many connections rejected with 28P01, and every one of them succeeds', async () => {
    const { source, clock, database, pool } = setup({ max: 30 });
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    (await pool.connect()).release();
    // Rotated elsewhere: the database and AWSCURRENT both moved on, the cache still holds pw1.
    source.put('db', dbSecret('orders_app', 'pw2'));
    database.passwords.set('orders_app', 'pw2');
    clock.advance(10_000);
    const callsBefore = source.callsFor('db');

    const clients = await checkOut(pool, 30);

    expect(clients).toHaveLength(30);
    expect(source.callsFor('db') - callsBefore).toBe(1);
    const retried = database.attempts.slice(1).filter(({ accepted }) => accepted);
    expect(retried.every(({ password }) => password === 'pw2')).toBe(true);
    for (const client of clients) client.release();
  });

  it('logs in with AWSPENDING between setSecret and finishSecret of a single-user rotation', async () => {
    const { source, clock, database, pool } = setup({ max: 10 });
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    (await pool.connect()).release();
    source.stagePending('db', dbSecret('orders_app', 'pw2'));
    database.passwords.set('orders_app', 'pw2'); // setSecret ran; AWSCURRENT still names pw1
    clock.advance(10_000);

    const clients = await checkOut(pool, 10);
    for (const client of clients) client.release();
    const rejectedDuringWindow = database.rejectedAttempts();
    const later = await checkOut(pool, 10);

    expect(clients).toHaveLength(10);
    expect(database.attempts.filter(({ accepted }) => accepted).at(-1)?.password).toBe('pw2');
    // Once the pending version worked, new connections start with it: no more rejections.
    expect(database.rejectedAttempts()).toBe(rejectedDuringWindow);
    for (const client of later) client.release();
  });

  it('never logs in again with a version PostgreSQL rejected, even when a slower read hands it over', async () => {
    const { source, clock, database, pool } = setup({ max: 10 });
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    (await pool.connect()).release();
    source.stagePending('db', dbSecret('orders_app', 'pw2'));
    database.passwords.set('orders_app', 'pw2');
    clock.advance(10_000);
    const first = await checkOut(pool, 3);
    const attemptsBefore = database.attempts.length;

    // AWSCURRENT still names pw1 (fresh in the cache): reads hand it out, the pool must not use it.
    const next = await checkOut(pool, 5);

    const since = database.attempts.slice(attemptsBefore);
    expect(since.map(({ password }) => password)).toEqual(['pw2', 'pw2', 'pw2', 'pw2', 'pw2']);
    for (const client of [...first, ...next]) client.release();
  });

  it('rejects with pg’s own error, without logging in with it again, when the refresh names the rejected version', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'something else');

    const error = await pool.connect().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(FakeDatabaseError);
    expect((error as FakeDatabaseError).code).toBe('28P01');
    expect(database.attempts).toHaveLength(1);
    // The first read, then the refresh: AWSCURRENT fetched anew, and AWSPENDING (there is none).
    expect(source.calls.map(({ versionStage }) => versionStage)).toEqual([
      'AWSCURRENT',
      'AWSCURRENT',
      'AWSPENDING',
    ]);
  });

  it('follows a refresh that names a version a second rotation already replaced: logs in once more with AWSPENDING', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    (await pool.connect()).release(true);
    // Two single-user rotations while the cache held pw1: the first finished, the second is between setSecret
    // and finishSecret.
    source.stagePending('db', dbSecret('orders_app', 'pw2'));
    source.finishRotation('db');
    source.stagePending('db', dbSecret('orders_app', 'pw3'));
    database.passwords.set('orders_app', 'pw3');

    const client = await pool.connect();

    expect(database.attempts.slice(1).map(({ password, accepted }) => [password, accepted])).toEqual([
      ['pw1', false],
      ['pw2', false],
      ['pw3', true],
    ]);
    client.release();
  });

  it('gives up after two logins past the first, however many versions the refreshes name', async () => {
    const { source, clock, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    (await pool.connect()).release(true);
    database.passwords.set('orders_app', 'none of them');
    let next = 1;
    // Each fetch of AWSCURRENT finds yet another version, none of which the database accepts.
    source.failWith = undefined;
    const getSecretValue = source.getSecretValue.bind(source);
    source.getSecretValue = async (request) => {
      if (request.versionStage === 'AWSCURRENT') source.put('db', dbSecret('orders_app', `pw${++next}`));
      return getSecretValue(request);
    };
    clock.advance(1);

    const error = await pool.connect().catch((caught: unknown) => caught);

    expect((error as FakeDatabaseError).code).toBe('28P01');
    expect(database.attempts.slice(1)).toHaveLength(3);
  });

  it('passes any other connection error through untouched, without refreshing', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    database.failWith = () => refused;

    await expect(pool.connect()).rejects.toBe(refused);
    expect(source.callsFor('db')).toBe(1);
  });

  it('rejects with the cache’s error when the secret cannot be read', async () => {
    const { pool } = setup();

    const error = await pool.query('select 1').catch((caught: unknown) => caught);

    expect(isSecretCacheError(error) && error.code).toBe('NOT_FOUND');
  });

  it('rejects a secret that is no PostgreSQL credential with SCHEMA_MISMATCH, quoting nothing of it', async () => {
    const { source, pool } = setup();
    source.put('db', JSON.stringify({ username: 'orders_app', pass: 'hunter2-qzv-wxk' }));

    const error = await pool.connect().catch((caught: unknown) => caught);

    expect(isSecretCacheError(error) && error.code).toBe('SCHEMA_MISMATCH');
    expectNoFragment(renderingsOf(error), 'hunter2-qzv-wxk');
    expectNoFragment(renderingsOf(error), 'orders_app');
  });

  it('rejects a secret that is not JSON with INVALID_JSON', async () => {
    const { source, pool } = setup();
    source.put('db', 'postgres://orders_app:hunter2@db/orders');

    const error = await pool.connect().catch((caught: unknown) => caught);

    expect(isSecretCacheError(error) && error.code).toBe('INVALID_JSON');
    expectNoFragment(renderingsOf(error), 'hunter2');
  });

  it('closes the connection of a failed query instead of reusing it, as pg.Pool does', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    const syntax = new FakeDatabaseError('42601', 'syntax error');
    database.failQueryWith = () => syntax;

    await expect(pool.query('selec 1')).rejects.toBe(syntax);

    expect(pool.totalCount).toBe(0);
  });

  it('answers callbacks as pg.Pool does: query(text, callback), query(text, values, callback), connect(callback)', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');

    const viaText = await new Promise((resolve, reject) =>
      pool.query('select 1', (error, result) => (error ? reject(error) : resolve(result.rows))),
    );
    const viaValues = await new Promise((resolve, reject) =>
      pool.query('select $1', [1], (error, result) => (error ? reject(error) : resolve(result.rows))),
    );
    const released = await new Promise((resolve, reject) =>
      pool.connect((error, client, done) => {
        if (error || client === undefined) return reject(error);
        done();
        resolve(pool.idleCount);
      }),
    );

    expect(viaText).toEqual([{ user: 'orders_app' }]);
    expect(viaValues).toEqual([{ user: 'orders_app' }]);
    expect(released).toBe(1);
    expect(database.queries).toEqual(['select 1', 'select $1']);
  });

  it('ends every inner pool, rejects later use with pg’s message, and ends only once', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    (await pool.connect()).release();

    const ended = [pool.end(), pool.end()];
    expect(pool.ending).toBe(true);
    await Promise.all(ended);

    expect(pool.ended).toBe(true);
    expect(database.openConnections).toBe(0);
    await expect(pool.query('select 1')).rejects.toThrow(ENDED);
  });

  it('does not open a pool for a connect whose read finishes after end()', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    const gate = deferred();
    source.gate = gate.promise;

    const connecting = pool.connect();
    await pool.end();
    gate.resolve();

    await expect(connecting).rejects.toThrow(ENDED);
    expect(database.attempts).toHaveLength(0);
  });

  it("forwards an idle client's error to listeners, and does not crash without one", async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    const client = await pool.connect();
    client.release();
    const terminated = new Error('terminating connection due to administrator command');

    client.emit('error', terminated);
    const seen: unknown[] = [];
    pool.on('error', (error) => seen.push(error));
    const second = await pool.connect();
    second.release();
    second.emit('error', terminated);

    expect(seen).toEqual([terminated]);
  });

  it('reads the versionStage it is given instead of AWSCURRENT', async () => {
    const { source, database, pool } = setup({}, 'AWSPENDING');
    source.put('db', dbSecret('orders_app', 'pw1'));
    source.stagePending('db', dbSecret('orders_app', 'pw2'));
    database.passwords.set('orders_app', 'pw2');

    await pool.query('select 1');

    expect(database.attempts.map(({ password, accepted }) => [password, accepted])).toEqual([['pw2', true]]);
    expect(source.calls.map(({ versionStage }) => versionStage)).toEqual(['AWSPENDING']);
  });

  it('reports ending and ended as pg.Pool does: both false before end(), ending at once, ended once closed', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    const client = await pool.connect();
    const before = [pool.ending, pool.ended];

    const ending = pool.end();
    const during = [pool.ending, pool.ended];
    client.release();
    await ending;

    expect(before).toEqual([false, false]);
    expect(during).toEqual([true, false]);
    expect([pool.ending, pool.ended]).toEqual([true, true]);
  });

  it('counts the connects waiting for a client in waitingCount', async () => {
    const { source, database, pool } = setup({ max: 1 });
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    const busy = await pool.connect();

    const queued = [pool.connect(), pool.connect()];

    await expect.poll(() => pool.waitingCount).toBe(2);
    busy.release();
    const first = await queued[0];
    expect(pool.waitingCount).toBe(1);
    first?.release();
    (await queued[1])?.release();
    expect(pool.waitingCount).toBe(0);
  });

  it('counts no client once ended', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    (await pool.connect()).release();

    await pool.end();

    expect([pool.totalCount, pool.idleCount, pool.waitingCount]).toEqual([0, 0, 0]);
  });

  it('closes the connection of a query that fails with something other than an Error', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    database.failQueryWith = () => 'a driver that throws strings' as unknown as Error;

    await expect(pool.query('select 1')).rejects.toBe('a driver that throws strings');

    expect(pool.totalCount).toBe(0);
    expect(database.openConnections).toBe(0);
  });

  it("forwards the inner pools' connect, acquire, release and remove events with their clients", async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    const seen: [string, unknown][] = [];
    pool.on('connect', (client) => seen.push(['connect', client]));
    pool.on('acquire', (client) => seen.push(['acquire', client]));
    pool.on('release', (error, client) => seen.push(['release', [error, client]]));
    pool.on('remove', (client) => seen.push(['remove', client]));

    const client = await pool.connect();
    const closing = new Error('closing it');
    client.release(closing);

    expect(seen).toEqual([
      ['connect', client],
      ['acquire', client],
      ['release', [closing, client]],
      ['remove', client],
    ]);
  });

  it('rejects a connect after end() with pg’s error without reading the secret, even one that cannot be read', async () => {
    const { source, pool } = setup();
    await pool.end();

    await expect(pool.connect()).rejects.toThrow(ENDED);

    expect(source.calls).toEqual([]);
  });

  it('rejects a connect whose refresh after a 28P01 finishes after end() with pg’s error, whatever the refresh found', async () => {
    const { source, cache, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'rotated elsewhere');
    await cache.getSecretString('db');
    source.put('db', 'a value that is no credential');
    const gate = deferred();
    source.gate = gate.promise;

    const connecting = pool.connect().catch((error: unknown) => error);
    await expect.poll(() => source.calls.length).toBe(2); // the refresh the 28P01 asked for, held
    await pool.end();
    gate.resolve();

    expect(await connecting).toEqual(ENDED);
    expect(database.attempts).toHaveLength(1);
  });

  it('counts, and waits on end() for, a connection that logged in to the old user’s pool after the user changed', async () => {
    const { source, clock, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    database.passwords.set('orders_app_clone', 'pw2');
    (await pool.connect()).release(true);
    const login = deferred();
    database.gate = login.promise;
    const old = pool.connect(); // logging in to the first user's pool, held
    await expect.poll(() => pool.totalCount).toBe(1);
    source.put('db', dbSecret('orders_app_clone', 'pw2'));
    clock.advance(300_001);
    const fresh = pool.connect(); // opens the new user's pool and ends the first one's: both logins held
    await expect.poll(() => pool.totalCount).toBe(2);

    login.resolve();
    const [oldClient, freshClient] = await Promise.all([old, fresh]);

    expect(pool.totalCount).toBe(2);
    freshClient.release();
    const ending = pool.end();
    await new Promise((resolve) => setImmediate(resolve));
    expect(pool.ended).toBe(false);
    expect(database.openConnections).toBe(1);
    oldClient.release();
    await ending;
    expect(pool.ended).toBe(true);
    expect(database.openConnections).toBe(0);
  });

  // pg-pool cannot keep a stack on a string (it becomes pg-pool's TypeError); what counts here is that the connect
  // settles: charging a string to the version it tried (a WeakMap key) would throw inside pg's callback.
  it('settles a connect whose login fails with something other than an object, as a custom Client may', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    database.failAfterPasswordWith = () => 'refused by the proxy';

    await expect(pool.connect()).rejects.toThrow();
    expect(source.callsFor('db')).toBe(1);
  }, 2_000);

  it('passes an error the server answers after the password through untouched, without refreshing', async () => {
    const { source, database, pool } = setup();
    source.put('db', dbSecret('orders_app', 'pw1'));
    database.passwords.set('orders_app', 'pw1');
    const missing = new FakeDatabaseError('3D000', 'database "orders" does not exist');
    database.failAfterPasswordWith = () => missing;

    await expect(pool.connect()).rejects.toBe(missing);
    expect(source.callsFor('db')).toBe(1);
  });

  describe('options', () => {
    const cache = new SecretCache({ source: new FakeSource() });

    it.each([
      [
        { cache, secretId: 'db', pools: {} },
        'Unknown option `pools` in options of createPool; did you mean `pool`?',
      ],
      [{ cache: {}, secretId: 'db' }, 'Expected `cache` to be a SecretCache.'],
      [{ cache, secretId: '' }, 'Expected `secretId` to be a non-empty string.'],
      [{ cache, secretId: 42 }, 'Expected `secretId` to be a non-empty string.'],
      [{ cache }, 'Expected `secretId` to be a non-empty string.'],
      [{ cache, secretId: 'db', versionStage: 1 }, 'Expected `versionStage` to be a non-empty string.'],
      [{ cache, secretId: 'db', versionStage: '' }, 'Expected `versionStage` to be a non-empty string.'],
      [{ cache, secretId: 'db', pool: 'max=10' }, 'Expected `pool` to be an object.'],
      [{ cache, secretId: 'db', pool: 10 }, 'Expected `pool` to be an object.'],
      [
        { cache, secretId: 'db', pool: { user: 'x' } },
        'Expected no `pool.user`: the credential comes from the secret "db".',
      ],
      [
        { cache, secretId: 'db', pool: { password: 'x' } },
        'Expected no `pool.password`: the credential comes from the secret "db".',
      ],
      [
        { cache, secretId: 'db', pool: { connectionString: 'postgres://x' } },
        'Expected no `pool.connectionString`: the credential comes from the secret "db".',
      ],
      [null, 'Expected the options of createPool to be an object.'],
      [undefined, 'Expected the options of createPool to be an object.'],
      ['db', 'Expected the options of createPool to be an object.'],
    ])('rejects %j with a TypeError', (options, message) => {
      expect(() => createPool(options as never)).toThrow(new TypeError(message));
    });

    it('takes every option, and pool: null or undefined as no pool options', () => {
      const stage = { cache, secretId: 'db', versionStage: 'AWSPENDING' };

      expect(() => createPool({ ...stage, pool: { max: 1 } })).not.toThrow();
      expect(() => createPool({ ...stage, pool: undefined as never })).not.toThrow();
      expect(() => createPool({ ...stage, pool: null as never })).not.toThrow();
    });
  });
});
