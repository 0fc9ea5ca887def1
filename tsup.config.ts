import { defineConfig } from 'tsup';

const common = {
  // One entry per subpath export. Splitting puts the code they share (the cache) in one chunk per format, so
  // `secretcache` and `secretcache/lambda` use one SecretCache class, and the core entry never loads the others.
  entry: {
    index: 'src/index.ts',
    lambda: 'src/lambda.ts',
    middy: 'src/middy.ts',
    env: 'src/env.ts',
    rotation: 'src/rotation.ts',
    pg: 'src/pg.ts',
    http: 'src/http.ts',
    testing: 'src/testing.ts',
  },
  dts: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  splitting: true,
  treeshake: true,
} as const;

export default defineConfig([
  // The `secretcache` command ships as ESM only (`bin` runs it, nothing imports it), in this build so that it
  // shares its chunks; tsup keeps its shebang and makes it executable.
  {
    ...common,
    entry: { ...common.entry, cli: 'src/cli.ts' },
    dts: { entry: common.entry },
    format: 'esm',
    clean: true,
  },
  // p-retry (and its one dependency) ship as ESM only. Node 20 before 20.19 cannot require() ESM, so the
  // CommonJS build carries its own copy of them; the ESM build imports the installed package.
  { ...common, format: 'cjs', noExternal: ['p-retry', 'is-network-error'] },
]);
