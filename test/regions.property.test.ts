/**
 * Properties of regionalSource: the ARN of the same secret in another region (any well-formed ARN, in any
 * partition, maps to itself but for the region field; names, partial ARNs and anything else are untouched), and
 * the breaker against a small reference model over random sequences of fetches, outcomes and clock moves.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretCacheError } from '../src/errors.js';
import { arnInRegion, regionalSource } from '../src/regions.js';
import type { SecretSource } from '../src/source.js';

const partition = fc.constantFrom(
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-iso',
  'aws-iso-b',
  'aws-iso-f',
  'aws-eusc',
);
const region = fc.stringMatching(/^[a-z]{2,4}(?:-[a-z]{1,9}){1,3}-\d{1,2}$/);
const account = fc.stringMatching(/^\d{12}$/);
/** The characters Secrets Manager allows in a name. */
const name = fc.stringMatching(/^[A-Za-z0-9/_+=.@-]{1,80}$/);
const suffix = fc.stringMatching(/^[A-Za-z0-9]{6}$/);
const SUFFIXED = /-[A-Za-z0-9]{6}$/;

const fullArn = (p: string, r: string, a: string, n: string, s: string): string =>
  `arn:${p}:secretsmanager:${r}:${a}:secret:${n}-${s}`;

describe('arnInRegion', () => {
  it('maps any well-formed ARN to the same ARN but the region field', () => {
    fc.assert(
      fc.property(partition, region, account, name, suffix, region, (p, from, a, n, s, to) => {
        const mapped = arnInRegion(fullArn(p, from, a, n, s), to);

        expect(mapped).toBe(fullArn(p, to, a, n, s));
        expect(arnInRegion(mapped, from)).toBe(fullArn(p, from, a, n, s));
        expect(arnInRegion(mapped, to)).toBe(mapped);
      }),
    );
  });

  it('leaves names as they are', () => {
    fc.assert(
      fc.property(name, region, (n, to) => {
        expect(arnInRegion(n, to)).toBe(n);
      }),
    );
  });

  it('leaves partial ARNs (no 6-character suffix) as they are', () => {
    fc.assert(
      fc.property(
        partition,
        region,
        account,
        name.filter((n) => !SUFFIXED.test(n)),
        region,
        (p, from, a, n, to) => {
          const partial = `arn:${p}:secretsmanager:${from}:${a}:secret:${n}`;
          expect(arnInRegion(partial, to)).toBe(partial);
        },
      ),
    );
  });

  it('changes nothing of any string but, at most, the region field of an ARN', () => {
    const anyId = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom(':', '-', 'a', 'Z', '1', '/', 'arn', 'secretsmanager', 'secret') }),
      fc
        .tuple(partition, region, account, name, suffix)
        .map(([p, r, a, n, s]) => fullArn(p, r, a, n, s))
        .chain((arn) => fc.nat(arn.length).map((cut) => arn.slice(0, cut))),
    );
    fc.assert(
      fc.property(anyId, region, (id, to) => {
        const mapped = arnInRegion(id, to);
        if (mapped === id) return;
        const before = id.split(':');
        const after = mapped.split(':');
        expect(after).toEqual([...before.slice(0, 3), to, ...before.slice(4)]);
        expect(before.slice(0, 3)).toEqual(['arn', expect.stringMatching(/^aws/), 'secretsmanager']);
      }),
    );
  });

  it.each([
    [
      'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:prod/db-AbCdEf',
      'cn-northwest-1',
      'arn:aws-cn:secretsmanager:cn-northwest-1:123456789012:secret:prod/db-AbCdEf',
    ],
    [
      'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:prod/db-AbCdEf',
      'us-gov-east-1',
      'arn:aws-us-gov:secretsmanager:us-gov-east-1:123456789012:secret:prod/db-AbCdEf',
    ],
    // A partial ARN whose name ends like a suffix is taken for a full one (Secrets Manager has the same doubt).
    [
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-backup',
      'eu-west-1',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-backup',
    ],
    // Not Secrets Manager, not a secret, no account: untouched.
    ['arn:aws:ssm:us-east-1:123456789012:parameter/db-AbCdEf', 'eu-west-1', undefined],
    ['arn:aws:secretsmanager:us-east-1:123456789012:function:db-AbCdEf', 'eu-west-1', undefined],
    ['arn:aws:secretsmanager:us-east-1::secret:db-AbCdEf', 'eu-west-1', undefined],
  ])('maps %s to %s', (id, to, expected) => {
    expect(arnInRegion(id, to)).toBe(expected ?? id);
  });
});

/** What a region does with one call. */
type Outcome = 'ok' | 'transient' | 'permanent';

interface Step {
  /** How far the clock moves before the fetch. */
  readonly advanceMs: number;
  /** What each region does if this fetch asks it. */
  readonly outcomes: readonly Outcome[];
}

const COOLDOWN_MS = 30_000;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];

/** The breaker as the brief states it, for sequential fetches: which regions a fetch asks, and what it gets. */
function modelFetch(
  openUntil: Array<number | undefined>,
  now: number,
  outcomes: readonly Outcome[],
): { asked: number[]; result: number | Outcome } {
  const asked: number[] = [];
  const eligible = (): number | undefined => {
    const index = openUntil.findIndex(
      (until, i) => !asked.includes(i) && (until === undefined || now >= until),
    );
    return index === -1 ? undefined : index;
  };
  let next = eligible();
  if (next === undefined) {
    const ends = openUntil.map((until) => until as number);
    next = ends.indexOf(Math.min(...ends));
  }
  for (;;) {
    asked.push(next);
    const outcome = outcomes[next] as Outcome;
    if (outcome !== 'transient') {
      openUntil[next] = undefined;
      return { asked, result: outcome === 'ok' ? next : 'permanent' };
    }
    openUntil[next] = now + COOLDOWN_MS;
    const after = eligible();
    if (after === undefined) return { asked, result: 'transient' };
    next = after;
  }
}

function sourcesFor(
  regionCount: number,
  outcomes: () => readonly Outcome[],
  asked: number[],
): SecretSource[] {
  return REGIONS.slice(0, regionCount).map((regionName, index) => ({
    getSecretValue: ({ secretId }) => {
      asked.push(index);
      const outcome = outcomes()[index];
      if (outcome === 'ok') {
        return Promise.resolve({
          name: secretId,
          arn: `arn:aws:secretsmanager:${regionName}:123456789012:secret:${secretId}-AbCdEf`,
          versionId: 'v1',
          versionStages: ['AWSCURRENT'],
          createdDate: undefined,
          secretString: 'x',
        });
      }
      const code = outcome === 'transient' ? 'FETCH_FAILED' : 'NOT_FOUND';
      return Promise.reject(new SecretCacheError(code, secretId, `injected ${code}`));
    },
  }));
}

const steps = (regionCount: number) =>
  fc.array(
    fc.record({
      // Round steps land on a window's last millisecond and on its end; odd ones anywhere.
      advanceMs: fc.oneof(
        fc.constantFrom(0, 1, 5_000, 10_000, COOLDOWN_MS - 1, COOLDOWN_MS),
        fc.integer({ min: 0, max: 2 * COOLDOWN_MS }),
      ),
      outcomes: fc.array(fc.constantFrom<Outcome>('ok', 'ok', 'transient', 'transient', 'permanent'), {
        minLength: regionCount,
        maxLength: regionCount,
      }),
    }),
    { minLength: 1, maxLength: 60 },
  );

describe('regionalSource breaker against a reference model', () => {
  it.each([1, 2, 3])(
    'asks the regions the model asks, and answers as it does (%i regions)',
    async (regionCount) => {
      await fc.assert(
        fc.asyncProperty(steps(regionCount), async (script: Step[]) => {
          let now = 0;
          let current: readonly Outcome[] = [];
          const asked: number[] = [];
          const sources = sourcesFor(regionCount, () => current, asked);
          const source = regionalSource({
            regions: REGIONS.slice(0, regionCount),
            sourceFor: (regionName) => sources[REGIONS.indexOf(regionName)] as SecretSource,
            clock: { now: () => now },
            cooldownMs: COOLDOWN_MS,
            cooldownJitter: 0,
          });
          const openUntil: Array<number | undefined> = REGIONS.slice(0, regionCount).map(() => undefined);

          for (const { advanceMs, outcomes } of script) {
            now += advanceMs;
            current = outcomes;
            asked.length = 0;
            const expected = modelFetch(openUntil, now, outcomes);
            const result = await source.getSecretValue({ secretId: 'a' }).then(
              (version) => REGIONS.indexOf(version.region),
              (error: SecretCacheError) => (error.code === 'NOT_FOUND' ? 'permanent' : 'transient'),
            );

            expect(asked).toEqual(expected.asked);
            expect(result).toEqual(expected.result);
            // Never a fetch without a call, never a region twice, never past a permanent answer.
            expect(asked.length).toBeGreaterThan(0);
            expect(new Set(asked).size).toBe(asked.length);
            expect(asked.slice(0, -1).every((index) => outcomes[index] === 'transient')).toBe(true);
          }
        }),
      );
    },
  );

  it('asks a failing primary at most once per jittered window while the replica answers', async () => {
    const jitter = 0.2;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            advanceMs: fc.integer({ min: 0, max: 10_000 }),
            primary: fc.constantFrom<Outcome>('ok', 'transient', 'transient'),
          }),
          { minLength: 1, maxLength: 200 },
        ),
        async (script) => {
          let now = 0;
          let current: readonly Outcome[] = [];
          const asked: number[] = [];
          const sources = sourcesFor(2, () => current, asked);
          const source = regionalSource({
            regions: REGIONS.slice(0, 2),
            sourceFor: (regionName) => sources[REGIONS.indexOf(regionName)] as SecretSource,
            clock: { now: () => now },
            cooldownMs: COOLDOWN_MS,
            cooldownJitter: jitter,
          });
          let lastPrimaryFailure: number | undefined;

          for (const { advanceMs, primary } of script) {
            now += advanceMs;
            current = [primary, 'ok'];
            asked.length = 0;
            await source.getSecretValue({ secretId: 'a' });

            const primaryAsked = asked.includes(0);
            if (lastPrimaryFailure !== undefined) {
              const since = now - lastPrimaryFailure;
              // Skipped only inside a window; asked again only once one is over.
              if (primaryAsked) expect(since).toBeGreaterThanOrEqual(COOLDOWN_MS * (1 - jitter));
              else expect(since).toBeLessThan(COOLDOWN_MS);
            } else {
              expect(primaryAsked).toBe(true);
            }
            if (primaryAsked) lastPrimaryFailure = primary === 'transient' ? now : undefined;
          }
        },
      ),
    );
  });
});
