import {
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
import { isSecretCacheError, SecretCacheError, type SecretCacheErrorCode } from '../src/errors.js';
import {
  AwsSecretSource,
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

  it('constructs without a client, creates a SecretsManagerClient on first use and keeps it', () => {
    const source = new AwsSecretSource();

    const client = source.client;

    expect(client).toBeInstanceOf(SecretsManagerClient);
    expect(typeof client.send).toBe('function');
    expect(source.client).toBe(client);
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
