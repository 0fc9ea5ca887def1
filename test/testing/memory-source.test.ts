/**
 * memorySource as a Secrets Manager: secrets, versions and stages behave as Secrets Manager's API documents them,
 * and reads answer (and fail) exactly as AwsSecretSource reports the same AWS answers.
 */
import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { isSecretCacheError, type SecretCacheError } from '../../src/errors.js';
import { AwsSecretSource, type SecretVersion } from '../../src/source.js';
import { type MemorySource, memorySource } from '../../src/testing.js';
import { FakeClock } from '../support/fakes.js';

const DB = 'prod/orders/db';

/** What a read rejected with; fails the test if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<SecretCacheError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isSecretCacheError(outcome)) throw new Error(`expected a SecretCacheError, got ${String(outcome)}`);
  return outcome;
}

/** What a setup call threw; fails the test if it returned. */
function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

/** The parts of an error a caller sees: code, id, message, and the AWS error underneath. */
function shape(error: SecretCacheError) {
  const cause = error.cause as Error;
  return {
    code: error.code,
    secretId: error.secretId,
    message: error.message,
    cause: [cause.name, cause.message],
  };
}

/** AwsSecretSource's error for what Secrets Manager answers as a ResourceNotFoundException with `message`. */
async function awsNotFound(secretId: string, message: string): Promise<SecretCacheError> {
  const client = {
    send: async () => {
      throw new ResourceNotFoundException({ message, $metadata: { httpStatusCode: 400 } });
    },
  };
  return rejection(new AwsSecretSource(client).getSecretValue({ secretId }));
}

const stagesOf = (source: MemorySource, secretId: string) =>
  Object.fromEntries(
    source
      .describeSecret(secretId)
      .versions.map(({ versionId, versionStages }) => [versionId, [...versionStages]]),
  );

const read = (
  source: MemorySource,
  secretId: string,
  by: { versionStage?: string; versionId?: string } = {},
) => source.getSecretValue({ secretId, ...by });

describe('creating a secret', () => {
  it('makes a first version labelled AWSCURRENT, with an ARN of region, account, name and a 6-character suffix', async () => {
    const source = memorySource();

    const created = source.createSecret(DB, 'pw-1');

    expect(created).toEqual({
      name: DB,
      arn: expect.stringMatching(
        /^arn:aws:secretsmanager:us-east-1:123456789012:secret:prod\/orders\/db-[A-Za-z0-9]{6}$/,
      ),
      versionId: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
      versionStages: ['AWSCURRENT'],
    });
    expect(await read(source, DB)).toEqual({
      name: DB,
      arn: created.arn,
      versionId: created.versionId,
      versionStages: ['AWSCURRENT'],
      createdDate: expect.any(Date),
      secretString: 'pw-1',
    });
  });

  it('puts the region and account given in the ARN, with the partition of the region', () => {
    const arn = (region: string) =>
      memorySource({ region, accountId: '111122223333' })
        .createSecret('a', 'x')
        .arn.replace(/-\w{6}$/, '');

    expect(arn('eu-west-1')).toBe('arn:aws:secretsmanager:eu-west-1:111122223333:secret:a');
    expect(arn('cn-north-1')).toBe('arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:a');
    expect(arn('us-gov-west-1')).toBe('arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:a');
  });

  it('refuses a name that exists (ResourceExistsException) and one Secrets Manager would not accept (ValidationException)', () => {
    const source = memorySource();
    source.createSecret(DB, 'pw-1');

    expect(thrown(() => source.createSecret(DB, 'pw-2')).name).toBe('ResourceExistsException');
    expect(thrown(() => source.createSecret('has:colon', 'x')).name).toBe('ValidationException');
    expect(thrown(() => source.createSecret('', 'x')).name).toBe('ValidationException');
    expect(thrown(() => source.createSecret('x'.repeat(513), 'x')).name).toBe('ValidationException');
  });

  it('treats a repeated create with the same version id and value as done, as a retried CreateSecret', () => {
    const source = memorySource();
    const first = source.createSecret(DB, 'pw-1', { versionId: 'token-1' });

    expect(source.createSecret(DB, 'pw-1', { versionId: 'token-1' })).toEqual(first);
    expect(thrown(() => source.createSecret(DB, 'other', { versionId: 'token-1' })).name).toBe(
      'ResourceExistsException',
    );
  });

  it('dates each version by the clock given', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const source = memorySource({ clock });
    source.createSecret(DB, 'pw-1');
    clock.advance(60_000);
    source.putSecretValue(DB, 'pw-2');

    expect((await read(source, DB, { versionStage: 'AWSPREVIOUS' })).createdDate).toEqual(
      new Date(1_700_000_000_000),
    );
    expect((await read(source, DB)).createdDate).toEqual(new Date(1_700_000_060_000));
    expect(source.describeSecret(DB).createdDate).toEqual(new Date(1_700_000_000_000));
  });
});

describe('putting a value', () => {
  it('makes a new version AWSCURRENT and labels the one it replaced AWSPREVIOUS', async () => {
    const source = memorySource();
    const first = source.createSecret(DB, 'pw-1');
    source.putSecretValue(DB, 'pw-2');

    const third = source.putSecretValue(DB, 'pw-3');

    expect(third.versionStages).toEqual(['AWSCURRENT']);
    const second = (await read(source, DB, { versionStage: 'AWSPREVIOUS' })).versionId;
    expect(stagesOf(source, DB)).toEqual({
      [first.versionId]: [],
      [second]: ['AWSPREVIOUS'],
      [third.versionId]: ['AWSCURRENT'],
    });
    expect((await read(source, DB)).secretString).toBe('pw-3');
    expect((await read(source, DB, { versionStage: 'AWSPREVIOUS' })).secretString).toBe('pw-2');
    expect((await read(source, DB, { versionId: first.versionId })).secretString).toBe('pw-1');
  });

  it('with versionStages, labels only the new version and takes each label off any other version', () => {
    const source = memorySource({ versionIds: 'counter' });
    source.createSecret(DB, 'pw-1'); // v1
    source.putSecretValue(DB, 'pw-2', { versionStages: ['AWSPENDING'] }); // v2

    source.putSecretValue(DB, 'pw-3', { versionStages: ['AWSPENDING', 'BLUE'] }); // v3

    expect(stagesOf(source, DB)).toEqual({ v1: ['AWSCURRENT'], v2: [], v3: ['AWSPENDING', 'BLUE'] });
  });

  it('moves AWSPREVIOUS along when versionStages names AWSCURRENT, and leaves the old version its other labels', () => {
    const source = memorySource({ versionIds: 'counter' });
    source.createSecret(DB, 'pw-1'); // v1
    source.updateVersionStage(DB, 'BLUE', { moveTo: 'v1' });

    source.putSecretValue(DB, 'pw-2', { versionStages: ['AWSCURRENT', 'GREEN'] }); // v2
    source.putSecretValue(DB, 'pw-3', { versionStages: ['AWSCURRENT', 'AWSPREVIOUS'] }); // v3: AWSPREVIOUS named

    expect(stagesOf(source, DB)).toEqual({ v1: ['BLUE'], v2: ['GREEN'], v3: ['AWSCURRENT', 'AWSPREVIOUS'] });
  });

  it('treats a put repeated with its version id and value as done, and refuses the id with another value', () => {
    const source = memorySource({ versionIds: 'counter' });
    source.createSecret(DB, 'pw-1');
    const put = source.putSecretValue(DB, 'pw-2', { versionId: 'token-2' });

    expect(source.putSecretValue(DB, 'pw-2', { versionId: 'token-2' })).toEqual(put);
    expect(thrown(() => source.putSecretValue(DB, 'pw-3', { versionId: 'token-2' })).name).toBe(
      'ResourceExistsException',
    );
    expect(Object.keys(stagesOf(source, DB))).toEqual(['v1', 'token-2']);
  });

  it('refuses an empty versionStages, a missing secret, and a stage label longer than 256 characters', () => {
    const source = memorySource();
    source.createSecret(DB, 'pw-1');

    expect(thrown(() => source.putSecretValue(DB, 'x', { versionStages: [] })).name).toBe(
      'ValidationException',
    );
    expect(thrown(() => source.putSecretValue('missing', 'x')).name).toBe('ResourceNotFoundException');
    expect(thrown(() => source.putSecretValue(DB, 'x', { versionStages: ['S'.repeat(257)] })).name).toBe(
      'ValidationException',
    );
  });

  it('finds the secret by its full ARN as well as by its name', async () => {
    const source = memorySource();
    const { arn } = source.createSecret(DB, 'pw-1');

    source.putSecretValue(arn, 'pw-2');

    expect((await read(source, DB)).secretString).toBe('pw-2');
  });
});

describe('binary values', () => {
  it('keeps a copy of the bytes put, and answers each read with a copy of its own', async () => {
    const source = memorySource();
    const bytes = new Uint8Array([1, 2, 3]);
    source.createSecret(DB, bytes);
    bytes[0] = 9;

    const first = await read(source, DB);
    (first.secretBinary as Uint8Array)[1] = 9;
    const second = await read(source, DB);

    expect(first.secretString).toBeUndefined();
    expect([...(second.secretBinary ?? [])]).toEqual([1, 2, 3]);
    expect(second.secretBinary).not.toBe(first.secretBinary);
    expect(Object.getPrototypeOf(second.secretBinary)).toBe(Uint8Array.prototype);
  });

  it('stores a Buffer as plain bytes, and counts an equal binary put with its version id as a retry', async () => {
    const source = memorySource();
    source.createSecret(DB, 'text');
    const put = source.putSecretValue(DB, Buffer.from([4, 5]), { versionId: 'token-2' });

    expect(source.putSecretValue(DB, new Uint8Array([4, 5]), { versionId: 'token-2' })).toEqual(put);
    expect(Object.getPrototypeOf((await read(source, DB)).secretBinary)).toBe(Uint8Array.prototype);
  });
});

describe('reading a version', () => {
  it('answers for a stage, a version id, or both when they name one version', async () => {
    const source = memorySource({ versionIds: 'counter' });
    source.createSecret(DB, 'pw-1');
    source.putSecretValue(DB, 'pw-2');

    expect((await read(source, DB, { versionStage: 'AWSCURRENT' })).versionId).toBe('v2');
    expect((await read(source, DB, { versionStage: 'AWSPREVIOUS' })).versionId).toBe('v1');
    expect((await read(source, DB, { versionId: 'v1' })).versionStages).toEqual(['AWSPREVIOUS']);
    expect((await read(source, DB, { versionId: 'v2', versionStage: 'AWSCURRENT' })).secretString).toBe(
      'pw-2',
    );
  });

  it('rejects a stage and a version id that name different versions with INVALID_REQUEST', async () => {
    const source = memorySource({ versionIds: 'counter' });
    source.createSecret(DB, 'pw-1');
    source.putSecretValue(DB, 'pw-2');

    const error = await rejection(read(source, DB, { versionId: 'v1', versionStage: 'AWSCURRENT' }));

    expect([error.code, (error.cause as Error).name]).toEqual(['INVALID_REQUEST', 'InvalidRequestException']);
  });

  it.each([
    ['a secret that does not exist', 'prod/missing', {}, "Secrets Manager can't find the specified secret."],
    [
      'a stage no version has',
      DB,
      { versionStage: 'AWSPENDING' },
      "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    ],
    [
      'a version id the secret does not have',
      DB,
      { versionId: 'no-such-version' },
      "Secrets Manager can't find the specified secret value for VersionId: no-such-version",
    ],
  ])('fails %s with NOT_FOUND exactly as AwsSecretSource reports it', async (_, secretId, by, awsMessage) => {
    const source = memorySource();
    source.createSecret(DB, 'pw-1');

    const error = await rejection(read(source, secretId, by));

    expect(shape(error)).toEqual(shape(await awsNotFound(secretId, awsMessage)));
    expect(error.message).toBe(
      `Secret "${secretId}" was not found (or has no such version) (ResourceNotFoundException).`,
    );
  });

  it('finds a secret by its full ARN, not by a partial ARN without the suffix', async () => {
    const source = memorySource();
    const { arn } = source.createSecret(DB, 'pw-1');

    expect((await read(source, arn)).name).toBe(DB);
    expect((await rejection(read(source, arn.slice(0, -7)))).code).toBe('NOT_FOUND');
  });

  it('hands out answers the caller may change without changing the secret', async () => {
    const source = memorySource();
    source.createSecret(DB, 'pw-1');
    const answer = await read(source, DB);

    (answer.versionStages as string[]).push('AWSPENDING');
    answer.createdDate?.setTime(0);

    expect(await read(source, DB)).toMatchObject({
      versionStages: ['AWSCURRENT'],
      createdDate: expect.any(Date),
    });
    expect((await read(source, DB)).createdDate?.getTime()).not.toBe(0);
    await expect(read(source, DB, { versionStage: 'AWSPENDING' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('moving a stage (UpdateSecretVersionStage)', () => {
  function twoVersions() {
    const source = memorySource({ versionIds: 'counter' });
    source.createSecret(DB, 'pw-1'); // v1
    source.putSecretValue(DB, 'pw-2'); // v2: v1 is AWSPREVIOUS
    return source;
  }

  it('moves AWSCURRENT back (a rollback): AWSPREVIOUS goes to the version it left, off the one it reached', () => {
    const source = twoVersions();

    source.updateVersionStage(DB, 'AWSCURRENT', { moveTo: 'v1', removeFrom: 'v2' });

    expect(stagesOf(source, DB)).toEqual({ v1: ['AWSCURRENT'], v2: ['AWSPREVIOUS'] });
  });

  it('moves any other label without touching AWSPREVIOUS', () => {
    const source = twoVersions();
    source.updateVersionStage(DB, 'BLUE', { moveTo: 'v1' });

    source.updateVersionStage(DB, 'BLUE', { moveTo: 'v2', removeFrom: 'v1' });

    expect(stagesOf(source, DB)).toEqual({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT', 'BLUE'] });
  });

  it('takes a label off a version when only removeFrom is given', () => {
    const source = twoVersions();

    source.updateVersionStage(DB, 'AWSPREVIOUS', { removeFrom: 'v1' });

    expect(stagesOf(source, DB)).toEqual({ v1: [], v2: ['AWSCURRENT'] });
  });

  it('changes nothing when the label is already on moveTo', () => {
    const source = twoVersions();

    source.updateVersionStage(DB, 'AWSCURRENT', { moveTo: 'v2' });
    source.updateVersionStage(DB, 'AWSCURRENT', { moveTo: 'v2', removeFrom: 'v2' });

    expect(stagesOf(source, DB)).toEqual({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
  });

  it.each([
    ['a label on another version, without removeFrom', 'AWSCURRENT', { moveTo: 'v1' }],
    ['removeFrom a version without the label', 'AWSCURRENT', { moveTo: 'v1', removeFrom: 'v1' }],
    ['removeFrom a version that does not exist', 'AWSPREVIOUS', { removeFrom: 'v9' }],
    ['moveTo a version that does not exist', 'AWSPREVIOUS', { moveTo: 'v9', removeFrom: 'v1' }],
    ['AWSCURRENT removed without being moved', 'AWSCURRENT', { removeFrom: 'v2' }],
  ])('refuses %s (InvalidParameterException) and changes nothing', (_, stage, options) => {
    const source = twoVersions();

    expect(thrown(() => source.updateVersionStage(DB, stage, options)).name).toBe(
      'InvalidParameterException',
    );
    expect(stagesOf(source, DB)).toEqual({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
  });

  it('refuses a secret that does not exist (ResourceNotFoundException)', () => {
    expect(thrown(() => memorySource().updateVersionStage('missing', 'X', { moveTo: 'v1' })).name).toBe(
      'ResourceNotFoundException',
    );
  });
});

describe('rotating', () => {
  it('moves AWSCURRENT to the new value, AWSPREVIOUS to the old one, and leaves no version AWSPENDING', async () => {
    const source = memorySource({ versionIds: 'counter' });
    source.createSecret(DB, 'pw-1');

    const rotation = source.rotate(DB, 'pw-2');

    expect(rotation).toMatchObject({
      secretId: DB,
      versionId: 'v2',
      replacedVersionId: 'v1',
      finished: true,
    });
    expect(stagesOf(source, DB)).toEqual({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
    expect((await read(source, DB)).secretString).toBe('pw-2');
  });

  it('stops after createSecret when told: the new value is AWSPENDING until finishSecret, which may run twice', async () => {
    const source = memorySource({ versionIds: 'counter' });
    source.createSecret(DB, 'pw-1');

    const rotation = source.rotate(DB, 'pw-2', { stopAfter: 'createSecret', versionId: 'token-2' });

    expect(rotation.finished).toBe(false);
    expect(stagesOf(source, DB)).toEqual({ v1: ['AWSCURRENT'], 'token-2': ['AWSPENDING'] });
    expect((await read(source, DB, { versionStage: 'AWSPENDING' })).secretString).toBe('pw-2');
    expect((await read(source, DB)).secretString).toBe('pw-1');

    rotation.finishSecret();
    rotation.finishSecret();

    expect(rotation.finished).toBe(true);
    expect(stagesOf(source, DB)).toEqual({ v1: ['AWSPREVIOUS'], 'token-2': ['AWSCURRENT'] });
  });

  it('takes AWSPENDING off a version another rotation left it on when it finishes', () => {
    const source = memorySource({ versionIds: 'counter' });
    source.createSecret(DB, 'pw-1');
    const first = source.rotate(DB, 'pw-2', { stopAfter: 'createSecret' }); // v2
    const second = source.rotate(DB, 'pw-3', { stopAfter: 'createSecret' }); // v3 takes AWSPENDING
    source.updateVersionStage(DB, 'AWSPENDING', { moveTo: 'v2', removeFrom: 'v3' });

    second.finishSecret();

    expect(first.finished).toBe(false);
    expect(stagesOf(source, DB)).toEqual({ v1: ['AWSPREVIOUS'], v2: [], v3: ['AWSCURRENT'] });
  });
});

describe('deleting', () => {
  it('makes every read of the secret NOT_FOUND, by name or ARN, and frees its name for a new secret', async () => {
    const source = memorySource();
    const old = source.createSecret(DB, 'pw-1');

    source.deleteSecret(DB);

    expect((await rejection(read(source, DB))).code).toBe('NOT_FOUND');
    expect((await rejection(read(source, old.arn))).code).toBe('NOT_FOUND');
    expect(thrown(() => source.deleteSecret(DB)).name).toBe('ResourceNotFoundException');
    const again = source.createSecret(DB, 'pw-new');
    expect(again.arn).not.toBe(old.arn);
    expect((await read(source, DB)).secretString).toBe('pw-new');
    expect((await rejection(read(source, old.arn))).code).toBe('NOT_FOUND');
  });
});

describe('batchGetSecretValue', () => {
  it('answers the AWSCURRENT version of each id, by name or ARN, and lists missing ids in errors as NOT_FOUND', async () => {
    const source = memorySource();
    source.createSecret('a', 'A');
    source.putSecretValue('a', 'A2', { versionStages: ['AWSPENDING'] });
    const b = source.createSecret('b', new Uint8Array([2]));

    const result = await source.batchGetSecretValue(['a', b.arn, 'missing']);

    expect(result.versions.map((version: SecretVersion) => [version.name, version.versionStages])).toEqual([
      ['a', ['AWSCURRENT']],
      ['b', ['AWSCURRENT']],
    ]);
    expect(result.versions[0]?.secretString).toBe('A');
    expect([...(result.versions[1]?.secretBinary ?? [])]).toEqual([2]);
    expect(result.errors.map(({ secretId, error }) => [secretId, error.code, error.secretId])).toEqual([
      ['missing', 'NOT_FOUND', 'missing'],
    ]);
  });

  it('words a missing id as AwsSecretSource words an entry of the answer’s Errors', async () => {
    const source = memorySource();
    const client = {
      send: async () => ({
        SecretValues: [],
        Errors: [
          {
            SecretId: 'missing',
            ErrorCode: 'ResourceNotFoundException',
            Message: "Secrets Manager can't find the specified secret.",
          },
        ],
      }),
    };
    const aws = await new AwsSecretSource(client).batchGetSecretValue(['missing']);

    const memory = await source.batchGetSecretValue(['missing']);

    expect(memory.errors.map(({ error }) => shape(error))).toEqual(
      aws.errors.map(({ error }) => shape(error)),
    );
  });

  it('rejects more than 20 ids, or none, as a whole with INVALID_REQUEST', async () => {
    const source = memorySource();
    const ids = Array.from({ length: 21 }, (_, i) => `s${i}`);

    expect(await rejection(source.batchGetSecretValue(ids))).toMatchObject({
      code: 'INVALID_REQUEST',
      secretId: ids.join(','),
    });
    expect((await rejection(source.batchGetSecretValue([]))).code).toBe('INVALID_REQUEST');
    expect((await source.batchGetSecretValue(ids.slice(1))).errors).toHaveLength(20);
  });
});

describe('ids', () => {
  it('makes the same ARNs and version ids on every run, and others with another seed', () => {
    const ids = (seed?: number) => {
      const source = memorySource(seed === undefined ? {} : { seed });
      const created = source.createSecret(DB, 'pw-1');
      return [created.arn, created.versionId, source.putSecretValue(DB, 'pw-2').versionId];
    };

    expect(ids()).toEqual(ids());
    expect(ids(1)).toEqual(ids());
    expect(ids(2)).not.toEqual(ids());
    expect(new Set(ids()).size).toBe(3);
  });

  it('counts version ids v1, v2... across the secrets of a source with versionIds: counter', () => {
    const source = memorySource({ versionIds: 'counter' });

    expect([
      source.createSecret('a', 'x').versionId,
      source.createSecret('b', 'x').versionId,
      source.putSecretValue('a', 'y').versionId,
    ]).toEqual(['v1', 'v2', 'v3']);
  });

  it('skips a counted id a version already took by name', () => {
    const source = memorySource({ versionIds: 'counter' });
    source.createSecret(DB, 'x', { versionId: 'v1' });

    expect(source.putSecretValue(DB, 'y').versionId).toBe('v2');
  });
});

describe('options', () => {
  it.each<[string, (source: MemorySource) => unknown, string]>([
    [
      'memorySource',
      () => memorySource({ regoin: 'eu-west-1' } as object),
      'Unknown option `regoin` in options of memorySource; did you mean `region`?',
    ],
    [
      'createSecret',
      (s) => s.createSecret('a', 'x', { versionID: 'x' } as object),
      'did you mean `versionId`?',
    ],
    [
      'putSecretValue',
      (s) => s.putSecretValue(DB, 'x', { stages: ['X'] } as object),
      'Unknown option `stages` in options of putSecretValue',
    ],
    [
      'updateVersionStage',
      (s) => s.updateVersionStage(DB, 'X', { moveto: 'v1' } as object),
      'did you mean `moveTo`?',
    ],
    [
      'rotate',
      (s) => s.rotate(DB, 'x', { stopAt: 'createSecret' } as object),
      'Unknown option `stopAt` in options of rotate',
    ],
    ['fail', (s) => s.fail('hang', { secret: DB } as object), 'Unknown option `secret` in options of fail'],
    [
      'callCount',
      (s) => s.callCount({ stage: 'AWSCURRENT' } as object),
      'Unknown option `stage` in filter of callCount',
    ],
  ])('%s: an unknown option is a TypeError that names it', (_, call, message) => {
    const source = memorySource();
    source.createSecret(DB, 'pw-1');

    const error = thrown(() => call(source));

    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain(message);
  });

  it.each([
    [
      { region: 'Europe' },
      'Expected `region` to be an AWS region such as `eu-west-1`, got a string of length 6.',
    ],
    [{ accountId: 123456789012 }, 'Expected `accountId` to be a string of 12 digits, got 123456789012.'],
    [
      { versionIds: 'ulid' },
      "Expected `versionIds` to be `'uuid'` or `'counter'`, got a string of length 4.",
    ],
    [{ seed: 1.5 }, 'Expected `seed` to be an integer, got 1.5.'],
    [
      { clock: Date },
      'Expected `clock` to be an object with a `now()` method, got a value of type function.',
    ],
  ])('refuses the malformed option %o with a TypeError that names it', (options, message) => {
    expect(() => memorySource(options as object)).toThrow(new TypeError(message));
  });

  it('refuses arguments of the wrong type with a TypeError, and an updateVersionStage that names no version', () => {
    const source = memorySource();
    source.createSecret(DB, 'pw-1');

    expect(() => source.createSecret(DB, 5 as unknown as string)).toThrow(TypeError);
    expect(() =>
      source.putSecretValue(DB, 'x', { versionStages: 'AWSPENDING' as unknown as string[] }),
    ).toThrow('Expected `versionStages` to be an array of strings');
    expect(() => source.updateVersionStage(DB, 'AWSCURRENT', {})).toThrow(
      'Expected `moveTo` or `removeFrom` (or both) in the options of updateVersionStage.',
    );
    expect(() => source.rotate(DB, 'x', { stopAfter: 'setSecret' as 'createSecret' })).toThrow(TypeError);
    expect(() => source.fail('down' as 'hang')).toThrow(TypeError);
    expect(() => source.fail('hang', { times: 0 })).toThrow(
      'Expected `times` to be a positive integer or Infinity',
    );
  });
});
