import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { SecretCache, secret } from '../src/index.js';
import { type MiddyLambdaContext, type SecretsContext, secretsMiddleware } from '../src/middy.js';

const manifest = {
  db: secret.json('prod/orders/db', { schema: z.object({ host: z.string(), password: z.string() }) }),
  apiKey: secret.string('prod/orders/stripe-key'),
};
type Loaded = { readonly db: { host: string; password: string }; readonly apiKey: string };

describe('secretsMiddleware types', () => {
  it('types context.secrets in a handler given after use()', () => {
    middy<{ orderId: string }>()
      .use(secretsMiddleware(manifest, { cache: new SecretCache() }))
      .handler(async (event, context) => {
        expectTypeOf(event.orderId).toBeString();
        expectTypeOf(context.secrets).toEqualTypeOf<Loaded>();
        expectTypeOf(context.secrets.db.password).toBeString();
        expectTypeOf(context.functionName).toBeString();
        return context.secrets.apiKey;
      });
  });

  it('puts them under a custom contextKey, and not under secrets', () => {
    middy()
      .use(secretsMiddleware(manifest, { contextKey: 'vault' }))
      .handler(async (_event, context) => {
        expectTypeOf(context.vault.apiKey).toBeString();
        // @ts-expect-error: the secrets are under `vault`
        context.secrets;
      });
  });

  it('types middy(handler).use(...) with a handler typed by SecretsContext', () => {
    const lambdaHandler = async (
      event: { orderId: string },
      context: Context & SecretsContext<typeof manifest>,
    ) => `${event.orderId} ${context.secrets.db.host} ${context.awsRequestId}`;

    const handler = middy(lambdaHandler).use(secretsMiddleware(manifest));
    expectTypeOf(handler).parameter(1).toExtend<Context & SecretsContext<typeof manifest>>();
  });

  it('is a middy MiddlewareObj and chains with other middlewares', () => {
    const middleware = secretsMiddleware(manifest, { contextKey: 'vault' });
    expectTypeOf(middleware).toExtend<
      MiddlewareObj<unknown, unknown, Error, Context & SecretsContext<typeof manifest, 'vault'>>
    >();
    expectTypeOf<Context>().toExtend<MiddyLambdaContext>();

    const other: MiddlewareObj<unknown, unknown, Error, Context & { tenant: string }> = {};
    middy()
      .use(other)
      .use(middleware)
      .handler(async (_event, context) => {
        expectTypeOf(context.tenant).toBeString();
        expectTypeOf(context.vault.db.host).toBeString();
      });
  });

  it('rejects options of the wrong type', () => {
    // @ts-expect-error: contextKey is a string
    secretsMiddleware(manifest, { contextKey: 1 });
    // @ts-expect-error: not a SecretCache
    secretsMiddleware(manifest, { cache: {} });
  });
});
