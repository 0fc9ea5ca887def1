import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRotationError, type RotationError } from '../../src/rotation/errors.js';
import { MAX_EVENT_FIELD_LENGTH, parseRotationEvent, ROTATION_STEPS } from '../../src/rotation/event.js';
import { hostileEvent } from '../support/rotation-client.js';
import { propertyRuns } from '../support/runs.js';

const VALID = {
  Step: 'createSecret',
  SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/orders/db-AbCdEf',
  ClientRequestToken: '5a3c7a1e-1b7d-4bde-9d2e-2f6f0b8e4c11',
} as const;

function invalidEvent(event: unknown): RotationError {
  let caught: unknown;
  try {
    parseRotationEvent(event);
  } catch (error) {
    caught = error;
  }
  expect(isRotationError(caught)).toBe(true);
  expect((caught as RotationError).code).toBe('INVALID_EVENT');
  return caught as RotationError;
}

/** Strings no field accepts, though each is a string: empty, too long, or with a character that is not printable. */
const UNACCEPTABLE_STRINGS: ReadonlyArray<readonly [string, string]> = [
  ['empty', ''],
  ['one character too long', 'a'.repeat(MAX_EVENT_FIELD_LENGTH + 1)],
  ['a line feed', 'prod/db\nforged log line'],
  ['a carriage return', 'prod/db\r'],
  ['a NUL', 'prod\u0000db'],
  ['a DEL', 'prod\u007fdb'],
  ['a C1 control', 'prod\u0085db'],
  ['a right-to-left override', 'prod\u202edb'],
  ['a zero-width space', 'prod\u200bdb'],
  ['a line separator', 'prod\u2028db'],
  ['a lone high surrogate', 'prod\ud800db'],
  ['a lone low surrogate', 'prod\udc00db'],
];

describe('parseRotationEvent', () => {
  it('returns a frozen copy of the four fields and ignores keys AWS may add', () => {
    const event = { ...VALID, RotationToken: 'rotation-token-1', SomethingNew: { nested: true } };

    const parsed = parseRotationEvent(event);

    expect(parsed).toEqual({ ...VALID, RotationToken: 'rotation-token-1' });
    expect(parsed).not.toBe(event);
    expect(Object.isFrozen(parsed)).toBe(true);
  });

  it('leaves RotationToken out when the event has none', () => {
    expect(Object.keys(parseRotationEvent(VALID))).toEqual(['Step', 'SecretId', 'ClientRequestToken']);
  });

  it.each(ROTATION_STEPS)('accepts the step %s', (step) => {
    expect(parseRotationEvent({ ...VALID, Step: step }).Step).toBe(step);
  });

  it('accepts fields of exactly the maximum length, spaces and non-ASCII letters', () => {
    const long = 'a'.repeat(MAX_EVENT_FIELD_LENGTH);
    const event = {
      ...VALID,
      SecretId: long,
      ClientRequestToken: 'token with spaces é 秘密 🔑',
      RotationToken: long,
    };

    expect(parseRotationEvent(event)).toEqual(event);
  });

  it('reads each field of the caller object once, so a getter cannot answer differently later', () => {
    const reads = new Map<string, number>();
    const event = Object.fromEntries(Object.keys(VALID).map((key) => [key, undefined])) as Record<
      string,
      unknown
    >;
    for (const [key, value] of Object.entries({ ...VALID, RotationToken: 'rt' })) {
      Object.defineProperty(event, key, {
        enumerable: true,
        get: () => {
          reads.set(key, (reads.get(key) ?? 0) + 1);
          return value;
        },
      });
    }

    parseRotationEvent(event);

    expect([...reads.values()]).toEqual([1, 1, 1, 1]);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', JSON.stringify(VALID)],
    ['a number', 42],
    ['a boolean', true],
    ['a symbol', Symbol('event')],
    ['a bigint', 10n],
    ['a function', () => VALID],
    ['an array', [VALID]],
  ])('rejects %s as the event, with no step and no secret id', (_, event) => {
    const error = invalidEvent(event);

    expect(error.step).toBeUndefined();
    expect(error.secretId).toBe('');
    expect(error.message).toMatch(/^Invalid rotation event: the event must be an object, got /);
  });

  it.each([
    ['missing', undefined, 'none'],
    ['misspelt', 'createsecret', '"createsecret"'],
    ['an AWS stage name', 'AWSPENDING', '"AWSPENDING"'],
    ['a number', 1, '1'],
    ['an object', { step: 'createSecret' }, 'a value of type object'],
    ['a long string', 'x'.repeat(100), 'a string of length 100'],
    ['a string with a line break', 'create\nSecret', 'a string of length 13'],
    ['empty', '', 'a string of length 0'],
    ['32 printable characters', 'x'.repeat(32), JSON.stringify('x'.repeat(32))],
    ['33 printable characters', 'x'.repeat(33), 'a string of length 33'],
    ['a symbol', Symbol('createSecret'), 'a symbol'],
    ['a bigint', 10n, 'a bigint'],
    ['an array', ['createSecret'], 'an array'],
  ])('rejects a Step that is %s, with step undefined and the valid secret id kept', (_, step, shown) => {
    const error = invalidEvent({ ...VALID, Step: step });

    expect(error.step).toBeUndefined();
    expect(error.secretId).toBe(VALID.SecretId);
    expect(error.message).toBe(
      `Invalid rotation event: \`Step\` must be one of createSecret, setSecret, testSecret, finishSecret, got ${shown}.`,
    );
  });

  it('rejects a Step whose getter throws, saying so', () => {
    const event = Object.defineProperty({ ...VALID }, 'Step', {
      get: () => {
        throw new Error('boom');
      },
    });

    expect(invalidEvent(event).message).toBe(
      'Invalid rotation event: `Step` must be one of createSecret, setSecret, testSecret, finishSecret, got a property that throws when read.',
    );
  });

  it('rejects an unknown Step before looking at the other fields; the secret id is empty when invalid too', () => {
    const error = invalidEvent({ Step: 'rotate', SecretId: 42 });

    expect(error.step).toBeUndefined();
    expect(error.secretId).toBe('');
  });

  describe.each(['SecretId', 'ClientRequestToken', 'RotationToken'] as const)('the field %s', (field) => {
    const expectedSecretId = field === 'SecretId' ? '' : VALID.SecretId;

    it.each([
      ['a number', 42, '42'],
      ['null', null, 'null'],
      ['an object', { id: 'x' }, 'a value of type object'],
      ['an array', ['x'], 'an array'],
    ])('is rejected when it is %s, naming the step', (_, value, shown) => {
      const error = invalidEvent({ ...VALID, Step: 'setSecret', [field]: value });

      expect(error.step).toBe('setSecret');
      expect(error.secretId).toBe(expectedSecretId);
      expect(error.message).toBe(
        `Invalid rotation event: \`${field}\` must be a non-empty string of at most ${MAX_EVENT_FIELD_LENGTH} printable characters, got ${shown}.`,
      );
    });

    it.each([
      ['empty', '', 'a string of length 0'],
      ['one character too long', 'a'.repeat(MAX_EVENT_FIELD_LENGTH + 1), 'a string of length 2049'],
      ['too long and not printable', `${'a'.repeat(MAX_EVENT_FIELD_LENGTH)}\n`, 'a string of length 2049'],
      ['a line feed', 'prod/db\nforged', 'a string of length 14 with a character that is not printable'],
      [
        'the maximum length and a NUL',
        `${'a'.repeat(MAX_EVENT_FIELD_LENGTH - 1)}\u0000`,
        'a string of length 2048 with a character that is not printable',
      ],
      [
        'one character, not printable',
        '\u202e',
        'a string of length 1 with a character that is not printable',
      ],
      ['a symbol', Symbol('token'), 'a symbol'],
      ['a bigint', 10n, 'a bigint'],
    ])('is rejected when it is %s, described by type and length only', (_, value, shown) => {
      const error = invalidEvent({ ...VALID, Step: 'testSecret', [field]: value });

      expect(error.message).toBe(
        `Invalid rotation event: \`${field}\` must be a non-empty string of at most ${MAX_EVENT_FIELD_LENGTH} printable characters, got ${shown}.`,
      );
    });

    it.each(UNACCEPTABLE_STRINGS)('is rejected when it has %s, without quoting it', (_, value) => {
      const error = invalidEvent({ ...VALID, Step: 'testSecret', [field]: value });

      expect(error.step).toBe('testSecret');
      expect(error.secretId).toBe(expectedSecretId);
      expect(error.message).toContain(`\`${field}\` must be a non-empty string`);
      if (value.length > 0) expect(error.message).not.toContain(value);
    });
  });

  it.each(['SecretId', 'ClientRequestToken'])('rejects an event without %s', (field) => {
    const event: Record<string, unknown> = { ...VALID };
    delete event[field];

    expect(invalidEvent(event).message).toContain(`\`${field}\` must be a non-empty string`);
  });

  it('rejects an event whose getter throws, and a proxy that throws on every read', () => {
    const throwing = Object.defineProperty({ ...VALID }, 'ClientRequestToken', {
      get: () => {
        throw new Error('boom');
      },
    });
    const proxy = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
      },
    );

    expect(invalidEvent(throwing).message).toContain('got a property that throws when read');
    expect(invalidEvent(proxy).step).toBeUndefined();
  });

  // Array.isArray throws for a revoked proxy (typeof 'object'): it once escaped as that TypeError.
  it('rejects a revoked proxy with INVALID_EVENT, as an object whose every property throws when read', () => {
    const { proxy, revoke } = Proxy.revocable({ ...VALID }, {});
    revoke();

    const error = invalidEvent(proxy);

    expect(error.step).toBeUndefined();
    expect(error.secretId).toBe('');
    expect(error.message).toBe(
      'Invalid rotation event: `Step` must be one of createSecret, setSecret, testSecret, finishSecret, got a property that throws when read.',
    );
  });

  it.each(['Step', 'SecretId', 'ClientRequestToken', 'RotationToken'])(
    'rejects a revoked proxy as %s with INVALID_EVENT, describing it as an object',
    (field) => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();

      const error = invalidEvent({ ...VALID, [field]: proxy });

      expect(error.message).toMatch(/, got a value of type object\.$/);
    },
  );

  it('rejects any value that is not a valid event with INVALID_EVENT, and nothing else', () => {
    fc.assert(
      fc.property(hostileEvent(VALID), (event) => {
        const error = invalidEvent(event);
        expect(error.name).toBe('RotationError');
      }),
      { numRuns: propertyRuns(2_000) },
    );
  });

  it('never quotes an invalid SecretId, token or rotation token in its message', () => {
    const field = fc.constantFrom('SecretId', 'ClientRequestToken', 'RotationToken');
    const secretLike = fc
      .tuple(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('\n', '\u0000', '\u202e', '\u2029'))
      .map(([text, bad]) => `SENSITIVE${bad}${text}`);
    fc.assert(
      fc.property(field, secretLike, (name, value) => {
        const error = invalidEvent({ ...VALID, [name]: value });
        expect(error.message).not.toContain('SENSITIVE');
        expect(JSON.stringify(error)).not.toContain('SENSITIVE');
      }),
      { numRuns: propertyRuns(500) },
    );
  });
});
