import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const src = join(import.meta.dirname, '..', '..', 'src');

/** A file of src/, as text. */
export const readSource = (file: string): string => readFileSync(join(src, file), 'utf8');

/** The names an entry file (`http.ts`) re-exports, with the file of src/ that declares each. */
export function reExported(entry: string): Array<{ name: string; file: string }> {
  const names: Array<{ name: string; file: string }> = [];
  for (const [, list = '', from = ''] of readSource(entry).matchAll(
    /export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g,
  )) {
    for (const item of list.split(',')) {
      const name = item.trim().replace(/^type\s+/, '');
      if (name !== '') names.push({ name, file: from.replace(/^\.\//, '').replace(/\.js$/, '.ts') });
    }
  }
  return names;
}

/** The TSDoc block right above `name`'s exported declaration in `source`, if there is one. */
export function docOf(source: string, name: string): string | undefined {
  const match = new RegExp(`^export (?:function|interface|type|const|class) ${name}\\b`, 'm').exec(source);
  if (match === null) return undefined;
  const before = source.slice(0, match.index).trimEnd();
  if (!before.endsWith('*/')) return undefined;
  return before.slice(before.lastIndexOf('/**'));
}
