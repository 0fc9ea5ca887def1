/**
 * Scenario 2, cold herd: 10,000 concurrent reads of one cold secret through a client whose every call takes
 * 5 ms. The cache must make exactly one AWS call (asserted); Powertools' `SecretsProvider.get`, on the same
 * mocked client, is reported with whatever count it makes.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretCache } from '../src/index.js';
import {
  type BenchContext,
  type FakeSecret,
  int,
  mockedSecretsManager,
  ms,
  type ScenarioResult,
  type Target,
  table,
} from './support.js';

const READERS = 10_000;
const LATENCY_MS = 5;

interface HerdRun {
  readonly name: string;
  readonly calls: number;
  /** From the first call to every read resolved. */
  readonly totalMs: number;
  /** Issuing the reads (the synchronous part). */
  readonly issueMs: number;
}

/** Starts `READERS` reads at once, awaits them all, checks every value. */
async function herdOf(name: string, read: () => Promise<unknown>, expected: string, calls: () => number) {
  const before = calls();
  const start = performance.now();
  const pending = new Array<Promise<unknown>>(READERS);
  for (let i = 0; i < READERS; i++) pending[i] = read();
  const issued = performance.now();
  const values = await Promise.all(pending);
  const done = performance.now();
  for (const value of values) assert.equal(value, expected, `${name}: a reader got a wrong value`);
  return { name, calls: calls() - before, totalMs: done - start, issueMs: issued - start } satisfies HerdRun;
}

export async function herd(_context: BenchContext): Promise<ScenarioResult> {
  const secrets = new Map<string, FakeSecret>([
    ['prod/orders/check', { current: 'fake-check-value' }],
    ['prod/orders/check-powertools', { current: 'fake-check-value-2' }],
    ['prod/orders/db-password', { current: 'fake-db-password-0123' }],
  ]);
  const aws = mockedSecretsManager(secrets, LATENCY_MS);

  // ---- correctness first, on other ids: a small herd shares one call; values are right.
  const cache = new SecretCache({ client: aws.client });
  const check = await herdOf(
    'check',
    () => cache.getSecretString('prod/orders/check'),
    'fake-check-value',
    aws.calls,
  );
  assert.equal(check.calls, 1, 'a small herd made more than one call');
  assert.equal(await cache.getSecretString('prod/orders/check'), 'fake-check-value');
  assert.equal(aws.calls(), 1, 'a warm read called AWS');
  const powertools = new SecretsProvider({ awsSdkV3Client: aws.client });
  assert.equal(await powertools.get('prod/orders/check-powertools'), 'fake-check-value-2');

  // ---- the herd, cold id, ours then Powertools on the same mocked client
  const before = cache.stats();
  const ours = await herdOf(
    'SecretCache.getSecretString',
    () => cache.getSecretString('prod/orders/db-password'),
    'fake-db-password-0123',
    aws.calls,
  );
  assert.equal(ours.calls, 1, `the cold herd made ${ours.calls} AWS calls, expected exactly 1`);
  const after = cache.stats();
  assert.equal(after.fetches - before.fetches, 1);
  assert.equal(after.misses - before.misses, READERS);
  assert.equal(after.errors, 0);

  const peer = await herdOf(
    'Powertools SecretsProvider.get',
    () => powertools.get('prod/orders/db-password') as Promise<unknown>,
    'fake-db-password-0123',
    aws.calls,
  );

  const rows = [ours, peer].map((r) => [r.name, int(r.calls), ms(r.totalMs), ms(r.issueMs)]);
  const markdown = [
    table(
      [
        '10,000 concurrent reads of one cold id, 5 ms per AWS call',
        'AWS calls',
        'all served after',
        'issuing the reads took',
      ],
      rows,
      'lrrr',
    ),
    '',
    `- Both read through the same mocked \`SecretsManagerClient\`, each call resolving after \`setTimeout(${LATENCY_MS})\`. Every reader's value was checked; the cache's count is asserted (exactly 1; its stats show ${int(READERS)} misses sharing 1 fetch). Powertools caches values but not calls in flight, so each concurrent \`get\` of a cold name calls AWS.`,
    `- "all served after" runs from the first read to the last value; it includes the 5 ms call and the time to issue ${int(READERS)} reads.`,
  ].join('\n');
  const targets: Target[] = [
    {
      scenario: 'herd',
      name: 'cold herd of 10,000: AWS calls',
      goal: 'exactly 1',
      actual: `${int(ours.calls)} (Powertools: ${int(peer.calls)})`,
      margin: ours.calls === 1 ? 'exact' : `${ours.calls - 1} extra`,
      met: ours.calls === 1,
    },
  ];
  return { title: '2. Cold herd', markdown, targets };
}
