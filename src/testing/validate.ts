import { describeValue } from '../describe.js';
import { unknownKeyProblem } from '../option-table.js';

/**
 * Checks that `options` is an object (or `undefined`) with no key but `names`, and returns it as a record.
 * A misspelt option of a test helper would otherwise be ignored and the test would pass for the wrong reason.
 */
export function checkOptions(
  options: unknown,
  names: readonly string[],
  where: string,
): Readonly<Record<string, unknown>> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected the ${where} to be an object, got ${describeValue(options)}.`);
  }
  const unknown = unknownKeyProblem(options, names, where);
  if (unknown !== undefined) throw new TypeError(unknown);
  return options as Readonly<Record<string, unknown>>;
}

/** A `TypeError` in the shape every option error of the library has. */
export function expected(name: string, what: string, value: unknown): TypeError {
  return new TypeError(`Expected \`${name}\` to be ${what}, got ${describeValue(value)}.`);
}

/** A secret's value as given: a string or bytes; a `TypeError` otherwise. */
export function secretValue(value: unknown): string | Uint8Array {
  if (typeof value === 'string' || value instanceof Uint8Array) return value;
  throw expected('value', 'a string or a Uint8Array', value);
}
