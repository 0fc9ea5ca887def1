/**
 * The README's table of `SecretCache` options, made from the option table in `src/options.ts`.
 *
 * `node --import tsx scripts/options-table.ts` prints it; with `--write` (`npm run docs:options`) it replaces
 * the README's section between the markers. `test/option-table.test.ts` fails while the two differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { optionsMarkdown } from '../src/option-table.js';
import { SECRET_CACHE_OPTIONS } from '../src/options.js';

export const README = new URL('../README.md', import.meta.url);
const START = '<!-- options:start -->';
const END = '<!-- options:end -->';

/** The table as the README should show it. */
export function optionsTable(): string {
  return optionsMarkdown(SECRET_CACHE_OPTIONS);
}

/** The README's text between the markers, without the blank lines around it; a README without them throws. */
export function markedTable(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} section.`);
  return readme.slice(start + START.length, end).trim();
}

/** The README with the section between the markers replaced by `table`. */
export function withTable(readme: string, table: string): string {
  markedTable(readme);
  // Blank lines around the table, so that no Markdown renderer reads the markers as part of it.
  return `${readme.slice(0, readme.indexOf(START) + START.length)}\n\n${table}\n\n${readme.slice(readme.indexOf(END))}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--write')) {
    writeFileSync(README, withTable(readFileSync(README, 'utf8'), optionsTable()));
  } else {
    process.stdout.write(`${optionsTable()}\n`);
  }
}
