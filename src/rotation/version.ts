import { deepFreeze } from '../json.js';
import type { RotationStep, RotationVersion } from './contract.js';
import { RotationError } from './errors.js';

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');
const REDACTED = '<redacted>';

/** What a `GetSecretValue` answer says about one version. */
export interface VersionFields {
  readonly versionId: string;
  readonly versionStages: readonly string[];
  readonly secretString: string | undefined;
  readonly secretBinary: Uint8Array | undefined;
}

/** Where a version was read, for the messages of {@link SecretVersion.json}'s errors. */
export interface VersionOrigin {
  /** The event's `SecretId`: the `secretId` of every error. */
  readonly secretId: string;
  readonly step: RotationStep;
  /** The secret the version belongs to, when it is another one (`readSecret`); the event's by default. */
  readonly readFrom?: string;
}

/**
 * One version of a secret as a rotation step sees it. Frozen. Loggers render objects with `JSON.stringify`
 * (pino, winston) or `util.inspect` (console): both, and `String()`, leave the value out, while it stays
 * readable as `secretString` or `secretBinary`.
 *
 * @example
 * ```ts
 * import { SecretVersion } from './version.js';
 *
 * const version = new SecretVersion(
 *   { versionId: 'v1', versionStages: ['AWSCURRENT'], secretString: '{"password":"x"}', secretBinary: undefined },
 *   { secretId: 'prod/db', step: 'createSecret' },
 * );
 * JSON.stringify(version); // {"versionId":"v1","versionStages":["AWSCURRENT"],"secretString":"<redacted>"}
 * version.json().password; // 'x'
 * ```
 */
export class SecretVersion implements RotationVersion {
  readonly versionId: string;
  readonly versionStages: readonly string[];
  readonly secretString: string | undefined;
  readonly secretBinary: Uint8Array | undefined;
  readonly #origin: VersionOrigin;
  #parsed: Readonly<Record<string, unknown>> | undefined;

  constructor(fields: VersionFields, origin: VersionOrigin) {
    this.versionId = fields.versionId;
    this.versionStages = Object.freeze([...fields.versionStages]);
    this.secretString = fields.secretString;
    // A copy of its own: the SDK may hand over a view on a shared buffer.
    this.secretBinary = fields.secretBinary === undefined ? undefined : new Uint8Array(fields.secretBinary);
    this.#origin = origin;
    Object.freeze(this);
  }

  /** Whether the version holds a value: one `PutSecretValue` gave it, as `createSecret` does. */
  get hasValue(): boolean {
    return this.secretString !== undefined || this.secretBinary !== undefined;
  }

  /**
   * The string value parsed as a JSON object, deep-frozen, parsed once. A `RotationError` `INVALID_SECRET` when
   * the version is binary, holds no value, is not JSON or is JSON but not an object; its message never quotes
   * the value, and the `SyntaxError` (whose message does) is not kept.
   */
  json(): Readonly<Record<string, unknown>> {
    if (this.#parsed !== undefined) return this.#parsed;
    const text = this.secretString;
    if (text === undefined) {
      throw this.#invalid(
        this.secretBinary === undefined ? 'holds no value' : 'is binary, not a JSON object',
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.#invalid('is not valid JSON; its value is not shown');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw this.#invalid(`is JSON but not an object (${jsonType(parsed)})`);
    }
    this.#parsed = deepFreeze(parsed as Record<string, unknown>);
    return this.#parsed;
  }

  toJSON(): object {
    const { versionId, versionStages } = this;
    if (this.secretString !== undefined) return { versionId, versionStages, secretString: REDACTED };
    if (this.secretBinary !== undefined) return { versionId, versionStages, secretBinary: REDACTED };
    return { versionId, versionStages };
  }

  toString(): string {
    const value =
      this.secretString !== undefined
        ? REDACTED
        : this.secretBinary !== undefined
          ? `<${this.secretBinary.length} bytes>`
          : '<none>';
    return `RotationVersion { versionId: ${JSON.stringify(this.versionId)}, versionStages: ${JSON.stringify(this.versionStages)}, value: ${value} }`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }

  #invalid(problem: string): RotationError {
    const { secretId, step, readFrom } = this.#origin;
    return new RotationError(
      'INVALID_SECRET',
      step,
      secretId,
      `Version ${this.versionId} of secret "${readFrom ?? secretId}" ${problem}.`,
    );
  }
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
