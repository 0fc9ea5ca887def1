import type { PoolClient } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretCache } from '../../src/cache.js';
import { createPool, type SecretPool } from '../../src/pg/pool.js';
import { accessOf, attachAccess, type WithSecretAccess } from '../../src/with-secret.js';
import { dbSecret, FakeDatabase, FakeDatabaseError } from '../support/fake-pg.js';
import { FakeClock, FakeSource } from '../support/fakes.js';

// The versions a pool logs in with when its reads of the cache resolve out of order, when a rotation is rolled
// back, and when versions are fetched within the same millisecond. The cache is a real SecretCache; only the
// pool's view of it can be slowed: a read started after `holdNextRead()` is served by the cache at once (the
// version of then), and handed to the pool once `release()` is called, after other connects went on.

const pools: SecretPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
});

function setup({ next }: { readonly next?: WithSecretAccess['next'] } = {}) {
  const source = new FakeSource();
  const clock = new FakeClock();
  const database = new FakeDatabase();
  const cache = new SecretCache({ source, clock, ttlMs: 300_000, ttlJitter: 0, retry: { retries: 0 } });
  const access = accessOf(cache);
  if (access === undefined) throw new Error('a SecretCache has a WithSecretAccess');
  let toHold = 0;
  const held: (() => void)[] = [];
  const view = {};
  attachAccess(view, {
    ...access,
    read: async (secretId, options) => {
      const hold = toHold > 0;
      if (hold) toHold--;
      const entry = await access.read(secretId, options);
      if (hold) await new Promise<void>((resolve) => held.push(resolve));
      return entry;
    },
    ...(next === undefined ? {} : { next }),
  });
  const pool = createPool({
    cache: view as SecretCache,
    secretId: 'db',
    pool: { Client: database.Client as never },
  });
  pools.push(pool);

  /** Logs in and closes the connection, so that the next connect logs in anew. */
  const connectOnce = async () => {
    (await pool.connect()).release(true);
  };
  /** A connect whose read the cache has served and the pool has not seen yet; it goes on at `release()`. */
  const slowConnect = async (): Promise<{ readonly connecting: Promise<PoolClient> }> => {
    toHold++;
    const connecting = pool.connect();
    await expect.poll(() => held.length).toBe(1);
    return { connecting };
  };
  const release = () => {
    for (const resolve of held.splice(0)) resolve();
  };
  /** What each login since `from` tried, and whether the database took it. */
  const loginsSince = (from: number) =>
    database.attempts.slice(from).map(({ password, accepted }) => [password, accepted]);
  /** A new single-user password: the secret's AWSCURRENT and the database both move to it. */
  const rotate = (password: string): string => {
    database.passwords.set('orders_app', password);
    return source.put('db', dbSecret('orders_app', password));
  };
  return { source, clock, database, cache, pool, connectOnce, slowConnect, release, loginsSince, rotate };
}

describe('createPool when reads resolve out of order', () => {
  it('never logs in with a version PostgreSQL rejected when a read from before the rejection hands it over late', async () => {
    const s = setup();
    s.rotate('pw1');
    await s.connectOnce();
    s.rotate('pw2'); // within the TTL: the cache still holds pw1
    const slow = await s.slowConnect();
    const from = s.database.attempts.length;

    const fast = await s.pool.connect(); // pw1 rejected, then pw2 from the refresh
    s.release();
    const late = await slow.connecting;

    expect(s.loginsSince(from)).toEqual([
      ['pw1', false],
      ['pw2', true],
      ['pw2', true],
    ]);
    fast.release();
    late.release();
  });

  it('does not go back to an older version a late read hands over, though PostgreSQL never rejected it', async () => {
    const s = setup();
    s.rotate('pw1');
    await s.connectOnce();
    s.rotate('pw2');
    s.clock.advance(300_001);
    const slow = await s.slowConnect(); // served pw2, fetched now
    s.rotate('pw3');
    s.clock.advance(300_001);
    const from = s.database.attempts.length;

    const fast = await s.pool.connect(); // fetches pw3
    s.release();
    const late = await slow.connecting;

    expect(s.loginsSince(from)).toEqual([
      ['pw3', true],
      ['pw3', true],
    ]);
    fast.release();
    late.release();
  });

  it('remembers the last 8 versions PostgreSQL rejected', async () => {
    const s = setup();
    s.rotate('pw1');
    await s.connectOnce();
    const slow = await s.slowConnect(); // served pw1
    for (let n = 2; n <= 9; n++) {
      s.rotate(`pw${n}`);
      await s.connectOnce(); // pw(n-1) rejected, pw(n) from the refresh
    }
    const from = s.database.attempts.length;

    s.release();
    const late = await slow.connecting;

    expect(s.loginsSince(from)).toEqual([['pw9', true]]);
    late.release();
  });

  it('remembers a rejected version after a burst of connects rejected another one at once', async () => {
    const s = setup();
    s.rotate('pw1');
    await s.connectOnce();
    const slow = await s.slowConnect(); // served pw1
    s.rotate('pw2');
    await s.connectOnce(); // pw1 rejected, pw2 from the refresh
    s.rotate('pw3');
    const burst = await Promise.all(Array.from({ length: 8 }, () => s.pool.connect())); // 8 × pw2 rejected
    const from = s.database.attempts.length;

    s.release();
    const late = await slow.connecting;

    expect(s.loginsSince(from)).toEqual([['pw3', true]]);
    for (const client of [...burst, late]) client.release();
  });
});

describe('createPool and the versions the cache names', () => {
  it('logs in with a version it rejected once a refresh names it again: a rotation rolled back', async () => {
    const s = setup();
    const first = s.rotate('pw1');
    await s.connectOnce();
    const second = s.rotate('pw2');
    await s.connectOnce(); // pw1 rejected, pw2 from the refresh
    s.source.memory.updateVersionStage('db', 'AWSCURRENT', { moveTo: first, removeFrom: second });
    s.database.passwords.set('orders_app', 'pw1');
    s.clock.advance(300_001);
    const from = s.database.attempts.length;

    await s.connectOnce();
    await s.connectOnce();

    expect(s.loginsSince(from)).toEqual([
      ['pw2', false],
      ['pw1', true],
      ['pw1', true],
    ]);
  });

  it('logs in with a version fetched within the same millisecond as the one in use', async () => {
    const s = setup();
    s.rotate('pw1');
    await s.connectOnce();
    s.rotate('pw2');
    await s.cache.refreshNow('db'); // the clock has not moved
    const from = s.database.attempts.length;

    await s.connectOnce();

    expect(s.loginsSince(from)).toEqual([['pw2', true]]);
  });

  it('rejects with pg’s 28P01 when the cache names nothing to try next', async () => {
    const s = setup({ next: async () => undefined });
    s.source.put('db', dbSecret('orders_app', 'pw1'));
    s.database.passwords.set('orders_app', 'rotated elsewhere');

    const error = await s.pool.connect().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(FakeDatabaseError);
    expect((error as FakeDatabaseError).code).toBe('28P01');
    expect(s.database.attempts).toHaveLength(1);
  });
});
