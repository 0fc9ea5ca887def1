import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { SecretCache } from '../src/cache.js';
import { secret } from '../src/manifest.js';

describe('load types', () => {
  it('types each loaded entry by its spec', async () => {
    const Db = z.object({ host: z.string(), port: z.coerce.number() });
    const loaded = await new SecretCache().load({
      db: secret.json('prod/orders/db', { schema: Db }),
      apiKey: secret.string('prod/orders/stripe-key'),
      tlsKey: secret.binary('prod/orders/tls-key'),
      password: secret.json('prod/orders/db', { key: 'password', schema: z.string() }),
      typed: secret.json<{ a: number }>('x'),
      loose: secret.json('x', { key: 'y' }),
    });

    expectTypeOf(loaded.db).toEqualTypeOf<{ host: string; port: number }>();
    expectTypeOf(loaded.apiKey).toEqualTypeOf<string>();
    expectTypeOf(loaded.tlsKey).toEqualTypeOf<Uint8Array>();
    expectTypeOf(loaded.password).toEqualTypeOf<string>();
    expectTypeOf(loaded.typed).toEqualTypeOf<{ a: number }>();
    expectTypeOf(loaded.loose).toEqualTypeOf<unknown>();
    // @ts-expect-error: not in the manifest
    loaded.other;
  });
});
