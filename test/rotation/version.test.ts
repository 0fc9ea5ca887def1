import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRotationError, type RotationError } from '../../src/rotation/errors.js';
import { SecretVersion, type VersionFields, type VersionOrigin } from '../../src/rotation/version.js';
import { expectNoBytes, expectNoFragment, renderingsOf } from '../support/leaks.js';
import { propertyRuns } from '../support/runs.js';

const ORIGIN: VersionOrigin = { secretId: 'prod/orders/db', step: 'setSecret' };
const PASSWORD = 'SENSITIVE-pa55w0rd-7f3a9c';
const VALUE = JSON.stringify({ username: 'orders', password: PASSWORD, host: 'db.internal', port: 5432 });

function version(fields: Partial<VersionFields> = {}, origin = ORIGIN): SecretVersion {
  return new SecretVersion(
    {
      versionId: 'v-2',
      versionStages: ['AWSPENDING'],
      secretString: VALUE,
      secretBinary: undefined,
      ...fields,
    },
    origin,
  );
}

function jsonError(subject: SecretVersion): RotationError {
  let caught: unknown;
  try {
    subject.json();
  } catch (error) {
    caught = error;
  }
  expect(isRotationError(caught)).toBe(true);
  expect((caught as RotationError).code).toBe('INVALID_SECRET');
  return caught as RotationError;
}

describe('SecretVersion', () => {
  it('keeps the value readable as a property', () => {
    const subject = version();

    expect(subject.versionId).toBe('v-2');
    expect(subject.versionStages).toEqual(['AWSPENDING']);
    expect(subject.secretString).toBe(VALUE);
    expect(subject.secretBinary).toBeUndefined();
    expect(subject.hasValue).toBe(true);
  });

  it('renders no part of a string value through JSON.stringify, util.inspect, format or String', () => {
    const subject = version();

    const rendered = renderingsOf(subject);

    expectNoFragment(rendered, VALUE);
    expect(JSON.parse(JSON.stringify(subject))).toEqual({
      versionId: 'v-2',
      versionStages: ['AWSPENDING'],
      secretString: '<redacted>',
    });
    expect(String(subject)).toBe(
      'RotationVersion { versionId: "v-2", versionStages: ["AWSPENDING"], value: <redacted> }',
    );
    expect(inspect(subject)).toBe(String(subject));
  });

  it('renders no byte of a binary value, only its length', () => {
    const bytes = new Uint8Array(Array.from({ length: 48 }, (_, index) => (index * 37 + 11) % 256));
    const subject = version({ secretString: undefined, secretBinary: bytes });

    const rendered = renderingsOf(subject);

    expectNoBytes(rendered, bytes);
    expect(String(subject)).toContain('value: <48 bytes>');
    expect(JSON.parse(JSON.stringify(subject))).toMatchObject({ secretBinary: '<redacted>' });
  });

  it('has a value when it holds bytes only', () => {
    const subject = version({ secretString: undefined, secretBinary: new Uint8Array([1]) });

    expect(subject.hasValue).toBe(true);
  });

  it('renders a version without a value as having none', () => {
    const subject = version({ secretString: undefined });

    expect(subject.hasValue).toBe(false);
    expect(String(subject)).toContain('value: <none>');
    expect(JSON.parse(JSON.stringify(subject))).toEqual({ versionId: 'v-2', versionStages: ['AWSPENDING'] });
  });

  it('renders no value when nested in a context object a target might log', () => {
    const context = { step: 'setSecret', current: version(), pending: version({ versionId: 'v-3' }) };

    expectNoFragment(renderingsOf(context), VALUE);
  });

  it('is frozen, with stages and bytes copied from what it was made with', () => {
    const stages = ['AWSCURRENT'];
    const bytes = new Uint8Array([1, 2, 3]);
    const subject = version({ versionStages: stages, secretString: undefined, secretBinary: bytes });

    stages.push('AWSPREVIOUS');
    bytes[0] = 9;

    expect(Object.isFrozen(subject)).toBe(true);
    expect(Object.isFrozen(subject.versionStages)).toBe(true);
    expect(subject.versionStages).toEqual(['AWSCURRENT']);
    expect([...(subject.secretBinary ?? [])]).toEqual([1, 2, 3]);
  });

  describe('json()', () => {
    it('parses the string value as an object, deep-frozen, the same object on every call', () => {
      const subject = version({ secretString: '{"a":{"b":[1,2]},"password":"x"}' });

      const parsed = subject.json();

      expect(parsed).toEqual({ a: { b: [1, 2] }, password: 'x' });
      expect(subject.json()).toBe(parsed);
      expect(Object.isFrozen(parsed)).toBe(true);
      expect(Object.isFrozen(parsed.a)).toBe(true);
      expect(Object.isFrozen((parsed.a as { b: unknown }).b)).toBe(true);
    });

    it('is INVALID_SECRET for a value that is not JSON, quoting nothing of it and keeping no SyntaxError', () => {
      const text = `{"password": "${PASSWORD}" oops`;
      const subject = version({ secretString: text });

      const error = jsonError(subject);

      expect(error.message).toBe(
        'Version v-2 of secret "prod/orders/db" is not valid JSON; its value is not shown.',
      );
      expect(error.step).toBe('setSecret');
      expect(error.secretId).toBe('prod/orders/db');
      expect(error.cause).toBeUndefined();
      expectNoFragment(renderingsOf(error), text);
    });

    it.each([
      ['an array', '["SENSITIVE-a","SENSITIVE-b"]', 'an array'],
      ['a string', '"SENSITIVE-qzx-7781-vlm"', 'a string'],
      ['a number', '123456789', 'a number'],
      ['a boolean', 'true', 'a boolean'],
      ['null', 'null', 'null'],
    ])('is INVALID_SECRET for JSON that is %s, naming the type only', (_, text, type) => {
      const error = jsonError(version({ secretString: text }));

      expect(error.message).toBe(
        `Version v-2 of secret "prod/orders/db" is JSON but not an object (${type}).`,
      );
      if (text.length >= 5) expectNoFragment(renderingsOf(error), text);
    });

    it('is INVALID_SECRET for a binary version, and for one without a value', () => {
      const binary = version({ secretString: undefined, secretBinary: new Uint8Array([123, 125]) });
      const empty = version({ secretString: undefined });

      expect(jsonError(binary).message).toBe(
        'Version v-2 of secret "prod/orders/db" is binary, not a JSON object.',
      );
      expect(jsonError(empty).message).toBe('Version v-2 of secret "prod/orders/db" holds no value.');
    });

    it('names the secret it was read from when that is another one, with the event secret as secretId', () => {
      const other = version(
        { secretString: 'nope' },
        { secretId: 'prod/orders/db', step: 'setSecret', readFrom: 'prod/superuser' },
      );

      const error = jsonError(other);

      expect(error.message).toBe(
        'Version v-2 of secret "prod/superuser" is not valid JSON; its value is not shown.',
      );
      expect(error.secretId).toBe('prod/orders/db');
    });

    it('gives an error message that does not depend on the value, for any string that is not a JSON object', () => {
      const notAnObject = fc
        .oneof(
          fc.string(),
          fc.jsonValue().map((value) => JSON.stringify(value)),
        )
        .filter((text) => {
          try {
            const parsed: unknown = JSON.parse(text);
            return typeof parsed !== 'object' || parsed === null || Array.isArray(parsed);
          } catch {
            return true;
          }
        });
      const allowed = new Set([
        'Version v-2 of secret "prod/orders/db" is not valid JSON; its value is not shown.',
        ...['an array', 'a string', 'a number', 'a boolean', 'null'].map(
          (type) => `Version v-2 of secret "prod/orders/db" is JSON but not an object (${type}).`,
        ),
      ]);
      fc.assert(
        fc.property(notAnObject, (text) => {
          const error = jsonError(version({ secretString: text }));
          expect(allowed.has(error.message)).toBe(true);
          expect(error.cause).toBeUndefined();
        }),
        { numRuns: propertyRuns(1_000) },
      );
    });
  });
});
