import { describe, expect, it } from 'vitest';
import { describeValue } from '../src/describe.js';
import { SecretCache } from '../src/index.js';

describe('describeValue', () => {
  it('names a string by its length, never its content', () => {
    expect(describeValue('hunter2')).toBe('a string of length 7');
    expect(describeValue('')).toBe('a string of length 0');
  });

  it('names null as null, not as an object', () => {
    expect(describeValue(null)).toBe('null');
  });

  it('names an object or an array by its type, never its content', () => {
    const rendered = [describeValue({ password: 'hunter2' }), describeValue(['hunter2'])];

    expect(rendered).toEqual(['a value of type object', 'a value of type object']);
  });

  it('names a function by its type, never its source text', () => {
    const rendered = describeValue(() => 'hunter2');

    expect(rendered).toBe('a value of type function');
  });

  it('shows numbers, booleans, undefined, bigints and symbols as they print', () => {
    expect([42, -0.5, Number.NaN, true, undefined, 10n].map(describeValue)).toEqual([
      '42',
      '-0.5',
      'NaN',
      'true',
      'undefined',
      '10',
    ]);
    expect(describeValue(Symbol('tag'))).toBe('Symbol(tag)');
  });

  it('completes the message of a bad option, as a user sees it', () => {
    const construct = (ttlMs: unknown) => () => new SecretCache({ ttlMs: ttlMs as number });

    expect(construct(null)).toThrow(
      'Expected `ttlMs` to be a positive, finite number of milliseconds, got null.',
    );
    expect(construct({ ms: 1 })).toThrow(
      'Expected `ttlMs` to be a positive, finite number of milliseconds, got a value of type object.',
    );
  });
});
