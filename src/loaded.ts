const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');
const REDACTED = '<redacted>';

function render(this: object): string {
  const entries = Object.keys(this).map(
    (key) => `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}: ${REDACTED}`,
  );
  return entries.length === 0 ? 'LoadedSecrets {}' : `LoadedSecrets { ${entries.join(', ')} }`;
}

/**
 * The prototype of what `load` resolves to. Its values are the user's (each read as asked for), but the object
 * holding them is ours, and loggers render whole objects: `JSON.stringify` (pino, winston), `util.inspect`
 * (console) and `String()` show the names with every value redacted.
 */
const LOADED_PROTOTYPE: object = Object.freeze(
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
