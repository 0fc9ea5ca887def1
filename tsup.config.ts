import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { defineConfig, type Options } from 'tsup';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

/** One entry per subpath export. */
const ENTRIES = {
  index: 'src/index.ts',
  lambda: 'src/lambda.ts',
  middy: 'src/middy.ts',
  env: 'src/env.ts',
  rotation: 'src/rotation.ts',
  pg: 'src/pg.ts',
  http: 'src/http.ts',
  testing: 'src/testing.ts',
} as const;

/** Runtime dependencies the core file carries inside it, in both formats, with their licences (see banner). */
const CORE_BUNDLED = ['lru-cache'];
/** p-retry (and its one dependency) ship as ESM only, and Node 20 before 20.19 cannot require() ESM. */
const CJS_BUNDLED = ['p-retry', 'is-network-error'];

/**
 * The modules `src/index.ts` reaches: the core. They are built into one file per format (`dist/core.js`,
 * `dist/core.cjs`, not exported) that every entry imports, so that a cold process that imports `secretcache` and
 * `secretcache/http` loads three files of ours, not the nine a chunk per set of sharing entries makes. Node's
 * loader resolves, reads and links each file in turn, and the fewer, flatter files save about 4 ms of a cold
 * start (bench/RESULTS.md, scenario 6).
 */
async function coreModules(): Promise<Set<string>> {
  const result = await build({
    entryPoints: [path.join(ROOT, ENTRIES.index)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const modules = Object.keys(result.metafile.inputs)
    .map((input) => path.resolve(ROOT, input))
    .filter((file) => file.startsWith(path.join(ROOT, 'src')) && file !== path.join(ROOT, ENTRIES.index));
  return new Set(modules);
}

/** A module that re-exports every core module, written outside src/ (it is generated, never edited). */
function writeCoreBarrel(core: ReadonlySet<string>): string {
  const dir = path.join(ROOT, 'node_modules', '.cache', 'secretcache-build');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'core.ts');
  const lines = [...core]
    .sort()
    .map((module) => `export * from ${JSON.stringify(module.split(path.sep).join('/'))};`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Sends the entries' imports of core modules to the core file, which the entries then share. */
function importCoreFrom(coreFile: string, core: ReadonlySet<string>): Plugin {
  return {
    name: 'secretcache-core',
    setup(builder) {
      builder.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const target = path.resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
        return core.has(target) ? { path: `./${coreFile}`, external: true } : undefined;
      });
    },
  };
}

/** The licence notices of the packages bundled into a file, as one leading comment of it. */
function licenceBanner(packages: readonly string[]): string {
  const notices = packages.map((name) => {
    const dir = path.join(ROOT, 'node_modules', name);
    const { version, license } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      version: string;
      license: string;
    };
    const text =
      license === 'BlueOak-1.0.0'
        ? 'Blue Oak Model License 1.0.0: https://blueoakcouncil.org/license/1.0.0'
        : readFileSync(path.join(dir, 'license'), 'utf8').trim();
    return `${name} ${version} (${license})\n${text}`;
  });
  return `/*!\n * secretcache bundles:\n${notices.join('\n\n').replaceAll('*/', '* /').replace(/^/gm, ' * ')}\n */`;
}

const common = {
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  treeshake: true,
} as const satisfies Options;

export default defineConfig(async (): Promise<Options[]> => {
  const core = await coreModules();
  const barrel = writeCoreBarrel(core);
  return [
    {
      ...common,
      entry: { core: barrel },
      format: 'esm',
      dts: false,
      clean: true,
      noExternal: CORE_BUNDLED,
      banner: { js: licenceBanner(CORE_BUNDLED) },
    },
    // The `secretcache` command ships as ESM only (`bin` runs it, nothing imports it); tsup keeps its shebang and
    // makes it executable. Splitting shares what several entries use beyond the core (ESM only: CommonJS has no
    // chunks to share, so each CommonJS entry carries its own copy of such code).
    {
      ...common,
      entry: { ...ENTRIES, cli: 'src/cli.ts' },
      format: 'esm',
      splitting: true,
      dts: { entry: ENTRIES },
      esbuildPlugins: [importCoreFrom('core.js', core)],
    },
    {
      ...common,
      entry: { core: barrel },
      format: 'cjs',
      dts: false,
      noExternal: [...CORE_BUNDLED, ...CJS_BUNDLED],
      banner: { js: licenceBanner([...CORE_BUNDLED, ...CJS_BUNDLED]) },
    },
    {
      ...common,
      entry: ENTRIES,
      format: 'cjs',
      splitting: true,
      dts: true,
      esbuildPlugins: [importCoreFrom('core.cjs', core)],
    },
  ];
});
