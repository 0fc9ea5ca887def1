import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { isSecretCacheError, SecretCache, type SecretCacheError, secret } from '../src/index.js';
import { withSecrets } from '../src/lambda.js';
import { ordersEnvironment, ordersManifest, ordersValues, putOrders, TTL_MS } from './fixtures/orders.js';
import { deferred } from './support/fakes.js';
import { answer, batchOfAll, importHandlers, nextTurns } from './support/handler-tests.js';
import { lambdaContext } from './support/memory-client.js';

// Imported in beforeAll, once unhandled rejections are watched: its initial load runs (and, for `failingHandler`,
// fails) while nobody awaits it yet.
const imported = importHandlers(() => import('./fixtures/lambda-handler.js'));

describe('withSecrets', () => {
  it('starts loading at import, then answers invocations from the cache until the TTL passes', async () => {
    const lambda = imported.module;
    const { client, clock } = lambda.orders;
    // The module's import alone started the load: one batch call for the manifest's three secrets.
    await vi.waitFor(() => expect(client.calls).toEqual([batchOfAll]));

    expect(await lambda.handler({ orderId: 'o-1' }, lambdaContext('req-1'))).toEqual(
      answer('o-1', 'req-1', 1),
    );
    expect(client.calls).toHaveLength(1);

    expect(await lambda.handler({ orderId: 'o-2' }, lambdaContext('req-2'))).toEqual(
      answer('o-2', 'req-2', 1),
    );
    expect(client.calls).toHaveLength(1);

    putOrders(client, 2); // rotated in Secrets Manager; the cached values are still fresh
    clock.advance(TTL_MS / 2);
    expect(await lambda.handler({ orderId: 'o-3' }, lambdaContext('req-3'))).toEqual(
      answer('o-3', 'req-3', 1),
    );
    expect(client.calls).toHaveLength(1);

    clock.advance(TTL_MS / 2);
    expect(await lambda.handler({ orderId: 'o-4' }, lambdaContext('req-4'))).toEqual(
      answer('o-4', 'req-4', 2),
    );
    expect(client.calls).toEqual([batchOfAll, batchOfAll]);
    expect(client.count('GetSecretValue')).toBe(0);

    expect(await lambda.handler({ orderId: 'o-5' }, lambdaContext('req-5'))).toEqual(
      answer('o-5', 'req-5', 2),
    );
    expect(client.calls).toHaveLength(2);
  });

  it('turns an initial failure into the first invocation’s error, never an unhandled rejection, and loads again on the next', async () => {
    const lambda = imported.module;
    const { cache, client, clock } = lambda.failing;
    await vi.waitFor(() => expect(cache.stats().errors).toBe(3));
    await nextTurns();
    expect(imported.unhandled).toEqual([]);
    expect(client.calls).toEqual([batchOfAll]);

    const first = (await lambda
      .failingHandler({ orderId: 'o-1' }, lambdaContext('req-1'))
      .catch((e: unknown) => e)) as SecretCacheError;
    expect(isSecretCacheError(first)).toBe(true);
    expect(first.code).toBe('LOAD_FAILED');
    expect(first.errors.map(({ key, secretId, code }) => [key, secretId, code])).toEqual([
      ['db', 'prod/orders/db', 'THROTTLED'],
      ['stripeKey', 'prod/orders/stripe-key', 'THROTTLED'],
      ['signingKey', 'prod/orders/signing-key', 'THROTTLED'],
    ]);
    expect(client.calls).toHaveLength(1); // the init's error, not a second attempt

    client.failWith = undefined;
    // Within the failed secrets' backoff (at most 1 s after a first failure) the cache does not call AWS yet.
    await expect(lambda.failingHandler({ orderId: 'o-2' }, lambdaContext('req-2'))).rejects.toMatchObject({
      code: 'LOAD_FAILED',
    });
    expect(client.calls).toHaveLength(1);

    clock.advance(1_000);
    expect(await lambda.failingHandler({ orderId: 'o-3' }, lambdaContext('req-3'))).toEqual(
      answer('o-3', 'req-3', 1),
    );
    expect(client.calls).toEqual([batchOfAll, batchOfAll]);
    await nextTurns();
    expect(imported.unhandled).toEqual([]);
  });

  it('fetches again on a first invocation that comes after the TTL (a sandbox initialised long before)', async () => {
    const { cache, client, clock } = ordersEnvironment();
    const handler = withSecrets(ordersManifest, async (_event, _context, secrets) => secrets.stripeKey, {
      cache,
    });
    await vi.waitFor(() => expect(cache.stats().size).toBe(3));
    putOrders(client, 2);
    clock.advance(TTL_MS);

    expect(await handler({}, lambdaContext('req-1'))).toBe(ordersValues(2).stripeKey);
    expect(client.calls).toEqual([batchOfAll, batchOfAll]);
  });

  it('loads again on a first invocation that comes after a failed initial load backed off (provisioned concurrency)', async () => {
    const { cache, client, clock } = ordersEnvironment();
    client.failWith = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const handler = withSecrets(ordersManifest, async (_event, _context, secrets) => secrets.stripeKey, {
      cache,
    });
    await vi.waitFor(() => expect(cache.stats().errors).toBe(3));
    client.failWith = undefined;
    clock.advance(60_000); // the sandbox idled past every backoff before its first event

    expect(await handler({}, lambdaContext('req-1'))).toBe(ordersValues(1).stripeKey);
    expect(client.calls).toEqual([batchOfAll, batchOfAll]);
  });

  it('shares the initial load between invocations that arrive before it answers', async () => {
    const { cache, client } = ordersEnvironment();
    const gate = deferred();
    client.gate = gate.promise;
    const shared = withSecrets(
      ordersManifest,
      async (event: number, _context, secrets) => [event, secrets.db.password],
      { cache },
    );

    const answers = Promise.all([shared(1, lambdaContext('a')), shared(2, lambdaContext('b'))]);
    gate.resolve();

    expect(await answers).toEqual([
      [1, ordersValues(1).db.password],
      [2, ordersValues(1).db.password],
    ]);
    expect(client.calls).toEqual([batchOfAll]);
  });

  it('makes a SecretCache of its own when given none, when withSecrets is called', async () => {
    const sm = mockClient(SecretsManagerClient);
    try {
      sm.on(BatchGetSecretValueCommand).resolves({
        SecretValues: [
          { Name: 'a', ARN: 'arn:a', VersionId: 'v1', VersionStages: ['AWSCURRENT'], SecretString: 'A' },
          { Name: 'b', ARN: 'arn:b', VersionId: 'v1', VersionStages: ['AWSCURRENT'], SecretString: 'B' },
        ],
        Errors: [],
      });
      expect(sm.calls()).toHaveLength(0);

      const handler = withSecrets(
        { a: secret.string('a'), b: secret.string('b') },
        async (_event, _context, secrets) => `${secrets.a}${secrets.b}`,
      );

      expect(await handler(undefined, lambdaContext('req-1'))).toBe('AB');
      expect(await handler(undefined, lambdaContext('req-2'))).toBe('AB');
      expect(sm.commandCalls(BatchGetSecretValueCommand)).toHaveLength(1);
      expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    } finally {
      sm.restore();
    }
  });

  it('passes the event and the context through, and the handler’s result and errors back', async () => {
    const { cache } = ordersEnvironment();
    const context = lambdaContext('req-1');
    const seen: unknown[] = [];
    const handler = withSecrets(
      ordersManifest,
      async (event: { fail: boolean }, received, _secrets) => {
        seen.push(event, received);
        if (event.fail) throw new Error('handler failed');
        return 'done';
      },
      { cache },
    );
    const event = { fail: false };

    expect(await handler(event, context)).toBe('done');
    await expect(handler({ fail: true }, context)).rejects.toThrow('handler failed');
    expect(seen[0]).toBe(event);
    expect(seen[1]).toBe(context);
    // Two parameters, like any async handler: Lambda's Node.js 24 runtime drops callback-style (event, context,
    // callback) handlers.
    expect(handler.length).toBe(2);
  });

  it('throws at once for a malformed manifest, handler or cache', () => {
    const cache = new SecretCache({ source: { getSecretValue: () => Promise.reject(new Error('unused')) } });
    const handler = async () => 'x';

    expect(() => withSecrets({ a: { secretId: 'x' } } as never, handler, { cache })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => withSecrets({}, 'nope' as never, { cache })).toThrow(TypeError);
    expect(() => withSecrets({}, 'nope' as never, { cache })).toThrow('Expected `handler` to be a function.');
    expect(() => withSecrets({}, handler, { cache: {} as never })).toThrow(
      'Expected `cache` of withSecrets to be a SecretCache.',
    );
    expect(() => withSecrets({}, handler, { cache: null as never })).toThrow(
      'Expected `cache` of withSecrets to be a SecretCache.',
    );
  });

  it('throws a TypeError for an unknown option, suggesting the one meant', () => {
    const cache = new SecretCache({ source: { getSecretValue: () => Promise.reject(new Error('unused')) } });
    const handler = async () => 'x';

    expect(() => withSecrets({}, handler, { cahce: cache } as never)).toThrow(TypeError);
    expect(() => withSecrets({}, handler, { cahce: cache } as never)).toThrow(
      'Unknown option `cahce` in options of withSecrets; did you mean `cache`?',
    );
    expect(() => withSecrets({}, handler, { cache, contextKey: 'vault' } as never)).toThrow(/`contextKey`/);
  });

  it.each([null, 'cache', 42])('throws a TypeError naming `options` when options are %s', (options) => {
    expect(() => withSecrets({}, async () => 'x', options as never)).toThrow(TypeError);
    expect(() => withSecrets({}, async () => 'x', options as never)).toThrow(
      /^Expected `options` of withSecrets to be an object, got /,
    );
  });
});
