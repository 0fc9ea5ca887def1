import type { APIGatewayProxyEvent, APIGatewayProxyHandler, Context, Handler } from 'aws-lambda';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { SecretCache, secret } from '../src/index.js';
import { type LambdaContext, withSecrets } from '../src/lambda.js';

const manifest = {
  db: secret.json('prod/orders/db', { schema: z.object({ host: z.string(), password: z.string() }) }),
  apiKey: secret.string('prod/orders/stripe-key'),
  tlsKey: secret.binary('prod/orders/tls-key'),
};

describe('withSecrets types', () => {
  it('types the secrets by the manifest', () => {
    withSecrets(manifest, async (_event, _context, secrets) => {
      expectTypeOf(secrets.db).toEqualTypeOf<{ host: string; password: string }>();
      expectTypeOf(secrets.apiKey).toEqualTypeOf<string>();
      expectTypeOf(secrets.tlsKey).toEqualTypeOf<Uint8Array>();
      // @ts-expect-error: not in the manifest
      secrets.other;
    });
  });

  it('returns (event, context) => Promise<result>, with the event and result of the handler', () => {
    const handler = withSecrets(manifest, async (event: { orderId: string }, _context, secrets) => ({
      orderId: event.orderId,
      host: secrets.db.host,
    }));

    expectTypeOf(handler).toEqualTypeOf<
      (event: { orderId: string }, context: LambdaContext) => Promise<{ orderId: string; host: string }>
    >();
  });

  it('fits the aws-lambda Handler types, with the Context of @types/aws-lambda', () => {
    const typed: Handler<{ orderId: string }, { ok: boolean }> = withSecrets(
      manifest,
      async (event: { orderId: string }, context: Context, secrets) => {
        expectTypeOf(context.functionName).toBeString();
        return { ok: event.orderId.length > 0 && secrets.apiKey.length > 0 };
      },
    );
    const api: APIGatewayProxyHandler = withSecrets(
      manifest,
      async (event: APIGatewayProxyEvent, _context: Context, secrets) => ({
        statusCode: 200,
        body: `${event.path} ${secrets.db.host}`,
      }),
    );
    expectTypeOf(typed).toBeFunction();
    expectTypeOf(api).toBeFunction();
    expectTypeOf<Context>().toExtend<LambdaContext>();
  });

  it('infers the event and context from an annotated Handler', () => {
    const handler: Handler<{ orderId: string }, string> = withSecrets(manifest, async (event, context) => {
      expectTypeOf(event).toEqualTypeOf<{ orderId: string }>();
      expectTypeOf(context).toEqualTypeOf<Context>();
      return event.orderId;
    });
    expectTypeOf(handler).toBeFunction();
  });

  it('takes a SecretCache and nothing else as the cache', () => {
    withSecrets(manifest, async () => 1, { cache: new SecretCache() });
    // @ts-expect-error: not a SecretCache
    withSecrets(manifest, async () => 1, { cache: { load: async () => ({}) } });
    // @ts-expect-error: the handler must return a promise
    withSecrets(manifest, () => 1);
  });
});
