/**
 * The four steps of Secrets Manager's rotation protocol, one function each, and the Secrets Manager calls they
 * make. Each is safe to run twice: Secrets Manager retries a step whose invocation failed or timed out.
 */
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetRandomPasswordCommand,
  type GetRandomPasswordCommandOutput,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerLike } from '../source.js';
import type {
  CreatePendingContext,
  PendingContext,
  RotationEvent,
  RotationStep,
  RotationTarget,
  RotationVersion,
} from './contract.js';
import { isRotationError, RotationError, type RotationErrorCode } from './errors.js';
import { MAX_EVENT_FIELD_LENGTH } from './event.js';
import { SecretVersion } from './version.js';

/**
 * What one invocation of a rotation handler ended with: the step's work (`created`, `set`, `tested`,
 * `finished`), the step finding its work done already (`kept`, `already-set`, `already-current`), or `failed`.
 *
 * @example
 * ```ts
 * import type { RotationOutcome } from 'secretcache/rotation';
 *
 * // Outcomes that mean a retry found the work of an earlier attempt: worth a metric, not an alarm.
 * const retried: ReadonlySet<RotationOutcome> = new Set(['kept', 'already-set', 'already-current']);
 * ```
 */
export type RotationOutcome =
  | 'created'
  | 'kept'
  | 'already-current'
  | 'set'
  | 'already-set'
  | 'tested'
  | 'finished'
  | 'failed';

/** What a step hands back to the handler to log. */
export interface StepResult {
  readonly outcome: Exclude<RotationOutcome, 'failed'>;
  readonly message: string;
}

/** One invocation: the validated event and what the handler was made with. */
export interface StepRun {
  readonly event: RotationEvent;
  readonly step: RotationStep;
  readonly secretId: string;
  readonly token: string;
  readonly client: SecretsManagerLike;
  readonly target: RotationTarget;
  readonly passwordLength: number;
  readonly excludeCharacters: string;
}

/** `VersionIdsToStages` of `DescribeSecret`: every version that has a stage, with its stages. */
export type VersionStages = ReadonlyMap<string, readonly string[]>;

/** A step: what it does once the preamble has found the token's version pending. */
export type Step = (run: StepRun, stages: VersionStages) => Promise<StepResult>;

/**
 * createSecret: makes the `AWSPENDING` version's value, unless an earlier attempt did. The value is the
 * target's `createPending`, or the current JSON with a new `password`.
 */
export async function createSecret(run: StepRun): Promise<StepResult> {
  // Named by stage: moto answers a GetSecretValue without one with the first version it ever had.
  const current = await readVersion(run, 'AWSCURRENT');
  const pending = await readPending(run);
  if (pending?.hasValue === true) {
    return { outcome: 'kept', message: `Kept ${about(run)}: it already has a value.` };
  }
  const context: CreatePendingContext = Object.freeze({
    step: 'createSecret',
    secretId: run.secretId,
    token: run.token,
    current,
    randomPassword: () => randomPassword(run),
  });
  const value = await (run.target.createPending === undefined
    ? defaultPending(run, context)
    : run.target.createPending(context));
  checkPendingValue(run, value);
  await send(
    run,
    'PutSecretValue',
    new PutSecretValueCommand({
      SecretId: run.secretId,
      ClientRequestToken: run.token,
      ...(typeof value === 'string' ? { SecretString: value } : { SecretBinary: value }),
      VersionStages: ['AWSPENDING'],
      ...(run.event.RotationToken === undefined ? {} : { RotationToken: run.event.RotationToken }),
    }),
  );
  return { outcome: 'created', message: `Put a new value in ${about(run)}, as AWSPENDING.` };
}

/**
 * setSecret: makes the target accept the pending credential. A target that accepts it already (an earlier
 * attempt got that far) is left alone.
 */
export async function setSecret(run: StepRun): Promise<StepResult> {
  const context = await pendingContext(run);
  try {
    await run.target.testPending(context);
    return {
      outcome: 'already-set',
      message: `The target already accepts ${about(run)}; setPending not called.`,
    };
  } catch {
    // Not accepted yet: the usual case, and the reason for this step.
  }
  try {
    await run.target.setPending(context);
  } catch (error) {
    throw targetFailed(run, 'SET_FAILED', 'setPending', error);
  }
  return { outcome: 'set', message: `The target now accepts ${about(run)}.` };
}

/** testSecret: proves that the target accepts the pending credential. */
export async function testSecret(run: StepRun): Promise<StepResult> {
  const context = await pendingContext(run);
  try {
    await run.target.testPending(context);
  } catch (error) {
    throw targetFailed(run, 'TEST_FAILED', 'testPending', error);
  }
  return { outcome: 'tested', message: `The target accepts ${about(run)}.` };
}

/**
 * finishSecret: moves `AWSCURRENT` to the token's version (Secrets Manager gives the old one `AWSPREVIOUS`), then
 * takes `AWSPENDING` off it, so that no version is left pending: one of the two end states AWS documents for a
 * rotation, and the one moto also accepts before the next `RotateSecret`. `AWSPENDING` found on any other
 * version is removed before the move, so that a retry after a failed move still removes it. A pending version
 * without a value is never made current: every reader of the secret would fail.
 */
export async function finishSecret(run: StepRun, stages: VersionStages): Promise<StepResult> {
  const pending = await readPending(run);
  if (pending === undefined || !pending.hasValue) throw noValueYet(run);
  let currentId: string | undefined;
  for (const [versionId, versionStages] of stages) {
    if (versionStages.includes('AWSCURRENT')) currentId = versionId;
    if (versionId !== run.token && versionStages.includes('AWSPENDING')) {
      await moveStage(run, 'AWSPENDING', undefined, versionId);
    }
  }
  await moveStage(run, 'AWSCURRENT', run.token, currentId);
  // A failure here leaves AWSPENDING on the current version, which AWS also counts as a finished rotation.
  await moveStage(run, 'AWSPENDING', undefined, run.token);
  const was = currentId === undefined ? '' : ` (it was version ${currentId})`;
  return { outcome: 'finished', message: `Moved AWSCURRENT to ${about(run)}${was}.` };
}

/**
 * The stages of every version of the secret, from `DescribeSecret`; a `ROTATION_NOT_ENABLED` error when the
 * secret says rotation is off. A missing `RotationEnabled` is not taken for "off", as AWS's templates do.
 */
export async function describeStages(run: StepRun): Promise<VersionStages> {
  const output = await send<DescribeSecretCommandOutput>(
    run,
    'DescribeSecret',
    new DescribeSecretCommand({ SecretId: run.secretId }),
  );
  if (output.RotationEnabled === false) {
    throw new RotationError(
      'ROTATION_NOT_ENABLED',
      run.step,
      run.secretId,
      `Rotation is not enabled for secret "${run.secretId}".`,
    );
  }
  const stages = new Map<string, readonly string[]>();
  const given: unknown = output.VersionIdsToStages;
  if (typeof given === 'object' && given !== null) {
    // Own keys only: a token spelt `constructor` or `__proto__` must not find Object.prototype's.
    for (const [versionId, list] of Object.entries(given)) {
      // Stryker disable next-line MethodExpression,ArrayDeclaration: stages are only looked up by name with includes()
      stages.set(versionId, Array.isArray(list) ? list.filter((stage) => typeof stage === 'string') : []);
    }
  }
  return stages;
}

/** `version X of secret "Y"`, the subject of most messages. */
export function about(run: Pick<StepRun, 'token' | 'secretId'>): string {
  return `version ${run.token} of secret "${run.secretId}"`;
}

/** The version the token names, as `AWSPENDING`; `undefined` when Secrets Manager has no value for it. */
async function readPending(run: StepRun): Promise<SecretVersion | undefined> {
  try {
    return await readVersion(run, 'AWSPENDING', run.token);
  } catch (error) {
    // The real service and moto answer ResourceNotFound for a version RotateSecret made without a value.
    if (isRotationError(error) && isNotFound(error.cause)) return undefined;
    throw error;
  }
}

async function readVersion(
  run: StepRun,
  versionStage: string,
  versionId?: string,
  secretId = run.secretId,
): Promise<SecretVersion> {
  const output = await send<GetSecretValueCommandOutput>(
    run,
    'GetSecretValue',
    new GetSecretValueCommand({
      SecretId: secretId,
      VersionStage: versionStage,
      ...(versionId === undefined ? {} : { VersionId: versionId }),
    }),
    secretId,
  );
  const binary: unknown = output.SecretBinary;
  return new SecretVersion(
    {
      versionId: typeof output.VersionId === 'string' ? output.VersionId : (versionId ?? ''),
      versionStages: Array.isArray(output.VersionStages) ? output.VersionStages : [],
      secretString: typeof output.SecretString === 'string' ? output.SecretString : undefined,
      secretBinary: binary instanceof Uint8Array ? binary : undefined,
    },
    {
      secretId: run.secretId,
      step: run.step,
      ...(secretId === run.secretId ? {} : { readFrom: secretId }),
    },
  );
}

/** What `setPending` and `testPending` are handed; `INVALID_SECRET` when createSecret has not run. */
async function pendingContext(run: StepRun): Promise<PendingContext> {
  const current = await readVersion(run, 'AWSCURRENT');
  const pending = await readPending(run);
  if (pending === undefined || !pending.hasValue) throw noValueYet(run);
  let previous: Promise<RotationVersion | undefined> | undefined;
  return Object.freeze({
    step: run.step as PendingContext['step'],
    secretId: run.secretId,
    token: run.token,
    current,
    pending,
    previous: () => {
      previous ??= readVersion(run, 'AWSPREVIOUS').catch((error: unknown) => {
        if (isRotationError(error) && isNotFound(error.cause)) return undefined;
        throw error;
      });
      return previous;
    },
    readSecret: async (secretId: string) => {
      if (typeof secretId !== 'string' || secretId.length === 0 || secretId.length > MAX_EVENT_FIELD_LENGTH) {
        throw new TypeError(
          `Expected the secret id given to readSecret to be a non-empty string of at most ${MAX_EVENT_FIELD_LENGTH} characters.`,
        );
      }
      return readVersion(run, 'AWSCURRENT', undefined, secretId);
    },
  });
}

function noValueYet(run: StepRun): RotationError {
  return new RotationError(
    'INVALID_SECRET',
    run.step,
    run.secretId,
    `No value in ${about(run)} yet: createSecret has not run for it.`,
  );
}

/** The default `createPending`: the current JSON object with a new random `password`, every other field kept. */
async function defaultPending(run: StepRun, context: CreatePendingContext): Promise<string> {
  const current = context.current.json();
  if (typeof current.password !== 'string') {
    throw new RotationError(
      'INVALID_SECRET',
      run.step,
      run.secretId,
      `Version ${context.current.versionId} of secret "${run.secretId}" has no string \`password\` field to replace; give the target a createPending for other shapes.`,
    );
  }
  return JSON.stringify({ ...current, password: await context.randomPassword() });
}

function checkPendingValue(run: StepRun, value: unknown): asserts value is string | Uint8Array {
  const usable = (typeof value === 'string' || value instanceof Uint8Array) && value.length > 0;
  if (!usable) {
    const got = typeof value === 'string' || value instanceof Uint8Array ? 'an empty value' : typeName(value);
    throw new RotationError(
      'INVALID_SECRET',
      run.step,
      run.secretId,
      `createPending must resolve to a non-empty string or Uint8Array for secret "${run.secretId}", got ${got}.`,
    );
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}

async function randomPassword(run: StepRun): Promise<string> {
  const output = await send<GetRandomPasswordCommandOutput>(
    run,
    'GetRandomPassword',
    new GetRandomPasswordCommand({
      PasswordLength: run.passwordLength,
      ...(run.excludeCharacters === '' ? {} : { ExcludeCharacters: run.excludeCharacters }),
    }),
  );
  if (typeof output.RandomPassword !== 'string' || output.RandomPassword.length === 0) {
    throw new RotationError(
      'AWS_FAILED',
      run.step,
      run.secretId,
      `GetRandomPassword answered without a password for secret "${run.secretId}" in ${run.step}.`,
    );
  }
  return output.RandomPassword;
}

/** Moves `stage` to `moveTo` and off `removeFrom` (either may be absent). */
async function moveStage(
  run: StepRun,
  stage: string,
  moveTo: string | undefined,
  removeFrom: string | undefined,
): Promise<void> {
  await send(
    run,
    'UpdateSecretVersionStage',
    new UpdateSecretVersionStageCommand({
      SecretId: run.secretId,
      VersionStage: stage,
      ...(moveTo === undefined ? {} : { MoveToVersionId: moveTo }),
      ...(removeFrom === undefined ? {} : { RemoveFromVersionId: removeFrom }),
    }),
  );
}

/**
 * One Secrets Manager call. A failure is `AWS_FAILED` with the SDK's error as `cause`; the message names the
 * operation and the error's name only, as an SDK message can quote a request's parameters.
 */
async function send<Output>(
  run: StepRun,
  operation: string,
  command: object,
  secretId = run.secretId,
): Promise<Output> {
  try {
    return (await run.client.send(command)) as Output;
  } catch (error) {
    throw new RotationError(
      'AWS_FAILED',
      run.step,
      run.secretId,
      `${operation} failed for secret "${secretId}" in ${run.step}: ${errorName(error)}.`,
      { cause: error },
    );
  }
}

/** A target's failure as `code`, unless it is a `RotationError` already (it keeps its own code). */
function targetFailed(
  run: StepRun,
  code: RotationErrorCode,
  method: 'setPending' | 'testPending',
  error: unknown,
): RotationError {
  if (isRotationError(error)) return error;
  return new RotationError(
    code,
    run.step,
    run.secretId,
    `${method} failed for ${about(run)} in ${run.step}: ${errorName(error)}.`,
    { cause: error },
  );
}

function isNotFound(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'ResourceNotFoundException'
  );
}

const ERROR_NAME = /^[\w.:-]{1,100}$/;

/**
 * An error's name, for a message: `ThrottlingException`. Never its message, which may quote a parameter or a
 * database's answer; a name that does not look like one is not shown either.
 */
export function errorName(error: unknown): string {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && ERROR_NAME.test(name) ? name : 'an error';
}
