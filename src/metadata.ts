/**
 * The metadata of a cached version in its smallest form. A cache holds one version object per entry, and a
 * service may hold thousands: what entries have in common (a stage list, the start of an ARN, the stage they
 * were read for) is one {@link Shape} shared between them, and what is left of the name and ARN is one short
 * string. Only a record (`getSecretValue`) needs them whole, and it rebuilds them once.
 */

/**
 * How many stage lists, and how many shapes, each table below remembers. A table that is full starts over
 * (versions keep what they were given), so a source that makes up labels cannot grow it.
 */
const MAX_SHARED = 64;

function share<T>(table: Map<string, T>, key: string, value: T): void {
  if (table.size >= MAX_SHARED) table.clear();
  table.set(key, value);
}

const sharedStageLists = new Map<string, readonly string[]>();

/**
 * `stages` as a frozen list shared by every version that carries the same labels: nearly all carry one of a
 * few (`['AWSCURRENT']` above all), and a list of its own costs each version 56 bytes. Frozen, so no record
 * that hands it out can change it for the others.
 */
export function sharedStages(stages: readonly string[]): readonly string[] {
  // Labels hold no control character (Secrets Manager allows none), so NUL keeps keys apart; a list that
  // shares its key with another anyway (a source's own labels) is compared below and gets a copy of its own.
  let key = '';
  for (let index = 0; index < stages.length; index++) {
    const stage = stages[index];
    if (typeof stage !== 'string') return Object.freeze([...stages]);
    key = index === 0 ? stage : `${key}\0${stage}`;
  }
  const shared = sharedStageLists.get(key);
  if (shared !== undefined && sameList(shared, stages)) return shared;
  const own = Object.freeze([...stages]);
  if (shared === undefined) share(sharedStageLists, key, own);
  return own;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/** What many cached versions have in common, shared between them. */
export interface Shape {
  /** The stage the version was read for; `undefined` for a version read by id. */
  readonly versionStage: string | undefined;
  /** Whether the version was read by id. */
  readonly byVersionId: boolean;
  /** The version's stages (see {@link sharedStages}). */
  readonly versionStages: readonly string[];
  /**
   * The ARN's start, up to and including `:secret:`, when the ARN is that start, the name and a short rest (as
   * every ARN of Secrets Manager is: `arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf`).
   */
  readonly arnPrefix: string | undefined;
  /** Whether the secret was read by its ARN (and its name is taken from it), rather than by its name. */
  readonly readByArn: boolean;
  /**
   * How long before its expiry a version is refreshed ahead: `expiresAt` is `refreshAt` plus this. The same
   * for every version of a cache (`refreshAheadMs`) but those whose lifetime is shorter than twice that.
   */
  readonly aheadMs: number;
  /** The region that answered, when the source said (`regionalSource`); few distinct values, so shared. */
  readonly region: string | undefined;
}

const sharedShapes = new Map<string, Shape>();

/** `shape`, or the one like it shared since it was first seen. */
export function sharedShape(shape: Shape): Shape {
  const { versionStage, byVersionId, versionStages, arnPrefix, readByArn, aheadMs, region } = shape;
  if (!Array.isArray(versionStages)) return shape;
  // Labels, stages and ARNs hold no control character; a key that is ambiguous anyway is compared below.
  const key = `${versionStage ?? ''}\x01${byVersionId}\x01${arnPrefix ?? ''}\x01${readByArn}\x01${aheadMs}\x01${region ?? ''}\x01${versionStages.join('\0')}`;
  const shared = sharedShapes.get(key);
  if (shared !== undefined && sameShape(shared, shape)) return shared;
  if (shared === undefined) share(sharedShapes, key, shape);
  return shape;
}

function sameShape(a: Shape, b: Shape): boolean {
  return (
    a.versionStage === b.versionStage &&
    a.byVersionId === b.byVersionId &&
    a.versionStages === b.versionStages &&
    a.arnPrefix === b.arnPrefix &&
    a.readByArn === b.readByArn &&
    a.aheadMs === b.aheadMs &&
    a.region === b.region
  );
}

/** A name and an ARN that neither follow from the secret id nor from each other: kept as they are. */
export interface Names {
  readonly name: string;
  readonly arn: string;
}

/** How a version keeps its name and ARN: its shape's `arnPrefix` and `readByArn`, and one slot (`rest`). */
export interface CompactNames {
  readonly arnPrefix: string | undefined;
  readonly readByArn: boolean;
  readonly rest: string | Names;
}

const SECRET_PART = ':secret:';
/**
 * The longest rest kept as a string of its own. V8 makes a slice this short a copy; a longer one would be a
 * view that keeps the whole ARN alive. AWS's rest is 7 characters (`-AbCdEf`).
 */
const MAX_REST = 12;

/**
 * `name` and `arn` of a version read as `secretId`, in as little as it takes: nothing beyond the secret id when
 * the ARN is the secret id or the name is (each answer's strings are new, the secret id is already kept), and
 * of the ARN only what follows the name.
 */
export function compactNames(secretId: string, name: string, arn: string): CompactNames {
  const byName = name === secretId;
  // Only strings are taken apart: a source that breaks the type keeps what it gave, as it gave it.
  if ((byName || arn === secretId) && typeof name === 'string' && typeof arn === 'string') {
    const end = arn.indexOf(SECRET_PART) + SECRET_PART.length;
    const restLength = arn.length - end - name.length;
    if (end >= SECRET_PART.length && restLength >= 0 && restLength <= MAX_REST && arn.startsWith(name, end)) {
      return { arnPrefix: arn.slice(0, end), readByArn: !byName, rest: arn.slice(end + name.length) };
    }
    if (byName) return { arnPrefix: undefined, readByArn: false, rest: arn === secretId ? secretId : arn };
  }
  return { arnPrefix: undefined, readByArn: false, rest: { name, arn: arn === secretId ? secretId : arn } };
}

/** The name {@link compactNames} kept. */
export function nameOf(secretId: string, shape: Shape, rest: string | Names): string {
  if (typeof rest !== 'string') return rest.name;
  if (!shape.readByArn) return secretId;
  return secretId.slice((shape.arnPrefix as string).length, secretId.length - rest.length);
}

/** The ARN {@link compactNames} kept. */
export function arnOf(secretId: string, shape: Shape, rest: string | Names): string {
  if (typeof rest !== 'string') return rest.arn;
  if (shape.readByArn) return secretId;
  return shape.arnPrefix === undefined ? rest : `${shape.arnPrefix}${secretId}${rest}`;
}
