import { channel } from 'node:diagnostics_channel';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describeValue as describe } from '../describe.js';
import { unknownKeyProblem } from '../option-table.js';
import type { SecretsManagerLike } from '../source.js';
import type { RotationEvent, RotationStep, RotationTarget } from './contract.js';
import { isRotationError, RotationError, type RotationErrorCode } from './errors.js';
import { parseRotationEvent } from './event.js';
import {
  about,
  createSecret,
  describeStages,
  errorName,
  finishSecret,
  type RotationOutcome,
  type Step,
  type StepResult,
  type StepRun,
  setSecret,
  testSecret,
} from './steps.js';

/**
 * One line of a rotation handler's log: what one invocation did. It names the step, the secret and the
 * version, never any part of a value.
 *
 * @example
 * ```ts
 * import { rotationHandler, type RotationLogEntry, type RotationTarget } from 'secretcache/rotation';
 *
 * declare const target: RotationTarget;
 * const log = (entry: RotationLogEntry) => {
 *   if (entry.outcome === 'failed') console.error(JSON.stringify(entry));
 *   else console.info(JSON.stringify(entry));
 * };
 * export const handler = rotationHandler(target, { log });
 * ```
 */
export interface RotationLogEntry {
  /** The event's step; `undefined` when the event named none that is known. */
  readonly step: RotationStep | undefined;
  /** The event's `SecretId`; empty when the event had no valid one. */
  readonly secretId: string;
  /** The event's `ClientRequestToken`: the id of the version being rotated in; empty for an invalid event. */
  readonly token: string;
  readonly outcome: RotationOutcome;
  /** For `failed`: the `RotationError`'s code; absent when the target's `createPending` threw its own error. */
  readonly code?: RotationErrorCode;
  /** What happened, in a sentence; for `failed`, the error's message. */
  readonly message: string;
}

/**
 * Options of {@link rotationHandler}. An unknown option, or a value of the wrong type, is a `TypeError` when
 * `rotationHandler` is called.
 *
 * @example
 * ```ts
 * import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 * import type { RotationHandlerOptions } from 'secretcache/rotation';
 *
 * const options: RotationHandlerOptions = {
 *   client: new SecretsManagerClient({ region: 'eu-west-1' }),
 *   passwordLength: 40,
 *   excludeCharacters: ':/@"\'\\;', // a `;` would also break this system's connection strings
 * };
 * ```
 */
export interface RotationHandlerOptions {
  /**
   * The Secrets Manager client every step calls: a `SecretsManagerClient`, or anything with its `send(command)`.
   * @default a `new SecretsManagerClient({})` (the default region and credential chain), made when
   *   `rotationHandler` is called, so that a Lambda sandbox reuses it across invocations
   */
  readonly client?: SecretsManagerLike;
  /**
   * The length of the passwords `randomPassword()` asks `GetRandomPassword` for: an integer from 4 to 4096.
   * @default 32
   */
  readonly passwordLength?: number;
  /**
   * Characters the passwords of `randomPassword()` never contain (`GetRandomPassword`'s `ExcludeCharacters`);
   * `''` excludes none. At most 4096 characters.
   * @default ':/@"\'\\' (the characters that break connection strings, as in AWS's rotation templates)
   */
  readonly excludeCharacters?: string;
  /**
   * Called once per invocation with what it did (or why it failed), e.g. to write it to the function's log:
   * `(entry) => console.info(JSON.stringify(entry))`. The library prints nothing itself; the same entries go to
   * the `secretcache:rotation` diagnostics channel. `false` is the same as none. An exception it throws is
   * ignored: logging never changes a step's outcome.
   * @default none
   */
  readonly log?: ((entry: RotationLogEntry) => void) | false;
}

/** Where every invocation's {@link RotationLogEntry} is published, for whoever subscribes. */
const rotationChannel = channel('secretcache:rotation');

const OPTION_NAMES = [
  'client',
  'passwordLength',
  'excludeCharacters',
  'log',
] as const satisfies ReadonlyArray<keyof RotationHandlerOptions>;

const DEFAULT_PASSWORD_LENGTH = 32;
const MIN_PASSWORD_LENGTH = 4;
const MAX_PASSWORD_LENGTH = 4096;
const DEFAULT_EXCLUDE_CHARACTERS = ':/@"\'\\';
const MAX_EXCLUDE_CHARACTERS = 4096;

const STEPS: Readonly<Record<RotationStep, Step>> = Object.freeze({
  createSecret,
  setSecret,
  testSecret,
  finishSecret,
});

/**
 * Makes a Lambda handler for Secrets Manager's rotation of one kind of secret: the service invokes it four times
 * per rotation (`createSecret`, `setSecret`, `testSecret`, `finishSecret`) with the secret's id and the new
 * version's token; `target` knows the system whose credential changes.
 *
 * Every invocation first checks the event (`INVALID_EVENT`) and the secret: rotation enabled
 * (`ROTATION_NOT_ENABLED`), the token one of its versions (`UNKNOWN_VERSION`) and that version `AWSPENDING`
 * (`NOT_PENDING`), or already `AWSCURRENT`, when there is nothing left to do. Then the step:
 *
 * - `createSecret` puts the pending value, made by `target.createPending` or, without one, the current JSON
 *   with a new `password` from `GetRandomPassword`; a value an earlier attempt put is kept.
 * - `setSecret` calls `target.setPending`, unless `target.testPending` passes already (`SET_FAILED`).
 * - `testSecret` calls `target.testPending` (`TEST_FAILED`).
 * - `finishSecret` moves `AWSCURRENT` to the new version (the old one becomes `AWSPREVIOUS`) and leaves no
 *   version `AWSPENDING`.
 *
 * Before createSecret has put a value, the other three steps are `INVALID_SECRET` and change nothing.
 *
 * Each step is safe to run again, as Secrets Manager retries failed ones. Every failure is a `RotationError`
 * (a Secrets Manager call's is `AWS_FAILED`, the SDK's error its `cause`), except an error of the target's own
 * `createPending`, which is thrown as it is. No error and no log line carries any part of a value.
 *
 * @param target - the system whose credential rotates: `setPending`, `testPending`, optionally `createPending`
 * @param options - see {@link RotationHandlerOptions}
 * @returns the Lambda handler: `(event, context?) => Promise<void>`
 * @example
 * ```ts
 * import { rotationHandler, type RotationTarget } from 'secretcache/rotation';
 *
 * // An API key held by a service that has its own admin API.
 * declare const adminApi: { addKey(key: string): Promise<void>; whoAmI(key: string): Promise<void> };
 * const target: RotationTarget = {
 *   async setPending({ pending }) {
 *     await adminApi.addKey(pending.json().apiKey as string);
 *   },
 *   async testPending({ pending }) {
 *     await adminApi.whoAmI(pending.json().apiKey as string);
 *   },
 *   async createPending({ current, randomPassword }) {
 *     return JSON.stringify({ ...current.json(), apiKey: await randomPassword() });
 *   },
 * };
 * export const handler = rotationHandler(target, { passwordLength: 48 });
 * ```
 */
export function rotationHandler(
  target: RotationTarget,
  options?: RotationHandlerOptions,
): (event: RotationEvent, context?: unknown) => Promise<void> {
  checkTarget(target);
  const { client, passwordLength, excludeCharacters, log } = resolveOptions(options);
  const write = (entry: RotationLogEntry): void => {
    const frozen = Object.freeze(entry);
    if (rotationChannel.hasSubscribers) rotationChannel.publish(frozen);
    // Stryker disable next-line BooleanLiteral: with `log === true`, a `false` log is called, and its TypeError is swallowed below
    if (log === false) return;
    try {
      log(frozen);
    } catch {
      // A logger's failure is not the rotation's: the step's outcome stands.
    }
  };

  return async (event: RotationEvent): Promise<void> => {
    let valid: RotationEvent;
    try {
      valid = parseRotationEvent(event);
    } catch (error) {
      const { step, secretId } = error as RotationError;
      write(failure(step, secretId, '', error));
      throw error;
    }
    const run: StepRun = {
      event: valid,
      step: valid.Step,
      secretId: valid.SecretId,
      token: valid.ClientRequestToken,
      client,
      target,
      passwordLength,
      excludeCharacters,
    };
    let result: StepResult;
    try {
      result = await runStep(run);
    } catch (error) {
      write(failure(run.step, run.secretId, run.token, error));
      throw error;
    }
    write({ step: run.step, secretId: run.secretId, token: run.token, ...result });
  };
}

/** The preamble every step shares, then the step. */
async function runStep(run: StepRun): Promise<StepResult> {
  const stages = await describeStages(run);
  const tokenStages = stages.get(run.token);
  if (tokenStages === undefined) {
    throw new RotationError(
      'UNKNOWN_VERSION',
      run.step,
      run.secretId,
      `Secret "${run.secretId}" has no version ${run.token} with a stage; it cannot be rotated to.`,
    );
  }
  if (tokenStages.includes('AWSCURRENT')) {
    return { outcome: 'already-current', message: `Nothing to do: ${about(run)} is already AWSCURRENT.` };
  }
  if (!tokenStages.includes('AWSPENDING')) {
    throw new RotationError(
      'NOT_PENDING',
      run.step,
      run.secretId,
      `The ${about(run)} is neither AWSPENDING nor AWSCURRENT; it cannot be rotated to.`,
    );
  }
  return STEPS[run.step](run, stages);
}

function failure(
  step: RotationStep | undefined,
  secretId: string,
  token: string,
  error: unknown,
): RotationLogEntry {
  const base = { step, secretId, token, outcome: 'failed' as const };
  return isRotationError(error)
    ? { ...base, code: error.code, message: error.message }
    : { ...base, message: `${step ?? 'The step'} failed: ${errorName(error)}.` };
}

function checkTarget(target: unknown): asserts target is RotationTarget {
  const methods = target as Partial<Record<keyof RotationTarget, unknown>> | null;
  if (
    typeof target !== 'object' ||
    target === null ||
    // Stryker disable next-line OptionalChaining: `target === null` ends the condition before methods is read
    typeof methods?.setPending !== 'function' ||
    typeof methods.testPending !== 'function'
  ) {
    throw new TypeError(
      `Expected \`target\` to be an object with \`setPending()\` and \`testPending()\` methods, got ${describe(target)}.`,
    );
  }
  if (methods.createPending !== undefined && typeof methods.createPending !== 'function') {
    throw new TypeError(
      `Expected \`target.createPending\` to be a function when given, got ${describe(methods.createPending)}.`,
    );
  }
}

interface Settings {
  readonly client: SecretsManagerLike;
  readonly passwordLength: number;
  readonly excludeCharacters: string;
  readonly log: ((entry: RotationLogEntry) => void) | false;
}

function resolveOptions(options: unknown): Settings {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`Expected \`options\` of rotationHandler to be an object, got ${describe(options)}.`);
  }
  const unknown = unknownKeyProblem(options, OPTION_NAMES, 'options of rotationHandler');
  if (unknown !== undefined) throw new TypeError(unknown);
  const { client, passwordLength, excludeCharacters, log } = options as Readonly<Record<string, unknown>>;
  if (
    client !== undefined &&
    (typeof client !== 'object' ||
      client === null ||
      typeof (client as { send?: unknown }).send !== 'function')
  ) {
    throw new TypeError(
      `Expected \`client\` to be a SecretsManagerClient or an object with a \`send()\` method, got ${describe(client)}.`,
    );
  }
  if (
    passwordLength !== undefined &&
    (!Number.isInteger(passwordLength) ||
      (passwordLength as number) < MIN_PASSWORD_LENGTH ||
      (passwordLength as number) > MAX_PASSWORD_LENGTH)
  ) {
    throw new TypeError(
      `Expected \`passwordLength\` to be an integer from ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH}, got ${describe(passwordLength)}.`,
    );
  }
  if (
    excludeCharacters !== undefined &&
    (typeof excludeCharacters !== 'string' || excludeCharacters.length > MAX_EXCLUDE_CHARACTERS)
  ) {
    throw new TypeError(
      `Expected \`excludeCharacters\` to be a string of at most ${MAX_EXCLUDE_CHARACTERS} characters, got ${describe(excludeCharacters)}.`,
    );
  }
  if (log !== undefined && log !== false && typeof log !== 'function') {
    throw new TypeError(`Expected \`log\` to be a function or false, got ${describe(log)}.`);
  }
  return {
    client: (client as SecretsManagerLike | undefined) ?? new SecretsManagerClient({}),
    passwordLength: (passwordLength as number | undefined) ?? DEFAULT_PASSWORD_LENGTH,
    excludeCharacters: (excludeCharacters as string | undefined) ?? DEFAULT_EXCLUDE_CHARACTERS,
    log: (log as Settings['log'] | undefined) ?? false,
  };
}
