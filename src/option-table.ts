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
 * away (at most a third of the longer name, and at least 2), the earliest on a tie.
 */
function closestName(key: string, names: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let closest: string | undefined;
  let closestDistance = Number.POSITIVE_INFINITY;
  for (const name of names) {
    // Fewer edits than the key has characters: `x` is not a misspelling of `as`.
    const limit = Math.min(key.length - 1, Math.max(2, Math.floor(Math.max(key.length, name.length) / 3)));
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
