/**
 * The documentation standard of test/docs.test.ts for `secretcache/testing`: src/testing.ts only re-exports, every
 * name it exports has TSDoc with an `@example` that imports from 'secretcache/testing', and every option of its
 * options interfaces is readonly with a `@default`.
 */
import { describe, expect, it } from 'vitest';
import { docOf, readSource as read, reExported } from '../support/entry-docs.js';

const exported = (): Array<{ name: string; file: string }> => reExported('testing.ts');

describe('secretcache/testing documentation', () => {
  it('is an entry file of re-exports only', () => {
    const statements = read('testing.ts')
      .replace(/^\/\/.*$/gm, '')
      .split(';')
      .map((statement) => statement.trim())
      .filter((statement) => statement !== '');

    for (const statement of statements)
      expect(statement).toMatch(/^export (?:type )?\{[^}]*\} from '\.\/testing\/[\w-]+\.js'$/);
  });

  it('exports memorySource and the types of its API', () => {
    expect(
      exported()
        .map(({ name }) => name)
        .sort(),
    ).toEqual(
      [
        'CallFilter',
        'CreateSecretOptions',
        'FailureKind',
        'FailureOptions',
        'InjectedFailure',
        'MemoryCall',
        'MemoryOperation',
        'MemoryRotation',
        'MemorySource',
        'MemorySourceOptions',
        'PutSecretValueOptions',
        'RotateOptions',
        'SecretDescription',
        'SecretVersionInfo',
        'UpdateVersionStageOptions',
        'memorySource',
      ].sort(),
    );
  });

  it.each(exported())(
    'documents $name with an example importing from secretcache/testing',
    ({ name, file }) => {
      const doc = docOf(read(file), name);

      expect(doc, `${name} has no TSDoc`).toBeDefined();
      const example = doc?.slice(doc.indexOf('@example')) ?? '';
      expect(doc).toContain('@example');
      expect(example).toMatch(/from 'secretcache\/testing'/);
    },
  );

  it.each([
    ['testing/memory-source.ts', 'MemorySourceOptions'],
    ['testing/memory-source.ts', 'CreateSecretOptions'],
    ['testing/memory-source.ts', 'PutSecretValueOptions'],
    ['testing/memory-source.ts', 'UpdateVersionStageOptions'],
    ['testing/rotation.ts', 'RotateOptions'],
    ['testing/failures.ts', 'FailureOptions'],
  ])('%s: every option of %s is readonly, documented, with a @default', (file, name) => {
    const source = read(file);
    const body = source.slice(source.indexOf(`export interface ${name}`));
    const block = body.slice(0, body.indexOf('\n}\n'));
    const fields = [...block.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n\s*(readonly )?(\w+)\?:/g)];

    expect(fields.length).toBeGreaterThan(0);
    expect(fields.length).toBe([...block.matchAll(/^\s+(?:readonly )?\w+\?:/gm)].length);
    for (const [, doc = '', readonly, field] of fields) {
      expect(readonly, `${field} is not readonly`).toBe('readonly ');
      expect(doc, `${field} has no @default`).toContain('@default');
    }
  });
});
