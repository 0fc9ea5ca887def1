import { describeValue } from '../describe.js';
import type { RotationEvent, RotationStep } from './contract.js';
import { RotationError } from './errors.js';

/** The steps of the protocol, in the order Secrets Manager invokes them. */
export const ROTATION_STEPS: readonly RotationStep[] = Object.freeze([
  'createSecret',
  'setSecret',
  'testSecret',
  'finishSecret',
]);

/** The longest `SecretId`, `ClientRequestToken` or `RotationToken` accepted: an ARN's limit, with room. */
export const MAX_EVENT_FIELD_LENGTH = 2048;

// Control, format, surrogate, private-use and unassigned code points, and the two Unicode line breaks: none is
// part of a secret id or a token, and each could forge or hide a line in a log.
const UNPRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;

/**
 * Checks that `event` is a Secrets Manager rotation event and returns a frozen copy of its four fields, so that
 * nothing later reads the caller's object again (a getter could answer differently the second time). Other
 * keys are ignored: AWS may add fields.
 *
 * Anything else is a `RotationError` with code `INVALID_EVENT`, whatever `event` is (null, a string, an array,
 * an object whose getters throw). Its `step` and `secretId` are the event's when those are valid; the message
 * names the field and the type and length of what it held, never the content.
 *
 * @example
 * ```ts
 * import { parseRotationEvent } from './event.js';
 *
 * const event = parseRotationEvent(JSON.parse(body)); // throws RotationError INVALID_EVENT
 * ```
 */
export function parseRotationEvent(event: unknown): RotationEvent {
  if (typeof event !== 'object' || event === null || isArray(event)) {
    throw invalid(undefined, '', `the event must be an object, got ${describeEvent(event)}`);
  }
  const step = read(event, 'Step');
  const validStep = isStep(step) ? step : undefined;
  const secretId = read(event, 'SecretId');
  const validSecretId = isField(secretId) ? secretId : '';
  if (validStep === undefined) {
    throw invalid(
      undefined,
      validSecretId,
      `\`Step\` must be one of ${ROTATION_STEPS.join(', ')}, got ${describeStep(step)}`,
    );
  }
  if (validSecretId === '') throw invalid(validStep, '', fieldProblem('SecretId', secretId));
  const token = read(event, 'ClientRequestToken');
  if (!isField(token)) throw invalid(validStep, validSecretId, fieldProblem('ClientRequestToken', token));
  const rotationToken = read(event, 'RotationToken');
  if (rotationToken !== undefined && !isField(rotationToken)) {
    throw invalid(validStep, validSecretId, fieldProblem('RotationToken', rotationToken));
  }
  return Object.freeze({
    Step: validStep,
    SecretId: validSecretId,
    ClientRequestToken: token,
    ...(rotationToken === undefined ? {} : { RotationToken: rotationToken }),
  });
}

/**
 * `Array.isArray`, which throws for a revoked proxy: that one is taken for an object (as the event, its fields
 * then throw when read; as a field, it is described as an object).
 */
function isArray(value: unknown): boolean {
  let array = false;
  try {
    array = Array.isArray(value);
  } catch {
    // A revoked proxy.
  }
  return array;
}

/** A property of the caller's object; a getter or a proxy that throws reads as a value no field accepts. */
function read(event: object, key: string): unknown {
  try {
    return (event as Readonly<Record<string, unknown>>)[key];
  } catch {
    return THREW;
  }
}

const THREW = Symbol('threw');

function isStep(value: unknown): value is RotationStep {
  return typeof value === 'string' && (ROTATION_STEPS as readonly string[]).includes(value);
}

function isField(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_EVENT_FIELD_LENGTH &&
    !UNPRINTABLE.test(value)
  );
}

function fieldProblem(name: string, value: unknown): string {
  return `\`${name}\` must be a non-empty string of at most ${MAX_EVENT_FIELD_LENGTH} printable characters, got ${describeField(value)}`;
}

/** A short printable step is shown (a misspelt step is the likely mistake, and no step is a secret). */
function describeStep(value: unknown): string {
  if (typeof value === 'string' && value.length > 0 && value.length <= 32 && !UNPRINTABLE.test(value)) {
    return JSON.stringify(value);
  }
  return value === THREW || value === undefined ? describeField(value) : describeEvent(value);
}

function describeField(value: unknown): string {
  if (value === THREW) return 'a property that throws when read';
  if (value === undefined) return 'none';
  if (typeof value === 'string' && value.length > 0 && value.length <= MAX_EVENT_FIELD_LENGTH) {
    return `${describeValue(value)} with a character that is not printable`;
  }
  return describeEvent(value);
}

function describeEvent(value: unknown): string {
  if (isArray(value)) return 'an array';
  // describeValue prints a primitive; a symbol's description or a bigint could be long or unprintable.
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'bigint') return 'a bigint';
  return describeValue(value);
}

function invalid(step: RotationStep | undefined, secretId: string, problem: string): RotationError {
  return new RotationError('INVALID_EVENT', step, secretId, `Invalid rotation event: ${problem}.`);
}
