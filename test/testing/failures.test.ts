/**
 * memorySource's failure injection and call log: what each kind of failure answers (as AwsSecretSource reports the
 * same AWS answers), which calls it applies to and for how long, hangs that only a release or the caller's signal
 * ends, and the log of every call the code under test made.
 */
import { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { isSecretCacheError, type SecretCacheError } from '../../src/errors.js';
import { AwsSecretSource } from '../../src/source.js';
import { type MemorySource, memorySource } from '../../src/testing.js';
import { FakeClock } from '../support/fakes.js';

const DB = 'prod/orders/db';
const KEY = 'prod/orders/api-key';

function setup(options: Parameters<typeof memorySource>[0] = {}) {
  const source = memorySource({ versionIds: 'counter', ...options });
  source.createSecret(DB, 'pw-1');
  source.createSecret(KEY, 'key-1');
  return source;
}

const get = (source: MemorySource, secretId: string, signal?: AbortSignal) =>
  source.getSecretValue({ secretId, versionStage: 'AWSCURRENT' }, signal);

/** How a read settled: its value, or its error's code. */
function outcome(promise: Promise<{ secretString?: string | undefined }>): Promise<string> {
  return promise.then(
    (version) => `value ${version.secretString}`,
    (error: unknown) => (isSecretCacheError(error) ? error.code : `thrown ${String(error)}`),
  );
}

async function rejection(promise: Promise<unknown>): Promise<SecretCacheError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isSecretCacheError(error)) throw new Error(`expected a SecretCacheError, got ${String(error)}`);
  return error;
}

/** Lets every promise callback that is ready run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('kinds of failure', () => {
  it('fails a transient call with FETCH_FAILED, as AwsSecretSource reports an InternalServiceError', async () => {
    const source = setup();
    source.fail('transient');

    const error = await rejection(get(source, DB));

    expect(error).toMatchObject({ code: 'FETCH_FAILED', secretId: DB });
    expect(error.message).toBe(`Secret "${DB}" could not be fetched (InternalServiceError).`);
    expect(error.cause).toMatchObject({ name: 'InternalServiceError', $fault: 'server' });
  });

  it('fails a throttled call with THROTTLED, worded as AwsSecretSource words the SDK’s ThrottlingException', async () => {
    const source = setup();
    source.fail('throttled');
    // As the SDK deserializes a throttle: a service exception named ThrottlingException, marked retryable.
    const throttle = Object.assign(
      new SecretsManagerServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
      { $retryable: { throttling: true } },
    );
    const client = {
      send: async () => {
        throw throttle;
      },
    };
    const aws = await rejection(new AwsSecretSource(client).getSecretValue({ secretId: DB }));

    const error = await rejection(get(source, DB));

    expect([error.code, error.message, (error.cause as Error).name]).toEqual([
      aws.code,
      aws.message,
      (aws.cause as Error).name,
    ]);
    expect(error.cause).toMatchObject({ $retryable: { throttling: true } });
  });

  it('fails a denied call with ACCESS_DENIED, naming the operation and the secret as IAM does', async () => {
    const source = setup();
    source.fail('denied');

    const error = await rejection(get(source, DB));

    expect(error).toMatchObject({ code: 'ACCESS_DENIED', secretId: DB });
    expect(error.message).toBe(
      `Secret "${DB}" may not be read with these credentials (AccessDeniedException).`,
    );
    expect((error.cause as Error).message).toContain(`secretsmanager:GetSecretValue on resource: ${DB}`);
  });

  it('throws what a custom failure returns, as it returns it, and passes it the call', async () => {
    const source = setup();
    const seen: unknown[] = [];
    const cause = Object.assign(new Error('KMS said no'), { name: 'DecryptionFailure' });
    source.fail((call) => {
      seen.push(call);
      return cause;
    });

    await expect(get(source, DB)).rejects.toBe(cause);
    expect(seen).toEqual([expect.objectContaining({ operation: 'GetSecretValue', secretId: DB })]);
  });
});

describe('which calls a failure applies to, and for how long', () => {
  it('fails every call until cleared, then answers again', async () => {
    const source = setup();
    const failure = source.fail('transient');

    expect([await outcome(get(source, DB)), await outcome(get(source, KEY))]).toEqual([
      'FETCH_FAILED',
      'FETCH_FAILED',
    ]);
    expect(failure.remaining).toBe(Number.POSITIVE_INFINITY);
    failure.clear();

    expect(await outcome(get(source, DB))).toBe('value pw-1');
    expect(failure.remaining).toBe(0);
  });

  it('fails the next N calls, then is used up', async () => {
    const source = setup();
    const failure = source.fail('throttled', { times: 2 });

    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await outcome(get(source, DB)));

    expect(outcomes).toEqual(['THROTTLED', 'THROTTLED', 'value pw-1']);
    expect(failure.remaining).toBe(0);
  });

  it('fails only the calls that name its secret, by name or by ARN', async () => {
    const source = setup();
    const { arn } = source.describeSecret(DB);
    source.fail('denied', { secretId: DB });

    expect([
      await outcome(get(source, arn)),
      await outcome(get(source, DB)),
      await outcome(get(source, KEY)),
    ]).toEqual(['ACCESS_DENIED', 'ACCESS_DENIED', 'value key-1']);
  });

  it('counts a scoped failure only on the calls it applies to', async () => {
    const source = setup();
    source.fail('transient', { secretId: DB, times: 1 });

    expect([
      await outcome(get(source, KEY)),
      await outcome(get(source, DB)),
      await outcome(get(source, DB)),
    ]).toEqual(['value key-1', 'FETCH_FAILED', 'value pw-1']);
  });

  it('fails only the operation named: a role without secretsmanager:BatchGetSecretValue', async () => {
    const source = setup();
    source.fail('denied', { operation: 'BatchGetSecretValue' });

    expect(await outcome(get(source, DB))).toBe('value pw-1');
    expect(await rejection(source.batchGetSecretValue([DB, KEY]))).toMatchObject({
      code: 'ACCESS_DENIED',
      secretId: `${DB},${KEY}`,
    });
  });

  it('applies failures in the order injected, each until it is done', async () => {
    const source = setup();
    source.fail('throttled', { times: 1 });
    source.fail('transient', { times: 1 });

    expect([
      await outcome(get(source, DB)),
      await outcome(get(source, DB)),
      await outcome(get(source, DB)),
    ]).toEqual(['THROTTLED', 'FETCH_FAILED', 'value pw-1']);
  });

  it('stops every failure at clearFailures()', async () => {
    const source = setup();
    source.fail('transient');
    source.fail('denied', { secretId: KEY });

    source.clearFailures();

    expect([await outcome(get(source, DB)), await outcome(get(source, KEY))]).toEqual([
      'value pw-1',
      'value key-1',
    ]);
  });
});

describe('failures of a batch', () => {
  it('fails the whole batch for a failure of every call, naming its ids as AwsSecretSource does', async () => {
    const source = setup();
    source.fail('throttled');

    expect(await rejection(source.batchGetSecretValue([DB, KEY]))).toMatchObject({
      code: 'THROTTLED',
      secretId: `${DB},${KEY}`,
    });
  });

  it('fails the whole batch for a transient failure of one secret it lists', async () => {
    const source = setup();
    source.fail('transient', { secretId: KEY });

    expect((await rejection(source.batchGetSecretValue([DB, KEY]))).code).toBe('FETCH_FAILED');
    expect((await source.batchGetSecretValue([DB])).versions).toHaveLength(1);
  });

  it('reports a denied secret in the batch’s errors and answers the others, as AWS reports it per secret', async () => {
    const source = setup();
    const { arn } = source.describeSecret(KEY);
    source.fail('denied', { secretId: KEY });

    const result = await source.batchGetSecretValue([DB, arn, 'missing']);

    expect(result.versions.map(({ name }) => name)).toEqual([DB]);
    expect(result.errors.map(({ secretId, error }) => [secretId, error.code, error.secretId])).toEqual([
      [arn, 'ACCESS_DENIED', arn],
      ['missing', 'NOT_FOUND', 'missing'],
    ]);
  });
});

describe('hangs', () => {
  it('holds a call until released, then answers it from the secret as it is then', async () => {
    const source = setup();
    const hang = source.fail('hang', { times: 1 });
    const read = outcome(get(source, DB));
    await settle();
    expect([hang.held, source.heldCalls]).toEqual([1, 1]);

    source.putSecretValue(DB, 'pw-2');
    expect(hang.release()).toBe(1);

    expect(await read).toBe('value pw-2');
    expect([hang.held, source.heldCalls]).toEqual([0, 0]);
  });

  it('rejects a held call with the reason of the signal the caller aborts, as AwsSecretSource does', async () => {
    const source = setup();
    const hang = source.fail('hang');
    const controller = new AbortController();
    const read = get(source, DB, controller.signal);
    const reason = new Error('fetchTimeoutMs');

    controller.abort(reason);

    await expect(read).rejects.toBe(reason);
    expect(hang.held).toBe(0);
  });

  it('rejects a call whose signal is already aborted at once, and logs it', async () => {
    const source = setup();
    const reason = new Error('gone');

    await expect(get(source, DB, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(source.callCount()).toBe(1);
  });

  it('holds a call before any other failure, which applies once it is released', async () => {
    const source = setup();
    source.fail('transient', { times: 1 });
    const hang = source.fail('hang', { times: 1 });
    const read = outcome(get(source, DB));
    await settle();

    hang.release();

    expect(await read).toBe('FETCH_FAILED');
    expect(await outcome(get(source, DB))).toBe('value pw-1');
  });

  it('is not held again by the hang that released it, while that hang goes on holding new calls', async () => {
    const source = setup();
    const hang = source.fail('hang');
    const first = outcome(get(source, DB));
    await settle();
    hang.release();
    expect(await first).toBe('value pw-1');

    const second = outcome(get(source, DB));
    await settle();
    expect(hang.held).toBe(1);
    hang.clear();
    expect(source.release()).toBe(1);
    expect(await second).toBe('value pw-1');
  });

  it('keeps calls held when cleared (clear stops new ones), until the source releases every hang', async () => {
    const source = setup();
    const dbHang = source.fail('hang', { secretId: DB });
    source.fail('hang', { secretId: KEY, times: 1 });
    const reads = [outcome(get(source, DB)), outcome(get(source, KEY))];
    await settle();

    source.clearFailures();
    expect([dbHang.held, source.heldCalls, await outcome(get(source, DB))]).toEqual([1, 2, 'value pw-1']);

    expect(source.release()).toBe(2);
    expect(await Promise.all(reads)).toEqual(['value pw-1', 'value key-1']);
  });

  it('holds a batch that lists the secret as one call', async () => {
    const source = setup();
    const hang = source.fail('hang', { secretId: KEY });
    const batch = source.batchGetSecretValue([DB, KEY]);
    await settle();
    expect(hang.held).toBe(1);

    hang.release();

    expect((await batch).versions).toHaveLength(2);
  });

  it('keeps no timer or other handle alive while it holds a call', async () => {
    const source = setup();
    source.fail('hang');
    await settle();
    const before = process.getActiveResourcesInfo();

    const read = get(source, DB, new AbortController().signal);
    await settle();

    expect(process.getActiveResourcesInfo()).toEqual(before);
    source.release();
    await read;
  });
});

describe('the call log', () => {
  it('records each call as made: operation, ids, stage, version id, time by the source’s clock', async () => {
    const clock = new FakeClock(5_000);
    const source = setup({ clock });
    await source.getSecretValue({ secretId: DB, versionStage: 'AWSPREVIOUS' }).catch(() => {});
    clock.advance(10);
    await source.getSecretValue({ secretId: DB, versionId: 'v1' });
    await source.batchGetSecretValue([DB, KEY]);

    expect(source.calls).toEqual([
      {
        operation: 'GetSecretValue',
        secretId: DB,
        secretIds: [DB],
        versionStage: 'AWSPREVIOUS',
        versionId: undefined,
        time: 5_000,
      },
      {
        operation: 'GetSecretValue',
        secretId: DB,
        secretIds: [DB],
        versionStage: undefined,
        versionId: 'v1',
        time: 5_010,
      },
      {
        operation: 'BatchGetSecretValue',
        secretId: `${DB},${KEY}`,
        secretIds: [DB, KEY],
        versionStage: undefined,
        versionId: undefined,
        time: 5_010,
      },
    ]);
  });

  it('logs failed and held calls, and no setup call', async () => {
    const source = setup();
    source.putSecretValue(DB, 'pw-2');
    source.rotate(DB, 'pw-3');
    source.describeSecret(DB);
    source.fail('transient', { times: 1 });
    await get(source, DB).catch(() => {});
    source.fail('hang', { times: 1 });
    const held = get(source, DB);
    await settle();

    expect(source.callCount()).toBe(2);
    source.release();
    await held;
  });

  it('hands out a snapshot: later calls do not appear in a log already taken, nor can it be changed', async () => {
    const source = setup();
    const before = source.calls;

    await get(source, DB);

    expect(before).toEqual([]);
    expect(Object.isFrozen(before)).toBe(true);
    expect(Object.isFrozen(source.calls[0])).toBe(true);
  });

  it('counts the calls that match a filter: operation, secret by name or ARN, stage (AWSCURRENT by default), version id', async () => {
    const source = setup();
    const { arn } = source.describeSecret(DB);
    await source.getSecretValue({ secretId: DB });
    await source.getSecretValue({ secretId: arn, versionStage: 'AWSCURRENT' });
    await source.getSecretValue({ secretId: DB, versionStage: 'AWSPENDING' }).catch(() => {});
    await source.getSecretValue({ secretId: DB, versionId: 'v1' });
    await source.batchGetSecretValue([KEY, arn]);
    await source.getSecretValue({ secretId: KEY });

    expect(source.callCount()).toBe(6);
    expect(source.callCount({ secretId: DB })).toBe(5);
    expect(source.callCount({ secretId: arn })).toBe(5);
    expect(source.callCount({ secretId: DB, versionStage: 'AWSCURRENT' })).toBe(3);
    expect(source.callCount({ versionStage: 'AWSPENDING' })).toBe(1);
    expect(source.callCount({ versionId: 'v1' })).toBe(1);
    expect(source.callCount({ operation: 'BatchGetSecretValue', secretId: KEY })).toBe(1);
    expect(source.callCount({ secretId: 'prod/other' })).toBe(0);
  });

  it('still counts calls of a deleted secret by the name they used', async () => {
    const source = setup();
    await get(source, DB);
    source.deleteSecret(DB);
    await get(source, DB).catch(() => {});

    expect(source.callCount({ secretId: DB })).toBe(2);
  });

  it('forgets the calls so far at clearCalls()', async () => {
    const source = setup();
    await get(source, DB);

    source.clearCalls();
    await get(source, KEY);

    expect(source.calls.map(({ secretId }) => secretId)).toEqual([KEY]);
  });
});
