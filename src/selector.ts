import { describeValue as describe } from './describe.js';
import { invalidArgument, type SecretCacheError } from './errors.js';
import { isStandardSchema } from './json.js';
import type { ReadOptions } from './options.js';

export const MAX_SECRET_ID_LENGTH = 2048;
export const MAX_VERSION_STAGE_LENGTH = 256;
export const MAX_VERSION_ID_LENGTH = 64;

/** The options of `getSecretString`, `getSecretBinary`, `getSecretValue` and `refreshNow`. */
export const READ_OPTION_NAMES: ReadonlySet<string> = new Set(['versionStage', 'versionId', 'signal']);
/** The options of `getSecretJson`. */
export const JSON_READ_OPTION_NAMES: ReadonlySet<string> = new Set([...READ_OPTION_NAMES, 'schema']);

/**
 * The index of the first control character (U+0000 to U+001F, U+007F) in `text`, or -1. Cache keys join a
 * selector's parts with NUL (see `resolveSelector`), and Secrets Manager allows no control character in a name,
 * ARN, stage or version id: rejecting them all keeps every key unambiguous.
 */
function controlCharacterIndex(text: string): number {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code <= 0x1f || code === 0x7f) return index;
  }
  return -1;
}

/** Why `value` is not a usable `name` (a non-empty string of at most `maxLength`, no control character). */
function textProblem(name: string, value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    return `Expected \`${name}\` to be a non-empty string of at most ${maxLength} characters, got ${describe(value)}.`;
  }
  const index = controlCharacterIndex(value);
  if (index >= 0) {
    const code = value.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0');
    return `Expected \`${name}\` to contain no control character, got U+${code} at index ${index}.`;
  }
  return undefined;
}

/** Why `stage` is not a usable staging label, or `undefined` when it is. */
export function stageProblem(stage: unknown): string | undefined {
  return textProblem('versionStage', stage, MAX_VERSION_STAGE_LENGTH);
}

/** Why `secretId` is not a usable secret id, or `undefined` when it is. */
export function secretIdProblem(secretId: unknown): string | undefined {
  return textProblem('secretId', secretId, MAX_SECRET_ID_LENGTH);
}

/** A validated version selector: what to ask AWS for, and the cache key it is stored under. */
export interface Selector {
  readonly secretId: string;
  readonly versionStage: string | undefined;
  readonly versionId: string | undefined;
  readonly key: string;
}

/**
 * Validates a read's arguments and names the version it wants. The cache key of a read of the default stage
 * is the secret id itself, so the hot path builds no string.
 */
export function resolveSelector(
  secretId: unknown,
  options: ReadOptions | null | undefined,
  defaultStage: string,
): Selector | SecretCacheError {
  const idProblem = secretIdProblem(secretId);
  if (idProblem !== undefined) return invalidArgument(secretId, idProblem);
  const id = secretId as string;
  if (options === undefined || options === null) {
    return { secretId: id, versionStage: defaultStage, versionId: undefined, key: id };
  }
  if (typeof options !== 'object') {
    return invalidArgument(id, `Expected \`options\` to be an object, got ${describe(options)}.`);
  }
  const { versionStage, versionId, signal } = options;
  if (
    signal !== undefined &&
    (typeof signal !== 'object' ||
      signal === null ||
      typeof signal.aborted !== 'boolean' ||
      typeof signal.addEventListener !== 'function')
  ) {
    return invalidArgument(id, `Expected \`signal\` to be an AbortSignal, got ${describe(signal)}.`);
  }
  if (versionStage !== undefined) {
    const problem = stageProblem(versionStage);
    if (problem !== undefined) return invalidArgument(id, problem);
  }
  if (versionId !== undefined) {
    const problem = textProblem('versionId', versionId, MAX_VERSION_ID_LENGTH);
    if (problem !== undefined) return invalidArgument(id, problem);
    if (versionStage !== undefined) {
      // A version id is immutable and a stage moves; caching the pair would mean neither rule holds.
      return invalidArgument(id, 'Expected `versionStage` or `versionId`, not both.');
    }
    return { secretId: id, versionStage: undefined, versionId, key: `${id}\0v\0${versionId}` };
  }
  if (versionStage === undefined || versionStage === defaultStage) {
    return { secretId: id, versionStage: defaultStage, versionId: undefined, key: id };
  }
  return { secretId: id, versionStage, versionId: undefined, key: `${id}\0s\0${versionStage}` };
}

/** Validates `getSecretJson`'s `schema` option. */
export function schemaProblem(schema: unknown): string | undefined {
  if (schema === undefined || isStandardSchema(schema)) return undefined;
  return 'Expected `schema` to implement Standard Schema v1 (an object with `~standard.validate`).';
}
