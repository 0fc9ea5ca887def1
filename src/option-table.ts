import { describeValue as describe } from './describe.js';

/**
 * One option of a table: what its value must be, its default, and a line for the README. The message of a
 * bad value (``Expected `ttlMs` to be a positive, finite number of milliseconds, got 0.``) and the README's
 * "value" column are the same phrase, made from the spec.
 *
 * @example
 * ```ts
 * import type { OptionSpec } from './option-table.js';
 *
 * const ttlMs: OptionSpec = { kind: 'positive-ms', default: 300_000, doc: 'how old a served value may be' };
 * ```
 */
export type OptionSpec =
  | NumberSpec
  | BooleanSpec
  | StringSpec
  | MethodSpec
  | FunctionSpec
  | NestedSpec
  | RegionListSpec;

/**
 * Options by name, in the order they are checked and documented. A spec may refer to the options before it
 * (`below: 'ttlMs'`, a default computed from them).
 *
 * @example
 * ```ts
 * import type { OptionTable } from './option-table.js';
 *
 * const retry = {
 *   retries: { kind: 'non-negative-integer', default: 1, doc: 'further attempts after the first' },
 * } satisfies OptionTable;
 * ```
 */
export type OptionTable = { readonly [name: string]: OptionSpec };

interface Documented {
  /** One line for the README's table: what the option does. */
  readonly doc: string;
  /** The README's default, where the default is not a plain value (or there is none). */
  readonly defaultDoc?: string;
}

/** A number, with the meaning its kind names and the bounds given. */
interface NumberSpec extends Documented {
  readonly kind:
    | 'positive-ms'
    | 'non-negative-ms'
    | 'fraction'
    | 'positive-integer'
    | 'non-negative-integer'
    | 'multiplier';
  /** The default, or how to compute it from the options resolved before this one. */
  readonly default: number | ((resolved: Readonly<Record<string, unknown>>) => number);
  /** Whether `Infinity` (no limit) is allowed. */
  readonly infinite?: boolean;
  readonly max?: number;
  /** An option earlier in the same table that this one may not be less than. */
  readonly atLeast?: string;
  /** An option earlier in the same table that this one must be less than. */
  readonly below?: string;
}

interface BooleanSpec extends Documented {
  readonly kind: 'boolean';
  readonly default: boolean;
}

/** A non-empty string of at most `maxLength` characters. */
interface StringSpec extends Documented {
  readonly kind: 'string';
  readonly default: string;
  readonly maxLength: number;
}

/** An object with a method `method`; no default (the code that uses it decides what its absence means). */
interface MethodSpec extends Documented {
  readonly kind: 'object-with-method';
  readonly method: string;
  /** What else the message names as acceptable: `'a SecretsManagerClient'`. */
  readonly alias?: string;
  /** An option earlier in the same table that may not be given together with this one. */
  readonly excludes?: string;
}

interface FunctionSpec extends Documented {
  readonly kind: 'function';
}

/** A non-empty list of distinct AWS region names (`us-east-1`); no default. */
interface RegionListSpec extends Documented {
  readonly kind: 'region-list';
  /** Options earlier in the same table that may not be given together with this one. */
  readonly excludes?: readonly string[];
}

const REGION_NAME = /^[a-z]{2,4}(?:-[a-z]+){1,3}-\d{1,2}$/;

/** Whether `value` is shaped as an AWS region name: `us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`, `eusc-de-east-1`. */
export function isRegionName(value: unknown): value is string {
  return typeof value === 'string' && REGION_NAME.test(value);
}

/** An object of options of its own, checked like the table it is in. */
interface NestedSpec extends Documented {
  readonly kind: 'nested';
  readonly options: OptionTable;
}

type ValueOf<S> = S extends NestedSpec
  ? Resolved<S['options']>
  : S extends BooleanSpec
    ? boolean
    : S extends StringSpec
      ? string
      : S extends NumberSpec
        ? number
        : never;

/**
 * What {@link resolveTable} returns for a table: every option that has a default (or is a nested table),
 * typed by its kind. Options without a default are left out of the type; the code that uses them reads them
 * from the caller's object.
 *
 * @example
 * ```ts
 * import type { OptionTable, Resolved } from './option-table.js';
 *
 * const table = { factor: { kind: 'multiplier', default: 2, doc: 'growth per failure' } } satisfies OptionTable;
 * type Backoff = Resolved<typeof table>; // { readonly factor: number }
 * ```
 */
export type Resolved<T extends OptionTable> = {
  readonly [K in keyof T as T[K] extends { readonly default: unknown } | NestedSpec ? K : never]: ValueOf<
    T[K]
  >;
};

/**
 * Checks an options object against a table once, at construction, and returns it with the defaults applied.
 * A field set to `undefined` keeps its default. Throws a `TypeError` for an unknown key (see
 * {@link unknownKeyProblem}) or a value its spec does not accept, naming it by its path (`backoff.maxMs`).
 *
 * @param table - the options, in the order to check them
 * @param options - the caller's object (any JavaScript value was checked to be an object before)
 * @param where - how to name the object in the message about an unknown key: `'SecretCache options'`
 * @param alsoKnown - keys the caller checks itself (outside the table), which are not unknown
 * @example
 * ```ts
 * import { type OptionTable, resolveTable } from './option-table.js';
 *
 * const table = {
 *   retries: { kind: 'non-negative-integer', default: 1, doc: 'further attempts after the first' },
 * } satisfies OptionTable;
 * resolveTable(table, {}, 'retry options'); // { retries: 1 }
 * resolveTable(table, { retry: 2 }, 'retry options'); // TypeError: ... did you mean `retries`?
 * ```
 */
export function resolveTable<T extends OptionTable>(
  table: T,
  options: object,
  where: string,
  alsoKnown: readonly string[] = [],
): Resolved<T> {
  return resolveLevel(table, options, where, '', alsoKnown) as Resolved<T>;
}

function resolveLevel(
  table: OptionTable,
  options: object,
  where: string,
  path: string,
  alsoKnown: readonly string[] = [],
): Record<string, unknown> {
  const known = alsoKnown.length === 0 ? Object.keys(table) : [...Object.keys(table), ...alsoKnown];
  const unknown = unknownKeyProblem(options, known, where);
  if (unknown !== undefined) throw new TypeError(unknown);
  const given = options as Readonly<Record<string, unknown>>;
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const label = `${path}${name}`;
    const value = given[name];
    if (spec.kind === 'nested') {
      if (value !== undefined && (typeof value !== 'object' || value === null)) {
        throw new TypeError(`Expected \`${label}\` to be an object, got ${describe(value)}.`);
      }
      resolved[name] = resolveLevel(spec.options, value ?? {}, `\`${label}\` of ${where}`, `${label}.`);
      continue;
    }
    const final = value === undefined && 'default' in spec ? defaultOf(spec, resolved) : value;
    if (final === undefined) continue;
    if (!accepts(spec, final, resolved)) {
      throw new TypeError(`Expected \`${label}\` to be ${expectation(spec, path)}, got ${describe(final)}.`);
    }
    const excluded =
      spec.kind === 'object-with-method' || spec.kind === 'region-list' ? [spec.excludes ?? []].flat() : [];
    for (const other of excluded) {
      if (given[other] !== undefined) {
        throw new TypeError(`Expected either \`${path}${other}\` or \`${label}\`, not both.`);
      }
    }
    resolved[name] = final;
  }
  return resolved;
}

function defaultOf(spec: NumberSpec | BooleanSpec | StringSpec, resolved: Readonly<Record<string, unknown>>) {
  return typeof spec.default === 'function' ? spec.default(resolved) : spec.default;
}

function accepts(
  spec: Exclude<OptionSpec, NestedSpec>,
  value: unknown,
  resolved: Readonly<Record<string, unknown>>,
) {
  switch (spec.kind) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string' && value.length > 0 && value.length <= spec.maxLength;
    case 'object-with-method':
      return (
        typeof value === 'object' &&
        value !== null &&
        typeof (value as Record<string, unknown>)[spec.method] === 'function'
      );
    case 'function':
      return typeof value === 'function';
    case 'region-list':
      return (
        Array.isArray(value) &&
        value.length > 0 &&
        value.every(isRegionName) &&
        new Set(value).size === value.length
      );
    default:
      return (
        typeof value === 'number' &&
        inKind(spec.kind, value) &&
        (spec.infinite === true || Number.isFinite(value)) &&
        (spec.max === undefined || value <= spec.max) &&
        (spec.atLeast === undefined || value >= (resolved[spec.atLeast] as number)) &&
        (spec.below === undefined || value < (resolved[spec.below] as number))
      );
  }
}

function inKind(kind: NumberSpec['kind'], value: number): boolean {
  switch (kind) {
    case 'positive-ms':
      return value > 0;
    case 'non-negative-ms':
      return value >= 0;
    case 'fraction':
      return value >= 0 && value < 1;
    case 'positive-integer':
      return Number.isSafeInteger(value) && value > 0;
    case 'non-negative-integer':
      return Number.isSafeInteger(value) && value >= 0;
    case 'multiplier':
      return value >= 1;
  }
}

/** What a spec accepts, as the phrase after "Expected `name` to be"; `path` names its siblings (`backoff.`). */
function expectation(spec: OptionSpec, path: string): string {
  switch (spec.kind) {
    case 'boolean':
      return 'a boolean';
    case 'string':
      return `a non-empty string of at most ${spec.maxLength} characters`;
    case 'object-with-method':
      return `${spec.alias === undefined ? '' : `${spec.alias} or `}an object with a \`${spec.method}()\` method`;
    case 'function':
      return 'a function';
    case 'nested':
      return 'an object';
    case 'region-list':
      return 'a non-empty list of distinct AWS region names (`us-east-1`)';
    default: {
      const finite = spec.infinite === true ? '' : ', finite';
      const noun = {
        'positive-ms': `a positive${finite} number of milliseconds`,
        'non-negative-ms': `a non-negative${finite} number of milliseconds`,
        fraction: 'a fraction in [0, 1)',
        'positive-integer': 'a positive integer',
        'non-negative-integer': 'a non-negative integer',
        multiplier: 'a finite number of at least 1',
      }[spec.kind];
      const max = spec.max === undefined ? '' : ` of at most ${formatNumber(spec.max)}`;
      const atLeast = spec.atLeast === undefined ? '' : ` of at least \`${path}${spec.atLeast}\``;
      const below = spec.below === undefined ? '' : ` below \`${path}${spec.below}\``;
      return `${noun}${max}${atLeast}${below}`;
    }
  }
}

/**
 * The README's table of a table's options: one row per option, nested ones as `backoff.baseMs` under their
 * parent, with the value each accepts, its default and what it does.
 *
 * @example
 * ```ts
 * import { optionsMarkdown } from './option-table.js';
 * import { SECRET_CACHE_OPTIONS } from './options.js';
 *
 * const table = optionsMarkdown(SECRET_CACHE_OPTIONS); // '| option | value | default | meaning |\n| --- ...'
 * ```
 */
export function optionsMarkdown(table: OptionTable): string {
  const rows = ['| option | value | default | meaning |', '| --- | --- | --- | --- |'];
  const addRows = (level: OptionTable, path: string): void => {
    for (const [name, spec] of Object.entries(level)) {
      const cells = [`\`${path}${name}\``, expectation(spec, path), defaultCell(spec), spec.doc];
      rows.push(`| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`);
      if (spec.kind === 'nested') addRows(spec.options, `${path}${name}.`);
    }
  };
  addRows(table, '');
  return rows.join('\n');
}

function defaultCell(spec: OptionSpec): string {
  if (spec.defaultDoc !== undefined) return spec.defaultDoc;
  if (spec.kind === 'nested') {
    const fields = Object.entries(spec.options).flatMap(([name, field]) =>
      'default' in field && typeof field.default !== 'function'
        ? [`${name}: ${formatValue(field.default)}`]
        : [],
    );
    return fields.length === 0 ? 'none' : `\`{ ${fields.join(', ')} }\``;
  }
  if (!('default' in spec) || typeof spec.default === 'function') return 'none';
  const value = `\`${formatValue(spec.default)}\``;
  if (spec.kind !== 'positive-ms' && spec.kind !== 'non-negative-ms') return value;
  if (spec.default >= 3_600_000 && spec.default % 3_600_000 === 0)
    return `${value} (${spec.default / 3_600_000} h)`;
  if (spec.default >= 60_000 && spec.default % 60_000 === 0) return `${value} (${spec.default / 60_000} min)`;
  return value;
}

function formatValue(value: number | boolean | string): string {
  if (typeof value === 'string') return `'${value}'`;
  return typeof value === 'number' ? formatNumber(value) : String(value);
}

/** A number as a TypeScript literal with digit separators: `2_147_483_647`. */
function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value).replace(/\B(?=(\d{3})+$)/g, '_') : String(value);
}

/**
 * Why an options object has a key nobody reads, or `undefined` when every key is known. A misspelt option
 * would otherwise be ignored in silence and its default kept. The message names the key, where it was given,
 * and the known option it is closest to (by edit distance, case ignored), if any is close.
 *
 * Only own enumerable string keys count: inherited and symbol keys are not options. A key set to `undefined`
 * counts too. It allocates nothing when every key is known, so it is cheap enough for a warm read.
 *
 * @param value - the options object, already known to be an object
 * @param known - the option names it may have
 * @param where - how to name the object in the message: `'read options of getSecretString'`
 * @example
 * ```ts
 * import { unknownKeyProblem } from './option-table.js';
 *
 * const problem = unknownKeyProblem({ cahce: cache }, ['cache'], 'options of withSecrets');
 * // 'Unknown option `cahce` in options of withSecrets; did you mean `cache`?'
 * if (problem !== undefined) throw new TypeError(problem);
 * ```
 */
export function unknownKeyProblem(
  value: object,
  known: ReadonlySet<string> | readonly string[],
  where: string,
): string | undefined {
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (Array.isArray(known) ? known.includes(key) : (known as ReadonlySet<string>).has(key)) continue;
    const names = [...known];
    const meant = closestName(key, names);
    return meant === undefined
      ? `Unknown option \`${key}\` in ${where}; expected one of ${names.map((name) => `\`${name}\``).join(', ')}.`
      : `Unknown option \`${key}\` in ${where}; did you mean \`${meant}\`?`;
  }
  return undefined;
}

/**
 * The name among `names` that `key` is most likely a misspelling of: the same but for case, or a few edits
 * away (a third of the longer name, rounded up, and at least 2), the earliest on a tie.
 */
function closestName(key: string, names: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let closest: string | undefined;
  let closestDistance = Number.POSITIVE_INFINITY;
  for (const name of names) {
    // Fewer edits than the key has characters: `x` is not a misspelling of `as`.
    const limit = Math.min(key.length - 1, Math.max(2, Math.ceil(Math.max(key.length, name.length) / 3)));
    // Stryker disable next-line ConditionalExpression: a fast path; the distance is at least the difference in length, so the check below rejects such a name anyway.
    if (Math.abs(key.length - name.length) > limit) continue;
    const distance = editDistance(lower, name.toLowerCase());
    if (distance <= limit && distance < closestDistance) {
      closest = name;
      closestDistance = distance;
    }
  }
  return closest;
}

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`: optimal string alignment. */
function editDistance(a: string, b: string): number {
  // Stryker disable next-line ArrayDeclaration: read only when i > 1, by which time it holds row i - 2; its first value is never read.
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, beforePrevious[j - 2]! + 1);
      }
      current.push(distance);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length]!;
}
