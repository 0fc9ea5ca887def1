import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { SecretCache } from '../src/cache.js';
import type { SecretRecord } from '../src/entry.js';

declare const cache: SecretCache;

const Port = z.object({ port: z.number() });
const PortFromString = z.object({ port: z.string().transform((text) => Number.parseInt(text, 10)) });

describe('SecretCache read types', () => {
  it('types getSecretString as Promise<string>', () => {
    expectTypeOf(cache.getSecretString('prod/db')).toEqualTypeOf<Promise<string>>();
    expectTypeOf(cache.getSecretString('prod/db', { versionStage: 'AWSPREVIOUS' })).toEqualTypeOf<
      Promise<string>
    >();
  });

  it('types getSecretBinary as Promise<Uint8Array>', () => {
    expectTypeOf(cache.getSecretBinary('prod/tls')).toEqualTypeOf<Promise<Uint8Array>>();
  });

  it('types getSecretJson without a schema or type argument as Promise<unknown>', () => {
    expectTypeOf(cache.getSecretJson('prod/db')).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(cache.getSecretJson('prod/db', { versionId: 'v-1' })).toEqualTypeOf<Promise<unknown>>();
  });

  it('types getSecretJson with a type argument as a promise of that type', () => {
    expectTypeOf(cache.getSecretJson<{ a: number }>('prod/db')).toEqualTypeOf<Promise<{ a: number }>>();
    expectTypeOf(
      cache.getSecretJson<{ a: number }>('prod/db', { versionStage: 'AWSPREVIOUS' }),
    ).toEqualTypeOf<Promise<{ a: number }>>();
  });

  it("types getSecretJson with a zod schema as a promise of the schema's output", () => {
    expectTypeOf(cache.getSecretJson('prod/db', { schema: Port })).toEqualTypeOf<Promise<{ port: number }>>();
    expectTypeOf(cache.getSecretJson('prod/db', { schema: Port, versionStage: 'AWSPREVIOUS' })).toEqualTypeOf<
      Promise<{ port: number }>
    >();
  });

  it('types getSecretJson with a transforming schema as its output, not its input', () => {
    expectTypeOf(cache.getSecretJson('prod/db', { schema: PortFromString })).toEqualTypeOf<
      Promise<{ port: number }>
    >();
    expectTypeOf(cache.getSecretJson('prod/db', { schema: PortFromString })).not.toEqualTypeOf<
      Promise<{ port: string }>
    >();
  });

  it('types getSecretValue as Promise<SecretRecord>', () => {
    expectTypeOf(cache.getSecretValue('prod/db')).toEqualTypeOf<Promise<SecretRecord>>();
  });

  it('rejects a schema passed to getSecretString, getSecretBinary or getSecretValue', () => {
    // @ts-expect-error: getSecretString takes no schema.
    cache.getSecretString('prod/db', { schema: Port });
    // @ts-expect-error: getSecretBinary takes no schema.
    cache.getSecretBinary('prod/db', { schema: Port });
    // @ts-expect-error: getSecretValue takes no schema.
    cache.getSecretValue('prod/db', { schema: Port });
  });

  it('rejects a non-string secret id', () => {
    // @ts-expect-error: the secret id is a string.
    cache.getSecretString(42);
  });
});
