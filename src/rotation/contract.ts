/**
 * The types a rotation target is written against: what the handler hands each step, and what a target does.
 * The handler (`handler.ts`) runs Secrets Manager's four-step protocol; a target (`postgres-target.ts`, or the
 * user's own) knows one system's credentials.
 */

/** The four steps of Secrets Manager's rotation protocol, in the order the service invokes them. */
export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

/**
 * The event Secrets Manager invokes a rotation function with. `RotationToken` is present for rotations the
 * service starts (and required for cross-account ones): the handler forwards it to `PutSecretValue`.
 */
export interface RotationEvent {
  readonly Step: RotationStep;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly RotationToken?: string;
}

/**
 * One version of the secret being rotated, as the steps see it. Renders without its value (`JSON.stringify`,
 * `util.inspect`, `String`); the value stays readable as a property.
 */
export interface RotationVersion {
  readonly versionId: string;
  readonly versionStages: readonly string[];
  readonly secretString: string | undefined;
  readonly secretBinary: Uint8Array | undefined;
  /**
   * The string value parsed as a JSON object. Throws a `RotationError` (`INVALID_SECRET`, no fragment of the
   * value in its message) when the version is binary, not JSON, or not an object.
   */
  json(): Readonly<Record<string, unknown>>;
}

/** What `createPending` is handed: the current version and the tools to make the next one. */
export interface CreatePendingContext {
  readonly step: 'createSecret';
  /** The event's `SecretId` (usually the secret's ARN). */
  readonly secretId: string;
  /** The event's `ClientRequestToken`: the id the pending version will have. */
  readonly token: string;
  /** The `AWSCURRENT` version. */
  readonly current: RotationVersion;
  /** A new random password from `GetRandomPassword`, with the handler's `password` options. */
  randomPassword(): Promise<string>;
}

/** What `setPending` and `testPending` are handed. */
export interface PendingContext {
  readonly step: 'setSecret' | 'testSecret';
  readonly secretId: string;
  readonly token: string;
  /** The `AWSCURRENT` version. */
  readonly current: RotationVersion;
  /** The `AWSPENDING` version named by the token. */
  readonly pending: RotationVersion;
  /** The `AWSPREVIOUS` version, fetched on first call; `undefined` when the secret has none. */
  previous(): Promise<RotationVersion | undefined>;
  /** The `AWSCURRENT` version of another secret (a superuser's, say), read with the handler's client. */
  readSecret(secretId: string): Promise<RotationVersion>;
}

/**
 * A system whose credential a rotation changes. `setPending` makes the system accept the pending credential,
 * `testPending` proves that it does; both must be safe to run twice, as Secrets Manager retries steps.
 */
export interface RotationTarget {
  /**
   * The value of the new version. Default: the current value's JSON with a new `password` from
   * `randomPassword()`.
   */
  createPending?(context: CreatePendingContext): Promise<string | Uint8Array>;
  /** Makes the system accept the pending credential (and keep accepting the current one where it can). */
  setPending(context: PendingContext): Promise<void>;
  /** Throws unless the system accepts the pending credential. */
  testPending(context: PendingContext): Promise<void>;
}
