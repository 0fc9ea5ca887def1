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

  it('does not fetch again a version fetched less than a second ago', async () => {
    const { source, cache } = setup();
    source.put('db', 'pw1');

    await expect(
      cache.withSecret(
        'db',
        server(() => 'never'),
        { shouldRefresh: rejectedCredential },
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
