import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { markedTable, optionsTable, README, withTable } from '../scripts/options-table.js';
import { optionsMarkdown, unknownKeyProblem } from '../src/option-table.js';
import { SECRET_CACHE_OPTIONS } from '../src/options.js';

const READ_OPTIONS = new Set(['versionStage', 'versionId', 'signal']);

describe('unknownKeyProblem', () => {
  it('finds nothing wrong with known keys, from a set or an array', () => {
    expect(unknownKeyProblem({}, READ_OPTIONS, 'read options')).toBeUndefined();
    expect(unknownKeyProblem({ versionStage: 'A', signal: undefined }, READ_OPTIONS, 'x')).toBeUndefined();
    expect(unknownKeyProblem({ cache: 1, contextKey: 'k' }, ['cache', 'contextKey'], 'x')).toBeUndefined();
  });

  it('names an unknown key and where it was, and suggests the option meant', () => {
    expect(unknownKeyProblem({ versionstage: 'A' }, READ_OPTIONS, 'read options of getSecretString')).toBe(
      'Unknown option `versionstage` in read options of getSecretString; did you mean `versionStage`?',
    );
    expect(unknownKeyProblem({ cahce: 1 }, ['cache'], 'options of withSecrets')).toBe(
      'Unknown option `cahce` in options of withSecrets; did you mean `cache`?',
    );
  });

  it.each([
    ['a different case', 'VERSIONID', 'versionId'],
    ['a missing unit', 'ttl', 'ttlMs'],
    ['a singular', 'maxEntry', 'maxEntries'],
    ['a swapped pair of letters', 'singal', 'signal'],
    ['one wrong letter', 'scheme', 'schema'],
  ])('suggests the closest option for %s', (_, key, meant) => {
    const known = [...READ_OPTIONS, 'ttlMs', 'maxEntries', 'schema', 'key'];

    expect(unknownKeyProblem({ [key]: 1 }, known, 'options')).toBe(
      `Unknown option \`${key}\` in options; did you mean \`${meant}\`?`,
    );
  });

  it('lists the known options when none is close', () => {
    expect(unknownKeyProblem({ zzzzzz: 1 }, ['cache', 'contextKey'], 'options of secretsMiddleware')).toBe(
      'Unknown option `zzzzzz` in options of secretsMiddleware; expected one of `cache`, `contextKey`.',
    );
    expect(unknownKeyProblem({ x: 1 }, ['as'], 'o')).not.toContain('did you mean');
  });

  it('reports an unknown key whose value is undefined', () => {
    expect(unknownKeyProblem({ versionStag: undefined }, READ_OPTIONS, 'o')).toContain('`versionStag`');
  });

  it('ignores symbol keys and inherited keys', () => {
    const inherited = Object.assign(Object.create({ versionstage: 'A', bogus: 1 }) as object, {
      versionId: 'v',
    });
    const symbols = { [Symbol('tag')]: 1, [Symbol.iterator]: () => undefined, signal: undefined };

    expect(unknownKeyProblem(inherited, READ_OPTIONS, 'o')).toBeUndefined();
    expect(unknownKeyProblem(symbols, READ_OPTIONS, 'o')).toBeUndefined();
  });

  it('ignores non-enumerable keys', () => {
    const hidden = Object.defineProperty({}, 'bogus', { value: 1, enumerable: false });

    expect(unknownKeyProblem(hidden, READ_OPTIONS, 'o')).toBeUndefined();
  });

  it('treats keys named like Object.prototype members as unknown', () => {
    expect(unknownKeyProblem({ constructor: 1 }, READ_OPTIONS, 'o')).toContain('`constructor`');
    expect(unknownKeyProblem(JSON.parse('{"__proto__": 1}') as object, READ_OPTIONS, 'o')).toContain(
      '`__proto__`',
    );
  });
});

describe("the README's options table", () => {
  it('is the one the option table generates', () => {
    const inReadme = markedTable(readFileSync(README, 'utf8'));

    expect(
      inReadme,
      "README.md's options table differs from src/options.ts: run `npm run docs:options` to rewrite it.",
    ).toBe(optionsTable());
  });

  it('has a row for every option, nested ones by their path', () => {
    const table = optionsMarkdown(SECRET_CACHE_OPTIONS);

    for (const name of Object.keys(SECRET_CACHE_OPTIONS)) expect(table).toContain(`| \`${name}\` |`);
    expect(table).toContain(
      '| `backoff.maxMs` | a positive, finite number of milliseconds of at least `backoff.baseMs` |',
    );
    expect(table).toContain('| `hooks.onVersionChange` | a function | none |');
    expect(table).toContain('| `staleWaitMs` | a non-negative number of milliseconds | `500` |');
  });

  it('is rewritten between the markers only', () => {
    const readme = '# t\n\n<!-- options:start -->\nold\n<!-- options:end -->\n\nafter\n';

    expect(withTable(readme, '| a |')).toBe(
      '# t\n\n<!-- options:start -->\n\n| a |\n\n<!-- options:end -->\n\nafter\n',
    );
    expect(() => markedTable('# no markers')).toThrow(/options:start/);
  });
});
