/**
 * The rotation handler against a real moto_server, through the real AWS SDK client. No Lambda runs: the test
 * invokes the handler's four steps itself, as Secrets Manager would, with a target kept in memory.
 *
 * moto 5 behaviours these tests rely on (observed with moto 5.2, and asserted where they matter):
 * - `RotateSecret` with `RotationRules` and no Lambda turns rotation on (`RotationEnabled: true`); without
 *   `RotationRules` it stays off. Either way moto "rotates" at once by copying the current value into a new
 *   AWSCURRENT version, even with `RotateImmediately: false`.
 * - `RotateSecret` naming a Lambda that does not exist fails with ResourceNotFoundException, but leaves behind a
 *   version with the given ClientRequestToken, staged AWSPENDING, with no value: what the real service hands the
 *   rotation function's createSecret. `GetSecretValue` of that version is ResourceNotFoundException.
 * - `GetSecretValue` without `VersionStage` keeps returning the first version ever read that way; the handler
 *   always names the stage.
 * - Moving AWSCURRENT with `UpdateSecretVersionStage` gives the old version AWSPREVIOUS and leaves AWSPENDING on
 *   the new current one. AWS documents that as a finished rotation, but moto's `RotateSecret` then refuses the
 *   next rotation ("Previous rotation request is still in progress": its check is the reverse of AWS's). The
 *   handler's finishSecret takes AWSPENDING off, the other documented end state, which moto accepts.
 * - `RotateSecret` with `RotateImmediately: false` and a Lambda copies the current value into the pending version
 *   (so it has a value); the tests leave `RotateImmediately` out to get a version without one.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RotationStep } from '../../src/rotation/contract.js';
import { isRotationError, type RotationError } from '../../src/rotation/errors.js';
import { ROTATION_STEPS } from '../../src/rotation/event.js';
import { type RotationLogEntry, rotationHandler } from '../../src/rotation/handler.js';
import { expectNoFragment, renderingsOf } from '../support/leaks.js';
import { type MotoServer, startMotoServer } from '../support/moto.js';
import { MemoryTarget } from '../support/rotation-client.js';

const NO_SUCH_LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:secretcache-no-such-rotation';
const runId = randomUUID().slice(0, 8);
let seq = 0;
const uniqueName = (label: string): string => `it-${runId}/rotation-${label}-${++seq}`;

let moto: MotoServer;
let client: SecretsManagerClient;

beforeAll(async () => {
  moto = await startMotoServer();
  client = moto.client();
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

const INITIAL_PASSWORD = 'SENSITIVE-initial-Qm72wd';
const CREDENTIAL = {
  engine: 'postgres',
  host: 'db.internal',
  port: 5432,
  username: 'orders',
  password: INITIAL_PASSWORD,
  dbname: 'orders',
};

/** A JSON secret with rotation enabled the way moto allows without a Lambda. Returns its ARN. */
async function rotatableSecret(label: string): Promise<string> {
  const created = await client.send(
    new CreateSecretCommand({ Name: uniqueName(label), SecretString: JSON.stringify(CREDENTIAL) }),
  );
  // moto: RotationRules without a Lambda turn rotation on (and copy the value into a new AWSCURRENT version).
  await client.send(
    new RotateSecretCommand({
      SecretId: created.ARN,
      RotationRules: { AutomaticallyAfterDays: 30 },
      RotateImmediately: false,
    }),
  );
  return created.ARN ?? '';
}

/**
 * What Secrets Manager does before invoking createSecret: an AWSPENDING version with the token and no value.
 * moto makes it, then fails on the Lambda it cannot invoke.
 */
async function startRotation(secretId: string, token: string): Promise<void> {
  await expect(
    client.send(
      new RotateSecretCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        RotationLambdaARN: NO_SUCH_LAMBDA,
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    ),
  ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
}

async function stages(secretId: string): Promise<Record<string, string[]>> {
  const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  return described.VersionIdsToStages ?? {};
}

const holding = (all: Record<string, string[]>, stage: string): string[] =>
  Object.entries(all)
    .filter(([, held]) => held.includes(stage))
    .map(([versionId]) => versionId);

async function currentValue(secretId: string): Promise<Record<string, unknown>> {
  const output = await client.send(
    new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
  );
  return JSON.parse(output.SecretString ?? '') as Record<string, unknown>;
}

function handlerFor(target: MemoryTarget) {
  const logs: RotationLogEntry[] = [];
  const rotate = rotationHandler(target, { client, log: (entry) => logs.push(entry) });
  return { logs, rotate };
}

async function rejection(promise: Promise<unknown>): Promise<RotationError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(isRotationError(caught)).toBe(true);
  return caught as RotationError;
}

describe('rotationHandler against moto_server', () => {
  it('moto leaves a valueless AWSPENDING version behind a RotateSecret whose Lambda does not exist', async () => {
    const secretId = await rotatableSecret('placeholder');
    const token = randomUUID();

    await startRotation(secretId, token);

    const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    expect(described.RotationEnabled).toBe(true);
    expect(described.VersionIdsToStages?.[token]).toEqual(['AWSPENDING']);
    await expect(
      client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('rotates with each step run twice: the new version AWSCURRENT, the old AWSPREVIOUS, no version AWSPENDING', async () => {
    const secretId = await rotatableSecret('full');
    const [oldCurrent] = holding(await stages(secretId), 'AWSCURRENT');
    const target = new MemoryTarget({ username: CREDENTIAL.username, password: INITIAL_PASSWORD });
    const { logs, rotate } = handlerFor(target);
    const token = randomUUID();
    await startRotation(secretId, token);

    for (const step of ROTATION_STEPS) {
      await rotate({ Step: step, SecretId: secretId, ClientRequestToken: token });
      await rotate({ Step: step, SecretId: secretId, ClientRequestToken: token });
    }

    const after = await stages(secretId);
    expect(holding(after, 'AWSCURRENT')).toEqual([token]);
    expect(holding(after, 'AWSPREVIOUS')).toEqual([oldCurrent]);
    expect(holding(after, 'AWSPENDING')).toEqual([]);
    expect(logs.map((entry) => entry.outcome)).toEqual([
      'created',
      'kept',
      'set',
      'already-set',
      'tested',
      'tested',
      'finished',
      'already-current',
    ]);
    const current = await currentValue(secretId);
    expect(current).toEqual({ ...CREDENTIAL, password: current.password });
    expect(current.password).not.toBe(INITIAL_PASSWORD);
    expect(current.password).toMatch(/^[^:/@"'\\]{32}$/);
    expect(target.passwords.get(CREDENTIAL.username)).toBe(current.password);
    expect(target.count('setPending')).toBe(1);

    const rendered = renderingsOf(logs);
    expectNoFragment(rendered, INITIAL_PASSWORD);
    expectNoFragment(rendered, current.password as string, 8);
  });

  it('rotates three times in a row, each from the version the last one made current', async () => {
    const secretId = await rotatableSecret('three');
    const target = new MemoryTarget({ username: CREDENTIAL.username, password: INITIAL_PASSWORD });
    const { rotate } = handlerFor(target);
    const passwords = new Set<unknown>([INITIAL_PASSWORD]);
    let previousToken = holding(await stages(secretId), 'AWSCURRENT')[0];

    for (let rotation = 0; rotation < 3; rotation++) {
      const token = randomUUID();
      await startRotation(secretId, token);
      for (const step of ROTATION_STEPS)
        await rotate({ Step: step, SecretId: secretId, ClientRequestToken: token });

      const after = await stages(secretId);
      expect(holding(after, 'AWSCURRENT')).toEqual([token]);
      expect(holding(after, 'AWSPREVIOUS')).toEqual([previousToken]);
      expect(holding(after, 'AWSPENDING')).toEqual([]);
      const { password } = await currentValue(secretId);
      expect(target.passwords.get(CREDENTIAL.username)).toBe(password);
      passwords.add(password);
      previousToken = token;
    }

    expect(passwords.size).toBe(4);
  });

  it('is ROTATION_NOT_ENABLED for a secret whose rotation is off, changing nothing', async () => {
    const created = await client.send(
      new CreateSecretCommand({ Name: uniqueName('disabled'), SecretString: JSON.stringify(CREDENTIAL) }),
    );
    const secretId = created.ARN ?? '';
    const token = randomUUID();
    // moto: naming a Lambda without RotationRules stages the pending version but leaves rotation off.
    await expect(
      client.send(
        new RotateSecretCommand({
          SecretId: secretId,
          ClientRequestToken: token,
          RotationLambdaARN: NO_SUCH_LAMBDA,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const before = await stages(secretId);
    expect(before[token]).toEqual(['AWSPENDING']);
    const { rotate } = handlerFor(new MemoryTarget());

    for (const step of ROTATION_STEPS) {
      const error = await rejection(rotate({ Step: step, SecretId: secretId, ClientRequestToken: token }));
      expect(error).toMatchObject({ code: 'ROTATION_NOT_ENABLED', step, secretId });
    }
    expect(await stages(secretId)).toEqual(before);
  });

  it('is UNKNOWN_VERSION for a token that names no version of the secret', async () => {
    const secretId = await rotatableSecret('unknown');
    const { rotate } = handlerFor(new MemoryTarget());
    const before = await stages(secretId);

    const error = await rejection(
      rotate({ Step: 'createSecret', SecretId: secretId, ClientRequestToken: randomUUID() }),
    );

    expect(error).toMatchObject({ code: 'UNKNOWN_VERSION', step: 'createSecret', secretId });
    expect(await stages(secretId)).toEqual(before);
  });

  it('is NOT_PENDING for the version a rotation left AWSPREVIOUS', async () => {
    const secretId = await rotatableSecret('previous');
    const [oldCurrent] = holding(await stages(secretId), 'AWSCURRENT');
    const target = new MemoryTarget({ username: CREDENTIAL.username, password: INITIAL_PASSWORD });
    const { rotate } = handlerFor(target);
    const token = randomUUID();
    await startRotation(secretId, token);
    for (const step of ROTATION_STEPS)
      await rotate({ Step: step, SecretId: secretId, ClientRequestToken: token });

    const error = await rejection(
      rotate({ Step: 'setSecret' as RotationStep, SecretId: secretId, ClientRequestToken: oldCurrent ?? '' }),
    );

    expect(error.code).toBe('NOT_PENDING');
  });

  it('is AWS_FAILED naming DescribeSecret for a secret moto does not have', async () => {
    const { rotate } = handlerFor(new MemoryTarget());

    const error = await rejection(
      rotate({ Step: 'createSecret', SecretId: uniqueName('missing'), ClientRequestToken: randomUUID() }),
    );

    expect(error.code).toBe('AWS_FAILED');
    expect(error.message).toMatch(
      /^DescribeSecret failed for secret ".*" in createSecret: ResourceNotFoundException\.$/,
    );
  });
});
