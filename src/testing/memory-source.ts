import { type Clock, TurnClock } from '../clock.js';
import type { SecretCacheError } from '../errors.js';
import {
  type BatchResult,
  type SecretRequest,
  type SecretSource,
  type SecretVersion,
  toSecretCacheError,
} from '../source.js';
import { injectedCause, type NamedFailure } from './aws-errors.js';
import {
  CALL_FILTER_KEYS,
  type CallFilter,
  CallLog,
  type MemoryCall,
  type MemoryOperation,
} from './call-log.js';
import {
  FAILURE_OPTION_KEYS,
  Failure,
  type FailureKind,
  type FailureOptions,
  Failures,
  type InjectedFailure,
} from './failures.js';
import { arnSuffix, randomUuid, seededRandom } from './random.js';
import { type MemoryRotation, ROTATE_OPTION_KEYS, type RotateOptions, rotate } from './rotation.js';
import { type SecretDescription, SecretStore, type SecretVersionInfo } from './secret-store.js';
import { checkOptions, expected, secretValue } from './validate.js';

/**
 * Options of `memorySource()`. Everything it makes up (ARN suffixes, version ids) is deterministic: the same
 * options and calls give the same ids on every run.
 *
 * @example
 * ```ts
 * import { memorySource, type MemorySourceOptions } from 'secretcache/testing';
 *
 * const options: MemorySourceOptions = { region: 'eu-west-1', accountId: '111122223333', versionIds: 'counter' };
 * const source = memorySource(options);
 * source.createSecret('prod/orders/db', 'pw-1').versionId; // 'v1'
 * ```
 */
export interface MemorySourceOptions {
  /**
   * The region in the secrets' ARNs (`cn-*` regions get the `aws-cn` partition, `us-gov-*` `aws-us-gov`).
   * @default 'us-east-1'
   */
  readonly region?: string;
  /**
   * The account id in the secrets' ARNs: 12 digits.
   * @default '123456789012'
   */
  readonly accountId?: string;
  /**
   * How version ids are made when a write names none: `'uuid'` (version 4 UUIDs, as AWS makes them, from a
   * seeded generator) or `'counter'` (`v1`, `v2`, ... across the source's secrets, for tests that assert them).
   * @default 'uuid'
   */
  readonly versionIds?: 'uuid' | 'counter';
  /**
   * The seed of the generator of UUIDs and ARN suffixes: another seed, other ids.
   * @default 1
   */
  readonly seed?: number;
  /**
   * The time of versions' `createdDate` and of the call log; pass the cache's fake clock to line them up.
   * @default `Date.now()`, read at most once per event-loop turn (the cache's default clock)
   */
  readonly clock?: Clock;
}

const OPTION_KEYS: readonly string[] = ['region', 'accountId', 'versionIds', 'seed', 'clock'];

/**
 * Options of `createSecret()`.
 *
 * @example
 * ```ts
 * import { type CreateSecretOptions, memorySource } from 'secretcache/testing';
 *
 * const options: CreateSecretOptions = { versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111' };
 * memorySource().createSecret('prod/orders/db', 'pw-1', options).versionId; // 'a1b2c3d4-...'
 * ```
 */
export interface CreateSecretOptions {
  /**
   * The first version's id (CreateSecret's `ClientRequestToken`).
   * @default a new id, as `versionIds` makes them
   */
  readonly versionId?: string;
}

/**
 * Options of `putSecretValue()`.
 *
 * @example
 * ```ts
 * import { memorySource, type PutSecretValueOptions } from 'secretcache/testing';
 *
 * const source = memorySource();
 * source.createSecret('prod/orders/db', 'pw-1');
 * const pending: PutSecretValueOptions = { versionStages: ['AWSPENDING'] };
 * source.putSecretValue('prod/orders/db', 'pw-2', pending); // AWSCURRENT stays on pw-1
 * ```
 */
export interface PutSecretValueOptions {
  /**
   * The stages of the new version. Each is taken off any other version that has it; when `AWSCURRENT` moves,
   * `AWSPREVIOUS` goes to the version it left (unless the list names `AWSPREVIOUS` too), as PutSecretValue does.
   * @default ['AWSCURRENT']
   */
  readonly versionStages?: readonly string[];
  /**
   * The new version's id (PutSecretValue's `ClientRequestToken`). Putting the same id and value again changes
   * nothing; the same id with another value is a `ResourceExistsException`.
   * @default a new id, as `versionIds` makes them
   */
  readonly versionId?: string;
}

const PUT_OPTION_KEYS: readonly string[] = ['versionStages', 'versionId'];

/**
 * Options of `updateVersionStage()`, as UpdateSecretVersionStage takes them: at least one of the two.
 *
 * @example
 * ```ts
 * import { memorySource, type UpdateVersionStageOptions } from 'secretcache/testing';
 *
 * const source = memorySource({ versionIds: 'counter' });
 * source.createSecret('prod/orders/db', 'pw-1'); // v1
 * source.putSecretValue('prod/orders/db', 'pw-2'); // v2, current; v1 previous
 * const rollBack: UpdateVersionStageOptions = { moveTo: 'v1', removeFrom: 'v2' };
 * source.updateVersionStage('prod/orders/db', 'AWSCURRENT', rollBack); // v1 current, v2 previous
 * ```
 */
export interface UpdateVersionStageOptions {
  /**
   * The version to attach the stage to.
   * @default none: the stage is only taken off `removeFrom`
   */
  readonly moveTo?: string;
  /**
   * The version to take it off. Required when the stage is on a version other than `moveTo`, and must then
   * be that version; `AWSCURRENT` cannot be removed without being moved.
   * @default none: the stage is on no version yet, or already on `moveTo`
   */
  readonly removeFrom?: string;
}

const STAGE_OPTION_KEYS: readonly string[] = ['moveTo', 'removeFrom'];

/**
 * An in-memory Secrets Manager that is a `SecretSource`: give it to a `SecretCache` as `source`, set its
 * secrets up with the methods Secrets Manager has, rotate them, inject failures and hangs, and count the
 * calls the code under test made. Setup methods are synchronous, not logged, never fail by injection, and
 * throw what the AWS SDK would (an `Error` whose `name` is the AWS error, such as
 * `ResourceNotFoundException`). Reads answer and fail exactly as `AwsSecretSource` over Secrets Manager does.
 *
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import { type MemorySource, memorySource } from 'secretcache/testing';
 *
 * const source: MemorySource = memorySource();
 * source.createSecret('prod/orders/db', JSON.stringify({ password: 'pw-1' }));
 * const cache = new SecretCache({ source });
 * await cache.getSecretJson('prod/orders/db'); // { password: 'pw-1' }
 * source.rotate('prod/orders/db', JSON.stringify({ password: 'pw-2' }));
 * source.fail('transient'); // AWS is down: the cache serves what it has
 * source.callCount({ secretId: 'prod/orders/db' }); // 1
 * ```
 */
export interface MemorySource extends SecretSource {
  /** `GetSecretValue`: the version named by id or stage (`AWSCURRENT` when neither), logged and failable. */
  getSecretValue(request: SecretRequest, signal?: AbortSignal): Promise<SecretVersion>;
  /**
   * `BatchGetSecretValue`: the `AWSCURRENT` versions of 1 to 20 ids, missing ones in `errors` as `NOT_FOUND`,
   * logged and failable as one call.
   */
  batchGetSecretValue(secretIds: readonly string[], signal?: AbortSignal): Promise<BatchResult>;

  /** Creates a secret whose first version is `AWSCURRENT`; its ARN ends in `-` and six random characters. */
  createSecret(name: string, value: string | Uint8Array, options?: CreateSecretOptions): SecretVersionInfo;
  /** Puts a new version of a secret named by name or ARN: `AWSCURRENT` unless `versionStages` says otherwise. */
  putSecretValue(
    secretId: string,
    value: string | Uint8Array,
    options?: PutSecretValueOptions,
  ): SecretVersionInfo;
  /** Moves or removes a stage, as UpdateSecretVersionStage does (moving `AWSCURRENT` moves `AWSPREVIOUS` too). */
  updateVersionStage(secretId: string, versionStage: string, options: UpdateVersionStageOptions): void;
  /** A rotation's stage moves: the new value as `AWSPENDING`, then (unless stopped) `AWSCURRENT` moved to it. */
  rotate(secretId: string, value: string | Uint8Array, options?: RotateOptions): MemoryRotation;
  /** Deletes a secret at once (`ForceDeleteWithoutRecovery`): reads of it are `NOT_FOUND`, its name is free. */
  deleteSecret(secretId: string): void;
  /** The secret's versions and their stages, without values; not logged. */
  describeSecret(secretId: string): SecretDescription;

  /**
   * Makes the calls `options` select fail as `kind` says, or throw what a function returns (classified by
   * the cache as it classifies the SDK's errors). Failures apply in the order injected; a hang holds a call
   * before any other failure applies to it.
   */
  fail(kind: FailureKind | ((call: MemoryCall) => unknown), options?: FailureOptions): InjectedFailure;
  /** Stops every injected failure. Held calls stay held until `release()`. */
  clearFailures(): void;
  /** Lets every held call answer now; returns how many there were. */
  release(): number;
  /** How many calls hangs hold now. */
  readonly heldCalls: number;

  /** Every call so far, oldest first: a snapshot. */
  readonly calls: readonly MemoryCall[];
  /** How many calls match `filter` (every call without one). */
  callCount(filter?: CallFilter): number;
  /** Forgets the calls so far. */
  clearCalls(): void;
}

/**
 * Makes an in-memory Secrets Manager for tests of code that reads secrets through a `SecretCache`: rotations,
 * outages, throttling, denials and hangs without moto_server, SDK mocks or sleeps. It has no timers (nothing
 * it does keeps a process alive) and makes the same ids on every run.
 *
 * @param options - region, account id, how version ids are made, the seed, the clock; unknown options are a
 *   `TypeError` that names them
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import { memorySource } from 'secretcache/testing';
 *
 * const source = memorySource({ versionIds: 'counter' });
 * source.createSecret('prod/orders/api-key', 'key-1');
 * const cache = new SecretCache({ source });
 *
 * await cache.getSecretString('prod/orders/api-key'); // 'key-1'
 * source.putSecretValue('prod/orders/api-key', 'key-2'); // v2 is current, v1 previous
 * await cache.refreshNow('prod/orders/api-key');
 * await cache.getSecretString('prod/orders/api-key'); // 'key-2'
 * source.callCount({ secretId: 'prod/orders/api-key' }); // 2
 * ```
 */
export function memorySource(options?: MemorySourceOptions): MemorySource {
  return new InMemorySecretsManager(options);
}

class InMemorySecretsManager implements MemorySource {
  readonly #store: SecretStore;
  readonly #log = new CallLog();
  readonly #failures = new Failures();
  readonly #clock: Clock;
  readonly #accountId: string;
  readonly #names = (call: MemoryCall, secretId: string): boolean =>
    this.#log.names(call, secretId, this.#store.arnOf(secretId));
  /** Whether two ids name one secret: the same string, or the name and the ARN of one secret. */
  readonly #sameSecret = (a: string, b: string): boolean => {
    if (a === b) return true;
    const arn = this.#store.arnOf(a);
    return arn !== undefined && arn === this.#store.arnOf(b);
  };
  readonly #arnOf = (secretId: string): string | undefined => this.#store.arnOf(secretId);

  constructor(options: MemorySourceOptions | undefined) {
    const given = checkOptions(options, OPTION_KEYS, 'options of memorySource');
    const region = given.region ?? 'us-east-1';
    if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
      throw expected('region', 'an AWS region such as `eu-west-1`', region);
    }
    const accountId = given.accountId ?? '123456789012';
    if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) {
      throw expected('accountId', 'a string of 12 digits', accountId);
    }
    const versionIds = given.versionIds ?? 'uuid';
    if (versionIds !== 'uuid' && versionIds !== 'counter') {
      throw expected('versionIds', "`'uuid'` or `'counter'`", versionIds);
    }
    const seed = given.seed ?? 1;
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw expected('seed', 'an integer', seed);
    const clock = given.clock ?? new TurnClock();
    if (typeof clock !== 'object' || clock === null || typeof (clock as Clock).now !== 'function') {
      throw expected('clock', 'an object with a `now()` method', clock);
    }
    this.#clock = clock as Clock;
    this.#accountId = accountId;
    const partition = region.startsWith('cn-')
      ? 'aws-cn'
      : region.startsWith('us-gov-')
        ? 'aws-us-gov'
        : 'aws';
    // Two generators, so that the suffixes of ARNs do not depend on how many version ids were made before.
    const suffixes = seededRandom(seed);
    const uuids = seededRandom(seed + 0x9e3779b9);
    let counter = 0;
    this.#store = new SecretStore({
      arnPrefix: `arn:${partition}:secretsmanager:${region}:${accountId}:secret:`,
      newVersionId: versionIds === 'counter' ? () => `v${++counter}` : () => randomUuid(uuids),
      newSuffix: () => arnSuffix(suffixes),
      now: () => this.#clock.now(),
    });
  }

  getSecretValue(request: SecretRequest, signal?: AbortSignal): Promise<SecretVersion> {
    const { secretId, versionStage, versionId } = request;
    const call = this.#log.record(
      'GetSecretValue',
      [secretId],
      versionStage,
      versionId,
      this.#clock.now(),
      this.#arnOf,
    );
    const answer = (): SecretVersion => {
      this.#failIfInjected(call);
      return this.#store.read(secretId, versionStage, versionId);
    };
    return this.#respond(call, signal, answer);
  }

  batchGetSecretValue(secretIds: readonly string[], signal?: AbortSignal): Promise<BatchResult> {
    const ids = [...secretIds];
    const call = this.#log.record(
      'BatchGetSecretValue',
      ids,
      undefined,
      undefined,
      this.#clock.now(),
      this.#arnOf,
    );
    const answer = (): BatchResult => {
      const problem = this.#store.batchProblem(ids);
      if (problem !== undefined) throw problem;
      // AWS reports a denied secret in the batch's errors; every other failure fails the call.
      const denied = this.#failIfInjected(call);
      return this.#store.batch(ids, (secretId) =>
        denied?.secretId !== undefined && this.#sameSecret(secretId, denied.secretId)
          ? this.#error('denied', call, secretId)
          : undefined,
      );
    };
    return this.#respond(call, signal, answer);
  }

  /** Answers now, or once a hang releases the call; an aborted signal rejects with its reason. */
  #respond<T>(call: MemoryCall, signal: AbortSignal | undefined, answer: () => T): Promise<T> {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const hang = this.#failures.take(call, true, this.#names);
    if (hang !== undefined) return hang.hold(signal).then(answer);
    try {
      return Promise.resolve(answer());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Throws the failure that applies to `call`, if one does. A failure that denies one secret of a batch is
   * returned instead: the batch answers, with that secret among its errors.
   */
  #failIfInjected(call: MemoryCall): Failure | undefined {
    const failure = this.#failures.take(call, false, this.#names);
    if (failure === undefined) return undefined;
    if (failure.make !== undefined) throw failure.make(call);
    const kind = failure.kind as NamedFailure;
    if (kind === 'denied' && call.operation === 'BatchGetSecretValue' && failure.secretId !== undefined) {
      return failure;
    }
    throw this.#error(kind, call, call.secretId);
  }

  #error(kind: NamedFailure, call: MemoryCall, secretId: string): SecretCacheError {
    return toSecretCacheError(injectedCause(kind, call.operation, secretId, this.#accountId), secretId);
  }

  createSecret(name: string, value: string | Uint8Array, options?: CreateSecretOptions): SecretVersionInfo {
    const given = checkOptions(options, ['versionId'], 'options of createSecret');
    return this.#store.create(
      requireString(name, 'name'),
      secretValue(value),
      optionalString(given.versionId, 'versionId'),
    );
  }

  putSecretValue(
    secretId: string,
    value: string | Uint8Array,
    options?: PutSecretValueOptions,
  ): SecretVersionInfo {
    const given = checkOptions(options, PUT_OPTION_KEYS, 'options of putSecretValue');
    const { versionStages } = given;
    if (
      versionStages !== undefined &&
      (!Array.isArray(versionStages) || !versionStages.every((stage) => typeof stage === 'string'))
    ) {
      throw expected('versionStages', 'an array of strings', versionStages);
    }
    return this.#store.put(
      requireString(secretId, 'secretId'),
      secretValue(value),
      versionStages as readonly string[] | undefined,
      optionalString(given.versionId, 'versionId'),
    );
  }

  updateVersionStage(secretId: string, versionStage: string, options: UpdateVersionStageOptions): void {
    const given = checkOptions(options, STAGE_OPTION_KEYS, 'options of updateVersionStage');
    const moveTo = optionalString(given.moveTo, 'moveTo');
    const removeFrom = optionalString(given.removeFrom, 'removeFrom');
    if (moveTo === undefined && removeFrom === undefined) {
      throw new TypeError(
        'Expected `moveTo` or `removeFrom` (or both) in the options of updateVersionStage.',
      );
    }
    this.#store.updateStage(
      requireString(secretId, 'secretId'),
      requireString(versionStage, 'versionStage'),
      moveTo,
      removeFrom,
    );
  }

  rotate(secretId: string, value: string | Uint8Array, options?: RotateOptions): MemoryRotation {
    const given = checkOptions(options, ROTATE_OPTION_KEYS, 'options of rotate');
    const { stopAfter } = given;
    if (stopAfter !== undefined && stopAfter !== 'createSecret' && stopAfter !== 'finishSecret') {
      throw expected('stopAfter', "`'createSecret'` or `'finishSecret'`", stopAfter);
    }
    const versionId = optionalString(given.versionId, 'versionId');
    return rotate(this.#store, requireString(secretId, 'secretId'), secretValue(value), {
      ...(stopAfter === undefined ? {} : { stopAfter }),
      ...(versionId === undefined ? {} : { versionId }),
    });
  }

  deleteSecret(secretId: string): void {
    this.#store.delete(requireString(secretId, 'secretId'));
  }

  describeSecret(secretId: string): SecretDescription {
    return this.#store.describe(requireString(secretId, 'secretId'));
  }

  fail(kind: FailureKind | ((call: MemoryCall) => unknown), options?: FailureOptions): InjectedFailure {
    if (typeof kind !== 'function' && !['transient', 'throttled', 'denied', 'hang'].includes(kind)) {
      throw expected('kind', "`'transient'`, `'throttled'`, `'denied'`, `'hang'` or a function", kind);
    }
    const given = checkOptions(options, FAILURE_OPTION_KEYS, 'options of fail');
    const secretId = optionalString(given.secretId, 'secretId');
    const { operation, times } = given;
    if (operation !== undefined && operation !== 'GetSecretValue' && operation !== 'BatchGetSecretValue') {
      throw expected('operation', "`'GetSecretValue'` or `'BatchGetSecretValue'`", operation);
    }
    if (
      times !== undefined &&
      !(
        typeof times === 'number' &&
        times >= 1 &&
        (Number.isInteger(times) || times === Number.POSITIVE_INFINITY)
      )
    ) {
      throw expected('times', 'a positive integer or Infinity', times);
    }
    return this.#failures.add(
      new Failure(kind, {
        ...(secretId === undefined ? {} : { secretId }),
        ...(operation === undefined ? {} : { operation: operation as MemoryOperation }),
        ...(times === undefined ? {} : { times: times as number }),
      }),
    );
  }

  clearFailures(): void {
    this.#failures.clear();
  }

  release(): number {
    return this.#failures.release();
  }

  get heldCalls(): number {
    return this.#failures.held;
  }

  get calls(): readonly MemoryCall[] {
    return this.#log.calls;
  }

  callCount(filter?: CallFilter): number {
    const given = checkOptions(filter, CALL_FILTER_KEYS, 'filter of callCount') as CallFilter;
    return this.#log.count(
      given,
      given.secretId === undefined ? undefined : this.#store.arnOf(given.secretId),
    );
  }

  clearCalls(): void {
    this.#log.clear();
  }
}

function optionalString(value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : requireString(value, name);
}

/** Wrong types are the test's mistake (a `TypeError`); what AWS checks of a string, the store checks. */
function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw expected(name, 'a string', value);
  return value;
}
