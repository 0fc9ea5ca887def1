import type { SecretCacheError } from '../errors.js';
import { type BatchResult, MAX_BATCH_SIZE, type SecretVersion } from '../source.js';
import {
  awsError,
  invalidParameter,
  NO_SUCH_SECRET,
  noSuchStage,
  noSuchVersionId,
  readError,
  secretNotFound,
} from './aws-errors.js';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';

/**
 * What a memory source answers when a secret is created or a value put: the fields of a `CreateSecret` or
 * `PutSecretValue` answer. The version id is the one reads return, and the one to name in
 * `updateVersionStage`.
 *
 * @example
 * ```ts
 * import { memorySource, type SecretVersionInfo } from 'secretcache/testing';
 *
 * const source = memorySource();
 * const created: SecretVersionInfo = source.createSecret('prod/orders/db', '{"password":"pw-1"}');
 * created.arn; // 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/orders/db-' + six characters
 * const pending = source.putSecretValue('prod/orders/db', '{"password":"pw-2"}', { versionStages: ['AWSPENDING'] });
 * pending.versionStages; // ['AWSPENDING']
 * ```
 */
export interface SecretVersionInfo {
  readonly name: string;
  readonly arn: string;
  readonly versionId: string;
  /** The stages the new version holds. */
  readonly versionStages: readonly string[];
}

/**
 * A secret as a memory source holds it, without values (as `DescribeSecret` and `ListSecretVersionIds` tell
 * it): every version in the order they were made, with its stages. A version with no stage left is listed
 * with an empty `versionStages` (Secrets Manager calls it deprecated); it can still be read by version id.
 *
 * @example
 * ```ts
 * import { memorySource, type SecretDescription } from 'secretcache/testing';
 *
 * const source = memorySource({ versionIds: 'counter' });
 * source.createSecret('prod/orders/db', 'pw-1');
 * source.putSecretValue('prod/orders/db', 'pw-2');
 * const description: SecretDescription = source.describeSecret('prod/orders/db');
 * description.versions.map(({ versionId, versionStages }) => `${versionId}: ${versionStages}`);
 * // ['v1: AWSPREVIOUS', 'v2: AWSCURRENT']
 * ```
 */
export interface SecretDescription {
  readonly name: string;
  readonly arn: string;
  readonly createdDate: Date;
  readonly versions: ReadonlyArray<{
    readonly versionId: string;
    readonly versionStages: readonly string[];
    readonly createdDate: Date;
  }>;
}

interface StoredVersion {
  readonly versionId: string;
  stages: string[];
  readonly createdDate: number;
  /** Bytes are the store's own copy, never handed out: every answer copies them. */
  readonly value: string | Uint8Array;
}

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  readonly createdDate: number;
  readonly versions: Map<string, StoredVersion>;
}

/** What a store needs from the source that owns it. */
export interface StoreSettings {
  /** `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:` */
  readonly arnPrefix: string;
  /** A version id nobody asked for: a UUID, or the next of a counter. */
  readonly newVersionId: () => string;
  /** The six characters after a name in its ARN. */
  readonly newSuffix: () => string;
  readonly now: () => number;
}

// Secrets Manager's rule for names: ASCII letters, digits and /_+=.@-, at most 512 characters.
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const MAX_STAGE_LENGTH = 256;
const MAX_VERSION_ID_LENGTH = 64;

/**
 * The secrets of a memory source and Secrets Manager's rules for them: names and ARNs, versions, and how
 * stage labels move. Synchronous and free of failures: the source around it logs calls and injects those.
 */
export class SecretStore {
  readonly #settings: StoreSettings;
  readonly #byName = new Map<string, StoredSecret>();
  readonly #byArn = new Map<string, StoredSecret>();

  constructor(settings: StoreSettings) {
    this.#settings = settings;
  }

  /** The secret `secretId` names, by name or full ARN, as Secrets Manager resolves it. */
  #find(secretId: string): StoredSecret | undefined {
    return this.#byName.get(secretId) ?? this.#byArn.get(secretId);
  }

  /** The ARN of the secret `secretId` names now, to tell whether two ids name one secret. */
  arnOf(secretId: string): string | undefined {
    return this.#find(secretId)?.arn;
  }

  #require(secretId: string): StoredSecret {
    const secret = this.#find(secretId);
    if (secret === undefined) throw secretNotFound();
    return secret;
  }

  create(name: string, value: string | Uint8Array, versionId: string | undefined): SecretVersionInfo {
    if (!NAME.test(name)) {
      throw awsError(
        'ValidationException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: ' +
          '-/_+=.@ (at most 512 characters).',
      );
    }
    const existing = this.#byName.get(name);
    if (existing !== undefined) {
      // Retrying a CreateSecret with its request token and value is a no-op; anything else is a conflict.
      const same = versionId === undefined ? undefined : existing.versions.get(versionId);
      if (same !== undefined && sameValue(same.value, value)) return info(existing, same);
      throw awsError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const now = this.#settings.now();
    const secret: StoredSecret = {
      name,
      arn: `${this.#settings.arnPrefix}${name}-${this.#settings.newSuffix()}`,
      createdDate: now,
      versions: new Map(),
    };
    const version = this.#addVersion(secret, value, versionId, now);
    version.stages.push(AWSCURRENT);
    this.#byName.set(name, secret);
    this.#byArn.set(secret.arn, secret);
    return info(secret, version);
  }

  put(
    secretId: string,
    value: string | Uint8Array,
    versionStages: readonly string[] | undefined,
    versionId: string | undefined,
  ): SecretVersionInfo {
    const secret = this.#require(secretId);
    const stages = versionStages === undefined ? [AWSCURRENT] : [...new Set(versionStages)];
    if (stages.length === 0) {
      throw awsError('ValidationException', 'VersionStages must name at least one staging label.');
    }
    for (const stage of stages) checkStage(stage);
    if (versionId !== undefined) {
      const same = secret.versions.get(versionId);
      if (same !== undefined) {
        // PutSecretValue retried with its request token and value changes nothing.
        if (sameValue(same.value, value)) return info(secret, same);
        throw awsError(
          'ResourceExistsException',
          `You can't use ClientRequestToken ${versionId} because that value is already in use for a version of secret ${secret.arn}.`,
        );
      }
    }
    const current = holderOf(secret, AWSCURRENT);
    const version = this.#addVersion(secret, value, versionId, this.#settings.now());
    // Each label moves to the new version. When AWSCURRENT moves, AWSPREVIOUS goes to the version it left,
    // unless the put names AWSPREVIOUS itself.
    for (const stage of stages) {
      for (const other of secret.versions.values()) removeStage(other, stage);
      version.stages.push(stage);
    }
    if (current !== undefined && stages.includes(AWSCURRENT) && !stages.includes(AWSPREVIOUS)) {
      for (const other of secret.versions.values()) removeStage(other, AWSPREVIOUS);
      current.stages.push(AWSPREVIOUS);
    }
    return info(secret, version);
  }

  /**
   * `UpdateSecretVersionStage`: moves `stage` to `moveTo` (off `removeFrom`, which must be the version that
   * holds it, if any does), or only takes it off `removeFrom`. Checked whole before anything changes.
   */
  updateStage(
    secretId: string,
    stage: string,
    moveTo: string | undefined,
    removeFrom: string | undefined,
  ): void {
    const secret = this.#require(secretId);
    checkStage(stage);
    const from = removeFrom === undefined ? undefined : secret.versions.get(removeFrom);
    if (removeFrom !== undefined) {
      if (from === undefined) throw invalidParameter(`Not a valid version: ${removeFrom}`);
      if (!from.stages.includes(stage)) {
        throw invalidParameter(`Version stage ${stage} not found in version ${removeFrom}`);
      }
    }
    const to = moveTo === undefined ? undefined : secret.versions.get(moveTo);
    if (moveTo !== undefined && to === undefined) throw invalidParameter(`Not a valid version: ${moveTo}`);
    const holder = holderOf(secret, stage);
    if (to !== undefined && holder !== undefined && holder !== to && holder !== from) {
      throw invalidParameter(
        `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to ` +
          `version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
      );
    }
    if (to === undefined && stage === AWSCURRENT) {
      throw invalidParameter(
        `You can't remove the staging label AWSCURRENT from version ${removeFrom} without moving it to another ` +
          'version: a secret always has a current version.',
      );
    }
    if (from === to) return;
    if (from !== undefined) removeStage(from, stage);
    if (to !== undefined && !to.stages.includes(stage)) to.stages.push(stage);
    if (stage === AWSCURRENT && from !== undefined) {
      for (const other of secret.versions.values()) removeStage(other, AWSPREVIOUS);
      from.stages.push(AWSPREVIOUS);
    }
  }

  /** `DeleteSecret` with `ForceDeleteWithoutRecovery`: gone at once, and its name free again. */
  delete(secretId: string): void {
    const secret = this.#require(secretId);
    this.#byName.delete(secret.name);
    this.#byArn.delete(secret.arn);
  }

  describe(secretId: string): SecretDescription {
    const secret = this.#require(secretId);
    return Object.freeze({
      name: secret.name,
      arn: secret.arn,
      createdDate: new Date(secret.createdDate),
      versions: Object.freeze(
        [...secret.versions.values()].map((version) =>
          Object.freeze({
            versionId: version.versionId,
            versionStages: Object.freeze([...version.stages]),
            createdDate: new Date(version.createdDate),
          }),
        ),
      ),
    });
  }

  /** The id of the version that holds `stage` now, if the secret exists and one does. */
  versionIdOf(secretId: string, stage: string): string | undefined {
    const secret = this.#find(secretId);
    return secret === undefined ? undefined : holderOf(secret, stage)?.versionId;
  }

  /** `GetSecretValue`, with its errors as `AwsSecretSource` reports them. */
  read(secretId: string, versionStage: string | undefined, versionId: string | undefined): SecretVersion {
    const secret = this.#find(secretId);
    if (secret === undefined) throw readError('ResourceNotFoundException', NO_SUCH_SECRET, secretId);
    if (versionId !== undefined) {
      const version = secret.versions.get(versionId);
      if (version === undefined) {
        throw readError('ResourceNotFoundException', noSuchVersionId(versionId), secretId);
      }
      if (versionStage !== undefined && !version.stages.includes(versionStage)) {
        throw readError(
          'InvalidRequestException',
          'You provided a VersionStage that is not associated to the provided VersionId.',
          secretId,
        );
      }
      return answer(secret, version);
    }
    const stage = versionStage ?? AWSCURRENT;
    const version = holderOf(secret, stage);
    if (version === undefined) throw readError('ResourceNotFoundException', noSuchStage(stage), secretId);
    return answer(secret, version);
  }

  /**
   * `BatchGetSecretValue` by id list: the `AWSCURRENT` version of each secret found, and an error entry for
   * each id that is missing (or that `errorFor` fails), as AWS reports them. Ids are answered as listed.
   */
  batch(
    secretIds: readonly string[],
    errorFor: (secretId: string) => SecretCacheError | undefined,
  ): BatchResult {
    const versions: SecretVersion[] = [];
    const errors: Array<{ secretId: string; error: SecretCacheError }> = [];
    for (const secretId of secretIds) {
      const error = errorFor(secretId);
      const secret = error === undefined ? this.#find(secretId) : undefined;
      if (secret === undefined) {
        errors.push({
          secretId,
          error: error ?? readError('ResourceNotFoundException', NO_SUCH_SECRET, secretId),
        });
      } else {
        versions.push(answer(secret, holderOf(secret, AWSCURRENT)!));
      }
    }
    return { versions, errors };
  }

  /** Why a batch of `secretIds` is not a request AWS accepts, as the error the call fails with. */
  batchProblem(secretIds: readonly string[]): SecretCacheError | undefined {
    const id = secretIds.join(',');
    if (secretIds.length === 0) {
      return readError('InvalidParameterException', 'You must provide either SecretIdList or Filters.', id);
    }
    if (secretIds.length > MAX_BATCH_SIZE) {
      return readError(
        'ValidationException',
        `1 validation error detected: the value at 'secretIdList' failed to satisfy constraint: Member must have length less than or equal to ${MAX_BATCH_SIZE}`,
        id,
      );
    }
    return undefined;
  }

  #addVersion(
    secret: StoredSecret,
    value: string | Uint8Array,
    versionId: string | undefined,
    now: number,
  ): StoredVersion {
    let id = versionId;
    if (id === undefined) {
      do id = this.#settings.newVersionId();
      while (secret.versions.has(id));
    } else if (id.length === 0 || id.length > MAX_VERSION_ID_LENGTH) {
      throw invalidParameter(
        `A version id (ClientRequestToken) has 1 to ${MAX_VERSION_ID_LENGTH} characters.`,
      );
    }
    const version: StoredVersion = {
      versionId: id,
      stages: [],
      createdDate: now,
      value: typeof value === 'string' ? value : new Uint8Array(value),
    };
    secret.versions.set(id, version);
    return version;
  }
}

function checkStage(stage: string): void {
  if (stage.length === 0 || stage.length > MAX_STAGE_LENGTH) {
    throw awsError('ValidationException', `A staging label has 1 to ${MAX_STAGE_LENGTH} characters.`);
  }
}

function holderOf(secret: StoredSecret, stage: string): StoredVersion | undefined {
  for (const version of secret.versions.values()) if (version.stages.includes(stage)) return version;
  return undefined;
}

function removeStage(version: StoredVersion, stage: string): void {
  const at = version.stages.indexOf(stage);
  if (at >= 0) version.stages.splice(at, 1);
}

function sameValue(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

function info(secret: StoredSecret, version: StoredVersion): SecretVersionInfo {
  return Object.freeze({
    name: secret.name,
    arn: secret.arn,
    versionId: version.versionId,
    versionStages: Object.freeze([...version.stages]),
  });
}

function answer(secret: StoredSecret, version: StoredVersion): SecretVersion {
  const { value } = version;
  return {
    name: secret.name,
    arn: secret.arn,
    versionId: version.versionId,
    versionStages: [...version.stages],
    createdDate: new Date(version.createdDate),
    ...(typeof value === 'string' ? { secretString: value } : { secretBinary: value.slice() }),
  };
}
