import {
  BatchGetSecretValueCommand,
  DecryptionFailure,
  GetSecretValueCommand,
  InternalServiceError,
  InvalidParameterException,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SecretCache } from '../src/cache.js';
import { isSecretCacheError, SecretCacheError, type SecretCacheErrorCode } from '../src/errors.js';
import {
  AwsSecretSource,
  isSignatureError,
  type SecretsManagerLike,
  toSecretCacheError,
  versionFromAws,
} from '../src/source.js';

const sm = mockClient(SecretsManagerClient);

beforeEach(() => {
  sm.reset();
});

afterAll(() => {
  sm.restore();
});

const created = new Date('2024-05-01T12:00:00.000Z');

/** An AWS service error of a name the SDK has no class for, as the SDK deserializes it. */
function awsError(name: string, extra: { $retryable?: { throttling?: boolean } } = {}) {
  const error = new SecretsManagerServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `${name} message`,
  });
  // The SDK's deserializer sets $retryable after construction; the constructor ignores it.
  return Object.assign(error, extra);
}

/** Runs `action` and returns what it rejected with; fails the test if it resolved. */
async function rejectionOf(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the action to reject');
}

function newSource(): AwsSecretSource {
  return new AwsSecretSource(new SecretsManagerClient({ region: 'eu-west-1' }));
}

describe('AwsSecretSource requests', () => {
  it('sends only the SecretId when no version is asked for', async () => {
    sm.on(GetSecretValueCommand).resolves({ Name: 'prod/db', SecretString: 's' });

    await newSource().getSecretValue({ secretId: 'prod/db' });

    const calls = sm.commandCalls(GetSecretValueCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toStrictEqual({ SecretId: 'prod/db' });
  });

  it('sends the VersionStage exactly as given', async () => {
    sm.on(GetSecretValueCommand).resolves({ Name: 'prod/db', SecretString: 's' });

    await newSource().getSecretValue({
      secretId: 'prod/db',
      versionStage: 'AWSPREVIOUS',
      versionId: undefined,
    });

    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toStrictEqual({
      SecretId: 'prod/db',
      VersionStage: 'AWSPREVIOUS',
    });
  });

  it('sends the VersionId exactly as given', async () => {
    sm.on(GetSecretValueCommand).resolves({ Name: 'prod/db', SecretString: 's' });

    await newSource().getSecretValue({
      secretId: 'arn:aws:secretsmanager:x',
      versionId: 'EXAMPLE1-90ab-cdef',
    });

    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toStrictEqual({
      SecretId: 'arn:aws:secretsmanager:x',
      VersionId: 'EXAMPLE1-90ab-cdef',
    });
  });

  it("passes the caller's signal to the client as abortSignal", async () => {
    const send = vi.fn<SecretsManagerLike['send']>(async () => ({ SecretString: 's' }));
    const signal = new AbortController().signal;

    await new AwsSecretSource({ send }).getSecretValue({ secretId: 'prod/db' }, signal);

    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]?.[0]).toBeInstanceOf(GetSecretValueCommand);
    expect(send.mock.calls[0]?.[1]).toStrictEqual({ abortSignal: signal });
  });

  it('passes no options to the client when there is no signal', async () => {
    const send = vi.fn<SecretsManagerLike['send']>(async () => ({ SecretString: 's' }));

    await new AwsSecretSource({ send }).getSecretValue({ secretId: 'prod/db' });

    expect(send.mock.calls[0]?.[1]).toBeUndefined();
  });
});

describe('AwsSecretSource responses', () => {
  it("maps a string secret's output to a SecretVersion", async () => {
    sm.on(GetSecretValueCommand).resolves({
      Name: 'prod/db',
      ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
      VersionId: 'v-1',
      VersionStages: ['AWSCURRENT', 'BLUE'],
      CreatedDate: created,
      SecretString: '{"password":"p"}',
    });

    const version = await newSource().getSecretValue({ secretId: 'prod/db' });

    expect(version).toStrictEqual({
      name: 'prod/db',
      arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
      versionId: 'v-1',
      versionStages: ['AWSCURRENT', 'BLUE'],
      createdDate: created,
      secretString: '{"password":"p"}',
    });
  });

  it("maps a binary secret's output to a SecretVersion with the bytes and no string", async () => {
    const bytes = Uint8Array.from([1, 2, 3]);
    sm.on(GetSecretValueCommand).resolves({
      Name: 'prod/tls',
      ARN: 'arn:tls',
      VersionId: 'v-2',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: created,
      SecretBinary: bytes,
    });

    const version = await newSource().getSecretValue({ secretId: 'prod/tls' });

    expect(version.secretBinary).toEqual(Uint8Array.from([1, 2, 3]));
    expect('secretString' in version).toBe(false);
    expect(version).toMatchObject({
      name: 'prod/tls',
      arn: 'arn:tls',
      versionId: 'v-2',
      createdDate: created,
    });
  });

  it('fills in missing metadata: the requested id as name, empty ARN, version id and stages', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 's' });

    const version = await newSource().getSecretValue({ secretId: 'prod/db' });

    expect(version).toStrictEqual({
      name: 'prod/db',
      arn: '',
      versionId: '',
      versionStages: [],
      createdDate: undefined,
      secretString: 's',
    });
  });

  it("copies the output's stage list rather than sharing it", () => {
    const stages = ['AWSCURRENT'];

    const version = versionFromAws({ VersionStages: stages, SecretString: 's' }, 'prod/db');
    stages.push('MUTATED');

    expect(version.versionStages).toEqual(['AWSCURRENT']);
  });

  it('keeps an empty SecretString as a string value', () => {
    const version = versionFromAws({ SecretString: '' }, 'prod/db');

    expect(version.secretString).toBe('');
  });
});

describe('records made from AwsSecretSource answers', () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf';

  /** What `getSecretValue` resolved to before versions kept their metadata compactly: the answer, as it came. */
  function asAnswered(output: Record<string, unknown>, stale = false) {
    return {
      name: output.Name,
      arn: output.ARN,
      versionId: output.VersionId,
      versionStages: output.VersionStages,
      createdDate: output.CreatedDate,
      ...(output.SecretString === undefined ? {} : { secretString: output.SecretString }),
      ...(output.SecretBinary === undefined ? {} : { secretBinary: output.SecretBinary }),
      stale,
    };
  }

  it.each([
    ['a string secret read by name', 'prod/db', { SecretString: '{"password":"p"}' }],
    ['a string secret read by ARN', arn, { SecretString: '{"password":"p"}' }],
    ['a binary secret read by name', 'prod/db', { SecretBinary: Uint8Array.from([1, 2, 3]) }],
    ['a binary secret read by ARN', arn, { SecretBinary: Uint8Array.from([1, 2, 3]) }],
  ])('hand out what AWS answered, field for field (%s)', async (_, secretId, value) => {
    // As the SDK answers: new strings, stage list and Date on every call.
    const answer = (): Record<string, unknown> => ({
      Name: ['prod', 'db'].join('/'),
      ARN: `${arn}`.slice(0),
      VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
      VersionStages: ['AWSCURRENT', 'BLUE'],
      CreatedDate: new Date(created.getTime()),
      ...value,
    });
    sm.on(GetSecretValueCommand).callsFake(async () => answer());
    const cache = new SecretCache({ client: new SecretsManagerClient({ region: 'eu-west-1' }) });

    const first = await cache.getSecretValue(secretId);
    const second = await cache.getSecretValue(secretId);

    for (const record of [first, second]) {
      expect({ ...record }).toStrictEqual(asAnswered(answer()));
      expect(record.createdDate).toBeInstanceOf(Date);
      expect(Object.isFrozen(record)).toBe(true);
      expect(Object.isFrozen(record.versionStages)).toBe(true);
      expect(() => (record.versionStages as string[]).push('MUTATED')).toThrow(TypeError);
    }
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });
});

describe('AwsSecretSource failures', () => {
  it('rejects with a NOT_FOUND SecretCacheError when the client rejects with ResourceNotFoundException', async () => {
    const awsFailure = new ResourceNotFoundException({ message: 'x', $metadata: {} });
    sm.on(GetSecretValueCommand).rejects(awsFailure);

    const error = await rejectionOf(() => newSource().getSecretValue({ secretId: 'prod/db' }));

    expect(error).toBeInstanceOf(SecretCacheError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', secretId: 'prod/db', cause: awsFailure });
  });

  it('rejects with a FETCH_FAILED SecretCacheError when the client rejects with a network error', async () => {
    const network = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
    sm.on(GetSecretValueCommand).rejects(network);

    const error = await rejectionOf(() => newSource().getSecretValue({ secretId: 'prod/db' }));

    expect(isSecretCacheError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'FETCH_FAILED', secretId: 'prod/db', cause: network });
  });

  it("rethrows the signal's reason when the signal aborted the call", async () => {
    const client: SecretsManagerLike = {
      send: (_command, options) =>
        new Promise((_resolve, reject) => {
          options?.abortSignal?.addEventListener('abort', () => {
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
          });
        }),
    };
    const controller = new AbortController();
    const reason = new Error('caller gave up');

    const pending = rejectionOf(() =>
      new AwsSecretSource(client).getSecretValue({ secretId: 'prod/db' }, controller.signal),
    );
    controller.abort(reason);

    expect(await pending).toBe(reason);
  });

  it('wraps a failure as a SecretCacheError when a signal was given but did not abort', async () => {
    const failure = awsError('AccessDeniedException');
    const client: SecretsManagerLike = { send: async () => Promise.reject(failure) };

    const error = await rejectionOf(() =>
      new AwsSecretSource(client).getSecretValue({ secretId: 'prod/db' }, new AbortController().signal),
    );

    expect(error).toMatchObject({ code: 'ACCESS_DENIED', cause: failure });
  });
});

describe('AwsSecretSource client', () => {
  it('uses the client it was given', () => {
    const client: SecretsManagerLike = { send: async () => ({}) };

    expect(new AwsSecretSource(client).client).toBe(client);
  });

  it('constructs without a client, creates a SecretsManagerClient on the first fetch and keeps it', async () => {
    sm.on(GetSecretValueCommand).resolves({ Name: 'prod/db', SecretString: 'lazy' });
    const source = new AwsSecretSource();
    expect(source.client).toBeUndefined();

    await source.getSecretValue({ secretId: 'prod/db' });
    const client = source.client;
    await source.getSecretValue({ secretId: 'prod/db' });

    expect(client).toBeInstanceOf(SecretsManagerClient);
    expect(source.client).toBe(client);
  });

  it('creates its client in the region it was given', async () => {
    sm.on(GetSecretValueCommand).resolves({ Name: 'prod/db', SecretString: 'lazy' });
    const source = new AwsSecretSource(undefined, { region: 'eu-west-1' });

    await source.getSecretValue({ secretId: 'prod/db' });

    expect(await (source.client as SecretsManagerClient).config.region()).toBe('eu-west-1');
  });

  it('fetches through the client it created itself', async () => {
    sm.on(GetSecretValueCommand).resolves({ Name: 'prod/db', SecretString: 'lazy' });

    const version = await new AwsSecretSource().getSecretValue({ secretId: 'prod/db' });

    expect(version.secretString).toBe('lazy');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });
});

describe('toSecretCacheError', () => {
  it.each<{ label: string; make: () => unknown; code: SecretCacheErrorCode }>([
    {
      label: 'ResourceNotFoundException',
      make: () => new ResourceNotFoundException({ message: 'm', $metadata: {} }),
      code: 'NOT_FOUND',
    },
    { label: 'AccessDeniedException', make: () => awsError('AccessDeniedException'), code: 'ACCESS_DENIED' },
    {
      label: 'DecryptionFailure',
      make: () => new DecryptionFailure({ message: 'm', $metadata: {} }),
      code: 'DECRYPTION_FAILED',
    },
    {
      label: 'InvalidRequestException',
      make: () => new InvalidRequestException({ message: 'm', $metadata: {} }),
      code: 'INVALID_REQUEST',
    },
    {
      label: 'InvalidParameterException',
      make: () => new InvalidParameterException({ message: 'm', $metadata: {} }),
      code: 'INVALID_REQUEST',
    },
    { label: 'ThrottlingException', make: () => awsError('ThrottlingException'), code: 'THROTTLED' },
    {
      label: 'an unknown name marked $retryable.throttling',
      make: () => awsError('SlowDown', { $retryable: { throttling: true } }),
      code: 'THROTTLED',
    },
    {
      label: 'InternalServiceError',
      make: () => new InternalServiceError({ message: 'm', $metadata: {} }),
      code: 'FETCH_FAILED',
    },
    { label: 'an unknown AWS error', make: () => awsError('SomethingNewException'), code: 'FETCH_FAILED' },
    {
      label: 'a network error',
      make: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      code: 'FETCH_FAILED',
    },
    { label: 'a TypeError', make: () => new TypeError('fetch failed'), code: 'FETCH_FAILED' },
  ])('maps $label to $code, keeping it as the cause', ({ make, code }) => {
    const failure = make();

    const error = toSecretCacheError(failure, 'prod/db');

    expect(error).toBeInstanceOf(SecretCacheError);
    expect(error.code).toBe(code);
    expect(error.secretId).toBe('prod/db');
    expect(error.cause).toBe(failure);
  });

  it('maps an unknown name marked $retryable without throttling to FETCH_FAILED', () => {
    const error = toSecretCacheError(
      awsError('Unavailable', { $retryable: { throttling: false } }),
      'prod/db',
    );

    expect(error.code).toBe('FETCH_FAILED');
  });

  it.each([
    ['a plain string', 'boom'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
  ])('maps %s, when thrown, to FETCH_FAILED, keeping it as the cause', (_label, thrown) => {
    const error = toSecretCacheError(thrown, 'prod/db');

    expect(error.code).toBe('FETCH_FAILED');
    expect(error.secretId).toBe('prod/db');
    expect(error.cause).toBe(thrown);
  });

  it('maps an error whose name is an Object.prototype member (constructor, toString...) to FETCH_FAILED', () => {
    const codes = ['constructor', 'toString', '__proto__', 'hasOwnProperty'].map(
      (name) => toSecretCacheError(awsError(name), 'prod/db').code,
    );

    expect(codes).toEqual(['FETCH_FAILED', 'FETCH_FAILED', 'FETCH_FAILED', 'FETCH_FAILED']);
  });

  it("names the AWS error in the message, not the AWS error's message", () => {
    const error = toSecretCacheError(
      new ResourceNotFoundException({ message: 'aws-detail-text', $metadata: {} }),
      'prod/db',
    );

    expect(error.message).toContain('prod/db');
    expect(error.message).toContain('ResourceNotFoundException');
    expect(error.message).not.toContain('aws-detail-text');
  });

  it('passes a SecretCacheError through unchanged', () => {
    const original = new SecretCacheError('TIMEOUT', 'prod/db', 'timed out');

    expect(toSecretCacheError(original, 'other/id')).toBe(original);
  });

  it('passes a SecretCacheError from another copy of the module through unchanged', async () => {
    vi.resetModules();
    const copy = await import('../src/errors.js');
    const foreign = new copy.SecretCacheError('NOT_FOUND', 'prod/db', 'not found');

    const error = toSecretCacheError(foreign, 'prod/db');

    expect(error).toBe(foreign);
    expect(error.code).toBe('NOT_FOUND');
  });
});

describe('AwsSecretSource answers by ARN', () => {
  it("names the version by AWS's Name, not by the ARN it was asked for", async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf';
    sm.on(GetSecretValueCommand).resolves({ Name: 'prod/db', ARN: arn, SecretString: 's' });

    const version = await newSource().getSecretValue({ secretId: arn });

    expect(version).toMatchObject({ name: 'prod/db', arn });
  });
});

describe('AwsSecretSource batches', () => {
  const awsEntry = (name: string, value: string) => ({
    Name: name,
    ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`,
    VersionId: `v-${name}`,
    VersionStages: ['AWSCURRENT'],
    CreatedDate: created,
    SecretString: value,
  });
  const version = (name: string, value: string) => ({
    name,
    arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`,
    versionId: `v-${name}`,
    versionStages: ['AWSCURRENT'],
    createdDate: created,
    secretString: value,
  });

  it('asks for the ids in one call and maps the versions and the failures it answers', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [awsEntry('prod/db', 'D'), awsEntry('prod/api', 'A')],
      Errors: [
        { SecretId: 'prod/gone', ErrorCode: 'ResourceNotFoundException', Message: "can't find the secret" },
      ],
    });

    const result = await newSource().batchGetSecretValue(['prod/db', 'prod/api', 'prod/gone']);

    expect(sm.commandCalls(BatchGetSecretValueCommand).map((call) => call.args[0].input)).toStrictEqual([
      { SecretIdList: ['prod/db', 'prod/api', 'prod/gone'] },
    ]);
    expect(result.versions).toStrictEqual([version('prod/db', 'D'), version('prod/api', 'A')]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.secretId).toBe('prod/gone');
    expect(result.errors[0]?.error).toMatchObject({
      code: 'NOT_FOUND',
      secretId: 'prod/gone',
      message: 'Secret "prod/gone" was not found (or has no such version) (ResourceNotFoundException).',
    });
    expect(result.errors[0]?.error.cause).toMatchObject({
      name: 'ResourceNotFoundException',
      message: "can't find the secret",
    });
  });

  it('answers no versions and no failures when AWS leaves both lists out', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({});

    const result = await newSource().batchGetSecretValue(['prod/db']);

    expect(result).toStrictEqual({ versions: [], errors: [] });
  });

  it('follows NextToken until AWS stops giving one, and gathers every page', async () => {
    sm.on(BatchGetSecretValueCommand)
      .resolvesOnce({ SecretValues: [awsEntry('prod/db', 'D')], NextToken: 'page-2' })
      .resolvesOnce({
        Errors: [{ SecretId: 'prod/api', ErrorCode: 'AccessDeniedException', Message: 'denied' }],
        NextToken: 'page-3',
      })
      .resolvesOnce({ SecretValues: [awsEntry('prod/key', 'K')] });

    const result = await newSource().batchGetSecretValue(['prod/db', 'prod/api', 'prod/key']);

    const ids = ['prod/db', 'prod/api', 'prod/key'];
    expect(sm.commandCalls(BatchGetSecretValueCommand).map((call) => call.args[0].input)).toStrictEqual([
      { SecretIdList: ids },
      { SecretIdList: ids, NextToken: 'page-2' },
      { SecretIdList: ids, NextToken: 'page-3' },
    ]);
    expect(result.versions.map(({ name }) => name)).toEqual(['prod/db', 'prod/key']);
    expect(result.errors.map(({ secretId, error }) => [secretId, error.code])).toEqual([
      ['prod/api', 'ACCESS_DENIED'],
    ]);
  });

  it('stops at an empty NextToken', async () => {
    sm.on(BatchGetSecretValueCommand)
      .resolvesOnce({ SecretValues: [awsEntry('prod/db', 'D')], NextToken: '' })
      .resolves({ SecretValues: [awsEntry('prod/other', 'X')] });

    const result = await newSource().batchGetSecretValue(['prod/db']);

    expect(sm.commandCalls(BatchGetSecretValueCommand)).toHaveLength(1);
    expect(result.versions.map(({ name }) => name)).toEqual(['prod/db']);
  });

  it('stops at a NextToken that is not a string', async () => {
    sm.on(BatchGetSecretValueCommand)
      .resolvesOnce({ SecretValues: [awsEntry('prod/db', 'D')], NextToken: 42 as never })
      .resolves({ SecretValues: [awsEntry('prod/other', 'X')] });

    const result = await newSource().batchGetSecretValue(['prod/db']);

    expect(sm.commandCalls(BatchGetSecretValueCommand)).toHaveLength(1);
    expect(result.versions.map(({ name }) => name)).toEqual(['prod/db']);
  });

  it('gives an entry without a Name an empty name, to be matched by its ARN', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [{ ARN: 'arn:db', VersionId: 'v1', SecretString: 'D' }],
    });

    const result = await newSource().batchGetSecretValue(['arn:db']);

    expect(result.versions).toStrictEqual([
      {
        name: '',
        arn: 'arn:db',
        versionId: 'v1',
        versionStages: [],
        createdDate: undefined,
        secretString: 'D',
      },
    ]);
  });

  it('reports a failure entry without ErrorCode or Message as FETCH_FAILED, named Error', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({ Errors: [{ SecretId: 'prod/db' }] });

    const { errors } = await newSource().batchGetSecretValue(['prod/db']);

    expect(errors.map(({ secretId }) => secretId)).toEqual(['prod/db']);
    expect(errors[0]?.error).toMatchObject({
      code: 'FETCH_FAILED',
      secretId: 'prod/db',
      message: 'Secret "prod/db" could not be fetched (Error).',
    });
    expect(errors[0]?.error.cause).toMatchObject({ name: 'Error', message: 'Error' });
  });

  it('uses the ErrorCode as the message of a failure entry that has none', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({
      Errors: [{ SecretId: 'prod/db', ErrorCode: 'DecryptionFailure' }],
    });

    const { errors } = await newSource().batchGetSecretValue(['prod/db']);

    expect(errors[0]?.error.code).toBe('DECRYPTION_FAILED');
    expect(errors[0]?.error.cause).toMatchObject({ name: 'DecryptionFailure', message: 'DecryptionFailure' });
  });

  it('reports a failure entry without a SecretId under an empty id', async () => {
    sm.on(BatchGetSecretValueCommand).resolves({
      Errors: [{ ErrorCode: 'ResourceNotFoundException', Message: 'm' }],
    });

    const { errors } = await newSource().batchGetSecretValue(['prod/db']);

    expect(errors.map(({ secretId, error }) => [secretId, error.secretId, error.code])).toEqual([
      ['', '', 'NOT_FOUND'],
    ]);
  });

  it('rejects with a SecretCacheError naming every id when the whole call fails', async () => {
    const throttled = awsError('ThrottlingException');
    sm.on(BatchGetSecretValueCommand).rejects(throttled);

    const error = await rejectionOf(() => newSource().batchGetSecretValue(['prod/db', 'prod/api']));

    expect(error).toMatchObject({ code: 'THROTTLED', secretId: 'prod/db,prod/api', cause: throttled });
  });

  it("passes the caller's signal to the client as abortSignal, and no options without one", async () => {
    const send = vi.fn<SecretsManagerLike['send']>(async () => ({ SecretValues: [] }));
    const signal = new AbortController().signal;
    const source = new AwsSecretSource({ send });

    await source.batchGetSecretValue(['prod/db'], signal);
    await source.batchGetSecretValue(['prod/db']);

    expect(send.mock.calls[0]?.[0]).toBeInstanceOf(BatchGetSecretValueCommand);
    expect(send.mock.calls[0]?.[1]).toStrictEqual({ abortSignal: signal });
    expect(send.mock.calls[1]?.[1]).toBeUndefined();
  });

  it("rethrows the signal's reason when the signal aborted the call", async () => {
    const client: SecretsManagerLike = {
      send: (_command, options) =>
        new Promise((_resolve, reject) => {
          options?.abortSignal?.addEventListener('abort', () => {
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
          });
        }),
    };
    const controller = new AbortController();
    const reason = new Error('timed out');

    const pending = rejectionOf(() =>
      new AwsSecretSource(client).batchGetSecretValue(['prod/db'], controller.signal),
    );
    controller.abort(reason);

    expect(await pending).toBe(reason);
  });

  it('wraps a failure as a SecretCacheError when a signal was given but did not abort', async () => {
    const failure = awsError('AccessDeniedException');
    const client: SecretsManagerLike = { send: async () => Promise.reject(failure) };

    const error = await rejectionOf(() =>
      new AwsSecretSource(client).batchGetSecretValue(['prod/db'], new AbortController().signal),
    );

    expect(error).toMatchObject({ code: 'ACCESS_DENIED', secretId: 'prod/db', cause: failure });
  });
});

describe('toSecretCacheError messages', () => {
  it.each<[string, () => unknown, string]>([
    [
      'NOT_FOUND',
      () => new ResourceNotFoundException({ message: 'm', $metadata: {} }),
      'Secret "prod/db" was not found (or has no such version) (ResourceNotFoundException).',
    ],
    [
      'ACCESS_DENIED',
      () => awsError('AccessDeniedException'),
      'Secret "prod/db" may not be read with these credentials (AccessDeniedException).',
    ],
    [
      'THROTTLED',
      () => awsError('ThrottlingException'),
      'Secret "prod/db" could not be read: AWS throttled the request (ThrottlingException).',
    ],
    [
      'FETCH_FAILED',
      () => new InternalServiceError({ message: 'm', $metadata: {} }),
      'Secret "prod/db" could not be fetched (InternalServiceError).',
    ],
  ])('says what %s means for the secret, naming the AWS error', (_code, make, message) => {
    expect(toSecretCacheError(make(), 'prod/db').message).toBe(message);
  });

  it.each([
    ['a plain string', 'boom'],
    ['null', null],
    ['an object without a name', { reason: 'x' }],
  ])('names %s, when thrown, Error in the message', (_label, thrown) => {
    expect(toSecretCacheError(thrown, 'prod/db').message).toBe(
      'Secret "prod/db" could not be fetched (Error).',
    );
  });
});

describe('isSignatureError', () => {
  it.each(['InvalidSignatureException', 'SignatureDoesNotMatch'])(
    'recognises %s, also as the cause of a SecretCacheError',
    (name) => {
      const aws = awsError(name);

      expect(isSignatureError(aws)).toBe(true);
      expect(isSignatureError(toSecretCacheError(aws, 'prod/db'))).toBe(true);
    },
  );

  it.each<[string, unknown]>([
    ['another AWS error', awsError('AccessDeniedException')],
    ['an error without a name', Object.assign(new Error('x'), { name: undefined })],
    ['null', null],
    ['undefined', undefined],
    ['a string naming the error', 'InvalidSignatureException'],
    ['a SecretCacheError without a cause', new SecretCacheError('ACCESS_DENIED', 'prod/db', 'denied')],
  ])('does not take %s for a signature error', (_label, error) => {
    expect(isSignatureError(error)).toBe(false);
  });
});
