import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { markedTable, optionsTable, README, withTable } from '../scripts/options-table.js';
import { type OptionTable, optionsMarkdown, unknownKeyProblem } from '../src/option-table.js';
import { SECRET_CACHE_OPTIONS } from '../src/options.js';

const READ_OPTIONS = new Set(['versionStage', 'versionId', 'signal']);
const CACHE_OPTION_NAMES = Object.keys(SECRET_CACHE_OPTIONS);

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

  it.each([
    ['a swap and a dropped letter', 'lcok', 'clock'],
    ['two swaps', 'cleitn', 'client'],
    ['a swap and a missing unit letter', 'tltM', 'ttlMs'],
  ])('counts a swap of neighbours as one edit: %s', (_, key, meant) => {
    expect(unknownKeyProblem({ [key]: 1 }, CACHE_OPTION_NAMES, 'SecretCache options')).toBe(
      `Unknown option \`${key}\` in SecretCache options; did you mean \`${meant}\`?`,
    );
  });

  it.each([
    ['three edits from `clock`', 'cobc'],
    ['three edits from `ttlMs`', 'ttx'],
  ])('suggests nothing for a key more edits away than a third of the name allows: %s', (_, key) => {
    expect(unknownKeyProblem({ [key]: 1 }, CACHE_OPTION_NAMES, 'SecretCache options')).toMatch(
      /; expected one of `client`, /,
    );
  });

  it('suggests the earliest of two equally close options', () => {
    expect(unknownKeyProblem({ timeoutMs: 1 }, ['retries', 'minTimeoutMs', 'maxTimeoutMs'], 'o')).toBe(
      'Unknown option `timeoutMs` in o; did you mean `minTimeoutMs`?',
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

describe('optionsMarkdown', () => {
  const rowOf = (table: OptionTable, name: string): string | undefined =>
    optionsMarkdown(table)
      .split('\n')
      .find((row) => row.startsWith(`| \`${name}\` |`));

  it('escapes a pipe in a cell, so it does not split the row', () => {
    const table = { on: { kind: 'boolean', default: false, doc: 'either a | b' } } satisfies OptionTable;

    expect(rowOf(table, 'on')).toBe('| `on` | a boolean | `false` | either a \\| b |');
  });

  it('shows a default in hours or minutes when it is a whole number of them', () => {
    const table = {
      hour: { kind: 'positive-ms', default: 7_200_000, doc: 'h' },
      hourAndHalf: { kind: 'positive-ms', default: 5_400_000, doc: 'h' },
      minute: { kind: 'non-negative-ms', default: 120_000, doc: 'm' },
      minuteAndHalf: { kind: 'non-negative-ms', default: 90_000, doc: 'm' },
      zero: { kind: 'non-negative-ms', default: 0, doc: 'z' },
    } satisfies OptionTable;

    expect(rowOf(table, 'hour')).toContain('| `7_200_000` (2 h) |');
    expect(rowOf(table, 'hourAndHalf')).toContain('| `5_400_000` (90 min) |');
    expect(rowOf(table, 'minute')).toContain('| `120_000` (2 min) |');
    expect(rowOf(table, 'minuteAndHalf')).toContain('| `90_000` |');
    expect(rowOf(table, 'zero')).toContain('| `0` |');
  });

  it('shows a count or a fraction without a unit, however large', () => {
    const table = {
      count: { kind: 'positive-integer', default: 7_200_000, doc: 'c' },
      share: { kind: 'fraction', default: 0.5, doc: 's' },
    } satisfies OptionTable;

    expect(rowOf(table, 'count')).toBe('| `count` | a positive integer | `7_200_000` | c |');
    expect(rowOf(table, 'share')).toBe('| `share` | a fraction in [0, 1) | `0.5` | s |');
  });

  it('shows none for an option whose default is computed or absent, unless it documents one', () => {
    const table = {
      ttlMs: { kind: 'positive-ms', default: 1_000, doc: 't' },
      aheadMs: { kind: 'non-negative-ms', default: ({ ttlMs }) => Number(ttlMs) / 10, doc: 'a' },
      onEvent: { kind: 'function', doc: 'e' },
    } satisfies OptionTable;

    expect(rowOf(table, 'aheadMs')).toBe(
      '| `aheadMs` | a non-negative, finite number of milliseconds | none | a |',
    );
    expect(rowOf(table, 'onEvent')).toBe('| `onEvent` | a function | none | e |');
  });

  it('shows a nested table’s plain defaults as one object, leaving out computed and absent ones', () => {
    const table = {
      limits: {
        kind: 'nested',
        doc: 'l',
        options: {
          baseMs: { kind: 'positive-ms', default: 1_000, doc: 'b' },
          maxMs: { kind: 'positive-ms', default: ({ baseMs }) => Number(baseMs) * 60, doc: 'm' },
          verbose: { kind: 'boolean', default: true, doc: 'v' },
          name: { kind: 'string', default: 'x', maxLength: 8, doc: 'n' },
          onLimit: { kind: 'function', doc: 'o' },
        },
      },
      hooks: { kind: 'nested', doc: 'h', options: { onEvent: { kind: 'function', doc: 'e' } } },
    } satisfies OptionTable;

    expect(rowOf(table, 'limits')).toBe(
      "| `limits` | an object | `{ baseMs: 1_000, verbose: true, name: 'x' }` | l |",
    );
    expect(rowOf(table, 'hooks')).toBe('| `hooks` | an object | none | h |');
  });
});
