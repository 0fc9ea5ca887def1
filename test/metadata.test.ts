import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arnOf, compactNames, nameOf, type Shape, sharedShape, sharedStages } from '../src/metadata.js';

const PREFIX = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:';

function shapeFor(names: ReturnType<typeof compactNames>): Shape {
  const { arnPrefix, readByArn } = names;
  return {
    versionStage: 'AWSCURRENT',
    byVersionId: false,
    versionStages: [],
    arnPrefix,
    readByArn,
    aheadMs: 0,
    region: undefined,
  };
}

/** What a version keeps of `name` and `arn`, and the name and ARN it gives back. */
function roundTrip(secretId: string, name: string, arn: string) {
  const names = compactNames(secretId, name, arn);
  const shape = shapeFor(names);
  return { names, name: nameOf(secretId, shape, names.rest), arn: arnOf(secretId, shape, names.rest) };
}

describe('sharedStages', () => {
  it('gives equal stage lists one frozen array, which is not the one it was given', () => {
    const first = ['AWSCURRENT', 'AWSPENDING'];
    const second = ['AWSCURRENT', 'AWSPENDING'];

    const shared = sharedStages(first);

    expect(sharedStages(second)).toBe(shared);
    expect(shared).not.toBe(first);
    expect(shared).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(Object.isFrozen(shared)).toBe(true);
  });

  it('cannot be changed through the array it hands out, nor through the array it was given', () => {
    const given = ['AWSCURRENT'];
    const shared = sharedStages(given);

    given.push('MUTATED');
    expect(() => (shared as string[]).push('MUTATED')).toThrow(TypeError);
    expect(() => {
      (shared as string[])[0] = 'MUTATED';
    }).toThrow(TypeError);

    expect(sharedStages(['AWSCURRENT'])).toEqual(['AWSCURRENT']);
  });

  it('keeps lists apart in order and in content, also when their labels join alike', () => {
    expect(sharedStages(['a', 'b'])).toEqual(['a', 'b']);
    expect(sharedStages(['b', 'a'])).toEqual(['b', 'a']);
    expect(sharedStages(['a\0b'])).toEqual(['a\0b']);
    expect(sharedStages(['a', 'b'])).toEqual(['a', 'b']);
    expect(sharedStages([])).toEqual([]);
  });

  it('copies lists of anything but strings without sharing them', () => {
    const odd = ['AWSCURRENT', 42] as unknown as string[];

    const kept = sharedStages(odd);

    expect(kept).toEqual(['AWSCURRENT', 42]);
    expect(kept).not.toBe(odd);
    expect(Object.isFrozen(kept)).toBe(true);
  });

  it('stays right for lists it no longer remembers: a source that makes up labels cannot grow the table', () => {
    const lists = Array.from({ length: 500 }, (_, i) => sharedStages([`label-${i}`, 'AWSCURRENT']));

    lists.forEach((list, i) => {
      expect(list).toEqual([`label-${i}`, 'AWSCURRENT']);
    });
    expect(sharedStages(['label-499', 'AWSCURRENT'])).toBe(lists[499]);
  });

  it('returns a list equal to its input, frozen, for any list of strings', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }), (stages) => {
        const kept = sharedStages(stages);
        expect(kept).toEqual(stages);
        expect(Object.isFrozen(kept)).toBe(true);
        expect(sharedStages([...stages])).toEqual(stages);
      }),
    );
  });
});

describe('sharedShape', () => {
  const shape = (aheadMs: number, arnPrefix: string | undefined, region?: string): Shape => ({
    versionStage: 'AWSCURRENT',
    byVersionId: false,
    versionStages: sharedStages(['AWSCURRENT']),
    arnPrefix,
    readByArn: false,
    aheadMs,
    region,
  });

  it('keeps shapes of different answering regions apart', () => {
    const primary = sharedShape(shape(10_000, PREFIX, 'us-east-1'));
    const replica = sharedShape(shape(10_000, PREFIX, 'eu-west-1'));

    expect(replica).not.toBe(primary);
    expect(replica.region).toBe('eu-west-1');
    expect(sharedShape(shape(10_000, PREFIX, 'eu-west-1'))).toBe(replica);
  });

  it('gives equal shapes one object and different ones their own', () => {
    const first = sharedShape(shape(10_000, PREFIX));

    expect(sharedShape(shape(10_000, PREFIX))).toBe(first);
    expect(sharedShape(shape(5_000, PREFIX))).not.toBe(first);
    expect(sharedShape(shape(10_000, undefined))).not.toBe(first);
    expect(sharedShape(shape(5_000, PREFIX))).toMatchObject({ aheadMs: 5_000, arnPrefix: PREFIX });
  });
});

describe('compactNames', () => {
  it('keeps only what follows the name of an ARN read by name, and gives both back whole', () => {
    const arn = `${PREFIX}prod/db-AbCdEf`;

    const kept = roundTrip('prod/db', 'prod/db', arn);

    expect(kept.names).toEqual({ arnPrefix: PREFIX, readByArn: false, rest: '-AbCdEf' });
    expect(kept.name).toBe('prod/db');
    expect(kept.arn).toBe(arn);
  });

  it('keeps only what follows the name of a secret read by its ARN, and takes the name from the ARN', () => {
    const arn = `${PREFIX}prod/db-AbCdEf`;

    const kept = roundTrip(arn, 'prod/db', arn);

    expect(kept.names).toEqual({ arnPrefix: PREFIX, readByArn: true, rest: '-AbCdEf' });
    expect(kept.name).toBe('prod/db');
    expect(kept.arn).toBe(arn);
  });

  it('keeps a name and an ARN whole when neither is the secret id (a partial ARN)', () => {
    const arn = `${PREFIX}prod/db-AbCdEf`;

    const kept = roundTrip(`${PREFIX}prod/db`, 'prod/db', arn);

    expect(kept.names.rest).toEqual({ name: 'prod/db', arn });
    expect(kept).toMatchObject({ name: 'prod/db', arn });
  });

  it.each([
    ['an empty ARN', ''],
    ['an ARN without :secret:', 'arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db'],
    ['an ARN that does not hold the name', `${PREFIX}other-AbCdEf`],
    ['an ARN whose rest is long', `${PREFIX}prod/db-AbCdEf-and-more-after-it`],
    ['an ARN that is the name', 'prod/db'],
  ])('keeps %s whole', (_, arn) => {
    const kept = roundTrip('prod/db', 'prod/db', arn);

    expect(kept.names).toEqual({ arnPrefix: undefined, readByArn: false, rest: arn });
    expect(kept).toMatchObject({ name: 'prod/db', arn });
  });

  it('finds the name after the first :secret: even when the name holds one', () => {
    const arn = `${PREFIX}a:secret:b-AbCdEf`;

    expect(roundTrip('a:secret:b', 'a:secret:b', arn)).toMatchObject({ name: 'a:secret:b', arn });
    expect(roundTrip(arn, 'a:secret:b', arn)).toMatchObject({ name: 'a:secret:b', arn });
  });

  it('keeps what a source gave that is not a string, as it gave it', () => {
    const missing = roundTrip('prod/db', 'prod/db', undefined as unknown as string);
    const numeric = roundTrip('prod/db', 7 as unknown as string, `${PREFIX}prod/db-AbCdEf`);

    expect(missing).toMatchObject({ name: 'prod/db', arn: undefined });
    expect(numeric).toMatchObject({ name: 7, arn: `${PREFIX}prod/db-AbCdEf` });
  });

  it('gives back the name and ARN it was given, whatever they are', () => {
    const part = fc.constantFrom(
      '',
      'a',
      'prod/db',
      ':secret:',
      'arn:aws:secretsmanager:x:1:secret:',
      '-AbCdEf',
    );
    const text = fc.array(part, { maxLength: 4 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, text, text, fc.constantFrom('name', 'arn', 'other'), (secretId, name, arn, read) => {
        const id = read === 'name' ? name : read === 'arn' ? arn : secretId;
        const kept = roundTrip(id, name, arn);
        expect(kept.name).toBe(name);
        expect(kept.arn).toBe(arn);
      }),
      { numRuns: 2_000 },
    );
  });
});
