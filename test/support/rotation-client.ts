/**
 * An in-memory Secrets Manager for unit tests of the rotation handler: secrets with versions and staging
 * labels, behind the SDK's `send`, answering the five operations the handler makes the way the real service
 * does (a label on one version at a time; moving AWSCURRENT gives the old version AWSPREVIOUS; PutSecretValue
 * idempotent for the same token and value). Every call is logged with its input; `failWhen` fails chosen ones.
 */
import { randomBytes } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import type {
  PendingContext,
  RotationEvent,
  RotationStep,
  RotationTarget,
  RotationVersion,
} from '../../src/rotation/contract.js';
import { MAX_EVENT_FIELD_LENGTH, ROTATION_STEPS } from '../../src/rotation/event.js';

/** The operations {@link RotationClient} answers. */
export type RotationOperation =
  | 'DescribeSecret'
  | 'GetSecretValue'
  | 'PutSecretValue'
  | 'UpdateSecretVersionStage'
  | 'GetRandomPassword';

export interface RotationCall {
  readonly operation: RotationOperation;
  readonly input: Readonly<Record<string, unknown>>;
}

export interface FakeVersion {
  readonly versionId: string;
  stages: string[];
  secretString?: string;
  secretBinary?: Uint8Array;
}

export interface FakeSecret {
  readonly name: string;
  readonly arn: string;
  /** What DescribeSecret says; `undefined` leaves the field out, as for a secret never set up for rotation. */
  rotationEnabled: boolean | undefined;
  readonly versions: FakeVersion[];
}

const PASSWORD_ALPHABET =
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

export class RotationClient {
  readonly calls: RotationCall[] = [];
  readonly secrets = new Map<string, FakeSecret>();
  /**
   * What GetSecretValue answers for a version without a value (one RotateSecret made): `not-found`, as the real
   * service and moto do, or `empty`, an answer with neither SecretString nor SecretBinary.
   */
  valuelessVersion: 'not-found' | 'empty' = 'not-found';
  /** Called before each call is answered; what it returns (other than `undefined`) the call rejects with. */
  failWhen: ((call: RotationCall) => unknown) | undefined;
  /** Every password GetRandomPassword handed out. */
  readonly passwords: string[] = [];
  #nextVersion = 1;

  /** Creates a secret whose first version, `v1`-like, is AWSCURRENT. Returns that version's id. */
  create(name: string, value: string | Uint8Array, rotationEnabled: boolean | undefined = true): string {
    const versionId = this.#newVersionId();
    this.secrets.set(name, {
      name,
      arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
      rotationEnabled,
      versions: [{ versionId, stages: ['AWSCURRENT'], ...valueFields(value) }],
    });
    return versionId;
  }

  /** What RotateSecret does before invoking the rotation function: a version `token`, AWSPENDING, no value. */
  startRotation(name: string, token: string): void {
    const secret = this.#secret(name);
    secret.versions.push({ versionId: token, stages: [] });
    attach(secret, 'AWSPENDING', token);
  }

  /** Puts a value as a new version with the given stages, as PutSecretValue would. Returns its id. */
  put(name: string, value: string | Uint8Array, stages: readonly string[]): string {
    const secret = this.#secret(name);
    const versionId = this.#newVersionId();
    secret.versions.push({ versionId, stages: [], ...valueFields(value) });
    for (const stage of stages) attach(secret, stage, versionId);
    return versionId;
  }

  /** Every version with a stage, with its stages, as DescribeSecret lists them. */
  stages(name: string): Record<string, string[]> {
    return Object.fromEntries(
      this.#secret(name)
        .versions.filter((version) => version.stages.length > 0)
        .map((version) => [version.versionId, [...version.stages].sort()]),
    );
  }

  version(name: string, versionId: string): FakeVersion | undefined {
    return this.#secret(name).versions.find((version) => version.versionId === versionId);
  }

  /** The version holding `stage`. */
  staged(name: string, stage: string): FakeVersion | undefined {
    return this.#secret(name).versions.find((version) => version.stages.includes(stage));
  }

  /** The calls of `operation` (or every call). */
  callsOf(operation?: RotationOperation): RotationCall[] {
    return this.calls.filter((call) => operation === undefined || call.operation === operation);
  }

  /** The calls that change something. */
  writes(): RotationCall[] {
    return this.calls.filter(
      (call) => call.operation === 'PutSecretValue' || call.operation === 'UpdateSecretVersionStage',
    );
  }

  async send(command: unknown): Promise<Record<string, unknown>> {
    const operation = operationOf(command);
    const input = { ...(command as { input: Record<string, unknown> }).input };
    const call: RotationCall = { operation, input };
    this.calls.push(call);
    const failure = this.failWhen?.(call);
    if (failure !== undefined) throw failure;
    switch (operation) {
      case 'DescribeSecret':
        return this.#describe(input);
      case 'GetSecretValue':
        return this.#getValue(input);
      case 'PutSecretValue':
        return this.#putValue(input);
      case 'UpdateSecretVersionStage':
        return this.#updateStage(input);
      case 'GetRandomPassword':
        return this.#randomPassword(input);
    }
  }

  #describe(input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.#secret(input.SecretId);
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.rotationEnabled === undefined ? {} : { RotationEnabled: secret.rotationEnabled }),
      // fromEntries makes own properties, so a version id like `__proto__` stays a key.
      VersionIdsToStages: Object.fromEntries(
        secret.versions
          .filter((version) => version.stages.length > 0)
          .map((version) => [version.versionId, [...version.stages]]),
      ),
    };
  }

  #getValue(input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.#secret(input.SecretId);
    const { VersionId: versionId, VersionStage: stage } = input;
    const version =
      versionId === undefined
        ? secret.versions.find((candidate) => candidate.stages.includes((stage as string) ?? 'AWSCURRENT'))
        : secret.versions.find(
            (candidate) =>
              candidate.versionId === versionId &&
              (stage === undefined || candidate.stages.includes(stage as string)),
          );
    const hasValue = version?.secretString !== undefined || version?.secretBinary !== undefined;
    if (version === undefined || (!hasValue && this.valuelessVersion === 'not-found')) {
      throw notFound("Secrets Manager can't find the specified secret value.");
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      VersionStages: [...version.stages],
      ...(version.secretString === undefined ? {} : { SecretString: version.secretString }),
      ...(version.secretBinary === undefined ? {} : { SecretBinary: new Uint8Array(version.secretBinary) }),
    };
  }

  #putValue(input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.#secret(input.SecretId);
    const token = (input.ClientRequestToken as string | undefined) ?? this.#newVersionId();
    const value = (input.SecretString ?? input.SecretBinary) as string | Uint8Array | undefined;
    if (value === undefined) throw invalidParameter('You must provide either SecretString or SecretBinary.');
    const stages = (input.VersionStages as string[] | undefined) ?? ['AWSCURRENT'];
    let version = secret.versions.find((candidate) => candidate.versionId === token);
    if (version?.secretString !== undefined || version?.secretBinary !== undefined) {
      if (!sameValue(version, value)) {
        throw new ResourceExistsException({
          message: 'A resource with the ID you requested already exists.',
          $metadata: {},
        });
      }
    } else {
      if (version === undefined) {
        version = { versionId: token, stages: [] };
        secret.versions.push(version);
      }
      Object.assign(version, valueFields(value));
    }
    for (const stage of stages) attach(secret, stage, token);
    return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...version.stages] };
  }

  #updateStage(input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.#secret(input.SecretId);
    const stage = input.VersionStage as string;
    const moveTo = input.MoveToVersionId as string | undefined;
    const removeFrom = input.RemoveFromVersionId as string | undefined;
    const holders = secret.versions.filter((version) => version.stages.includes(stage));
    if (removeFrom !== undefined && !holders.some((version) => version.versionId === removeFrom)) {
      throw invalidParameter(`The staging label ${stage} is not attached to version ${removeFrom}.`);
    }
    if (moveTo === undefined) {
      const version = holders.find((holder) => holder.versionId === removeFrom);
      if (version !== undefined) version.stages = version.stages.filter((held) => held !== stage);
      return { ARN: secret.arn, Name: secret.name };
    }
    if (!secret.versions.some((version) => version.versionId === moveTo)) {
      throw notFound("Secrets Manager can't find the specified secret version.");
    }
    const other = holders.find((holder) => holder.versionId !== moveTo && holder.versionId !== removeFrom);
    if (other !== undefined) {
      throw invalidParameter(
        `The staging label ${stage} is currently attached to version ${other.versionId}; name it as RemoveFromVersionId.`,
      );
    }
    attach(secret, stage, moveTo);
    return { ARN: secret.arn, Name: secret.name };
  }

  #randomPassword(input: Record<string, unknown>): Record<string, unknown> {
    const length = (input.PasswordLength as number | undefined) ?? 32;
    const exclude = (input.ExcludeCharacters as string | undefined) ?? '';
    const alphabet = [...PASSWORD_ALPHABET].filter((char) => !exclude.includes(char));
    const password = [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
    this.passwords.push(password);
    return { RandomPassword: password };
  }

  #secret(secretId: unknown): FakeSecret {
    for (const secret of this.secrets.values()) {
      if (secret.name === secretId || secret.arn === secretId) return secret;
    }
    throw notFound("Secrets Manager can't find the specified secret.");
  }

  #newVersionId(): string {
    return `00000000-0000-4000-8000-${String(this.#nextVersion++).padStart(12, '0')}`;
  }
}

/** Puts `stage` on `versionId` alone; AWSCURRENT's old holder gets AWSPREVIOUS, as the service does. */
function attach(secret: FakeSecret, stage: string, versionId: string): void {
  const target = secret.versions.find((version) => version.versionId === versionId);
  if (target === undefined) throw notFound("Secrets Manager can't find the specified secret version.");
  if (target.stages.includes(stage)) return;
  const previous = secret.versions.find((version) => version.stages.includes(stage));
  for (const version of secret.versions) version.stages = version.stages.filter((held) => held !== stage);
  target.stages.push(stage);
  if (stage === 'AWSCURRENT' && previous !== undefined) attach(secret, 'AWSPREVIOUS', previous.versionId);
}

function valueFields(value: string | Uint8Array): Pick<FakeVersion, 'secretString' | 'secretBinary'> {
  return typeof value === 'string' ? { secretString: value } : { secretBinary: new Uint8Array(value) };
}

function sameValue(version: FakeVersion, value: string | Uint8Array): boolean {
  if (typeof value === 'string') return version.secretString === value;
  return version.secretBinary !== undefined && Buffer.from(version.secretBinary).equals(Buffer.from(value));
}

function operationOf(command: unknown): RotationOperation {
  if (command instanceof DescribeSecretCommand) return 'DescribeSecret';
  if (command instanceof GetSecretValueCommand) return 'GetSecretValue';
  if (command instanceof PutSecretValueCommand) return 'PutSecretValue';
  if (command instanceof UpdateSecretVersionStageCommand) return 'UpdateSecretVersionStage';
  if (command instanceof GetRandomPasswordCommand) return 'GetRandomPassword';
  throw new Error(`RotationClient does not answer ${String((command as object)?.constructor?.name)}`);
}

function notFound(message: string): ResourceNotFoundException {
  return new ResourceNotFoundException({ message, $metadata: {} });
}

function invalidParameter(message: string): InvalidParameterException {
  return new InvalidParameterException({ message, $metadata: {} });
}

/** An error shaped like the SDK's for a service failure: `name` is the AWS error code. */
export function awsError(name: string, message = 'The service failed.'): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

/**
 * Values that are not rotation events, as a misconfigured trigger or a hostile caller could send: anything at
 * all, an object without `Step` or `SecretId`, or `valid` with one field broken (extra keys added).
 */
export function hostileEvent(valid: RotationEvent): fc.Arbitrary<unknown> {
  const notAnObject = fc.anything().filter((value) => typeof value !== 'object' || value === null);
  const arbitraryObject = fc
    .anything()
    .filter(
      (value) => typeof value === 'object' && value !== null && !('Step' in value && 'SecretId' in value),
    );
  const badString = fc.oneof(
    fc.constant(''),
    fc.string({ minLength: MAX_EVENT_FIELD_LENGTH + 1, maxLength: MAX_EVENT_FIELD_LENGTH + 20 }),
    fc
      .tuple(
        fc.string(),
        fc.constantFrom('\n', '\t', '\u0000', '\u001b', '\u0085', '\u202e', '\u2028', '\ud800'),
      )
      .map(([text, bad]) => text + bad),
  );
  const badValue = fc.oneof(
    fc.anything().filter((value) => typeof value !== 'string'),
    badString,
  );
  const step = fc.constantFrom<RotationStep>(...ROTATION_STEPS);
  const oneFieldBroken = fc
    .tuple(
      step,
      fc.constantFrom('Step', 'SecretId', 'ClientRequestToken', 'RotationToken'),
      badValue,
      fc.dictionary(fc.string(), fc.anything(), { maxKeys: 3 }),
    )
    .filter(([, field, value]) => !(field === 'RotationToken' && value === undefined))
    .map(([Step, field, value, extra]) => ({ ...extra, ...valid, Step, [field]: value }));
  return fc.oneof(notAnObject, arbitraryObject, oneFieldBroken);
}

/**
 * A system whose credential rotates, in memory: it accepts one password per user name. `setPending` records the
 * pending version's `username` and `password`, `testPending` checks them; each call is logged with its context,
 * and `failSet` / `failTest` make a method reject with the error given.
 */
export class MemoryTarget implements RotationTarget {
  /** The password each user logs in with. */
  readonly passwords = new Map<string, string>();
  readonly calls: Array<{ readonly method: 'setPending' | 'testPending'; readonly context: PendingContext }> =
    [];
  failSet: unknown;
  failTest: unknown;

  constructor(initial?: { readonly username: string; readonly password: string }) {
    if (initial !== undefined) this.passwords.set(initial.username, initial.password);
  }

  async setPending(context: PendingContext): Promise<void> {
    this.calls.push({ method: 'setPending', context });
    if (this.failSet !== undefined) throw this.failSet;
    const { username, password } = credential(context.pending);
    this.passwords.set(username, password);
  }

  async testPending(context: PendingContext): Promise<void> {
    this.calls.push({ method: 'testPending', context });
    if (this.failTest !== undefined) throw this.failTest;
    const { username, password } = credential(context.pending);
    if (this.passwords.get(username) !== password) throw new Error(`login failed for ${username}`);
  }

  /** How many times `method` was called. */
  count(method: 'setPending' | 'testPending'): number {
    return this.calls.filter((call) => call.method === method).length;
  }
}

function credential(version: RotationVersion): { username: string; password: string } {
  const { username, password } = version.json();
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new Error(`version ${version.versionId} has no string username and password`);
  }
  return { username, password };
}
