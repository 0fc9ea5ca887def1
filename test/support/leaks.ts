import { format, inspect } from 'node:util';
import { expect } from 'vitest';

/** Every way a log line, a crash report or a debugger could render `value`. */
export function renderingsOf(value: unknown): string {
  const renderings = [
    JSON.stringify(value),
    JSON.stringify({ nested: value }),
    inspect(value, { depth: Number.POSITIVE_INFINITY }),
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    inspect({ nested: value }, { depth: Number.POSITIVE_INFINITY }),
    format('%s %j %o %O', value, value, value, value),
  ];
  try {
    renderings.push(String(value), `${value}`);
  } catch {
    // An object without a primitive form cannot leak through one.
  }
  if (value instanceof Error) renderings.push(value.stack ?? '');
  return renderings.join('\n');
}

/**
 * Fails when any `minLength`-character fragment of `secret` appears in `rendered`: a value must not leak even
 * in part (a `JSON.parse` message quotes a few characters of its input).
 */
export function expectNoFragment(rendered: string, secret: string, minLength = 5): void {
  for (let start = 0; start + minLength <= secret.length; start++) {
    const fragment = secret.slice(start, start + minLength);
    if (rendered.includes(fragment)) {
      expect.fail(`a ${minLength}-character fragment of the value (at ${start}) appears in a rendering`);
    }
  }
}

/** Like {@link expectNoFragment} for bytes, in every form they are printed: decimal lists, hex, base64. */
export function expectNoBytes(rendered: string, bytes: Uint8Array): void {
  const window = 4;
  for (let start = 0; start + window <= bytes.length; start++) {
    const part = [...bytes.subarray(start, start + window)];
    for (const form of [
      part.join(','),
      part.join(', '),
      part.map((byte) => byte.toString(16).padStart(2, '0')).join(' '),
      `"${start + 1}":${part[1]},"${start + 2}":${part[2]}`,
    ]) {
      if (rendered.includes(form)) expect.fail(`bytes of the value (at ${start}) appear in a rendering`);
    }
  }
  expectNoFragment(rendered, Buffer.from(bytes).toString('base64'), 8);
}
