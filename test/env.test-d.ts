import { describe, expectTypeOf, it } from 'vitest';
import { type LoadedEnv, loadEnv } from '../src/env.js';

describe('loadEnv types', () => {
  it('types the result by the names passed', async () => {
    const env = await loadEnv({ names: ['DB_PASSWORD', 'API_KEY'] });

    expectTypeOf(env).toEqualTypeOf<LoadedEnv<'DB_PASSWORD' | 'API_KEY'>>();
    expectTypeOf(env).toEqualTypeOf<{ readonly DB_PASSWORD: string; readonly API_KEY: string }>();
    // @ts-expect-error: not among the names
    env.OTHER;
  });

  it('without names, any variable may be missing', async () => {
    const env = await loadEnv();

    expectTypeOf(env).toEqualTypeOf<{ readonly [name: string]: string }>();
    expectTypeOf(env.DB_PASSWORD).toEqualTypeOf<string | undefined>();
  });

  it('takes process.env as `env` and as `into`', async () => {
    await loadEnv({ env: process.env, into: process.env });
    // @ts-expect-error: values are strings
    await loadEnv({ env: { A: 1 } });
  });
});
