import { SecretCacheError } from './errors.js';
import type { StandardSchemaV1 } from './schema.js';

/**
 * Parses a secret's string as JSON. `JSON.parse` quotes its input in its error message, so that error is
 * dropped, not wrapped: only the position survives, as a number.
 */
export function parseSecretJson(secretId: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    const where = position === undefined ? '' : ` (near character ${position})`;
    throw new SecretCacheError(
      'INVALID_JSON',
      secretId,
      `Secret "${secretId}" is not valid JSON${where}; its value is not shown.`,
    );
  }
}

/**
 * Freezes plain objects and arrays all the way down; other objects (a schema's Date, Map...) are left as made.
 * It walks with a stack of its own, not the call stack: a 64 KB secret can nest 30,000 levels deep.
 */
export function deepFreeze<T>(value: T): T {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== 'object' || node === null || Object.isFrozen(node)) continue;
    const proto = Object.getPrototypeOf(node);
    if (!Array.isArray(node) && proto !== Object.prototype && proto !== null) continue;
    Object.freeze(node);
    for (const key of Object.keys(node)) pending.push((node as Record<string, unknown>)[key]);
  }
  return value;
}

/** An issue's path as `a.b.0`; segments that are not keys (a validator's mistake) show as `?`. */
function describePath(path: unknown): string {
  if (!Array.isArray(path) || path.length === 0) return '(root)';
  return path
    .map((segment: unknown) => {
      const key =
        typeof segment === 'object' && segment !== null ? (segment as { key?: unknown }).key : segment;
      const printable = typeof key === 'string' || typeof key === 'number' || typeof key === 'symbol';
      return printable ? String(key) : '?';
    })
    .join('.');
}

function mismatch(secretId: string, issues: ReadonlyArray<StandardSchemaV1.Issue>): SecretCacheError {
  // Validators' own messages may quote the value they rejected (valibot does), so only paths are reported.
  const paths = [
    ...new Set(issues.map((issue: unknown) => describePath((issue as { path?: unknown } | null)?.path))),
  ];
  const shown = paths.slice(0, 10).join(', ') + (paths.length > 10 ? ', ...' : '');
  return new SecretCacheError(
    'SCHEMA_MISMATCH',
    secretId,
    `Secret "${secretId}" does not match the schema at ${shown} (${issues.length} issue${issues.length === 1 ? '' : 's'}).`,
  );
}

/** Validates `value` with a Standard Schema; resolves to the schema's output, deep-frozen. */
export async function validateSecretJson<Output>(
  secretId: string,
  schema: StandardSchemaV1<unknown, Output>,
  value: unknown,
): Promise<Output> {
  let result: StandardSchemaV1.Result<Output>;
  try {
    result = await schema['~standard'].validate(value);
  } catch {
    // A throwing validator's error may quote the value too.
    throw new SecretCacheError(
      'SCHEMA_MISMATCH',
      secretId,
      `Secret "${secretId}": the schema threw while validating; its value is not shown.`,
    );
  }
  let issues: ReadonlyArray<StandardSchemaV1.Issue> | undefined;
  try {
    issues = result.issues;
    if (issues !== undefined && !Array.isArray(issues)) throw new TypeError('issues is not an array');
  } catch {
    // A validator that breaks the Standard Schema contract (no result, issues that are not a list) fails alike.
    throw new SecretCacheError(
      'SCHEMA_MISMATCH',
      secretId,
      `Secret "${secretId}": the schema returned no Standard Schema result; its value is not shown.`,
    );
  }
  if (issues !== undefined) throw mismatch(secretId, issues);
  return deepFreeze((result as StandardSchemaV1.SuccessResult<Output>).value);
}

/** Whether `schema` looks like a Standard Schema v1 object. */
export function isStandardSchema(schema: unknown): schema is StandardSchemaV1 {
  return (
    (typeof schema === 'object' || typeof schema === 'function') &&
    schema !== null &&
    typeof (schema as Partial<StandardSchemaV1>)['~standard']?.validate === 'function'
  );
}

/** The `key` field of a parsed JSON secret, or `MISSING_KEY`. */
export function pickField(secretId: string, value: unknown, key: string): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, key)) {
    return (value as Record<string, unknown>)[key];
  }
  throw new SecretCacheError(
    'MISSING_KEY',
    secretId,
    `Secret "${secretId}" has no top-level field "${key}".`,
  );
}
