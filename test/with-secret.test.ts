import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SecretCache } from '../src/cache.js';
import { FakeClock, FakeSource } from './support/fakes.js';

class AuthError extends Error {
  readonly code = '28P01';
}
const rejectedCredential = (error: unknown) => error instanceof AuthError;

function setup() {
  const source = new FakeSource();
  const clock = new FakeClock();
  const cache = new SecretCache({ source, clock, ttlMs: 300_000, ttlJitter: 0, retry: { retries: 0 } });
  return { source, clock, cache };
}

/** A server that accepts only the password it holds now. */
function server(password: () => string) {
  return (given: string) => {
    if (given !== password()) throw new AuthError('password authentication failed');
    return `connected with ${given.length} chars`;
  };
}

describe('withSecret', () => {
  it('calls fn with the value and returns what it returns', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');

    await expect(
      cache.withSecret('db', (value) => value.toUpperCase(), { shouldRefresh: () => false }),
    ).resolves.toBe('PW1');
  });

  it('turns a rejected credential into one refresh and a success', async () => {
    const { source, clock, cache } = setup();
    let current = source.put('db', 'pw1') && 'pw1';
    await cache.getSecretString('db');
    clock.advance(10_000);
    source.put('db', 'pw2');
    current = 'pw2';

    const result = await cache.withSecret(
      'db',
      server(() => current),
      { shouldRefresh: rejectedCredential },
    );

    expect(result).toBe('connected with 3 chars');
    expect(source.callsFor('db')).toBe(2);
  });

  it('shares one refresh among 50 concurrent callers that saw the same rejected credential', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db');
    clock.advance(10_000);
    source.put('db', 'pw2');
    const accept = server(() => 'pw2');

    const results = await Promise.all(
      Array.from({ length: 50 }, () => cache.withSecret('db', accept, { shouldRefresh: rejectedCredential })),
    );

    expect(new Set(results)).toEqual(new Set(['connected with 3 chars']));
    expect(source.callsFor('db')).toBe(2);
  });

  it('does not refresh when shouldRefresh says no, and rethrows fn’s error', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');

    await expect(
      cache.withSecret(
        'db',
        server(() => 'other'),
        { shouldRefresh: () => false },
      ),
    ).rejects.toBeInstanceOf(AuthError);
    expect(source.callsFor('db')).toBe(1);
  });

  it('reads JSON with a schema when asked to', async () => {
    const { source, cache } = setup();
    source.put('db', '{"user":"app","password":"pw"}');

    const user = await cache.withSecret('db', (db) => db.user, {
      as: 'json',
      schema: z.object({ user: z.string(), password: z.string() }),
      shouldRefresh: () => false,
    });

    expect(user).toBe('app');
  });

  it('reads bytes when asked to', async () => {
    const { source, cache } = setup();
    source.put('key', new Uint8Array([7, 8]));

    await expect(
      cache.withSecret('key', (bytes) => bytes.length, { as: 'binary', shouldRefresh: () => false }),
    ).resolves.toBe(2);
  });

  it('rejects a missing shouldRefresh with INVALID_ARGUMENT', async () => {
    const { cache } = setup();

    await expect(cache.withSecret('db', () => 1, {} as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('withSecret through a rotation (hardening defect 7)', () => {
  const stages = (source: FakeSource) => source.calls.map((call) => call.versionStage ?? call.versionId);

  it('refreshes on the first rejection of a version however recently it was fetched', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db'); // fetched just now: the old password
    source.put('db', 'pw2');

    await expect(
      cache.withSecret(
        'db',
        server(() => 'pw2'),
        { shouldRefresh: rejectedCredential },
      ),
    ).resolves.toBe('connected with 3 chars');
    expect(source.callsFor('db')).toBe(2);
  });

  it('uses the AWSPENDING version when AWSCURRENT still names the rejected one (single-user rotation window)', async () => {
    const { source, cache } = setup();
    source.put('db', 'old-password');
    await cache.getSecretString('db');
    // setSecret has run: the database has the pending password, AWSCURRENT still names the old one.
    source.stagePending('db', 'new-password');
    const database = server(() => 'new-password');

    await expect(cache.withSecret('db', database, { shouldRefresh: rejectedCredential })).resolves.toBe(
      'connected with 12 chars',
    );
    expect(stages(source)).toEqual(['AWSCURRENT', 'AWSCURRENT', 'AWSPENDING']);
  });

  it('fails no call of 50 concurrent ones in that window, with one refresh of each stage', async () => {
    const { source, cache } = setup();
    source.put('db', 'old-password');
    await cache.getSecretString('db');
    source.stagePending('db', 'new-password');
    const database = server(() => 'new-password');

    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        cache.withSecret('db', database, { shouldRefresh: rejectedCredential }),
      ),
    );

    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect(stages(source)).toEqual(['AWSCURRENT', 'AWSCURRENT', 'AWSPENDING']);
  });

  it('goes straight to the pending credential that worked while AWSCURRENT still names the rejected one', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'old-password');
    await cache.getSecretString('db');
    source.stagePending('db', 'new-password');
    const attempts: string[] = [];
    const database = (password: string) => {
      attempts.push(password);
      return server(() => 'new-password')(password);
    };
    await cache.withSecret('db', database, { shouldRefresh: rejectedCredential });
    attempts.length = 0;

    for (let i = 0; i < 20; i++) {
      clock.advance(100);
      await cache.withSecret('db', database, { shouldRefresh: rejectedCredential });
    }
    expect(new Set(attempts)).toEqual(new Set(['new-password']));
    expect(attempts).toHaveLength(20);
    expect(source.calls).toHaveLength(3);
  });

  it('follows the rotation to its end: after finishSecret the new current version is used', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'old-password');
    await cache.getSecretString('db');
    source.stagePending('db', 'new-password');
    let accepted = 'new-password';
    const database = server(() => accepted);
    await cache.withSecret('db', database, { shouldRefresh: rejectedCredential });
    source.finishRotation('db');
    clock.advance(300_000); // the TTL: AWSCURRENT is fetched anew and names the new version

    await expect(cache.withSecret('db', database, { shouldRefresh: rejectedCredential })).resolves.toBe(
      'connected with 12 chars',
    );
    // And the next rotation starts from there.
    source.stagePending('db', 'newer-password');
    accepted = 'newer-password';
    clock.advance(10);
    await expect(cache.withSecret('db', database, { shouldRefresh: rejectedCredential })).resolves.toBe(
      'connected with 14 chars',
    );
  });

  it('spaces forced fetches of a credential that keeps being rejected, counting from forced fetches only', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'pw1');
    await cache.getSecretString('db');
    const database = server(() => 'never');

    for (let i = 0; i < 30; i++) {
      await cache.withSecret('db', database, { shouldRefresh: rejectedCredential }).catch(() => {});
      clock.advance(100); // 3 s in all
    }

    const forced = source.calls.slice(1);
    // One fetch of AWSCURRENT and one of AWSPENDING (absent) per second at most: 3 s, so at most 4 of each.
    expect(forced.filter((call) => call.versionStage === 'AWSCURRENT').length).toBeLessThanOrEqual(4);
    expect(forced.filter((call) => call.versionStage === 'AWSPENDING').length).toBeLessThanOrEqual(4);
    expect(forced.filter((call) => call.versionStage === 'AWSCURRENT').length).toBeGreaterThanOrEqual(3);
  });

  it('rethrows at once for a read pinned to a version id, whose value no fetch can change', async () => {
    const { source, cache } = setup();
    const pinned = source.put('db', 'pw1');
    source.stagePending('db', 'pw2');

    await expect(
      cache.withSecret(
        'db',
        server(() => 'pw2'),
        { versionId: pinned, shouldRefresh: rejectedCredential },
      ),
    ).rejects.toBeInstanceOf(AuthError);
    expect(stages(source)).toEqual([pinned]);
  });
});

describe('withSecret when a rotation is abandoned', () => {
  it('drops a preferred pending version once it is rejected in turn, and goes back to the current one', async () => {
    const { source, clock, cache } = setup();
    source.put('db', 'old-password');
    await cache.getSecretString('db');
    source.stagePending('db', 'new-password');
    let accepted = 'new-password';
    const attempts: string[] = [];
    const database = (password: string) => {
      attempts.push(password);
      return server(() => accepted)(password);
    };
    await cache.withSecret('db', database, { shouldRefresh: rejectedCredential });
    // The rotation is rolled back: the database has the old password again.
    accepted = 'old-password';
    clock.advance(2_000);
    await cache.withSecret('db', database, { shouldRefresh: rejectedCredential });
    attempts.length = 0;

    for (let i = 0; i < 5; i++) {
      clock.advance(100);
      await cache.withSecret('db', database, { shouldRefresh: rejectedCredential });
    }
    expect(attempts).toEqual(Array(5).fill('old-password'));
  });
});

describe('withSecret arguments', () => {
  const fetchedNothing = (source: FakeSource) => expect(source.calls).toEqual([]);

  it('rejects an fn that is not a function with INVALID_ARGUMENT naming `fn`, fetching nothing', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');

    await expect(
      cache.withSecret('db', 'connect' as never, { shouldRefresh: () => true }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      secretId: 'db',
      message: 'Expected `fn` to be a function.',
    });
    fetchedNothing(source);
  });

  it.each([
    ['null', null],
    ['a string', 'shouldRefresh'],
    ['an object whose shouldRefresh is no function', { shouldRefresh: true }],
    ['a function that carries a shouldRefresh', Object.assign(() => {}, { shouldRefresh: () => true })],
  ])(
    'rejects options that are %s with INVALID_ARGUMENT naming `shouldRefresh`, fetching nothing',
    async (_label, options) => {
      const { source, cache } = setup();
      source.put('db', 'pw1');

      await expect(cache.withSecret('db', () => 1, options as never)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        secretId: 'db',
        message: 'Expected `shouldRefresh` to be a function.',
      });
      fetchedNothing(source);
    },
  );

  it('names an unknown option and says it is one of withSecret’s, fetching nothing', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');

    await expect(
      cache.withSecret('db', () => 1, { shouldRefresh: () => true, retries: 1 } as never),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^Unknown option `retries` in options of withSecret; /),
    });
    fetchedNothing(source);
  });

  it('rejects an `as` other than string, binary or json with INVALID_ARGUMENT, calling nothing', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');
    const calls: unknown[] = [];

    await expect(
      cache.withSecret('db', (value) => calls.push(value), {
        as: 'text' as never,
        shouldRefresh: () => true,
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: "Expected `as` to be 'string', 'binary' or 'json'.",
    });
    expect(calls).toEqual([]);
    fetchedNothing(source);
  });

  it('rejects a schema that is not a Standard Schema for `as: json` with INVALID_ARGUMENT, fetching nothing', async () => {
    const { source, cache } = setup();
    source.put('db', '{"user":"app"}');

    await expect(
      cache.withSecret('db', () => 1, { as: 'json', schema: {} as never, shouldRefresh: () => true }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('`schema`'),
    });
    fetchedNothing(source);
  });

  it('hands fn the parsed JSON when no schema is given', async () => {
    const { source, cache } = setup();
    source.put('db', '{"user":"app","port":5432}');

    const seen = await cache.withSecret('db', (db) => db, { as: 'json', shouldRefresh: () => false });

    expect(seen).toEqual({ user: 'app', port: 5432 });
  });

  it('hands fn the schema’s output, not the raw JSON', async () => {
    const { source, cache } = setup();
    source.put('db', '{"user":"app","port":"5432"}');
    const Db = z.object({ user: z.string(), port: z.coerce.number() });

    const seen = await cache.withSecret('db', (db) => db, {
      as: 'json',
      schema: Db,
      shouldRefresh: () => false,
    });

    expect(seen).toEqual({ user: 'app', port: 5432 });
  });

  it('rejects with SCHEMA_MISMATCH and calls nothing when the value does not fit the schema', async () => {
    const { source, cache } = setup();
    source.put('db', '{"user":"app"}');
    const calls: unknown[] = [];

    await expect(
      cache.withSecret('db', (db) => calls.push(db), {
        as: 'json',
        schema: z.object({ user: z.string(), password: z.string() }),
        shouldRefresh: () => true,
      }),
    ).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
    expect(calls).toEqual([]);
  });

  it('takes a shouldRefresh that throws as a no: fn’s own error is rethrown and nothing is refreshed', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');
    const shouldRefresh = () => {
      throw new Error('predicate failed');
    };

    await expect(
      cache.withSecret(
        'db',
        server(() => 'pw2'),
        { shouldRefresh },
      ),
    ).rejects.toBeInstanceOf(AuthError);
    expect(source.callsFor('db')).toBe(1);
  });
});

describe('withSecret schema', () => {
  it.each(['string', 'binary'] as const)(
    'rejects a schema with as: %s, which would ignore it',
    async (as) => {
      const { source, cache } = setup();
      source.put('db', 'pw1');
      await expect(
        cache.withSecret('db', () => 1, { as, schema: z.string(), shouldRefresh: () => false } as never),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: "Expected `schema` only with as: 'json'.",
      });
      expect(source.calls).toHaveLength(0);
    },
  );
});
