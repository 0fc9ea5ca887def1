/**
 * memorySource against moto_server, side by side: random sequences of create, put, put with stages, stage moves,
 * reads by stage and by version id, batches and deletes, run against both; after every step both must have
 * answered the same value, the same stages (as sets) and the same error (the cache's code for reads, the AWS
 * error name for setup calls), and hold the same stages on every version. Version ids and ARNs differ between the
 * two (both are random); they are compared through the mapping each create and put records.
 *
 * Where moto_server departs from Secrets Manager's documented behaviour, the step is not generated (see
 * MOTO_DEPARTS below): those are the differences this comparison found; memorySource follows AWS there, and the
 * unit tests in test/testing pin what it does.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSecretCacheError } from '../../src/errors.js';
import { AwsSecretSource, type BatchResult, type SecretVersion } from '../../src/source.js';
import { type MemorySource, memorySource } from '../../src/testing.js';
import { type MotoServer, startMotoServer } from '../support/moto.js';
import { propertyRuns } from '../support/runs.js';

const runId = randomUUID().slice(0, 8);
let runs = 0;
let moto: MotoServer;
let client: SecretsManagerClient;
let aws: AwsSecretSource;

beforeAll(async () => {
  moto = await startMotoServer();
  client = moto.client();
  aws = new AwsSecretSource(client);
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

const SECRETS = ['a', 'b'] as const;
const STAGES = ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING', 'BLUE'] as const;
/** A version id neither side has (a UUID, as moto requires of version ids). */
const NO_SUCH_VERSION = '00000000-0000-4000-8000-000000000000';

type Value = string | Uint8Array;

/** Both sides' state, and what maps one's ids to the other's. */
interface Model {
  readonly memory: MemorySource;
  readonly prefix: string;
  /** memorySource version id -> moto version id. */
  readonly motoIdOf: Map<string, string>;
  /** moto version id -> memorySource version id. */
  readonly memoryIdOf: Map<string, string>;
  /** moto ARN -> memorySource ARN, and back. */
  readonly memoryArnOf: Map<string, string>;
  readonly motoArnOf: Map<string, string>;
  /**
   * The version moto takes for a secret's current one when a call names no stage (its `default_version_id`), as
   * a memorySource id: set by CreateSecret and by a PutSecretValue that moves AWSCURRENT, and by nothing else.
   */
  readonly motoDefault: Map<string, string>;
}

const nameOf = (model: Model, secret: number): string => `${model.prefix}${SECRETS[secret]}`;

/** The secret's versions with their stages in memorySource, or undefined when it does not exist. */
function versionsOf(model: Model, name: string) {
  try {
    return model.memory.describeSecret(name).versions;
  } catch {
    return undefined;
  }
}

/**
 * How a step names a version: the one holding a stage now (the moves a rotation or a rollback makes), one by
 * position among the secret's versions (any number picks one), or a version id neither side has.
 */
type VersionRef = { readonly holder: string } | { readonly at: number } | 'none';

function pickVersion(model: Model, name: string, ref: VersionRef): string {
  const versions = versionsOf(model, name) ?? [];
  if (ref === 'none' || versions.length === 0) return NO_SUCH_VERSION;
  if ('holder' in ref) return holderOf(model, name, ref.holder) ?? NO_SUCH_VERSION;
  return versions[ref.at % versions.length]?.versionId ?? NO_SUCH_VERSION;
}

const refText = (ref: VersionRef | undefined): string =>
  ref === undefined
    ? '-'
    : ref === 'none'
      ? 'no such version'
      : 'holder' in ref
        ? `holder of ${ref.holder}`
        : `#${ref.at}`;

const holderOf = (model: Model, name: string, stage: string): string | undefined =>
  versionsOf(model, name)?.find((version) => version.versionStages.includes(stage))?.versionId;

/** Whether moto would answer a call that names no stage with another version than AWSCURRENT. */
const motoDefaultIsStale = (model: Model, name: string): boolean => {
  const current = holderOf(model, name, 'AWSCURRENT');
  return current !== undefined && model.motoDefault.get(name) !== current;
};

/**
 * Steps on which moto_server departs from Secrets Manager's documented behaviour: each was found by this
 * comparison (moto 5.1, `moto/secretsmanager/models.py`), and memorySource does what AWS documents. Such steps are
 * not generated; with SECRETCACHE_MOTO_DEPARTURES=generate they are, to see whether a newer moto still departs.
 */
const GENERATE_DEPARTURES = process.env.SECRETCACHE_MOTO_DEPARTURES === 'generate';

const MOTO_DEPARTS = {
  /**
   * UpdateSecretVersionStage moving AWSCURRENT does not update moto's `default_version_id`, which a
   * GetSecretValue without a stage, every BatchGetSecretValue and the next PutSecretValue still use: they read
   * (or demote to AWSPREVIOUS, leaving two versions AWSCURRENT) the version AWSCURRENT left.
   */
  staleDefault: motoDefaultIsStale,
  /**
   * A PutSecretValue that moves AWSCURRENT replaces every label of the old current version with AWSPREVIOUS
   * (AWS moves AWSCURRENT and AWSPREVIOUS only: other labels stay where they are).
   */
  dropsLabelsOfOldCurrent: (model: Model, name: string): boolean =>
    (versionsOf(model, name) ?? []).some(
      (version) =>
        version.versionStages.includes('AWSCURRENT') &&
        version.versionStages.some((stage) => stage !== 'AWSCURRENT' && stage !== 'AWSPREVIOUS'),
    ),
  /**
   * A PutSecretValue whose VersionStages names AWSCURRENT and other labels: moto moves AWSCURRENT and
   * AWSPREVIOUS but leaves the other labels on the versions that hold them too (so two versions hold one label),
   * and gives AWSPREVIOUS to the old current version even when the list names it for the new one.
   */
  putNamesCurrentAndOthers: (model: Model, name: string, stages: readonly string[] | undefined): boolean =>
    stages?.includes('AWSCURRENT') === true &&
    stages.some(
      (stage) =>
        stage === 'AWSPREVIOUS' || (stage !== 'AWSCURRENT' && holderOf(model, name, stage) !== undefined),
    ),
  /** UpdateSecretVersionStage: which of moto's departures the step would meet, if any. */
  stageMove: (
    model: Model,
    name: string,
    stage: string,
    moveTo: string | undefined,
    removeFrom: string | undefined,
  ): string | undefined => {
    const versions = versionsOf(model, name);
    if (versions === undefined) return undefined;
    const holder = holderOf(model, name, stage);
    const removeFromHolds = removeFrom !== undefined && holder === removeFrom;
    if (moveTo === undefined) {
      // AWS keeps a current version; moto leaves the secret without one (and gives AWSPREVIOUS to the version).
      return stage === 'AWSCURRENT' && removeFromHolds ? 'AWSCURRENT removed without a move' : undefined;
    }
    if (holder !== undefined && holder !== moveTo && removeFrom === undefined && stage !== 'AWSCURRENT') {
      // AWS refuses (RemoveFromVersionId is required); moto attaches the label to both versions.
      return 'a label held elsewhere moved without RemoveFromVersionId';
    }
    if (holder === moveTo && removeFrom === undefined) {
      // AWS asks for RemoveFromVersionId only when the label is on another version, and a version holds a label
      // once. moto refuses it for AWSCURRENT, and attaches any other label a second time (a later move of the
      // label then takes off one of the two).
      return 'a label moved onto the version that holds it';
    }
    // moto removes the label and adds it back, and for AWSCURRENT moves AWSPREVIOUS onto that version as well.
    if (moveTo === removeFrom) return 'a label moved onto the version it is removed from';
    // moto takes the label off RemoveFromVersionId before it finds that MoveToVersionId does not exist.
    if (!versions.some((version) => version.versionId === moveTo) && removeFromHolds) {
      return 'MoveToVersionId unknown, RemoveFromVersionId valid';
    }
    return undefined;
  },
};

/** Whether a step may be generated: not one where moto departs from AWS, unless asked to generate those too. */
const comparable = (departure: boolean | string | undefined): boolean =>
  GENERATE_DEPARTURES || departure === false || departure === undefined;

// ---------------------------------------------------------------------------------------------------------------
// What each side answered, in terms both can be compared in.

type Outcome = { readonly ok: unknown } | { readonly error: string };

async function outcomeOf<T>(
  action: () => Promise<T> | T,
  normalize: (value: T) => unknown,
): Promise<Outcome> {
  try {
    return { ok: normalize(await action()) };
  } catch (error) {
    if (isSecretCacheError(error))
      return { error: `${error.code} (${(error.cause as Error | undefined)?.name})` };
    return { error: (error as Error).name };
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A version as both sides can be compared: moto's ids and ARN translated to memorySource's. */
function comparableVersion(model: Model, version: SecretVersion, side: 'memory' | 'moto') {
  const translate = side === 'moto';
  return {
    name: version.name,
    arn: translate ? (model.memoryArnOf.get(version.arn) ?? `moto:${version.arn}`) : version.arn,
    versionId: translate
      ? (model.memoryIdOf.get(version.versionId) ?? `moto:${version.versionId}`)
      : version.versionId,
    stages: [...version.versionStages].sort(),
    ...(version.secretString === undefined ? {} : { string: version.secretString }),
    ...(version.secretBinary === undefined ? {} : { binary: hex(version.secretBinary) }),
  };
}

function comparableBatch(model: Model, result: BatchResult, side: 'memory' | 'moto') {
  const id = (secretId: string) =>
    side === 'moto' ? (model.memoryArnOf.get(secretId) ?? secretId) : secretId;
  return {
    versions: result.versions
      .map((version) => comparableVersion(model, version, side))
      .sort((x, y) => (x.name < y.name ? -1 : 1)),
    errors: result.errors
      .map(
        ({ secretId, error }) =>
          `${id(secretId)}: ${error.code} (${(error.cause as Error | undefined)?.name})`,
      )
      .sort(),
  };
}

/** Every version's stages on both sides (versions without a label left out), which must agree after each step. */
async function expectSameStages(model: Model, name: string): Promise<void> {
  const memory = await outcomeOf(
    () => model.memory.describeSecret(name),
    (description) => ({
      arn: description.arn,
      stages: Object.fromEntries(
        description.versions
          .filter((version) => version.versionStages.length > 0)
          .map((version) => [version.versionId, [...version.versionStages].sort()]),
      ),
    }),
  );
  const motoSide = await outcomeOf(
    () => client.send(new DescribeSecretCommand({ SecretId: name })),
    (output) => ({
      arn: model.memoryArnOf.get(output.ARN ?? '') ?? `moto:${output.ARN}`,
      stages: Object.fromEntries(
        Object.entries(output.VersionIdsToStages ?? {})
          .filter(([, stages]) => stages.length > 0)
          .map(([id, stages]) => [model.memoryIdOf.get(id) ?? `moto:${id}`, [...new Set(stages)].sort()]),
      ),
    }),
  );
  expect(motoSide, `the stages of ${name}`).toEqual(memory);
}

function recordVersion(model: Model, memoryId: string, motoId: string | undefined): void {
  if (motoId === undefined) return;
  model.motoIdOf.set(memoryId, motoId);
  model.memoryIdOf.set(motoId, memoryId);
}

const valueInput = (value: Value) =>
  typeof value === 'string' ? { SecretString: value } : { SecretBinary: value };

// ---------------------------------------------------------------------------------------------------------------
// The steps.

type Command = fc.AsyncCommand<Model, Record<string, never>>;

class Create implements Command {
  constructor(
    readonly secret: number,
    readonly value: Value,
  ) {}
  check = () => true;
  async run(model: Model): Promise<void> {
    const name = nameOf(model, this.secret);
    const memory = await outcomeOf(
      () => model.memory.createSecret(name, this.value),
      (created) => created,
    );
    const motoSide = await outcomeOf(
      () => client.send(new CreateSecretCommand({ Name: name, ...valueInput(this.value) })),
      (created) => created,
    );
    if ('ok' in memory && 'ok' in motoSide) {
      const created = memory.ok as { arn: string; versionId: string };
      const output = motoSide.ok as { ARN?: string; VersionId?: string };
      recordVersion(model, created.versionId, output.VersionId);
      model.memoryArnOf.set(output.ARN ?? '', created.arn);
      model.motoArnOf.set(created.arn, output.ARN ?? '');
      model.motoDefault.set(name, created.versionId);
    }
    expect('ok' in motoSide ? 'ok' : motoSide, `${this}`).toEqual('ok' in memory ? 'ok' : memory);
    await expectSameStages(model, name);
  }
  toString = () => `create(${SECRETS[this.secret]}, ${describeValue(this.value)})`;
}

class Put implements Command {
  constructor(
    readonly secret: number,
    readonly value: Value,
    readonly stages: readonly string[] | undefined,
  ) {}
  check(model: Model): boolean {
    const name = nameOf(model, this.secret);
    const movesCurrent = this.stages === undefined || this.stages.includes('AWSCURRENT');
    return (
      !movesCurrent ||
      (comparable(MOTO_DEPARTS.staleDefault(model, name)) &&
        comparable(MOTO_DEPARTS.dropsLabelsOfOldCurrent(model, name)) &&
        comparable(MOTO_DEPARTS.putNamesCurrentAndOthers(model, name, this.stages)))
    );
  }
  async run(model: Model): Promise<void> {
    const name = nameOf(model, this.secret);
    const stages = this.stages === undefined ? {} : { versionStages: this.stages };
    const memory = await outcomeOf(
      () => model.memory.putSecretValue(name, this.value, stages),
      (put) => put,
    );
    const motoSide = await outcomeOf(
      () =>
        client.send(
          new PutSecretValueCommand({
            SecretId: name,
            ...valueInput(this.value),
            ...(this.stages === undefined ? {} : { VersionStages: [...this.stages] }),
          }),
        ),
      (put) => put,
    );
    if ('ok' in memory && 'ok' in motoSide) {
      const put = memory.ok as { versionId: string };
      recordVersion(model, put.versionId, (motoSide.ok as { VersionId?: string }).VersionId);
      if (this.stages === undefined || this.stages.includes('AWSCURRENT'))
        model.motoDefault.set(name, put.versionId);
    }
    expect('ok' in motoSide ? 'ok' : motoSide, `${this}`).toEqual('ok' in memory ? 'ok' : memory);
    await expectSameStages(model, name);
  }
  toString = () =>
    `put(${SECRETS[this.secret]}, ${describeValue(this.value)}${this.stages === undefined ? '' : `, [${this.stages}]`})`;
}

class MoveStage implements Command {
  constructor(
    readonly secret: number,
    readonly stage: string,
    readonly moveTo: VersionRef | undefined,
    readonly removeFrom: VersionRef | undefined,
  ) {}
  #ids(model: Model) {
    const name = nameOf(model, this.secret);
    const id = (ref: VersionRef | undefined) =>
      ref === undefined ? undefined : pickVersion(model, name, ref);
    return { name, moveTo: id(this.moveTo), removeFrom: id(this.removeFrom) };
  }
  check(model: Model): boolean {
    if (this.moveTo === undefined && this.removeFrom === undefined) return false;
    const { name, moveTo, removeFrom } = this.#ids(model);
    return comparable(MOTO_DEPARTS.stageMove(model, name, this.stage, moveTo, removeFrom));
  }
  async run(model: Model): Promise<void> {
    const { name, moveTo, removeFrom } = this.#ids(model);
    const motoId = (id: string | undefined) =>
      id === undefined ? undefined : (model.motoIdOf.get(id) ?? id);
    const memory = await outcomeOf(
      () =>
        model.memory.updateVersionStage(name, this.stage, {
          ...(moveTo === undefined ? {} : { moveTo }),
          ...(removeFrom === undefined ? {} : { removeFrom }),
        }),
      () => 'ok',
    );
    const motoSide = await outcomeOf(
      () =>
        client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: name,
            VersionStage: this.stage,
            MoveToVersionId: motoId(moveTo),
            RemoveFromVersionId: motoId(removeFrom),
          }),
        ),
      () => 'ok',
    );
    expect(motoSide, `${this}`).toEqual(memory);
    await expectSameStages(model, name);
  }
  toString = () =>
    `moveStage(${SECRETS[this.secret]}, ${this.stage}, moveTo ${refText(this.moveTo)}, removeFrom ${refText(this.removeFrom)})`;
}

class Get implements Command {
  constructor(
    readonly secret: number,
    readonly byArn: boolean,
    readonly by: { readonly stage: string } | { readonly version: VersionRef } | 'nothing',
  ) {}
  check(model: Model): boolean {
    return this.by !== 'nothing' || comparable(MOTO_DEPARTS.staleDefault(model, nameOf(model, this.secret)));
  }
  async run(model: Model): Promise<void> {
    const name = nameOf(model, this.secret);
    const arn = this.byArn ? arnOf(model, name) : undefined;
    const memoryId = arn ?? name;
    const motoIdOfSecret = arn === undefined ? name : (model.motoArnOf.get(arn) ?? name);
    const stage = typeof this.by === 'object' && 'stage' in this.by ? this.by.stage : undefined;
    const versionId =
      typeof this.by === 'object' && 'version' in this.by
        ? pickVersion(model, name, this.by.version)
        : undefined;
    const memory = await outcomeOf(
      () => model.memory.getSecretValue({ secretId: memoryId, versionStage: stage, versionId }),
      (version) => comparableVersion(model, version, 'memory'),
    );
    const motoSide = await outcomeOf(
      () =>
        aws.getSecretValue({
          secretId: motoIdOfSecret,
          versionStage: stage,
          versionId: versionId === undefined ? undefined : (model.motoIdOf.get(versionId) ?? versionId),
        }),
      (version) => comparableVersion(model, version, 'moto'),
    );
    expect(motoSide, `${this}`).toEqual(memory);
  }
  toString = () =>
    `get(${SECRETS[this.secret]}${this.byArn ? ' by ARN' : ''}, ${
      this.by === 'nothing'
        ? 'no stage'
        : 'stage' in this.by
          ? this.by.stage
          : `version ${refText(this.by.version)}`
    })`;
}

/** The memorySource ARN of the secret named `name`, if it exists. */
function arnOf(model: Model, name: string): string | undefined {
  try {
    return model.memory.describeSecret(name).arn;
  } catch {
    return undefined;
  }
}

class Batch implements Command {
  constructor(readonly picks: ReadonlyArray<{ readonly secret: number; readonly byArn: boolean }>) {}
  #ids(model: Model) {
    const ids = this.picks.map(({ secret, byArn }) => {
      const name = nameOf(model, secret);
      const arn = byArn ? arnOf(model, name) : undefined;
      return { memory: arn ?? name, moto: arn === undefined ? name : (model.motoArnOf.get(arn) ?? name) };
    });
    // Each id once: the cache never lists one twice (and what AWS answers then is not documented).
    return ids.filter((id, i) => ids.findIndex((other) => other.memory === id.memory) === i);
  }
  check(model: Model): boolean {
    return this.picks.every(({ secret }) =>
      comparable(MOTO_DEPARTS.staleDefault(model, nameOf(model, secret))),
    );
  }
  async run(model: Model): Promise<void> {
    const ids = this.#ids(model);
    const memory = await outcomeOf(
      () => model.memory.batchGetSecretValue(ids.map(({ memory: id }) => id)),
      (result) => comparableBatch(model, result, 'memory'),
    );
    const motoSide = await outcomeOf(
      () => aws.batchGetSecretValue(ids.map(({ moto: id }) => id)),
      (result) => comparableBatch(model, result, 'moto'),
    );
    expect(motoSide, `${this}`).toEqual(memory);
  }
  toString = () =>
    `batch(${this.picks.map(({ secret, byArn }) => `${SECRETS[secret]}${byArn ? ' by ARN' : ''}`)})`;
}

class Delete implements Command {
  constructor(readonly secret: number) {}
  check(model: Model): boolean {
    // moto answers a forced delete of a secret it does not have with success; memorySource throws (a test naming a
    // secret that does not exist has a bug). No cache can tell.
    return versionsOf(model, nameOf(model, this.secret)) !== undefined;
  }
  async run(model: Model): Promise<void> {
    const name = nameOf(model, this.secret);
    const memory = await outcomeOf(
      () => model.memory.deleteSecret(name),
      () => 'ok',
    );
    const motoSide = await outcomeOf(
      () => client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })),
      () => 'ok',
    );
    model.motoDefault.delete(name);
    expect(motoSide, `${this}`).toEqual(memory);
    await expectSameStages(model, name);
  }
  toString = () => `delete(${SECRETS[this.secret]})`;
}

function describeValue(value: Value): string {
  return typeof value === 'string' ? JSON.stringify(value) : `bytes ${hex(value)}`;
}

const secretArb = fc.integer({ min: 0, max: SECRETS.length - 1 });
const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.uint8Array({ minLength: 1, maxLength: 4 }),
);
const refArb: fc.Arbitrary<VersionRef> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...STAGES).map((holder) => ({ holder })) },
  { weight: 2, arbitrary: fc.nat({ max: 5 }).map((at) => ({ at })) },
  { weight: 1, arbitrary: fc.constant<'none'>('none') },
);
const stagesArb = fc.oneof(
  fc.constant(['AWSCURRENT']),
  fc.subarray(['AWSPENDING', 'AWSPREVIOUS', 'BLUE'], { minLength: 1 }),
  fc.subarray(['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS', 'BLUE'], { minLength: 2 }),
);

const stageArb = fc.constantFrom(...STAGES);
const moveStage = fc.oneof(
  // As a rotation or a rollback moves a label: off the version that holds it, onto another.
  fc
    .tuple(secretArb, stageArb, refArb)
    .map(([secret, stage, moveTo]) => new MoveStage(secret, stage, moveTo, { holder: stage })),
  // Anything, to compare the refusals too.
  fc
    .tuple(secretArb, stageArb, fc.option(refArb, { nil: undefined }), fc.option(refArb, { nil: undefined }))
    .map(([secret, stage, moveTo, removeFrom]) => new MoveStage(secret, stage, moveTo, removeFrom)),
);
const create = fc.tuple(secretArb, valueArb).map(([secret, value]) => new Create(secret, value));
const commandArbs = [
  create,
  create,
  fc.tuple(secretArb, valueArb).map(([secret, value]) => new Put(secret, value, undefined)),
  fc.tuple(secretArb, valueArb, stagesArb).map(([secret, value, stages]) => new Put(secret, value, stages)),
  moveStage,
  moveStage,
  moveStage,
  fc
    .tuple(
      secretArb,
      fc.boolean(),
      fc.oneof(
        fc.constantFrom(...STAGES).map((stage) => ({ stage })),
        refArb.map((version) => ({ version })),
        fc.constant<'nothing'>('nothing'),
      ),
    )
    .map(([secret, byArn, by]) => new Get(secret, byArn, by)),
  fc
    .array(fc.record({ secret: secretArb, byArn: fc.boolean() }), { minLength: 1, maxLength: 4 })
    .map((picks) => new Batch(picks)),
  secretArb.map((secret) => new Delete(secret)),
];

describe('memorySource compared with moto_server', () => {
  it('answers every step of random sequences as moto_server does: values, stages as sets, error codes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commandArbs, { maxCommands: 25, size: 'max' }), async (commands) => {
        const model: Model = {
          memory: memorySource(),
          prefix: `model-${runId}-${++runs}/`,
          motoIdOf: new Map(),
          memoryIdOf: new Map(),
          memoryArnOf: new Map(),
          motoArnOf: new Map(),
          motoDefault: new Map(),
        };
        await fc.asyncModelRun(() => ({ model, real: {} }), commands);
      }),
      { numRuns: propertyRuns(80) },
    );
  }, 120_000);
});
