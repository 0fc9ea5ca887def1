import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { SecretCache } from '../src/cache.js';
import { type SecretSpec, secret } from '../src/manifest.js';
import { parseSecretRef, type SecretRef } from '../src/secret-ref.js';

describe('reference types', () => {
  it('parses to a SecretRef', () => {
    expectTypeOf(parseSecretRef('db:password')).toEqualTypeOf<SecretRef>();
  });

  it('loads a reference as a string, or as its schema output', async () => {
    expectTypeOf(secret.ref('db:password')).toEqualTypeOf<SecretSpec<string>>();
    const loaded = await new SecretCache().load({
      password: secret.ref('db:password'),
      port: secret.ref('db:port', { schema: z.coerce.number() }),
    });

    expectTypeOf(loaded.password).toEqualTypeOf<string>();
    expectTypeOf(loaded.port).toEqualTypeOf<number>();
    // @ts-expect-error: a reference names its own version
    secret.ref('db', { versionStage: 'AWSPREVIOUS' });
  });
});
