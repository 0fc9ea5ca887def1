import { inspect } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { isSecretCacheError, SecretCache, type SecretCacheError, secret } from '../src/index.js';
import { secretsMiddleware } from '../src/middy.js';
import { ordersEnvironment, ordersManifest, ordersValues, putOrders, TTL_MS } from './fixtures/orders.js';
import { answer, batchOfAll, importHandlers, nextTurns } from './support/handler-tests.js';
import { lambdaContext } from './support/memory-client.js';

// Imported in beforeAll, once unhandled rejections are watched: its initial load runs (and, for `failingHandler`,
// fails) while nobody awaits it yet.
const imported = importHandlers(() => import('./fixtures/middy-handler.js'));

/**
 * A Lambda context for calling a middy handler directly. middy types its context as including what the
 * middlewares add (`vault`), which the runtime's object gets only once `before` ran; hence the cast.
 */
const context = (requestId: string): never => lambdaContext(requestId) as never;

describe('secretsMiddleware with middy', () => {
  it('starts loading at import, then puts cached secrets on context.vault until the TTL passes', async () => {
    const fixture = imported.module;
    const { client, clock } = fixture.orders;
    await vi.waitFor(() => expect(client.calls).toEqual([batchOfAll]));

    expect(await fixture.handler({ orderId: 'o-1' }, context('req-1'))).toEqual(answer('o-1', 'req-1', 1));
    expect(client.calls).toHaveLength(1);

    expect(await fixture.handler({ orderId: 'o-2' }, context('req-2'))).toEqual(answer('o-2', 'req-2', 1));
    expect(client.calls).toHaveLength(1);

    putOrders(client, 2);
    clock.advance(TTL_MS / 2);
    expect(await fixture.handler({ orderId: 'o-3' }, context('req-3'))).toEqual(answer('o-3', 'req-3', 1));
    expect(client.calls).toHaveLength(1);

    clock.advance(TTL_MS / 2);
    expect(await fixture.handler({ orderId: 'o-4' }, context('req-4'))).toEqual(answer('o-4', 'req-4', 2));
    expect(client.calls).toEqual([batchOfAll, batchOfAll]);

    expect(await fixture.handler({ orderId: 'o-5' }, context('req-5'))).toEqual(answer('o-5', 'req-5', 2));
    expect(client.calls).toHaveLength(2);
  });

  it('turns an initial failure into the first invocation’s error, never an unhandled rejection, and loads again on the next', async () => {
    const fixture = imported.module;
    const { cache, client, clock } = fixture.failing;
    await vi.waitFor(() => expect(cache.stats().errors).toBe(3));
    await nextTurns();
    expect(imported.unhandled).toEqual([]);

    const first = (await fixture
      .failingHandler({ orderId: 'o-1' }, context('req-1'))
      .catch((e: unknown) => e)) as SecretCacheError;
    expect(isSecretCacheError(first)).toBe(true);
    expect(first.code).toBe('LOAD_FAILED');
    expect(first.errors.map(({ key, code }) => [key, code])).toEqual([
      ['db', 'THROTTLED'],
      ['stripeKey', 'THROTTLED'],
      ['signingKey', 'THROTTLED'],
    ]);
    expect(client.calls).toEqual([batchOfAll]);

    client.failWith = undefined;
    clock.advance(1_000); // past the failed secrets' backoff
    expect(await fixture.failingHandler({ orderId: 'o-2' }, context('req-2'))).toEqual(
      answer('o-2', 'req-2', 1),
    );
    expect(client.calls).toEqual([batchOfAll, batchOfAll]);
    await nextTurns();
    expect(imported.unhandled).toEqual([]);
  });

  it('puts the secrets on context.secrets by default, out of sight of JSON.stringify and console.log', async () => {
    const { cache } = ordersEnvironment();
    let seen: unknown;
    const handler = middy()
      .use(secretsMiddleware(ordersManifest, { cache }))
      .handler(async (_event, received) => {
        seen = received;
        return received.secrets.stripeKey;
      });

    expect(await handler({}, context('req-1'))).toBe(ordersValues(1).stripeKey);
    const password = ordersValues(1).db.password;
    expect(JSON.stringify(seen)).not.toContain(password);
    expect(inspect(seen, { depth: 5 })).not.toContain(password);
    expect(Object.keys(seen as object)).not.toContain('secrets');
  });

  it('resolves before() to undefined, so middy never takes it for an early response', async () => {
    const { cache } = ordersEnvironment();
    const middleware = secretsMiddleware(ordersManifest, { cache });
    const request = { context: lambdaContext('req-1') };

    await expect(middleware.before(request as never)).resolves.toBeUndefined();
    expect((request.context as unknown as Record<string, unknown>).secrets).toMatchObject({
      stripeKey: ordersValues(1).stripeKey,
    });
  });

  it('leaves context.secrets replaceable and removable, like the properties middy’s own middlewares set', async () => {
    const { cache } = ordersEnvironment();
    const middleware = secretsMiddleware(ordersManifest, { cache });
    const request = { context: lambdaContext('req-1') as unknown as Record<string, unknown> };
    await middleware.before(request as never);

    request.context.secrets = 'replaced by a later middleware';
    const replaced = request.context.secrets;
    const deleted = delete request.context.secrets;

    expect(replaced).toBe('replaced by a later middleware');
    expect(deleted).toBe(true);
    expect('secrets' in request.context).toBe(false);
  });

  it('works with no options: a cache of its own, the secrets on context.secrets', async () => {
    const sm = mockClient(SecretsManagerClient);
    try {
      sm.on(GetSecretValueCommand).resolves({
        Name: 'a',
        ARN: 'arn:a',
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
        SecretString: 'A',
      });
      const handler = middy()
        .use(secretsMiddleware({ a: secret.string('a') }))
        .handler(async (_event, received) => received.secrets.a);

      expect(await handler({}, context('req-1'))).toBe('A');
      expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    } finally {
      sm.restore();
    }
  });

  it('puts the secrets under the contextKey given', async () => {
    const { cache } = ordersEnvironment();
    const handler = middy()
      .use(secretsMiddleware(ordersManifest, { cache, contextKey: 'vault' }))
      .handler(async (_event, received) => [received.vault.stripeKey, 'secrets' in received]);

    expect(await handler({}, context('req-1'))).toEqual([ordersValues(1).stripeKey, false]);
  });

  it.each([
    ['an empty string', ''],
    ['a number', 42],
  ])('throws a TypeError for a contextKey that is %s', (_label, contextKey) => {
    const cache = new SecretCache({ source: { getSecretValue: () => Promise.reject(new Error('unused')) } });

    expect(() => secretsMiddleware({}, { cache, contextKey } as never)).toThrow(TypeError);
    expect(() => secretsMiddleware({}, { cache, contextKey } as never)).toThrow(
      'Expected `contextKey` to be a non-empty string.',
    );
  });

  it('throws at once for a malformed contextKey, manifest or cache', () => {
    const cache = new SecretCache({ source: { getSecretValue: () => Promise.reject(new Error('unused')) } });

    expect(() => secretsMiddleware({}, { cache, contextKey: '' })).toThrow(
      'Expected `contextKey` to be a non-empty string.',
    );
    expect(() => secretsMiddleware({ a: 'x' } as never, { cache })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => secretsMiddleware({}, { cache: { load: 1 } as never })).toThrow(
      'Expected `cache` of secretsMiddleware to be a SecretCache.',
    );
  });

  it('throws a TypeError for an unknown option, suggesting the one meant', () => {
    const cache = new SecretCache({ source: { getSecretValue: () => Promise.reject(new Error('unused')) } });

    expect(() => secretsMiddleware({}, { cache, contextkey: 'vault' } as never)).toThrow(TypeError);
    expect(() => secretsMiddleware({}, { cache, contextkey: 'vault' } as never)).toThrow(
      'Unknown option `contextkey` in options of secretsMiddleware; did you mean `contextKey`?',
    );
    expect(() => secretsMiddleware({}, { cache, key: 'vault' } as never)).toThrow(/^Unknown option `key`/);
  });

  it.each([null, 'cache', 42])('throws a TypeError naming `options` when options are %s', (options) => {
    expect(() => secretsMiddleware({}, options as never)).toThrow(TypeError);
    expect(() => secretsMiddleware({}, options as never)).toThrow(
      /^Expected `options` of secretsMiddleware to be an object, got /,
    );
  });
});
