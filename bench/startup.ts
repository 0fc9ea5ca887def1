/**
 * Scenario 3, start-up: a process that needs 100 secrets before it can serve, through a client whose every
 * call takes 20 ms (fixed latency; moto_server is not used here). Reads them all at once, one after another,
 * and through `cache.load` (a manifest; `BatchGetSecretValue`, 20 ids a call): see LOAD below.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { SecretCache, type SecretSpec, secret } from '../src/index.js';
import {
  type BenchContext,
  type FakeSecret,
  int,
  mockedSecretsManager,
  ms,
  type ScenarioResult,
  table,
} from './support.js';

const SECRETS = 100;
const LATENCY_MS = 20;

interface StartupRun {
  readonly name: string;
  /** GetSecretValue calls. */
  readonly calls: number;
  /** BatchGetSecretValue calls. */
  readonly batchCalls: number;
  readonly wallMs: number;
}

export async function startup(_context: BenchContext): Promise<ScenarioResult> {
  const ids = Array.from({ length: SECRETS }, (_, i) => `prod/orders/startup-${i}`);
  const expectedValue = (id: string): string => `fake-startup-value-${id.slice(-3)}`;
  const secrets = new Map<string, FakeSecret>(ids.map((id) => [id, { current: expectedValue(id) }]));
  secrets.set('prod/orders/startup-check', { current: 'fake-check' });
  const aws = mockedSecretsManager(secrets, LATENCY_MS);

  // ---- correctness first: one read is one call and the right value, a second read is warm; a load of two
  // secrets is one batch call.
  const probe = new SecretCache({ client: aws.client });
  assert.equal(await probe.getSecretString('prod/orders/startup-check'), 'fake-check');
  assert.equal(await probe.getSecretString('prod/orders/startup-check'), 'fake-check');
  assert.equal(aws.calls(), 1);
  const probed = await probe.load({ a: secret.string(ids[0]!), b: secret.string(ids[1]!) });
  assert.deepEqual({ ...probed }, { a: expectedValue(ids[0]!), b: expectedValue(ids[1]!) });
  assert.equal(aws.batchCalls(), 1, 'a load of two secrets should be one BatchGetSecretValue');
  assert.equal(aws.calls(), 1);

  const runs: StartupRun[] = [];
  /** Times `start` on a fresh cache, then checks the values, the calls, and that every id is now warm. */
  const timed = async (
    name: string,
    start: (cache: SecretCache) => Promise<readonly string[]>,
    expectCalls: { calls: number; batchCalls: number },
  ): Promise<void> => {
    const cache = new SecretCache({ client: aws.client });
    const before = { calls: aws.calls(), batchCalls: aws.batchCalls() };
    const t0 = performance.now();
    const values = await start(cache);
    const wallMs = performance.now() - t0;
    assert.deepEqual(values, ids.map(expectedValue), `${name}: wrong values`);
    const calls = aws.calls() - before.calls;
    const batchCalls = aws.batchCalls() - before.batchCalls;
    assert.deepEqual({ calls, batchCalls }, expectCalls, `${name}: unexpected AWS calls`);
    assert.equal(cache.stats().size, SECRETS);
    for (const id of ids) assert.equal(await cache.getSecretString(id), expectedValue(id));
    assert.equal(aws.calls() - before.calls, calls, `${name}: a read after start-up called AWS`);
    runs.push({ name, calls, batchCalls, wallMs });
  };

  await timed(
    `${SECRETS} parallel getSecretString (Promise.all)`,
    (cache) => Promise.all(ids.map((id) => cache.getSecretString(id))),
    { calls: SECRETS, batchCalls: 0 },
  );
  await timed(
    `${SECRETS} sequential getSecretString (await each)`,
    async (cache) => {
      const values: string[] = [];
      for (const id of ids) values.push(await cache.getSecretString(id));
      return values;
    },
    { calls: SECRETS, batchCalls: 0 },
  );

  // ---- LOAD: `cache.load(manifest)`: BatchGetSecretValue, 20 ids a call, the calls in parallel.
  const manifest: Record<string, SecretSpec<string>> = Object.fromEntries(
    ids.map((id, i) => [`secret${i}`, secret.string(id)]),
  );
  await timed(
    `${SECRETS} via cache.load (manifest, batched)`,
    async (cache) => {
      const loaded = await cache.load(manifest);
      return ids.map((_, i) => loaded[`secret${i}`] as string);
    },
    { calls: 0, batchCalls: Math.ceil(SECRETS / 20) },
  );

  const rows = runs.map((r) => [
    r.name,
    int(r.calls),
    int(r.batchCalls),
    ms(r.wallMs),
    ms(r.wallMs / SECRETS),
  ]);
  const markdown = [
    table(
      [
        `${SECRETS} secrets, ${LATENCY_MS} ms per AWS call`,
        'GetSecretValue calls',
        'BatchGetSecretValue calls',
        'wall time',
        'per secret',
      ],
      rows,
      'lrrrr',
    ),
    '',
    `- A fresh \`SecretCache\` (default options, mocked \`SecretsManagerClient\` answering after \`setTimeout(${LATENCY_MS})\`) per row; every value checked, calls asserted (one GetSecretValue per secret, or one BatchGetSecretValue per 20 for \`load\`), and every id read warm afterwards without a call. Sequential start-up pays the latency ${SECRETS} times; parallel pays it about once, at the cost of ${SECRETS} concurrent calls (a burst that AWS's request quota, shared by every process of the account and region, may throttle at fleet scale). \`load\` sends ⌈${SECRETS} / 20⌉ batch calls in parallel: about one latency, and ${SECRETS / Math.ceil(SECRETS / 20)}x fewer requests.`,
  ].join('\n');
  return { title: '3. Start-up', markdown, targets: [] };
}
