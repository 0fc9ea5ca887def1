import { describe, expect, it } from 'vitest';
import { isRotationError, RotationError } from '../../src/rotation/errors.js';

const SECRET = 'prod/orders/db';

describe('RotationError', () => {
  it('renders for logs as name, code, step, secret id, message, and the name and code of its cause', () => {
    const cause = Object.assign(new Error('password authentication failed'), {
      name: 'DatabaseError',
      code: '28P01',
    });
    const error = new RotationError('TEST_FAILED', 'testSecret', SECRET, 'testPending failed.', { cause });

    expect(error.toJSON()).toStrictEqual({
      name: 'RotationError',
      code: 'TEST_FAILED',
      step: 'testSecret',
      secretId: SECRET,
      message: 'testPending failed.',
      cause: 'DatabaseError',
      causeCode: '28P01',
    });
  });

  it.each([
    ['has neither', {}],
    ['has them as numbers', { name: 42, code: 28 }],
    ['is a string', 'refused'],
  ])('renders no cause and no causeCode when the cause %s', (_, cause) => {
    const error = new RotationError('SET_FAILED', 'setSecret', SECRET, 'setPending failed.', { cause });

    expect(Object.keys(error.toJSON())).toEqual(['name', 'code', 'step', 'secretId', 'message']);
  });

  it('renders no cause and no causeCode without a cause', () => {
    const error = new RotationError('INVALID_EVENT', undefined, '', 'Invalid rotation event.');

    expect(Object.keys(error.toJSON())).toEqual(['name', 'code', 'step', 'secretId', 'message']);
  });
});

describe('isRotationError', () => {
  it('is true for a RotationError, also one of another copy of the package', () => {
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('secretcache.RotationError'), {
      value: true,
    });

    expect(isRotationError(new RotationError('AWS_FAILED', 'createSecret', SECRET, 'x'))).toBe(true);
    expect(isRotationError(foreign)).toBe(true);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'RotationError'],
    ['a number', 42],
    ['an Error', new Error('x')],
    ['an object named like one', { name: 'RotationError', code: 'AWS_FAILED' }],
  ])('is false for %s, without throwing', (_, value) => {
    expect(isRotationError(value)).toBe(false);
  });
});
