import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The standard: every public export has TSDoc with an `@example` that imports from the package's real paths,
// so the examples show what a user writes. Public exports are what the four entry points export.

const srcDir = new URL('../src/', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, srcDir), 'utf8');
const sources = new Map(
  readdirSync(srcDir)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => [file, read(file)]),
);

const declarationKinds = 'function|const|interface|type|class|namespace';
const packageImport = /\bfrom '(?:secretcache|secretcache\/lambda|secretcache\/middy|secretcache\/env)'/;

interface PublicName {
  /** The name a user imports. */
  readonly name: string;
  /** The name it is declared under. */
  readonly local: string;
  /** The file of src the entry point says declares it (`cache.ts` for `'./cache.js'`). */
  readonly from: string;
  /** The entry point that exports it. */
  readonly entry: string;
}

/** The names in `index.ts`'s `export { ... } from` and `export type { ... } from` lists. */
function reExportedNames(entry: string, source: string): PublicName[] {
  const names: PublicName[] = [];
  for (const [, list = '', from = ''] of source.matchAll(
    /export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g,
  )) {
    const file = from.replace(/^\.\//, '').replace(/\.js$/, '.ts');
    for (const item of list.split(',')) {
      const [local = '', name = local] = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/);
      if (local !== '') names.push({ name, local, from: file, entry });
    }
  }
  return names;
}

/** The names an entry point declares and exports itself. */
function declaredNames(entry: string, source: string): PublicName[] {
  const pattern = new RegExp(`^export (?:declare )?(?:${declarationKinds}) (\\w+)`, 'gm');
  return [...source.matchAll(pattern)].map(([, name = '']) => ({ name, local: name, from: entry, entry }));
}

/** Why `source` breaks the standard for `name`, or `undefined` when its declaration's doc meets it. */
function docProblem(source: string, name: string): string | undefined {
  const pattern = new RegExp(`^export (?:declare )?(${declarationKinds}) ${name}\\b`, 'gm');
  const declarations = [...source.matchAll(pattern)];
  if (declarations.length === 0) return 'no declaration found';
  // A namespace merged with an interface (or class, function) is documented by that declaration; the first
  // of several declarations (overloads) carries the doc.
  const primary = declarations.find(([, kind]) => kind !== 'namespace') ?? declarations[0]!;
  const before = source.slice(0, primary.index).trimEnd();
  const start = before.lastIndexOf('/**');
  const block = before.slice(start);
  if (!before.endsWith('*/') || start < 0 || block.indexOf('*/') !== block.length - 2) return 'no TSDoc';
  const example = block.indexOf('@example');
  if (example < 0) return 'no @example';
  if (!packageImport.test(block.slice(example))) {
    return "@example imports from none of 'secretcache', 'secretcache/lambda', 'secretcache/middy', 'secretcache/env'";
  }
  return undefined;
}

function publicNames(): PublicName[] {
  const index = read('index.ts');
  if (/export\s+\*/.test(index)) throw new Error('src/index.ts uses `export *`: list its names instead.');
  return [
    ...reExportedNames('index.ts', index),
    ...declaredNames('index.ts', index),
    ...declaredNames('lambda.ts', read('lambda.ts')),
    ...declaredNames('middy.ts', read('middy.ts')),
    ...declaredNames('env.ts', read('env.ts')),
  ];
}

describe('public API documentation', () => {
  it('documents every public export with an example that imports from the package', () => {
    const names = publicNames();
    expect(names.map(({ name }) => name)).toEqual(
      expect.arrayContaining(['SecretCache', 'secret', 'withSecrets', 'secretsMiddleware', 'loadEnv']),
    );

    const offenders: string[] = [];
    for (const { name, local, from, entry } of names) {
      // The file the entry point names; any file of src when that one does not declare it (a re-export chain).
      const declares = (file: string) =>
        docProblem(sources.get(file) ?? '', local) !== 'no declaration found';
      const files = declares(from) ? [from] : [...sources.keys()].filter(declares);
      if (files.length === 0)
        offenders.push(`${name} (exported by src/${entry}): no declaration found in src`);
      for (const file of files) {
        const problem = docProblem(sources.get(file) ?? '', local);
        if (problem !== undefined) offenders.push(`${name} (src/${file}): ${problem}`);
      }
    }

    expect(offenders, `Public exports that break the TSDoc standard:\n  ${offenders.join('\n  ')}\n`).toEqual(
      [],
    );
  });

  it('flags a declaration without TSDoc, without an example, or whose example uses another import path', () => {
    const example = (from: string) =>
      `/**\n * Doc.\n *\n * @example\n * \`\`\`ts\n * import { A } from '${from}';\n * \`\`\`\n */\n`;

    expect(docProblem(`${example('secretcache')}export interface A {}`, 'A')).toBeUndefined();
    expect(docProblem(`${example('secretcache/middy')}export interface A {}`, 'A')).toBeUndefined();
    expect(docProblem('/** Doc. */\nexport interface A {}', 'A')).toBe('no @example');
    expect(docProblem(`${example('secretcache')}const x = 1;\nexport function A() {}`, 'A')).toBe('no TSDoc');
    expect(docProblem(`${example('../src/index.js')}export type A = 1;`, 'A')).toMatch(/imports from none/);
    expect(docProblem('export const B = 1;', 'A')).toBe('no declaration found');
    expect(
      docProblem(`${example('secretcache')}export interface A {}\nexport declare namespace A {}`, 'A'),
    ).toBeUndefined();
  });
});
