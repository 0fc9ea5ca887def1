/**
 * The documentation standard of test/docs.test.ts for `secretcache/http`: every name src/http.ts exports has TSDoc
 * with an `@example` that imports from 'secretcache/http', and every option of its options interfaces is readonly
 * with a `@default`.
 */
import { describe, expect, it } from 'vitest';
import { docOf, readSource as read, reExported } from '../support/entry-docs.js';

const exported = (): Array<{ name: string; file: string }> => reExported('http.ts');

describe('secretcache/http documentation', () => {
  it('exports exactly the two sources and their options', () => {
    expect(
      exported()
        .map(({ name }) => name)
        .sort(),
    ).toEqual(
      ['AgentSourceOptions', 'LambdaExtensionSourceOptions', 'agentSource', 'lambdaExtensionSource'].sort(),
    );
  });

  it.each(exported())('documents $name with an example importing from secretcache/http', ({ name, file }) => {
    const doc = docOf(read(file), name);

    expect(doc, `${name} has no TSDoc`).toBeDefined();
    const example = doc?.slice(doc.indexOf('@example')) ?? '';
    expect(doc).toContain('@example');
    expect(example).toMatch(/from 'secretcache\/http'/);
  });

  it.each([
    ['http/agent.ts', 'AgentSourceOptions'],
    ['http/extension.ts', 'LambdaExtensionSourceOptions'],
  ])('%s: every option of %s is readonly, documented, with a @default', (file, name) => {
    const source = read(file);
    const body = source.slice(source.indexOf(`export interface ${name}`));
    const block = body.slice(0, body.indexOf('\n}\n'));
    const fields = [...block.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n\s*(readonly )?(\w+)\?:/g)];

    expect(fields.length).toBeGreaterThan(2);
    for (const [, doc = '', readonly, field] of fields) {
      expect(readonly, `${field} is not readonly`).toBe('readonly ');
      expect(doc, `${field} has no @default`).toContain('@default');
    }
  });
});
