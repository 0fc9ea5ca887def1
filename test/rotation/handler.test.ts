import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type {
  CreatePendingContext,
  PendingContext,
  RotationEvent,
  RotationStep,
  RotationTarget,
} from '../../src/rotation/contract.js';
import { isRotationError, RotationError } from '../../src/rotation/errors.js';
import { ROTATION_STEPS } from '../../src/rotation/event.js';
import {
  type RotationHandlerOptions,
  type RotationLogEntry,
  rotationHandler,
} from '../../src/rotation/handler.js';
import { expectNoFragment, renderingsOf } from '../support/leaks.js';
import { awsError, hostileEvent, MemoryTarget, RotationClient } from '../support/rotation-client.js';
import { propertyRuns } from '../support/runs.js';

const SECRET = 'prod/orders/db';
const TOKEN = 'c0ffee00-1111-4111-8111-000000000002';
const CURRENT_PASSWORD = 'SENSITIVE-Zq81xv4-qP0d7';
const CURRENT = {
  engine: 'postgres',
  host: 'db.internal',
  port: 5432,
  username: 'orders',
  password: CURRENT_PASSWORD,
  dbname: 'orders',
};

interface SetupOptions {
  readonly value?: string | Uint8Array;
  readonly target?: RotationTarget;
  readonly options?: RotationHandlerOptions;
  readonly rotationEnabled?: boolean | undefined;
}

/** A secret with one AWSCURRENT version and a rotation started for TOKEN, and a handler over it. */
function setup({
  value = JSON.stringify(CURRENT),
  target,
  options,
  rotationEnabled = true,
}: SetupOptions = {}) {
  const client = new RotationClient();
  const firstVersion = client.create(SECRET, value, rotationEnabled);
  client.startRotation(SECRET, TOKEN);
  const memory = new MemoryTarget({ username: CURRENT.username, password: CURRENT_PASSWORD });
  const logs: RotationLogEntry[] = [];
  const rotate = rotationHandler(target ?? memory, { client, log: (entry) => logs.push(entry), ...options });
  const run = (step: RotationStep, extra: Partial<RotationEvent> = {}) =>
    rotate({ Step: step, SecretId: SECRET, ClientRequestToken: TOKEN, ...extra });
  /** Runs the steps that come before `step`. */
  const before = async (step: RotationStep) => {
    for (const earlier of ROTATION_STEPS.slice(0, ROTATION_STEPS.indexOf(step))) await run(earlier);
  };
  return { client, firstVersion, memory, logs, rotate, run, before };
}

async function rejection(promise: Promise<unknown>): Promise<RotationError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RotationError);
  return caught as RotationError;
}

const outcomes = (logs: readonly RotationLogEntry[]) => logs.map((entry) => entry.outcome);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('rotationHandler: a full rotation', () => {
  it('rotates to a new AWSCURRENT version with a new password, the old one AWSPREVIOUS', async () => {
    const s = setup();

    for (const step of ROTATION_STEPS) await s.run(step);

    expect(s.client.stages(SECRET)).toEqual({
      [s.firstVersion]: ['AWSPREVIOUS'],
      [TOKEN]: ['AWSCURRENT'],
    });
    const [password] = s.client.passwords;
    expect(JSON.parse(s.client.staged(SECRET, 'AWSCURRENT')?.secretString ?? '')).toEqual({
      ...CURRENT,
      password,
    });
    expect(s.memory.passwords.get('orders')).toBe(password);
    expect(outcomes(s.logs)).toEqual(['created', 'set', 'tested', 'finished']);
  });

  it('logs one entry per step naming the step, secret, token and outcome', async () => {
    const s = setup();

    for (const step of ROTATION_STEPS) await s.run(step);

    expect(s.logs).toEqual([
      {
        step: 'createSecret',
        secretId: SECRET,
        token: TOKEN,
        outcome: 'created',
        message: `Put a new value in version ${TOKEN} of secret "${SECRET}", as AWSPENDING.`,
      },
      {
        step: 'setSecret',
        secretId: SECRET,
        token: TOKEN,
        outcome: 'set',
        message: `The target now accepts version ${TOKEN} of secret "${SECRET}".`,
      },
      {
        step: 'testSecret',
        secretId: SECRET,
        token: TOKEN,
        outcome: 'tested',
        message: `The target accepts version ${TOKEN} of secret "${SECRET}".`,
      },
      {
        step: 'finishSecret',
        secretId: SECRET,
        token: TOKEN,
        outcome: 'finished',
        message: `Moved AWSCURRENT to version ${TOKEN} of secret "${SECRET}" (it was version ${s.firstVersion}).`,
      },
    ]);
    expect(s.logs.every((entry) => Object.isFrozen(entry))).toBe(true);
  });

  it('rotates three times in a row, each time from the version the last one made current', async () => {
    const s = setup();
    const tokens = [TOKEN, 'c0ffee00-1111-4111-8111-000000000003', 'c0ffee00-1111-4111-8111-000000000004'];

    for (const [index, token] of tokens.entries()) {
      if (index > 0) s.client.startRotation(SECRET, token);
      for (const step of ROTATION_STEPS) await s.run(step, { ClientRequestToken: token });
    }

    expect(s.client.staged(SECRET, 'AWSCURRENT')?.versionId).toBe(tokens[2]);
    expect(s.client.staged(SECRET, 'AWSPREVIOUS')?.versionId).toBe(tokens[1]);
    expect(new Set(s.client.passwords).size).toBe(3);
    expect(s.memory.passwords.get('orders')).toBe(s.client.passwords[2]);
  });

  it('accepts the secret named by its ARN, as Secrets Manager sends it', async () => {
    const s = setup();
    const arn = s.client.secrets.get(SECRET)?.arn ?? '';

    for (const step of ROTATION_STEPS) await s.run(step, { SecretId: arn });

    expect(s.client.staged(SECRET, 'AWSCURRENT')?.versionId).toBe(TOKEN);
  });
});

describe('rotationHandler: every step is idempotent', () => {
  it('createSecret twice puts one value: the second keeps it and asks for no password', async () => {
    const s = setup();

    await s.run('createSecret');
    const pending = s.client.version(SECRET, TOKEN)?.secretString;
    await s.run('createSecret');

    expect(s.client.callsOf('PutSecretValue')).toHaveLength(1);
    expect(s.client.callsOf('GetRandomPassword')).toHaveLength(1);
    expect(s.client.version(SECRET, TOKEN)?.secretString).toBe(pending);
    expect(outcomes(s.logs)).toEqual(['created', 'kept']);
    expect(s.logs[1]?.message).toBe(`Kept version ${TOKEN} of secret "${SECRET}": it already has a value.`);
  });

  it('setSecret twice calls setPending once: the second finds testPending passing', async () => {
    const s = setup();
    await s.before('setSecret');

    await s.run('setSecret');
    await s.run('setSecret');

    expect(s.memory.count('setPending')).toBe(1);
    expect(s.memory.calls.map((call) => call.method)).toEqual(['testPending', 'setPending', 'testPending']);
    expect(outcomes(s.logs).slice(1)).toEqual(['set', 'already-set']);
    expect(s.logs.at(-1)?.message).toBe(
      `The target already accepts version ${TOKEN} of secret "${SECRET}"; setPending not called.`,
    );
    expect(s.client.writes()).toHaveLength(1); // createSecret's PutSecretValue only
  });

  it('testSecret twice tests twice and writes nothing', async () => {
    const s = setup();
    await s.before('testSecret');
    const writes = s.client.writes().length;

    await s.run('testSecret');
    await s.run('testSecret');

    expect(s.client.writes()).toHaveLength(writes);
    expect(outcomes(s.logs).slice(2)).toEqual(['tested', 'tested']);
  });

  it('finishSecret twice moves AWSCURRENT once; the second finds it current and changes nothing', async () => {
    const s = setup();
    await s.before('finishSecret');

    await s.run('finishSecret');
    const stages = s.client.stages(SECRET);
    const writes = s.client.writes().length;
    await s.run('finishSecret');

    expect(s.client.stages(SECRET)).toEqual(stages);
    expect(s.client.writes()).toHaveLength(writes);
    expect(outcomes(s.logs).slice(3)).toEqual(['finished', 'already-current']);
  });

  it.each(ROTATION_STEPS)(
    '%s after finishSecret is already-current and calls nothing but DescribeSecret',
    async (step) => {
      const s = setup();
      for (const each of ROTATION_STEPS) await s.run(each);
      const calls = s.client.calls.length;

      await s.run(step);

      expect(s.client.calls.slice(calls).map((call) => call.operation)).toEqual(['DescribeSecret']);
      expect(s.logs.at(-1)).toMatchObject({
        step,
        outcome: 'already-current',
        message: `Nothing to do: version ${TOKEN} of secret "${SECRET}" is already AWSCURRENT.`,
      });
    },
  );

  it('every step run twice in a row still ends in a correct rotation', async () => {
    const s = setup();

    for (const step of ROTATION_STEPS) {
      await s.run(step);
      await s.run(step);
    }

    expect(s.client.stages(SECRET)).toEqual({
      [s.firstVersion]: ['AWSPREVIOUS'],
      [TOKEN]: ['AWSCURRENT'],
    });
    expect(outcomes(s.logs)).toEqual([
      'created',
      'kept',
      'set',
      'already-set',
      'tested',
      'tested',
      'finished',
      'already-current',
    ]);
  });
});

describe('rotationHandler: steps out of order', () => {
  it.each(['setSecret', 'testSecret', 'finishSecret'] as const)(
    '%s before createSecret is INVALID_SECRET saying createSecret has not run, and changes nothing',
    async (step) => {
      const s = setup();

      const error = await rejection(s.run(step));

      expect(error).toMatchObject({ code: 'INVALID_SECRET', step, secretId: SECRET });
      expect(error.message).toBe(
        `No value in version ${TOKEN} of secret "${SECRET}" yet: createSecret has not run for it.`,
      );
      expect(s.memory.calls).toEqual([]);
      expect(s.client.writes()).toEqual([]);
    },
  );

  it('setSecret before createSecret is INVALID_SECRET also when the service answers a version without a value', async () => {
    const s = setup();
    s.client.valuelessVersion = 'empty';

    const error = await rejection(s.run('setSecret'));

    expect(error.code).toBe('INVALID_SECRET');
    expect(s.memory.calls).toEqual([]);
  });

  it('testSecret before setSecret is TEST_FAILED: the target does not accept the pending password yet', async () => {
    const s = setup();
    await s.run('createSecret');

    const error = await rejection(s.run('testSecret'));

    expect(error).toMatchObject({ code: 'TEST_FAILED', step: 'testSecret' });
    expect(s.memory.count('setPending')).toBe(0);
  });
});

describe('rotationHandler: the preamble', () => {
  it('is UNKNOWN_VERSION for a token that names no version, reading and writing nothing', async () => {
    const s = setup();

    const error = await rejection(s.run('createSecret', { ClientRequestToken: 'no-such-version' }));

    expect(error).toMatchObject({ code: 'UNKNOWN_VERSION', step: 'createSecret', secretId: SECRET });
    expect(error.message).toBe(
      `Secret "${SECRET}" has no version no-such-version with a stage; it cannot be rotated to.`,
    );
    expect(s.client.calls.map((call) => call.operation)).toEqual(['DescribeSecret']);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'is UNKNOWN_VERSION for a token spelt like an Object.prototype key (%s)',
    async (token) => {
      const s = setup();

      const error = await rejection(s.run('finishSecret', { ClientRequestToken: token }));

      expect(error.code).toBe('UNKNOWN_VERSION');
      expect(s.client.writes()).toEqual([]);
    },
  );

  it('rotates a version whose id is __proto__, kept as an own key of VersionIdsToStages', async () => {
    const s = setup();
    s.client.startRotation(SECRET, '__proto__');

    for (const step of ROTATION_STEPS) await s.run(step, { ClientRequestToken: '__proto__' });

    expect(s.client.staged(SECRET, 'AWSCURRENT')?.versionId).toBe('__proto__');
  });

  it.each(ROTATION_STEPS)(
    'is ROTATION_NOT_ENABLED in %s when DescribeSecret says rotation is off',
    async (step) => {
      const s = setup({ rotationEnabled: false });

      const error = await rejection(s.run(step));

      expect(error).toMatchObject({ code: 'ROTATION_NOT_ENABLED', step, secretId: SECRET });
      expect(error.message).toBe(`Rotation is not enabled for secret "${SECRET}".`);
      expect(s.client.calls.map((call) => call.operation)).toEqual(['DescribeSecret']);
    },
  );

  it('goes on when DescribeSecret does not say whether rotation is enabled, as the AWS templates do', async () => {
    const s = setup({ rotationEnabled: undefined });

    await s.run('createSecret');

    expect(outcomes(s.logs)).toEqual(['created']);
  });

  it.each(ROTATION_STEPS)(
    'is NOT_PENDING in %s for a version that is neither AWSPENDING nor AWSCURRENT',
    async (step) => {
      const s = setup();
      for (const each of ROTATION_STEPS) await s.run(each); // the first version is now AWSPREVIOUS
      const writes = s.client.writes().length;

      const error = await rejection(s.run(step, { ClientRequestToken: s.firstVersion }));

      expect(error).toMatchObject({ code: 'NOT_PENDING', step, secretId: SECRET });
      expect(error.message).toBe(
        `The version ${s.firstVersion} of secret "${SECRET}" is neither AWSPENDING nor AWSCURRENT; it cannot be rotated to.`,
      );
      expect(s.client.writes()).toHaveLength(writes);
    },
  );

  it.each([
    ['without VersionIdsToStages', undefined],
    ['with VersionIdsToStages null', null],
  ])('is UNKNOWN_VERSION when DescribeSecret answers %s', async (_, given) => {
    const s = setup();
    const send = s.client.send.bind(s.client);
    vi.spyOn(s.client, 'send').mockImplementation(async (command) => {
      const output = await send(command);
      return 'VersionIdsToStages' in output ? { ...output, VersionIdsToStages: given } : output;
    });

    const error = await rejection(s.run('createSecret'));

    expect(error.code).toBe('UNKNOWN_VERSION');
    expect(s.client.calls.map((call) => call.operation)).toEqual(['DescribeSecret']);
  });

  it('is NOT_PENDING for a version holding only a label of its own', async () => {
    const s = setup();
    const labelled = s.client.put(SECRET, 'x', ['MYLABEL']);

    const error = await rejection(s.run('createSecret', { ClientRequestToken: labelled }));

    expect(error.code).toBe('NOT_PENDING');
  });

  it('is AWS_FAILED naming DescribeSecret for a secret that does not exist', async () => {
    const s = setup();

    const error = await rejection(s.run('setSecret', { SecretId: 'prod/missing' }));

    expect(error).toMatchObject({ code: 'AWS_FAILED', step: 'setSecret', secretId: 'prod/missing' });
    expect(error.message).toBe(
      'DescribeSecret failed for secret "prod/missing" in setSecret: ResourceNotFoundException.',
    );
    expect((error.cause as Error).name).toBe('ResourceNotFoundException');
  });
});

describe('rotationHandler: createSecret', () => {
  it('reads AWSCURRENT by stage and the pending version by id and stage, then puts the value as AWSPENDING', async () => {
    const s = setup();

    await s.run('createSecret');

    const [describeCall, current, pending, random, put] = s.client.calls;
    expect(describeCall?.input).toEqual({ SecretId: SECRET });
    expect(current?.input).toEqual({ SecretId: SECRET, VersionStage: 'AWSCURRENT' });
    expect(pending?.input).toEqual({ SecretId: SECRET, VersionId: TOKEN, VersionStage: 'AWSPENDING' });
    expect(random?.operation).toBe('GetRandomPassword');
    expect(put).toEqual({
      operation: 'PutSecretValue',
      input: {
        SecretId: SECRET,
        ClientRequestToken: TOKEN,
        SecretString: expect.any(String),
        VersionStages: ['AWSPENDING'],
      },
    });
    expect(s.client.calls).toHaveLength(5);
  });

  it('forwards the event RotationToken to PutSecretValue', async () => {
    const s = setup();

    await s.run('createSecret', { RotationToken: 'rotation-token-from-the-service' });

    expect(s.client.callsOf('PutSecretValue')[0]?.input.RotationToken).toBe(
      'rotation-token-from-the-service',
    );
  });

  it('puts no RotationToken key when the event has none', async () => {
    const s = setup();

    await s.run('createSecret');

    expect(s.client.callsOf('PutSecretValue')[0]?.input).not.toHaveProperty('RotationToken');
  });

  it('creates the value also when the service answers the pending version without a value instead of not found', async () => {
    const s = setup();
    s.client.valuelessVersion = 'empty';

    await s.run('createSecret');

    expect(outcomes(s.logs)).toEqual(['created']);
    expect(s.client.version(SECRET, TOKEN)?.secretString).toBeDefined();
  });

  it('asks GetRandomPassword for 32 characters excluding the characters that break connection strings', async () => {
    const s = setup();

    await s.run('createSecret');

    expect(s.client.callsOf('GetRandomPassword')[0]?.input).toEqual({
      PasswordLength: 32,
      ExcludeCharacters: ':/@"\'\\',
    });
    expect(s.client.passwords[0]).toMatch(/^[^:/@"'\\]{32}$/);
  });

  it('asks GetRandomPassword with the passwordLength and excludeCharacters options', async () => {
    const s = setup({ options: { passwordLength: 12, excludeCharacters: 'abc;' } });

    await s.run('createSecret');

    expect(s.client.callsOf('GetRandomPassword')[0]?.input).toEqual({
      PasswordLength: 12,
      ExcludeCharacters: 'abc;',
    });
  });

  it('leaves ExcludeCharacters out when excludeCharacters is empty', async () => {
    const s = setup({ options: { excludeCharacters: '' } });

    await s.run('createSecret');

    expect(s.client.callsOf('GetRandomPassword')[0]?.input).toEqual({ PasswordLength: 32 });
  });

  it('by default keeps every other field of the current JSON, in order, and changes only password', async () => {
    const current = {
      password: CURRENT_PASSWORD,
      host: 'h',
      nested: { password: 'inner' },
      list: [1, 'two'],
    };
    const s = setup({ value: JSON.stringify(current) });

    await s.run('createSecret');

    const pending = s.client.version(SECRET, TOKEN)?.secretString ?? '';
    expect(pending).toBe(JSON.stringify({ ...current, password: s.client.passwords[0] }));
    expect(Object.keys(JSON.parse(pending))).toEqual(['password', 'host', 'nested', 'list']);
  });

  it('by default changes only password, for any JSON object holding a string password', async () => {
    const secretValue = fc
      .tuple(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 8 }), fc.string())
      .map(([fields, password]) => JSON.stringify({ ...fields, password }));
    await fc.assert(
      fc.asyncProperty(secretValue, async (value) => {
        const s = setup({ value });

        await s.run('createSecret');

        const expected = JSON.parse(value) as Record<string, unknown>;
        expected.password = s.client.passwords[0];
        expect(s.client.version(SECRET, TOKEN)?.secretString).toBe(JSON.stringify(expected));
      }),
      { numRuns: propertyRuns(200) },
    );
  });

  it.each([
    ['is not JSON', 'SENSITIVE-Kx81-not-json{{', 'is not valid JSON; its value is not shown'],
    ['is a JSON array', '["SENSITIVE-Kx81-item"]', 'is JSON but not an object (an array)'],
    ['has no password', '{"username":"SENSITIVE-Kx81-user"}', 'has no string `password` field to replace'],
    ['has a numeric password', '{"password":918273645}', 'has no string `password` field to replace'],
  ])(
    'by default is INVALID_SECRET when the current value %s, asking for no password and putting nothing',
    async (_, value, problem) => {
      const sensitive = /SENSITIVE-Kx81-[\w-]+|918273645/.exec(value)?.[0] ?? '';
      const s = setup({ value });

      const error = await rejection(s.run('createSecret'));

      expect(error).toMatchObject({ code: 'INVALID_SECRET', step: 'createSecret', secretId: SECRET });
      expect(error.message).toContain(`Version ${s.firstVersion} of secret "${SECRET}" ${problem}`);
      expect(s.client.callsOf('GetRandomPassword')).toEqual([]);
      expect(s.client.writes()).toEqual([]);
      expectNoFragment(renderingsOf(error), sensitive);
      expectNoFragment(renderingsOf(s.logs), sensitive);
    },
  );

  it('by default is INVALID_SECRET for a binary current value', async () => {
    const s = setup({ value: new Uint8Array([1, 2, 3, 4]) });

    const error = await rejection(s.run('createSecret'));

    expect(error.message).toContain('is binary, not a JSON object');
  });

  it('puts what the target createPending returns, handing it the current version and randomPassword', async () => {
    const seen: CreatePendingContext[] = [];
    const target: RotationTarget = {
      async createPending(context) {
        seen.push(context);
        return `key-${await context.randomPassword()}`;
      },
      setPending: async () => {},
      testPending: async () => {},
    };
    const s = setup({ target });

    await s.run('createSecret');

    expect(seen).toHaveLength(1);
    const [context] = seen;
    expect(context).toMatchObject({ step: 'createSecret', secretId: SECRET, token: TOKEN });
    expect(context?.current.versionId).toBe(s.firstVersion);
    expect(context?.current.versionStages).toEqual(['AWSCURRENT']);
    expect(context?.current.json()).toEqual(CURRENT);
    expect(Object.isFrozen(context)).toBe(true);
    expect(s.client.version(SECRET, TOKEN)?.secretString).toBe(`key-${s.client.passwords[0]}`);
  });

  it('puts a Uint8Array from createPending as SecretBinary', async () => {
    const bytes = new Uint8Array([9, 8, 7, 6]);
    const target: RotationTarget = {
      createPending: async () => bytes,
      setPending: async () => {},
      testPending: async () => {},
    };
    const s = setup({ target });

    await s.run('createSecret');

    const input = s.client.callsOf('PutSecretValue')[0]?.input;
    expect(input?.SecretBinary).toEqual(bytes);
    expect(input).not.toHaveProperty('SecretString');
  });

  it('keeps a pending value an earlier attempt put, without calling createPending', async () => {
    const createPending = vi.fn(async () => 'new');
    const s = setup({ target: { createPending, setPending: async () => {}, testPending: async () => {} } });
    await s.run('createSecret');

    await s.run('createSecret');

    expect(createPending).toHaveBeenCalledTimes(1);
    expect(outcomes(s.logs)).toEqual(['created', 'kept']);
  });

  it.each([
    ['an empty string', '', 'an empty value'],
    ['empty bytes', new Uint8Array(0), 'an empty value'],
    ['a number', 42, 'a value of type number'],
    ['an object', { password: 'x' }, 'a value of type object'],
    ['null', null, 'null'],
    ['an array', ['pw'], 'an array'],
  ])('is INVALID_SECRET when createPending resolves to %s, putting nothing', async (_, value, got) => {
    const target = {
      createPending: async () => value as unknown as string,
      setPending: async () => {},
      testPending: async () => {},
    };
    const s = setup({ target });

    const error = await rejection(s.run('createSecret'));

    expect(error.code).toBe('INVALID_SECRET');
    expect(error.message).toBe(
      `createPending must resolve to a non-empty string or Uint8Array for secret "${SECRET}", got ${got}.`,
    );
    expect(s.client.writes()).toEqual([]);
  });

  it('passes a RotationError thrown by createPending through with its own code', async () => {
    const own = new RotationError('INVALID_SECRET', 'createSecret', SECRET, 'no user name');
    const s = setup({
      target: {
        createPending: async () => {
          throw own;
        },
        setPending: async () => {},
        testPending: async () => {},
      },
    });

    await expect(s.run('createSecret')).rejects.toBe(own);
    expect(s.logs.at(-1)).toMatchObject({
      outcome: 'failed',
      code: 'INVALID_SECRET',
      message: 'no user name',
    });
  });

  it('throws any other error of createPending as it is, and logs it by name only', async () => {
    const own = new TypeError('SENSITIVE-detail cannot be read');
    const s = setup({
      target: {
        createPending: async () => {
          throw own;
        },
        setPending: async () => {},
        testPending: async () => {},
      },
    });

    await expect(s.run('createSecret')).rejects.toBe(own);
    expect(s.logs.at(-1)).toEqual({
      step: 'createSecret',
      secretId: SECRET,
      token: TOKEN,
      outcome: 'failed',
      message: 'createSecret failed: TypeError.',
    });
    expect(s.client.writes()).toEqual([]);
  });
});

describe('rotationHandler: setSecret and testSecret', () => {
  it('hands the target the current and pending versions, read by stage and by id', async () => {
    const s = setup();
    await s.run('createSecret');
    const calls = s.client.calls.length;

    await s.run('setSecret');

    const { context } = s.memory.calls[0] as { context: PendingContext };
    expect(context).toMatchObject({ step: 'setSecret', secretId: SECRET, token: TOKEN });
    expect(context.current.versionId).toBe(s.firstVersion);
    expect(context.current.json()).toEqual(CURRENT);
    expect(context.pending.versionId).toBe(TOKEN);
    expect(context.pending.versionStages).toEqual(['AWSPENDING']);
    expect(context.pending.json().password).toBe(s.client.passwords[0]);
    expect(Object.isFrozen(context)).toBe(true);
    expect(s.client.calls.slice(calls).map((call) => call.input)).toEqual([
      { SecretId: SECRET },
      { SecretId: SECRET, VersionStage: 'AWSCURRENT' },
      { SecretId: SECRET, VersionId: TOKEN, VersionStage: 'AWSPENDING' },
    ]);
  });

  it('names the step in the context: testSecret for testPending in testSecret', async () => {
    const s = setup();
    await s.before('testSecret');

    await s.run('testSecret');

    expect(s.memory.calls.at(-1)?.context.step).toBe('testSecret');
  });

  /** A target whose setPending calls previous() twice and records what each call resolved to. */
  function previousRecorder() {
    const seen: unknown[] = [];
    const target: RotationTarget = {
      setPending: async (context) => {
        seen.push(await context.previous(), await context.previous());
      },
      testPending: async () => {
        if (seen.length === 0) throw new Error('not yet');
      },
    };
    return { seen, target };
  }

  it('fetches AWSPREVIOUS when previous() is called, once however often', async () => {
    const { seen, target } = previousRecorder();
    const s = setup({ target });
    s.client.put(SECRET, JSON.stringify(CURRENT), ['AWSCURRENT']); // the first version becomes AWSPREVIOUS
    await s.run('createSecret');

    await s.run('setSecret');

    const reads = s.client
      .callsOf('GetSecretValue')
      .filter((call) => call.input.VersionStage === 'AWSPREVIOUS');
    expect(reads.map((call) => call.input)).toEqual([{ SecretId: SECRET, VersionStage: 'AWSPREVIOUS' }]);
    expect((seen[0] as { versionId: string }).versionId).toBe(s.firstVersion);
    expect(seen[1]).toBe(seen[0]);
  });

  it('resolves previous() to undefined when the secret has no AWSPREVIOUS version', async () => {
    const { seen, target } = previousRecorder();
    const s = setup({ target });
    await s.run('createSecret');

    await s.run('setSecret');

    expect(seen).toEqual([undefined, undefined]);
  });

  it('rejects previous() with AWS_FAILED when reading AWSPREVIOUS fails otherwise', async () => {
    const { target } = previousRecorder();
    const s = setup({ target });
    await s.run('createSecret');
    s.client.failWhen = (call) =>
      call.input.VersionStage === 'AWSPREVIOUS' ? awsError('AccessDeniedException') : undefined;

    const error = await rejection(s.run('setSecret'));

    expect(error.code).toBe('AWS_FAILED');
    expect(error.message).toBe(
      `GetSecretValue failed for secret "${SECRET}" in setSecret: AccessDeniedException.`,
    );
  });

  it('reads no AWSPREVIOUS when the target does not ask for it', async () => {
    const s = setup();
    for (const step of ROTATION_STEPS) await s.run(step);

    expect(
      s.client.callsOf('GetSecretValue').filter((call) => call.input.VersionStage === 'AWSPREVIOUS'),
    ).toEqual([]);
  });

  it('hands over versions whose GetSecretValue answer lacks VersionId and VersionStages: the id asked for, or none', async () => {
    const seen: unknown[] = [];
    const s = setup({
      target: {
        setPending: async ({ current, pending }) => {
          seen.push([current.versionId, current.versionStages], [pending.versionId, pending.versionStages]);
        },
        testPending: async () => {
          throw new Error('not yet');
        },
      },
    });
    await s.run('createSecret');
    const send = s.client.send.bind(s.client);
    vi.spyOn(s.client, 'send').mockImplementation(async (command) => {
      const output = await send(command);
      return command instanceof GetSecretValueCommand
        ? Object.fromEntries(
            Object.entries(output).filter(([key]) => key !== 'VersionId' && key !== 'VersionStages'),
          )
        : output;
    });

    await s.run('setSecret');

    expect(seen).toEqual([
      ['', []],
      [TOKEN, []],
    ]);
  });

  it('reads a SecretString of null beside a SecretBinary as a binary value', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const seen: unknown[] = [];
    const s = setup({
      target: {
        setPending: async ({ current }) => {
          seen.push(current.secretString, current.secretBinary);
        },
        testPending: async () => {
          throw new Error('not yet');
        },
      },
    });
    await s.run('createSecret');
    const send = s.client.send.bind(s.client);
    vi.spyOn(s.client, 'send').mockImplementation(async (command) => {
      const output = await send(command);
      return command instanceof GetSecretValueCommand && output.VersionId === s.firstVersion
        ? { ...output, SecretString: null, SecretBinary: bytes }
        : output;
    });

    await s.run('setSecret');

    expect(seen).toEqual([undefined, bytes]);
  });

  it('reads another secret AWSCURRENT with readSecret', async () => {
    const read: unknown[] = [];
    const s = setup({
      target: {
        setPending: async (context) => {
          read.push((await context.readSecret('prod/superuser')).json());
        },
        testPending: async () => {
          if (read.length === 0) throw new Error('not yet');
        },
      },
    });
    s.client.create('prod/superuser', JSON.stringify({ username: 'admin', password: 'SENSITIVE-admin' }));
    await s.run('createSecret');

    await s.run('setSecret');

    expect(read).toEqual([{ username: 'admin', password: 'SENSITIVE-admin' }]);
    expect(s.client.callsOf('GetSecretValue').at(-1)?.input).toEqual({
      SecretId: 'prod/superuser',
      VersionStage: 'AWSCURRENT',
    });
  });

  it('passes readSecret failures through as AWS_FAILED naming the other secret, not SET_FAILED', async () => {
    const s = setup({
      target: {
        setPending: async (context) => {
          await context.readSecret('prod/missing-superuser');
        },
        testPending: async () => {
          throw new Error('not yet');
        },
      },
    });
    await s.run('createSecret');

    const error = await rejection(s.run('setSecret'));

    expect(error).toMatchObject({ code: 'AWS_FAILED', step: 'setSecret', secretId: SECRET });
    expect(error.message).toBe(
      'GetSecretValue failed for secret "prod/missing-superuser" in setSecret: ResourceNotFoundException.',
    );
  });

  it('makes json() of another secret INVALID_SECRET naming that secret', async () => {
    const s = setup({
      target: {
        setPending: async (context) => {
          (await context.readSecret('prod/superuser')).json();
        },
        testPending: async () => {
          throw new Error('not yet');
        },
      },
    });
    s.client.create('prod/superuser', 'SENSITIVE-plain-text');
    await s.run('createSecret');

    const error = await rejection(s.run('setSecret'));

    expect(error).toMatchObject({ code: 'INVALID_SECRET', secretId: SECRET });
    expect(error.message).toContain('of secret "prod/superuser" is not valid JSON');
  });

  it.each([
    ['an empty string', ''],
    ['a number', 7],
    ['one character too long', 'x'.repeat(2049)],
  ])('rejects readSecret of %s with a TypeError, which setSecret reports as SET_FAILED', async (_, id) => {
    const s = setup({
      target: {
        setPending: async (context) => {
          await context.readSecret(id as string);
        },
        testPending: async () => {
          throw new Error('not yet');
        },
      },
    });
    await s.run('createSecret');

    const error = await rejection(s.run('setSecret'));

    expect(error.code).toBe('SET_FAILED');
    expect(error.cause).toEqual(
      new TypeError(
        'Expected the secret id given to readSecret to be a non-empty string of at most 2048 characters.',
      ),
    );
    expect(s.client.callsOf('GetSecretValue').filter((call) => call.input.SecretId !== SECRET)).toEqual([]);
  });

  it('reads another secret named by an id of the maximum length', async () => {
    const other = 'x'.repeat(2048);
    const s = setup({
      target: {
        setPending: async (context) => {
          await context.readSecret(other);
        },
        testPending: async () => {
          throw new Error('not yet');
        },
      },
    });
    s.client.create(other, 'a value');
    await s.run('createSecret');

    await s.run('setSecret');

    expect(s.client.callsOf('GetSecretValue').at(-1)?.input).toEqual({
      SecretId: other,
      VersionStage: 'AWSCURRENT',
    });
  });

  it('is SET_FAILED when setPending fails, with its error as cause and only its name in the message', async () => {
    const s = setup();
    const cause = new Error(`password authentication failed: ${CURRENT_PASSWORD}`);
    s.memory.failSet = cause;
    await s.run('createSecret');

    const error = await rejection(s.run('setSecret'));

    expect(error).toMatchObject({ code: 'SET_FAILED', step: 'setSecret', secretId: SECRET, cause });
    expect(error.message).toBe(
      `setPending failed for version ${TOKEN} of secret "${SECRET}" in setSecret: Error.`,
    );
    expect(error.message).not.toContain(CURRENT_PASSWORD);
    expect(JSON.stringify(error)).not.toContain(CURRENT_PASSWORD);
    expect(s.logs.at(-1)).toMatchObject({ outcome: 'failed', code: 'SET_FAILED', message: error.message });
  });

  it('passes a RotationError from setPending through with its own code', async () => {
    const s = setup();
    const own = new RotationError('INVALID_SECRET', 'setSecret', SECRET, 'the user names differ');
    s.memory.failSet = own;
    await s.run('createSecret');

    await expect(s.run('setSecret')).rejects.toBe(own);
  });

  it('reports a thrown non-error by a neutral name', async () => {
    const s = setup();
    s.memory.failSet = 'SENSITIVE-thrown-string';
    await s.run('createSecret');

    const error = await rejection(s.run('setSecret'));

    expect(error.message).toBe(
      `setPending failed for version ${TOKEN} of secret "${SECRET}" in setSecret: an error.`,
    );
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
  ])('reports %s thrown by setPending by the same neutral name', async (_, thrown) => {
    const s = setup({
      target: {
        setPending: async () => {
          throw thrown;
        },
        testPending: async () => {
          throw new Error('not yet');
        },
      },
    });
    await s.run('createSecret');

    const error = await rejection(s.run('setSecret'));

    expect(error.code).toBe('SET_FAILED');
    expect(error.message).toBe(
      `setPending failed for version ${TOKEN} of secret "${SECRET}" in setSecret: an error.`,
    );
  });

  it('is TEST_FAILED when testPending fails, with its error as cause', async () => {
    const s = setup();
    await s.before('testSecret');
    const cause = Object.assign(new Error('no login'), { name: 'DatabaseError', code: '28P01' });
    s.memory.failTest = cause;

    const error = await rejection(s.run('testSecret'));

    expect(error).toMatchObject({ code: 'TEST_FAILED', step: 'testSecret', secretId: SECRET, cause });
    expect(error.message).toBe(
      `testPending failed for version ${TOKEN} of secret "${SECRET}" in testSecret: DatabaseError.`,
    );
    expect(error.toJSON()).toMatchObject({ cause: 'DatabaseError', causeCode: '28P01' });
  });

  it('passes a RotationError from testPending through with its own code', async () => {
    const s = setup();
    await s.before('testSecret');
    const own = new RotationError('INVALID_SECRET', 'testSecret', SECRET, 'pending has no user name');
    s.memory.failTest = own;

    await expect(s.run('testSecret')).rejects.toBe(own);
  });
});

describe('rotationHandler: finishSecret', () => {
  it('moves AWSCURRENT from the current version to the token, naming both, then takes AWSPENDING off the token', async () => {
    const s = setup();
    await s.before('finishSecret');
    const calls = s.client.calls.length;

    await s.run('finishSecret');

    expect(s.client.calls.slice(calls)).toEqual([
      { operation: 'DescribeSecret', input: { SecretId: SECRET } },
      {
        operation: 'GetSecretValue',
        input: { SecretId: SECRET, VersionId: TOKEN, VersionStage: 'AWSPENDING' },
      },
      {
        operation: 'UpdateSecretVersionStage',
        input: {
          SecretId: SECRET,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: TOKEN,
          RemoveFromVersionId: s.firstVersion,
        },
      },
      {
        operation: 'UpdateSecretVersionStage',
        input: { SecretId: SECRET, VersionStage: 'AWSPENDING', RemoveFromVersionId: TOKEN },
      },
    ]);
    expect(s.client.stages(SECRET)).toEqual({ [s.firstVersion]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT'] });
  });

  it('moves AWSCURRENT to the token from no version when none holds it, and says so', async () => {
    const s = setup();
    await s.before('finishSecret');
    const current = s.client.version(SECRET, s.firstVersion);
    if (current !== undefined) current.stages = [];

    await s.run('finishSecret');

    expect(s.client.stages(SECRET)).toEqual({ [TOKEN]: ['AWSCURRENT'] });
    expect(s.logs.at(-1)).toMatchObject({
      outcome: 'finished',
      message: `Moved AWSCURRENT to version ${TOKEN} of secret "${SECRET}".`,
    });
  });

  it('names the version AWSCURRENT moved from', async () => {
    const s = setup();
    await s.before('finishSecret');

    await s.run('finishSecret');

    expect(s.logs.at(-1)?.message).toBe(
      `Moved AWSCURRENT to version ${TOKEN} of secret "${SECRET}" (it was version ${s.firstVersion}).`,
    );
  });

  it('counts the rotation finished when a retry follows a failure to take AWSPENDING off the token', async () => {
    const s = setup();
    await s.before('finishSecret');
    s.client.failWhen = (call) =>
      call.operation === 'UpdateSecretVersionStage' && call.input.VersionStage === 'AWSPENDING'
        ? awsError('InternalServiceError')
        : undefined;
    const error = await rejection(s.run('finishSecret'));
    s.client.failWhen = undefined;

    await s.run('finishSecret');

    expect(error.message).toBe(
      `UpdateSecretVersionStage failed for secret "${SECRET}" in finishSecret: InternalServiceError.`,
    );
    expect(s.logs.at(-1)?.outcome).toBe('already-current');
    // AWS documents AWSPENDING on the AWSCURRENT version as one end state of a successful rotation.
    expect(s.client.stages(SECRET)).toEqual({
      [s.firstVersion]: ['AWSPREVIOUS'],
      [TOKEN]: ['AWSCURRENT', 'AWSPENDING'],
    });
  });

  it('removes AWSPENDING from any other version first (a store that let the label sit on two)', async () => {
    const s = setup();
    await s.before('finishSecret');
    const stray = s.client.put(SECRET, 'stray', []);
    s.client.version(SECRET, stray)?.stages.push('AWSPENDING');

    await s.run('finishSecret');

    const updates = s.client.callsOf('UpdateSecretVersionStage').map((call) => call.input);
    expect(updates[0]).toEqual({ SecretId: SECRET, VersionStage: 'AWSPENDING', RemoveFromVersionId: stray });
    expect(updates[1]).toMatchObject({ VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN });
    expect(s.client.version(SECRET, stray)?.stages).toEqual([]);
  });

  it('completes when retried after the move failed', async () => {
    const s = setup();
    await s.before('finishSecret');
    s.client.failWhen = (call) =>
      call.operation === 'UpdateSecretVersionStage' ? awsError('InternalServiceError') : undefined;
    await rejection(s.run('finishSecret'));
    s.client.failWhen = undefined;

    await s.run('finishSecret');

    expect(s.client.stages(SECRET)).toEqual({
      [s.firstVersion]: ['AWSPREVIOUS'],
      [TOKEN]: ['AWSCURRENT'],
    });
  });
});

describe('rotationHandler: Secrets Manager failures', () => {
  it.each(ROTATION_STEPS)(
    'maps a failure of each Secrets Manager call of %s to AWS_FAILED naming the call, and a retry completes the step',
    async (step) => {
      const baseline = setup();
      await baseline.before(step);
      const start = baseline.client.calls.length;
      await baseline.run(step);
      const operations = baseline.client.calls.slice(start).map((call) => call.operation);
      expect(operations.length).toBeGreaterThanOrEqual(3);

      for (const [index, operation] of operations.entries()) {
        const s = setup();
        await s.before(step);
        const failing = s.client.calls.length + index;
        const cause = awsError('ThrottlingException', 'Rate exceeded');
        s.client.failWhen = () => (s.client.calls.length - 1 === failing ? cause : undefined);

        const error = await rejection(s.run(step));

        expect(error).toMatchObject({ code: 'AWS_FAILED', step, secretId: SECRET, cause });
        expect(error.message).toBe(
          `${operation} failed for secret "${SECRET}" in ${step}: ThrottlingException.`,
        );
        expect(s.logs.at(-1)).toMatchObject({ step, outcome: 'failed', code: 'AWS_FAILED' });

        await s.run(step);
        expect(s.logs.at(-1)?.outcome).not.toBe('failed');
      }
    },
  );

  it('is AWS_FAILED when GetRandomPassword answers without a password', async () => {
    const s = setup();
    const send = s.client.send.bind(s.client);
    vi.spyOn(s.client, 'send').mockImplementation(async (command) => {
      const output = await send(command);
      return 'RandomPassword' in output ? {} : output;
    });

    const error = await rejection(s.run('createSecret'));

    expect(error).toMatchObject({ code: 'AWS_FAILED', step: 'createSecret' });
    expect(error.message).toBe(
      `GetRandomPassword answered without a password for secret "${SECRET}" in createSecret.`,
    );
    expect(s.client.writes()).toEqual([]);
  });

  it('is AWS_FAILED when GetRandomPassword answers an empty password', async () => {
    const s = setup();
    const send = s.client.send.bind(s.client);
    vi.spyOn(s.client, 'send').mockImplementation(async (command) => {
      const output = await send(command);
      return 'RandomPassword' in output ? { RandomPassword: '' } : output;
    });

    const error = await rejection(s.run('createSecret'));

    expect(error.message).toBe(
      `GetRandomPassword answered without a password for secret "${SECRET}" in createSecret.`,
    );
    expect(s.client.writes()).toEqual([]);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
  ])(
    'is AWS_FAILED, naming no error, when the client rejects the pending read with %s',
    async (_, thrown) => {
      const s = setup();
      const send = s.client.send.bind(s.client);
      vi.spyOn(s.client, 'send').mockImplementation(async (command) => {
        if ((command as GetSecretValueCommand).input.VersionId === TOKEN) throw thrown;
        return send(command);
      });

      const error = await rejection(s.run('createSecret'));

      expect(error).toMatchObject({ code: 'AWS_FAILED', step: 'createSecret' });
      expect(error.message).toBe(`GetSecretValue failed for secret "${SECRET}" in createSecret: an error.`);
      expect(s.client.writes()).toEqual([]);
    },
  );

  it('is AWS_FAILED when the client send throws synchronously', async () => {
    const rotate = rotationHandler(new MemoryTarget(), {
      client: {
        send: () => {
          throw awsError('UnknownError');
        },
      },
      log: false,
    });

    const error = await rejection(
      rotate({ Step: 'createSecret', SecretId: SECRET, ClientRequestToken: TOKEN }),
    );

    expect(error.message).toBe(`DescribeSecret failed for secret "${SECRET}" in createSecret: UnknownError.`);
  });

  it('names an SDK error with an odd name neutrally', async () => {
    const s = setup();
    s.client.failWhen = () => awsError('Bad\nName with spaces');

    const error = await rejection(s.run('createSecret'));

    expect(error.message).toBe(`DescribeSecret failed for secret "${SECRET}" in createSecret: an error.`);
  });
});

describe('rotationHandler: hostile events', () => {
  const valid: RotationEvent = { Step: 'createSecret', SecretId: SECRET, ClientRequestToken: TOKEN };

  it('rejects any value that is not a rotation event with INVALID_EVENT, calling no AWS operation', async () => {
    const s = setup();
    await fc.assert(
      fc.asyncProperty(hostileEvent(valid), async (event) => {
        let pending: Promise<void> | undefined;
        expect(() => {
          pending = s.rotate(event as RotationEvent);
        }).not.toThrow();

        const error = await rejection(pending as Promise<void>);

        expect(error.code).toBe('INVALID_EVENT');
        expect(s.client.calls).toEqual([]);
        expect(s.logs.at(-1)).toMatchObject({ outcome: 'failed', code: 'INVALID_EVENT', token: '' });
      }),
      { numRuns: propertyRuns(1_000) },
    );
  });

  it('rejects a revoked proxy with INVALID_EVENT and logs it so, calling no AWS operation', async () => {
    const s = setup();
    const { proxy, revoke } = Proxy.revocable({ ...valid }, {});
    revoke();

    const error = await rejection(s.rotate(proxy));

    expect(error.code).toBe('INVALID_EVENT');
    expect(s.client.calls).toEqual([]);
    expect(s.logs).toEqual([
      {
        step: undefined,
        secretId: '',
        token: '',
        outcome: 'failed',
        code: 'INVALID_EVENT',
        message: error.message,
      },
    ]);
  });

  it('logs an invalid event with the step and secret id it had right', async () => {
    const s = setup();

    await rejection(s.rotate({ ...valid, Step: 'finishSecret', ClientRequestToken: '' }));

    expect(s.logs).toEqual([
      {
        step: 'finishSecret',
        secretId: SECRET,
        token: '',
        outcome: 'failed',
        code: 'INVALID_EVENT',
        message: expect.stringContaining('`ClientRequestToken` must be a non-empty string'),
      },
    ]);
  });

  it('takes a valid event with keys AWS may add', async () => {
    const s = setup();

    await s.rotate({ ...valid, SomethingNew: 1 } as RotationEvent, { awsRequestId: 'x' });

    expect(outcomes(s.logs)).toEqual(['created']);
  });
});

describe('rotationHandler: options', () => {
  const target = new MemoryTarget();

  it('takes no options, or every option set to undefined', () => {
    expect(typeof rotationHandler(target)).toBe('function');
    expect(
      typeof rotationHandler(target, {
        client: undefined,
        passwordLength: undefined,
        excludeCharacters: undefined,
        log: undefined,
      } as unknown as RotationHandlerOptions),
    ).toBe('function');
  });

  it.each([
    [
      'passwordLenght',
      'Unknown option `passwordLenght` in options of rotationHandler; did you mean `passwordLength`?',
    ],
    ['Client', 'Unknown option `Client` in options of rotationHandler; did you mean `client`?'],
    [
      'excludeChars',
      'Unknown option `excludeChars` in options of rotationHandler; did you mean `excludeCharacters`?',
    ],
    [
      'region',
      'Unknown option `region` in options of rotationHandler; expected one of `client`, `passwordLength`, `excludeCharacters`, `log`.',
    ],
  ])('rejects the unknown option %s with a TypeError naming it', (key, message) => {
    expect(() => rotationHandler(target, { [key]: 1 } as RotationHandlerOptions)).toThrow(
      new TypeError(message),
    );
  });

  it.each([
    ['client', 'null', null],
    ['client', 'a value of type object', {}],
    ['client', 'a string of length 14', 'secretsmanager'],
    ['client', 'a value of type function', Object.assign(() => {}, { send: async () => ({}) })],
    ['passwordLength', '3', 3],
    ['passwordLength', '4097', 4097],
    ['passwordLength', '10.5', 10.5],
    ['passwordLength', 'NaN', Number.NaN],
    ['passwordLength', 'a string of length 2', '32'],
    ['excludeCharacters', '5', 5],
    ['excludeCharacters', 'a string of length 4097', 'x'.repeat(4097)],
    ['log', 'true', true],
    ['log', 'a string of length 7', 'console'],
  ])('rejects %s given %s with a TypeError', (key, shown, value) => {
    const expected = {
      client: 'a SecretsManagerClient or an object with a `send()` method',
      passwordLength: 'an integer from 4 to 4096',
      excludeCharacters: 'a string of at most 4096 characters',
      log: 'a function or false',
    }[key];
    expect(() => rotationHandler(target, { [key]: value } as RotationHandlerOptions)).toThrow(
      new TypeError(`Expected \`${key}\` to be ${expected}, got ${shown}.`),
    );
  });

  it('accepts passwordLength 4 and 4096', () => {
    expect(() => rotationHandler(target, { passwordLength: 4 })).not.toThrow();
    expect(() => rotationHandler(target, { passwordLength: 4096 })).not.toThrow();
  });

  it('accepts excludeCharacters of up to 4096 characters', () => {
    expect(() => rotationHandler(target, { excludeCharacters: 'x'.repeat(4096) })).not.toThrow();
  });

  it.each([
    ['null', null, 'null'],
    ['a string', 'x', 'a string of length 1'],
    ['an array', [], 'a value of type object'],
    ['a number', 1, '1'],
  ])('rejects options that are %s', (_, options, shown) => {
    expect(() => rotationHandler(target, options as unknown as RotationHandlerOptions)).toThrow(
      new TypeError(`Expected \`options\` of rotationHandler to be an object, got ${shown}.`),
    );
  });

  it.each([
    ['null', null],
    ['an empty object', {}],
    ['an object without testPending', { setPending: async () => {} }],
    ['an object without setPending', { testPending: async () => {} }],
    ['a function', () => {}],
    [
      'a function with both methods',
      Object.assign(() => {}, { setPending: async () => {}, testPending: async () => {} }),
    ],
  ])('rejects a target that is %s', (_, bad) => {
    expect(() => rotationHandler(bad as unknown as RotationTarget)).toThrow(
      /^Expected `target` to be an object with `setPending\(\)` and `testPending\(\)` methods, got /,
    );
  });

  it('rejects a target whose createPending is not a function', () => {
    const bad = { setPending: async () => {}, testPending: async () => {}, createPending: 'x' };

    expect(() => rotationHandler(bad as unknown as RotationTarget)).toThrow(
      new TypeError('Expected `target.createPending` to be a function when given, got a string of length 1.'),
    );
  });

  it('prints nothing by default, and publishes each invocation on secretcache:rotation', async () => {
    const printed = ['log', 'info', 'warn', 'error', 'debug'].map((method) =>
      vi.spyOn(console, method as 'log').mockImplementation(() => {}),
    );
    const published: unknown[] = [];
    const listener = (message: unknown): void => {
      published.push(message);
    };
    subscribe('secretcache:rotation', listener);
    const client = new RotationClient();
    client.create(SECRET, JSON.stringify(CURRENT));
    client.startRotation(SECRET, TOKEN);
    const rotate = rotationHandler(new MemoryTarget(), { client });
    try {
      await rotate({ Step: 'createSecret', SecretId: SECRET, ClientRequestToken: TOKEN });
    } finally {
      unsubscribe('secretcache:rotation', listener);
    }

    for (const spy of printed) expect(spy).not.toHaveBeenCalled();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      step: 'createSecret',
      secretId: SECRET,
      token: TOKEN,
      outcome: 'created',
    });
  });

  it('logs nothing with log: false', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const s = setup({ options: { log: false } });

    await s.run('createSecret');

    expect(info).not.toHaveBeenCalled();
  });

  it('ignores a log function that throws: the step outcome stands', async () => {
    const s = setup({
      options: {
        log: () => {
          throw new Error('log sink down');
        },
      },
    });

    await expect(s.run('createSecret')).resolves.toBeUndefined();
    const error = await rejection(s.run('createSecret', { ClientRequestToken: 'unknown' }));
    expect(error.code).toBe('UNKNOWN_VERSION');
  });
});

describe('rotationHandler: no value reaches an error or a log entry', () => {
  it('logs nothing of the current or the new value over a full rotation', async () => {
    const s = setup();

    for (const step of ROTATION_STEPS) {
      await s.run(step);
      await s.run(step);
    }

    const rendered = renderingsOf(s.logs);
    expectNoFragment(rendered, CURRENT_PASSWORD);
    expectNoFragment(rendered, s.client.passwords[0] ?? '', 8);
    expectNoFragment(rendered, JSON.stringify(CURRENT), 12);
  });

  it('renders no value in the contexts a target is handed', async () => {
    const s = setup();
    for (const step of ROTATION_STEPS) await s.run(step);

    const rendered = renderingsOf(s.memory.calls.map((call) => call.context));

    expectNoFragment(rendered, CURRENT_PASSWORD);
    expectNoFragment(rendered, s.client.passwords[0] ?? '', 8);
  });

  it('puts no value in any error or log entry of a failing step', async () => {
    const errors: RotationError[] = [];
    const collect = async (promise: Promise<unknown>) => {
      errors.push(await rejection(promise));
    };
    const notJson = setup({ value: `{"password":"${CURRENT_PASSWORD}"` });
    await collect(notJson.run('createSecret'));
    const setFails = setup();
    setFails.memory.failSet = new Error('refused');
    await setFails.run('createSecret');
    await collect(setFails.run('setSecret'));
    await collect(setFails.run('testSecret'));
    const awsFails = setup();
    await awsFails.before('finishSecret');
    awsFails.client.failWhen = (call) =>
      call.operation === 'UpdateSecretVersionStage' ? awsError('AccessDeniedException') : undefined;
    await collect(awsFails.run('finishSecret'));

    const rendered = renderingsOf([errors, notJson.logs, setFails.logs, awsFails.logs]);

    expect(errors.map((error) => error.code)).toEqual([
      'INVALID_SECRET',
      'SET_FAILED',
      'TEST_FAILED',
      'AWS_FAILED',
    ]);
    expectNoFragment(rendered, CURRENT_PASSWORD);
    for (const password of [...setFails.client.passwords, ...awsFails.client.passwords]) {
      expectNoFragment(rendered, password, 8);
    }
    expect(isRotationError(errors[0])).toBe(true);
  });
});
