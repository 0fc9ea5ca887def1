import { CODE_BY_AWS_NAME, WHAT_FAILED } from './aws-errors.js';
import { loadedSdk, loadSdk, SDK_PACKAGE, type SecretsManagerSdk } from './aws-sdk.js';
import { isSecretCacheError, SecretCacheError } from './errors.js';

/**
 * What to fetch: a secret and, optionally, one version of it by stage or by id. The cache always names the
 * stage or the id; a {@link SecretSource} answers for that version, or throws `NOT_FOUND`.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { SecretCache, SecretCacheError, type SecretRequest, type SecretVersion } from 'secretcache';
 *
 * // Local development: each secret is a file under ./secrets, with a current version only.
 * async function fromFile({ secretId, versionStage, versionId }: SecretRequest): Promise<SecretVersion> {
 *   if (versionId !== undefined || (versionStage ?? 'AWSCURRENT') !== 'AWSCURRENT') {
 *     throw new SecretCacheError('NOT_FOUND', secretId, `Secret "${secretId}" has only a current version.`);
 *   }
 *   const secretString = await readFile(`./secrets/${secretId}`, 'utf8');
 *   return { name: secretId, arn: `local:${secretId}`, versionId: 'local', versionStages: ['AWSCURRENT'],
 *            createdDate: undefined, secretString };
 * }
 * const cache = new SecretCache({ source: { getSecretValue: fromFile } });
 * ```
 */
export interface SecretRequest {
  readonly secretId: string;
  readonly versionStage?: string | undefined;
  readonly versionId?: string | undefined;
  /**
   * Set when the cache wants a value fresher than any cache in front of Secrets Manager may hold: for
   * `refreshNow()` and for the refresh after a rejected credential. A source with a cache of its own (such as
   * the Secrets Manager Agent, through its `refreshNow=true` parameter) should bypass it; other sources may
   * ignore it.
   */
  readonly refreshNow?: boolean | undefined;
}

/**
 * One version of a secret as a {@link SecretSource} returns it, with the fields of a `GetSecretValue` answer.
 * Exactly one of the two values is set.
 *
 * @example
 * ```ts
 * import { SecretCache, type SecretVersion } from 'secretcache';
 *
 * // A unit test's fake: one fixed version, shaped as AWS would answer.
 * const version: SecretVersion = {
 *   name: 'prod/orders/db',
 *   arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders/db-AbCdEf',
 *   versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
 *   versionStages: ['AWSCURRENT'],
 *   createdDate: new Date('2025-01-01T00:00:00Z'),
 *   secretString: JSON.stringify({ username: 'orders', password: 'test-only' }),
 * };
 * const cache = new SecretCache({ source: { getSecretValue: async () => version } });
 * ```
 */
export interface SecretVersion {
  readonly name: string;
  readonly arn: string;
  readonly versionId: string;
  readonly versionStages: readonly string[];
  readonly createdDate: Date | undefined;
  readonly secretString?: string | undefined;
  readonly secretBinary?: Uint8Array | undefined;
  /** The AWS region that answered, where a source knows it (set by `regionalSource`). */
  readonly region?: string | undefined;
}

/**
 * Where the cache gets secrets from. The AWS SDK lives behind this seam only, so tests and other transports
 * plug in without touching the cache. Implementations throw a {@link SecretCacheError} (or anything, which the
 * cache reports as `FETCH_FAILED`) and honour `signal`.
 *
 * @example
 * ```ts
 * import { SecretCache, type SecretSource } from 'secretcache';
 *
 * const source: SecretSource = {
 *   async getSecretValue({ secretId }) {
 *     return { name: secretId, arn: secretId, versionId: 'v1', versionStages: ['AWSCURRENT'],
 *              createdDate: undefined, secretString: process.env[secretId] ?? '' };
 *   },
 * };
 * const cache = new SecretCache({ source });
 * ```
 */
export interface SecretSource {
  getSecretValue(request: SecretRequest, signal?: AbortSignal): Promise<SecretVersion>;
  /**
   * Optional: the `AWSCURRENT` versions of up to 20 secrets in one call (`BatchGetSecretValue`). Sources
   * without it are loaded one `getSecretValue` at a time.
   */
  batchGetSecretValue?(secretIds: readonly string[], signal?: AbortSignal): Promise<BatchResult>;
}

/**
 * What one `BatchGetSecretValue` answered: the versions it found and the ids it reported errors for. The
 * cache matches a version to its id by `name` or `arn`, and fetches alone any id the result does not mention.
 *
 * @example
 * ```ts
 * import { type BatchResult, SecretCacheError, type SecretSource, type SecretVersion } from 'secretcache';
 *
 * // An in-memory source for tests that answers manifest loads in one call, as the AWS source does.
 * const versions = new Map<string, SecretVersion>();
 * const notFound = (secretId: string) =>
 *   new SecretCacheError('NOT_FOUND', secretId, `Secret "${secretId}" was not found.`);
 * const source: SecretSource = {
 *   async getSecretValue({ secretId }) {
 *     const version = versions.get(secretId);
 *     if (version === undefined) throw notFound(secretId);
 *     return version;
 *   },
 *   async batchGetSecretValue(secretIds): Promise<BatchResult> {
 *     return {
 *       versions: secretIds.flatMap((secretId) => versions.get(secretId) ?? []),
 *       errors: secretIds
 *         .filter((secretId) => !versions.has(secretId))
 *         .map((secretId) => ({ secretId, error: notFound(secretId) })),
 *     };
 *   },
 * };
 * ```
 */
export interface BatchResult {
  readonly versions: readonly SecretVersion[];
  readonly errors: ReadonlyArray<{ readonly secretId: string; readonly error: SecretCacheError }>;
}

/** The most secret ids `BatchGetSecretValue` takes in one call. */
export const MAX_BATCH_SIZE = 20;

/**
 * The part of `SecretsManagerClient` the cache uses: anything that can `send` a command. It lets a wrapped or
 * instrumented client in without a dependency on one SDK version's types.
 *
 * @example
 * ```ts
 * import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 * import { SecretCache, type SecretsManagerLike } from 'secretcache';
 *
 * // The SDK's client, with every call the cache makes logged.
 * const sdk = new SecretsManagerClient({ region: 'eu-west-1' });
 * const client: SecretsManagerLike = {
 *   send: (command, options) => {
 *     logger.debug(`secretsmanager ${command.constructor.name}`);
 *     return sdk.send(command, options);
 *   },
 * };
 * const cache = new SecretCache({ client });
 * ```
 */
export interface SecretsManagerLike {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's send is generic over every command; any fits all.
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

const SIGNATURE_ERRORS: ReadonlySet<string> = new Set(['InvalidSignatureException', 'SignatureDoesNotMatch']);

/**
 * Whether AWS rejected a request's signature. In Lambda that is what a request signed before the sandbox froze
 * and sent after it thawed gets: a request signed anew succeeds, so it is worth one more attempt.
 */
export function isSignatureError(error: unknown): boolean {
  const awsError = isSecretCacheError(error) ? error.cause : error;
  const name = (awsError as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && SIGNATURE_ERRORS.has(name);
}

/**
 * Turns whatever a fetch threw into a {@link SecretCacheError} for `secretId`. AWS errors are classified by
 * their `name`; anything unknown (network, 5xx) is `FETCH_FAILED`. The original stays reachable as `cause`.
 */
export function toSecretCacheError(error: unknown, secretId: string): SecretCacheError {
  if (isSecretCacheError(error)) return error;
  const name = typeof (error as { name?: unknown })?.name === 'string' ? (error as Error).name : 'Error';
  const throttled = (error as { $retryable?: { throttling?: boolean } })?.$retryable?.throttling === true;
  const code = CODE_BY_AWS_NAME.get(name) ?? (throttled ? 'THROTTLED' : 'FETCH_FAILED');
  const what = WHAT_FAILED[code] ?? 'could not be fetched';
  return new SecretCacheError(code, secretId, `Secret "${secretId}" ${what} (${name}).`, { cause: error });
}

/**
 * Options of {@link AwsSecretSource}.
 *
 * @example
 * ```ts
 * import { AwsSecretSource, type AwsSecretSourceOptions } from 'secretcache';
 *
 * const options: AwsSecretSourceOptions = { region: 'eu-west-1' };
 * const source = new AwsSecretSource(undefined, options);
 * ```
 */
export interface AwsSecretSourceOptions {
  /**
   * The region of the client the source creates when none is given.
   * @default the SDK's default (`AWS_REGION`, the shared config)
   */
  readonly region?: string;
}

/**
 * A {@link SecretSource} over the AWS SDK v3's `SecretsManagerClient`. The SDK (a peer dependency) is loaded on
 * the first fetch, not at import: a process that never fetches through this source never loads it, and one
 * without it installed gets `MISSING_DEPENDENCY` from its first read. With no client it creates one (default
 * credential chain; `region` if given) on the first fetch, so constructing a cache does no I/O.
 *
 * @example
 * ```ts
 * import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
 * import { AwsSecretSource, SecretCache } from 'secretcache';
 *
 * const source = new AwsSecretSource(new SecretsManagerClient({ region: 'eu-west-1' }));
 * const cache = new SecretCache({ source });
 * ```
 */
export class AwsSecretSource implements SecretSource {
  #client: SecretsManagerLike | undefined;
  readonly #region: string | undefined;

  constructor(client?: SecretsManagerLike, options?: AwsSecretSourceOptions) {
    this.#client = client;
    this.#region = options?.region;
  }

  /** The client in use: the one given, or the one the first fetch created (`undefined` before it). */
  get client(): SecretsManagerLike | undefined {
    return this.#client;
  }

  /** The SDK, loaded by the first fetch; the caller's abort while it loads wins. */
  async #loadSdk(secretId: string, signal: AbortSignal | undefined): Promise<SecretsManagerSdk> {
    const sdk = await loadSdk(secretId);
    if (signal?.aborted === true) throw signal.reason;
    return sdk;
  }

  #clientOf(sdk: SecretsManagerSdk): SecretsManagerLike {
    this.#client ??= new sdk.SecretsManagerClient(this.#region === undefined ? {} : { region: this.#region });
    return this.#client;
  }

  async getSecretValue(request: SecretRequest, signal?: AbortSignal): Promise<SecretVersion> {
    const sdk = loadedSdk ?? (await this.#loadSdk(request.secretId, signal));
    const command = new sdk.GetSecretValueCommand({
      SecretId: request.secretId,
      ...(request.versionStage === undefined ? {} : { VersionStage: request.versionStage }),
      ...(request.versionId === undefined ? {} : { VersionId: request.versionId }),
    });
    let output: Record<string, unknown>;
    try {
      const client = this.#clientOf(sdk);
      output = await client.send(command, signal === undefined ? undefined : { abortSignal: signal });
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      throw toSecretCacheError(error, request.secretId);
    }
    return versionFromAws(output, request.secretId);
  }

  async batchGetSecretValue(secretIds: readonly string[], signal?: AbortSignal): Promise<BatchResult> {
    const versions: SecretVersion[] = [];
    const errors: Array<{ secretId: string; error: SecretCacheError }> = [];
    const sdk = loadedSdk ?? (await this.#loadSdk(secretIds.join(','), signal));
    // SDK versions before 3.499 have no BatchGetSecretValue: the cache then loads one secret at a time.
    if (typeof sdk.BatchGetSecretValueCommand !== 'function') {
      throw new SecretCacheError(
        'INVALID_REQUEST',
        secretIds.join(','),
        `This version of ${SDK_PACKAGE} has no BatchGetSecretValue; secrets are loaded one by one.`,
      );
    }
    let nextToken: string | undefined;
    do {
      const command = new sdk.BatchGetSecretValueCommand({
        SecretIdList: [...secretIds],
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      });
      let output: Record<string, unknown>;
      try {
        const client = this.#clientOf(sdk);
        output = await client.send(command, signal === undefined ? undefined : { abortSignal: signal });
      } catch (error) {
        if (signal?.aborted === true) throw signal.reason;
        throw toSecretCacheError(error, secretIds.join(','));
      }
      for (const value of (output.SecretValues as Record<string, unknown>[] | undefined) ?? []) {
        versions.push(versionFromAws(value, typeof value.Name === 'string' ? value.Name : ''));
      }
      for (const failure of (output.Errors as Record<string, unknown>[] | undefined) ?? []) {
        const secretId = typeof failure.SecretId === 'string' ? failure.SecretId : '';
        const name = typeof failure.ErrorCode === 'string' ? failure.ErrorCode : 'Error';
        const message = typeof failure.Message === 'string' ? failure.Message : name;
        errors.push({
          secretId,
          error: toSecretCacheError(Object.assign(new Error(message), { name }), secretId),
        });
      }
      nextToken =
        typeof output.NextToken === 'string' && output.NextToken !== '' ? output.NextToken : undefined;
    } while (nextToken !== undefined);
    return { versions, errors };
  }
}

/** Maps a `GetSecretValue` (or `BatchGetSecretValue` entry) output to a {@link SecretVersion}. */
export function versionFromAws(output: Record<string, unknown>, secretId: string): SecretVersion {
  const secretString = output.SecretString;
  const secretBinary = output.SecretBinary;
  return {
    name: typeof output.Name === 'string' ? output.Name : secretId,
    arn: typeof output.ARN === 'string' ? output.ARN : '',
    versionId: typeof output.VersionId === 'string' ? output.VersionId : '',
    versionStages: Array.isArray(output.VersionStages) ? [...(output.VersionStages as string[])] : [],
    createdDate: output.CreatedDate instanceof Date ? output.CreatedDate : undefined,
    ...(typeof secretString === 'string' ? { secretString } : {}),
    ...(secretBinary instanceof Uint8Array ? { secretBinary } : {}),
  };
}
