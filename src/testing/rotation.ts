import { AWSCURRENT, AWSPENDING, type SecretStore } from './secret-store.js';

/**
 * Options of `rotate()`.
 *
 * @example
 * ```ts
 * import { memorySource, type RotateOptions } from 'secretcache/testing';
 *
 * const source = memorySource();
 * source.createSecret('prod/orders/db', 'pw-1');
 * const halfway: RotateOptions = { stopAfter: 'createSecret' };
 * const rotation = source.rotate('prod/orders/db', 'pw-2', halfway); // pw-2 is AWSPENDING, pw-1 still current
 * rotation.finishSecret(); // now pw-2 is AWSCURRENT and pw-1 AWSPREVIOUS
 * ```
 */
export interface RotateOptions {
  /**
   * The last step to take: `'createSecret'` leaves the new value as `AWSPENDING` (the window in which the
   * database may already have the new password while readers still get the old one); `'finishSecret'`
   * completes the rotation. The steps between (`setSecret`, `testSecret`) move no label.
   * @default 'finishSecret'
   */
  readonly stopAfter?: 'createSecret' | 'finishSecret';
  /**
   * The new version's id (the rotation's `ClientRequestToken`).
   * @default a new id, as the source makes them
   */
  readonly versionId?: string;
}

export const ROTATE_OPTION_KEYS: readonly string[] = ['stopAfter', 'versionId'];

/**
 * A rotation `rotate()` started: the version it made and the one it replaces, and its last step.
 *
 * @example
 * ```ts
 * import { type MemoryRotation, memorySource } from 'secretcache/testing';
 *
 * const source = memorySource();
 * source.createSecret('prod/orders/db', 'pw-1');
 * const rotation: MemoryRotation = source.rotate('prod/orders/db', 'pw-2', { stopAfter: 'createSecret' });
 * rotation.finished; // false
 * rotation.finishSecret();
 * rotation.finished; // true
 * ```
 */
export interface MemoryRotation {
  readonly secretId: string;
  /** The new version: `AWSPENDING` until finished, `AWSCURRENT` after. */
  readonly versionId: string;
  /** The version that was `AWSCURRENT` when the rotation started. */
  readonly replacedVersionId: string;
  /** Whether `finishSecret` has run. */
  readonly finished: boolean;
  /**
   * The rotation's last step, as a rotation Lambda's finishSecret does it: moves `AWSCURRENT` to the new
   * version (Secrets Manager moves `AWSPREVIOUS` to the version it left), then takes `AWSPENDING` off every
   * version, as Secrets Manager does once a rotation succeeds. Safe to call twice.
   */
  finishSecret(): void;
}

/** createSecret (the new value as `AWSPENDING`), then finishSecret unless told to stop before it. */
export function rotate(
  store: SecretStore,
  secretId: string,
  value: string | Uint8Array,
  options: RotateOptions,
): MemoryRotation {
  const { versionId } = store.put(secretId, value, [AWSPENDING], options.versionId);
  // The put did not move AWSCURRENT, and a secret always has a current version.
  const replacedVersionId = store.versionIdOf(secretId, AWSCURRENT)!;
  let finished = false;
  const rotation: MemoryRotation = {
    secretId,
    versionId,
    replacedVersionId,
    get finished() {
      return finished;
    },
    finishSecret() {
      // As the project's rotation step does: AWSPENDING off any other version first, so a retry still removes it.
      for (const version of store.describe(secretId).versions) {
        if (version.versionId !== versionId && version.versionStages.includes(AWSPENDING)) {
          store.updateStage(secretId, AWSPENDING, undefined, version.versionId);
        }
      }
      const current = store.versionIdOf(secretId, AWSCURRENT);
      if (current !== versionId) store.updateStage(secretId, AWSCURRENT, versionId, current);
      if (store.versionIdOf(secretId, AWSPENDING) === versionId) {
        store.updateStage(secretId, AWSPENDING, undefined, versionId);
      }
      finished = true;
    },
  };
  if ((options.stopAfter ?? 'finishSecret') === 'finishSecret') rotation.finishSecret();
  return Object.freeze(rotation) as MemoryRotation;
}
