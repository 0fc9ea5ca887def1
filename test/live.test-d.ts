import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { SecretCache } from '../src/cache.js';
import type { LiveChangeEvent, LiveSecrets } from '../src/live.js';
import { secret } from '../src/manifest.js';

describe('live types', () => {
  it('types each live entry by its spec, as load does, read-only', async () => {
    const Db = z.object({ host: z.string(), port: z.coerce.number() });
    const manifest = {
      db: secret.json('prod/orders/db', { schema: Db }),
      apiKey: secret.string('prod/orders/stripe-key'),
      tlsKey: secret.binary('prod/orders/tls-key'),
      port: secret.ref('prod/orders/db:port', { schema: z.coerce.number() }),
    };
    const live = await new SecretCache().live(manifest);

    expectTypeOf(live).toEqualTypeOf<LiveSecrets<typeof manifest>>();
    expectTypeOf(live.db).toEqualTypeOf<{ host: string; port: number }>();
    expectTypeOf(live.apiKey).toEqualTypeOf<string>();
    expectTypeOf(live.tlsKey).toEqualTypeOf<Uint8Array>();
    expectTypeOf(live.port).toEqualTypeOf<number>();
    expectTypeOf(live.close).toEqualTypeOf<() => void>();
    expectTypeOf(live[Symbol.dispose]).toEqualTypeOf<() => void>();
    // @ts-expect-error: entries are read-only
    live.apiKey = 'other';
    // @ts-expect-error: not in the manifest
    live.other;
  });

  it('types onChange events and refuses unknown options', async () => {
    const cache = new SecretCache();
    await cache.live(
      { apiKey: secret.string('x') },
      {
        onChange: (event) => {
          expectTypeOf(event).toEqualTypeOf<LiveChangeEvent>();
          expectTypeOf(event.newVersionId).toEqualTypeOf<string>();
          expectTypeOf(event.versionStage).toEqualTypeOf<string | undefined>();
        },
      },
    );
    // @ts-expect-error: not an option of live
    await cache.live({ apiKey: secret.string('x') }, { ttlMs: 1 });
  });
});
