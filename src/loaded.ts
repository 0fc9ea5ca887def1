const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');
const REDACTED = '<redacted>';

/**
 * A frozen prototype for objects of ours whose own enumerable properties are the user's values (what `load` and
 * `live` resolve to). Loggers render whole objects: `JSON.stringify` (pino, winston), `util.inspect` (console)
 * and `String()` show `name` and the keys, with every value redacted.
 */
export function redactingPrototype(name: string): object {
  const render = function (this: object): string {
    const entries = Object.keys(this).map(
      (key) => `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}: ${REDACTED}`,
    );
    return entries.length === 0 ? `${name} {}` : `${name} { ${entries.join(', ')} }`;
  };
  return Object.freeze(
    Object.create(Object.prototype, {
      toJSON: {
        value(this: object): Record<string, string> {
          return Object.fromEntries(Object.keys(this).map((key) => [key, REDACTED]));
        },
      },
      toString: { value: render },
      [inspectSymbol]: { value: render },
    }),
  );
}

/** The prototype of what `load` resolves to: its values are the user's, the object holding them is ours. */
const LOADED_PROTOTYPE = redactingPrototype('LoadedSecrets');

/**
 * Why a manifest key cannot be used: an own `toJSON` would shadow the redacting one, and `JSON.stringify` would
 * then print the values.
 */
export function manifestKeyProblem(key: string): string | undefined {
  return key === 'toJSON'
    ? 'Expected no manifest entry named `toJSON`: it would decide how the loaded secrets are rendered as JSON.'
    : undefined;
}

/**
 * The frozen object `load` resolves to: `values` under their manifest keys (checked by {@link manifestKeyProblem}
 * before anything is fetched), rendered without them.
 */
export function loadedSecrets(values: ReadonlyArray<readonly [string, unknown]>): object {
  const loaded = Object.create(LOADED_PROTOTYPE) as object;
  for (const [key, value] of values) {
    // defineProperty, not assignment: a key named `__proto__` must be a property, not a new prototype.
    Object.defineProperty(loaded, key, { value, enumerable: true });
  }
  return Object.freeze(loaded);
}
