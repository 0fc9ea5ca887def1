import { describe, expect, it } from 'vitest';
import { SecretCache } from '../src/cache.js';
import type { FetchEvent } from '../src/events.js';
import type { SecretCacheOptions } from '../src/options.js';
import { FORCED_FETCH_SPACING_MS } from '../src/rejections.js';
import { deferred, FakeClock, FakeSource } from './support/fakes.js';

const TTL = 300_000;

class AuthError extends Error {
  readonly code = '28P01';
}
class ConnectionReset extends Error {
  readonly code = 'ECONNRESET';
}
const shouldRefresh = (error: unknown) => error instanceof AuthError;

function setup(options: Partial<SecretCacheOptions> = {}) {
  const source = new FakeSource();
  const clock = new FakeClock();
  const cache = new SecretCache({
    source,
    clock,
    ttlMs: TTL,
    ttlJitter: 0,
    retry: { retries: 0 },
    ...options,
  });
  return { source, clock, cache };
}

/** A database that accepts only the password `accepted()` names now, and remembers every attempt. */
function database(accepted: () => string) {
  const attempts: string[] = [];
  const connect = (password: string) => {
    attempts.push(password);
    if (password !== accepted()) throw new AuthError('password authentication failed');
    return `connected as ${password}`;
  };
  return { attempts, connect };
}

/** A connection attempt that is held open until `release`, then answers as `connect` does. */
function heldOnce(connect: (password: string) => string) {
  const gate = deferred();
  let held = true;
  const attempt = async (password: string) => {
    if (held) {
      held = false;
      await gate.promise;
    }
    return connect(password);
  };
  return { attempt, release: gate.resolve };
}

const stages = (source: FakeSource) => source.calls.map((call) => call.versionStage ?? call.versionId);

/** Moves AWSCURRENT back to `versionId`, as `UpdateSecretVersionStage` does when a rotation is rolled back. */
function rollBack(source: FakeSource, secretId: string, versionId: string): void {
  const current = source.memory
    .describeSecret(secretId)
    .versions.find((version) => version.versionStages.includes('AWSCURRENT'));
  source.memory.updateVersionStage(secretId, 'AWSCURRENT', {
    moveTo: versionId,
    ...(current === undefined ? {} : { removeFrom: current.versionId }),
  });
}

/** Lets every promise callback and I/O turn that is ready run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('withSecret after a rejection: a version that already replaced the rejected one', () => {
  it("uses the version another caller's refresh brought, without fetching, however long after", async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db');
    source.put('db', 'pw2');
    const db = database(() => 'pw2');
    const slow = heldOnce(db.connect);
    const late = cache.withSecret('db', slow.attempt, { shouldRefresh }); // holds pw1
    await settle();
    await cache.withSecret('db', db.connect, { shouldRefresh }); // rejected, refreshes to pw2
    clock.advance(5 * FORCED_FETCH_SPACING_MS);

    slow.release();

    await expect(late).resolves.toBe('connected as pw2');
    expect(stages(source)).toEqual(['AWSCURRENT', 'AWSCURRENT']);
  });

  it('fetches the stage anew when the rejected version left the cache meanwhile (invalidate)', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db');
    source.put('db', 'pw2');
    const db = database(() => 'pw2');
    const slow = heldOnce(db.connect);
    const call = cache.withSecret('db', slow.attempt, { shouldRefresh });
    await settle();
    cache.invalidate('db');

    slow.release();

    await expect(call).resolves.toBe('connected as pw2');
    expect(db.attempts).toEqual(['pw1', 'pw2']);
  });

  it('fetches the stage anew when the cache holds only the rejected version fetched again', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db');
    const db = database(() => 'pw2');
    const slow = heldOnce(db.connect);
    const call = cache.withSecret('db', slow.attempt, { shouldRefresh }); // holds pw1
    await settle();
    clock.advance(TTL);
    await cache.getSecretString('db'); // the TTL's fetch brings pw1 again, as a new entry
    source.put('db', 'pw2');

    slow.release();

    await expect(call).resolves.toBe('connected as pw2');
    expect(db.attempts).toEqual(['pw1', 'pw2']);
  });
});

describe('withSecret after a rejection: the stage fetched anew', () => {
  it('fetches on the first rejection of a newer version, even within a second of the last forced fetch', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db');
    let accepted = 'pw2';
    const db = database(() => accepted);
    source.put('db', 'pw2');
    await cache.withSecret('db', db.connect, { shouldRefresh }); // pw1 rejected: refreshed to pw2
    source.put('db', 'pw3');
    accepted = 'pw3';
    clock.advance(100);

    await expect(cache.withSecret('db', db.connect, { shouldRefresh })).resolves.toBe('connected as pw3');
    expect(stages(source)).toEqual(['AWSCURRENT', 'AWSCURRENT', 'AWSCURRENT']);
  });

  it('calls fn once more with the refetched version when the stage still names it and none is pending', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');
    let attempts = 0;
    // A replica that had not loaded the password yet: it rejects the first attempt only.
    const connect = (password: string) => {
      attempts++;
      if (attempts === 1) throw new AuthError('password authentication failed');
      return `connected as ${password}`;
    };

    await expect(cache.withSecret('db', connect, { shouldRefresh })).resolves.toBe('connected as pw1');
    expect(stages(source)).toEqual(['AWSCURRENT', 'AWSCURRENT', 'AWSPENDING']);
  });

  it('forces fetches of a key that keeps being rejected exactly a second apart, not sooner', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db');
    const db = database(() => 'never');
    const attempt = () =>
      cache.withSecret('db', db.connect, { shouldRefresh }).catch((error: unknown) => error);

    await attempt();
    clock.advance(FORCED_FETCH_SPACING_MS - 1);
    await attempt();
    const spaced = stages(source);
    clock.advance(1);
    await attempt();

    expect(spaced).toEqual(['AWSCURRENT', 'AWSCURRENT', 'AWSPENDING']);
    expect(stages(source)).toEqual(['AWSCURRENT', 'AWSCURRENT', 'AWSPENDING', 'AWSCURRENT', 'AWSPENDING']);
  });

  it('keeps that spacing after invalidate: a repeated rejection within the second rethrows fn’s error', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db');
    const db = database(() => 'never');
    await cache.withSecret('db', db.connect, { shouldRefresh }).catch(() => {});
    clock.advance(100);
    const slow = heldOnce(db.connect);
    const call = cache.withSecret('db', slow.attempt, { shouldRefresh });
    await settle();
    cache.invalidate('db');
    const before = source.calls.length;

    slow.release();

    await expect(call).rejects.toBeInstanceOf(AuthError);
    expect(source.calls.length).toBe(before);
  });

  it('fetches a rejected read of AWSPENDING once more, and that stage only once', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');
    source.stagePending('db', 'pw2');
    const db = database(() => 'never');

    await expect(
      cache.withSecret('db', db.connect, { versionStage: 'AWSPENDING', shouldRefresh }),
    ).rejects.toBeInstanceOf(AuthError);
    expect(stages(source)).toEqual(['AWSPENDING', 'AWSPENDING']);
    expect(db.attempts).toEqual(['pw2', 'pw2']);
  });

  it('reports its forced fetches as refresh-now', async () => {
    const fetches: Array<Pick<FetchEvent, 'versionStage' | 'reason'>> = [];
    const onFetch = ({ versionStage, reason }: FetchEvent) => fetches.push({ versionStage, reason });
    const { source, cache } = setup({ hooks: { onFetch } });
    source.put('db', 'old-password');
    source.stagePending('db', 'new-password');
    const db = database(() => 'new-password');

    await cache.withSecret('db', db.connect, { shouldRefresh });

    expect(fetches).toEqual([
      { versionStage: 'AWSCURRENT', reason: 'miss' },
      { versionStage: 'AWSCURRENT', reason: 'refresh-now' },
      { versionStage: 'AWSPENDING', reason: 'refresh-now' },
    ]);
  });

  it('keeps the process alive while a rejected call waits for AWSCURRENT and then AWSPENDING', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
    const { source, cache } = setup();
    source.put('db', 'old-password');
    await cache.getSecretString('db');
    source.stagePending('db', 'new-password');
    const db = database(() => 'new-password');
    const before = timers();
    const current = deferred();
    const pending = deferred();
    source.gate = current.promise;

    const call = cache.withSecret('db', db.connect, { shouldRefresh });
    await settle();
    const whileCurrent = timers();
    source.gate = pending.promise;
    current.resolve();
    await settle();
    const whilePending = timers();
    pending.resolve();
    await call;
    await settle();

    expect(stages(source)).toEqual(['AWSCURRENT', 'AWSCURRENT', 'AWSPENDING']);
    expect([whileCurrent, whilePending, timers()]).toEqual([before + 1, before + 1, before]);
  });
});

describe('withSecret after a rejection: the pending version during a rotation', () => {
  it('fetches AWSPENDING anew on the first rejection of a version, even within a second of the last such fetch', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db');
    const db = database(() => 'pw3');
    await cache.withSecret('db', db.connect, { shouldRefresh }).catch(() => {}); // no AWSPENDING yet
    source.put('db', 'pw2');
    source.stagePending('db', 'pw3');
    clock.advance(100);
    await cache.refreshNow('db'); // the cache holds pw2 now

    await expect(cache.withSecret('db', db.connect, { shouldRefresh })).resolves.toBe('connected as pw3');
    expect(stages(source).slice(4)).toEqual(['AWSCURRENT', 'AWSPENDING']);
  });

  it('gives a call rejected just after another call’s refresh the pending version it found, without fetching', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'old-password');
    await cache.getSecretString('db');
    source.stagePending('db', 'new-password');
    const db = database(() => 'new-password');
    const slow = heldOnce(db.connect);
    const late = cache.withSecret('db', slow.attempt, { shouldRefresh }); // holds the old password
    await settle();
    await cache.withSecret('db', db.connect, { shouldRefresh });
    clock.advance(100);

    slow.release();

    await expect(late).resolves.toBe('connected as new-password');
    expect(stages(source)).toEqual(['AWSCURRENT', 'AWSCURRENT', 'AWSPENDING']);
  });

  it('keeps preferring the pending version after a late rejection of the old one whose retry failed otherwise', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'old-password');
    await cache.getSecretString('db');
    source.stagePending('db', 'new-password');
    const db = database(() => 'new-password');
    let lateAttempts = 0;
    const slow = heldOnce((password) => {
      lateAttempts++;
      if (lateAttempts === 2) throw new ConnectionReset('connection reset by peer');
      return db.connect(password);
    });
    const late = cache.withSecret('db', slow.attempt, { shouldRefresh }); // holds the old password
    await settle();
    await cache.withSecret('db', db.connect, { shouldRefresh }); // the pending version works
    clock.advance(100);
    slow.release();
    await expect(late).rejects.toBeInstanceOf(ConnectionReset);
    db.attempts.length = 0;

    await cache.withSecret('db', db.connect, { shouldRefresh });

    expect(db.attempts).toEqual(['new-password']);
  });

  it('follows a second single-user rotation within one TTL, never going back to the first rotation’s rejected version', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db'); // AWSCURRENT stays cached as pw1 for the whole test
    let accepted = 'pw2';
    const db = database(() => accepted);
    source.stagePending('db', 'pw2');
    await cache.withSecret('db', db.connect, { shouldRefresh }); // pw1 rejected, pending pw2 works
    source.finishRotation('db');
    clock.advance(10_000);
    source.stagePending('db', 'pw3'); // the second rotation's setSecret
    accepted = 'pw3';
    db.attempts.length = 0;

    await expect(cache.withSecret('db', db.connect, { shouldRefresh })).resolves.toBe('connected as pw3');
    expect(db.attempts).toEqual(['pw2', 'pw3']);
  });

  it('stops preferring the pending version once AWSCURRENT names another version', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'old-password');
    await cache.getSecretString('db');
    source.stagePending('db', 'new-password');
    let accepted = 'new-password';
    const db = database(() => accepted);
    await cache.withSecret('db', db.connect, { shouldRefresh });
    // The rotation is abandoned and someone puts another value.
    source.put('db', 'newest-password');
    accepted = 'newest-password';
    clock.advance(TTL);
    db.attempts.length = 0;

    await expect(cache.withSecret('db', db.connect, { shouldRefresh })).resolves.toBe(
      'connected as newest-password',
    );
    expect(db.attempts).toEqual(['newest-password']);
  });

  it('serves the version AWSCURRENT names again after a rollback, not the one that had replaced it', async () => {
    const { source, clock, cache } = setup();
    const first = source.put('db', 'pw1');
    await cache.getSecretString('db');
    source.put('db', 'pw2');
    let accepted = 'pw2';
    const db = database(() => accepted);
    await cache.withSecret('db', db.connect, { shouldRefresh }); // pw1 rejected: refreshed to pw2
    rollBack(source, 'db', first);
    accepted = 'pw1';
    clock.advance(TTL);
    db.attempts.length = 0;

    await expect(cache.withSecret('db', db.connect, { shouldRefresh })).resolves.toBe('connected as pw1');
    expect(db.attempts).toEqual(['pw1']);
  });
});

describe('withSecret’s rotation state per key', () => {
  /** Puts `id` in the middle of a rotation whose pending password worked once, so it is preferred. */
  async function preferPending(source: FakeSource, cache: SecretCache, id: string) {
    source.put(id, `${id}-old`);
    await cache.getSecretString(id);
    source.stagePending(id, `${id}-new`);
    const db = database(() => `${id}-new`);
    await cache.withSecret(id, db.connect, { shouldRefresh });
    db.attempts.length = 0;
    return db;
  }

  /** Makes `id` rejected once (its state created), refreshing to a value that works. */
  async function rejectOnce(source: FakeSource, cache: SecretCache, id: string) {
    source.put(id, `${id}-1`);
    await cache.getSecretString(id);
    source.put(id, `${id}-2`);
    await cache.withSecret(id, database(() => `${id}-2`).connect, { shouldRefresh });
  }

  it('keeps the preferred pending version of every key while at most maxEntries keys were rejected', async () => {
    const { source, clock, cache } = setup({ maxEntries: 2 });
    const a = await preferPending(source, cache, 'a');
    await rejectOnce(source, cache, 'b');
    clock.advance(100);

    await cache.withSecret('a', a.connect, { shouldRefresh });

    expect(a.attempts).toEqual(['a-new']);
  });

  it('forgets the rotation state of the key rejected least recently once more than maxEntries were', async () => {
    const { source, clock, cache } = setup({ maxEntries: 2 });
    const a = await preferPending(source, cache, 'a');
    await rejectOnce(source, cache, 'b');
    await rejectOnce(source, cache, 'c');
    clock.advance(100);

    await expect(cache.withSecret('a', a.connect, { shouldRefresh })).resolves.toBe('connected as a-new');

    expect(a.attempts).toEqual(['a-old', 'a-new']);
  });
});
