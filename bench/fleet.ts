/**
 * Scenario 4, fleet: 1,000 processes (1,000 SecretCache instances with default options but a shared fake
 * clock and one shared counting source) start within the same second, each then reads the same 50 secrets
 * every second for one simulated hour. How evenly does the fleet spread its calls to Secrets Manager?
 *
 * The caches get nothing but `source` and `clock`, so new default options (TTL jitter, refresh-ahead) are
 * picked up without a change here.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { type Clock, SecretCache, type SecretSource, type SecretVersion } from '../src/index.js';
import { resolveOptions } from '../src/options.js';
import {
  type BenchContext,
  int,
  nextTurn,
  percent,
  type ScenarioResult,
  type Target,
  table,
} from './support.js';

const SECRETS = 50;

/** A fake clock everybody shares, and a source that answers at once and counts calls per simulated second. */
class World {
  nowMs = 0;
  readonly clock: Clock = { now: () => this.nowMs };
  calls = 0;
  readonly perSecond: Uint32Array;
  readonly source: SecretSource;

  constructor(seconds: number, versions: ReadonlyMap<string, SecretVersion>) {
    this.perSecond = new Uint32Array(seconds + 1);
    this.source = {
      getSecretValue: (request) => {
        this.calls++;
        const second = Math.floor(this.nowMs / 1000);
        if (second < this.perSecond.length) this.perSecond[second]!++;
        const version = versions.get(request.secretId);
        return version === undefined ? Promise.reject(new Error('unknown secret')) : Promise.resolve(version);
      },
    };
  }
}

export async function fleet(context: BenchContext): Promise<ScenarioResult> {
  const processes = context.quick ? 20 : 1_000;
  const seconds = context.quick ? 600 : 3_600;
  // The options every cache here runs with: the defaults, whatever they are today.
  const defaults = resolveOptions(undefined) as unknown as Readonly<Record<string, unknown>> & {
    ttlMs: number;
  };
  const ttlMs = defaults.ttlMs;
  const timing = ['ttlMs', 'ttlJitter', 'refreshAheadMs']
    .filter((name) => defaults[name] !== undefined)
    .map((name) => `\`${name}: ${String(defaults[name])}\``)
    .join(', ');
  const ids = Array.from({ length: SECRETS }, (_, i) => `prod/fleet/secret-${i}`);
  const versions = new Map<string, SecretVersion>(
    ids.map((id, i) => [
      id,
      {
        name: id,
        arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf`,
        versionId: `v-${i}`,
        versionStages: ['AWSCURRENT'],
        createdDate: undefined,
        secretString: `fake-fleet-value-${i}`,
      },
    ]),
  );
  const expected = (k: number): string => `fake-fleet-value-${k}`;

  // ---- correctness first: one process, its 50 secrets, warm for a while, refreshed within two TTLs.
  {
    const world = new World(10, versions);
    const cache = new SecretCache({ source: world.source, clock: world.clock });
    const values = await Promise.all(ids.map((id) => cache.getSecretString(id)));
    assert.deepEqual(
      values,
      ids.map((_, k) => expected(k)),
    );
    assert.equal(world.calls, SECRETS, 'the first reads should fetch each secret once');
    world.nowMs = 1_000;
    for (const id of ids) cache.getSecretString(id);
    await nextTurn();
    assert.equal(world.calls, SECRETS, 'reads a second later should be warm');
    world.nowMs = 2 * ttlMs + 1;
    const later = await Promise.all(ids.map((id) => cache.getSecretString(id)));
    await nextTurn();
    assert.deepEqual(
      later,
      ids.map((_, k) => expected(k)),
    );
    assert.ok(world.calls > SECRETS, 'no secret was refreshed within two TTLs');
    assert.equal(cache.stats().errors, 0);
  }

  // ---- the fleet
  const world = new World(seconds, versions);
  const caches = Array.from(
    { length: processes },
    () => new SecretCache({ source: world.source, clock: world.clock }),
  );
  // Starts spread evenly over [0, 1000) ms; each process then reads every 1,000 ms from its start.
  const offsets = Array.from({ length: processes }, (_, p) => Math.floor((p * 1000) / processes));
  const t0 = performance.now();
  for (let s = 0; s < seconds; s++) {
    const base = s * 1000;
    for (let p = 0; p < processes; p++) {
      world.nowMs = base + offsets[p]!;
      const cache = caches[p]!;
      // Hits are not awaited (their value is already there); misses settle on the turn below.
      for (let k = 0; k < SECRETS; k++) cache.getSecretString(ids[k]!);
    }
    await nextTurn(); // every fetch started this second settles (the source answers at once)
  }
  const elapsedS = (performance.now() - t0) / 1000;

  // ---- after: every process fetched all its secrets, no error, values still right
  for (const cache of caches) {
    const { fetches, errors, size } = cache.stats();
    assert.equal(errors, 0);
    assert.equal(size, SECRETS);
    assert.ok(fetches >= SECRETS);
  }
  for (const p of [0, processes - 1]) {
    const values = await Promise.all(ids.map((id) => caches[p]!.getSecretString(id)));
    assert.deepEqual(
      values,
      ids.map((_, k) => expected(k)),
    );
  }

  // ---- figures
  const total = world.calls;
  // Refreshing exactly every ttlMs: a fetch at each process's start and then one per full TTL within the run.
  const lastReadMs = (seconds - 1) * 1000;
  const fetchesPerSecretIdeal = Math.floor(lastReadMs / ttlMs) + 1;
  const ideal = processes * SECRETS * fetchesPerSecretIdeal;
  const initial = world.perSecond[0]!;
  const after = Array.from(world.perSecond.subarray(1, seconds));
  const afterTotal = after.reduce((a, b) => a + b, 0);
  const mean = afterTotal / after.length;
  const peak = Math.max(...after);
  const peakSecond = after.indexOf(peak) + 1;
  const busySeconds = after.filter((n) => n > 0).length;
  const extra = total / ideal - 1;
  const peakOverMean = peak / mean;

  const rows = [
    ['processes x secrets', `${int(processes)} x ${SECRETS}`],
    [
      'simulated time',
      `${int(seconds)} s (reads every second per process: ${int(processes * SECRETS * seconds)})`,
    ],
    ['default timing options', timing],
    ['total calls', int(total)],
    [
      'calls refreshing exactly every ttlMs',
      `${int(ideal)} (${int(processes * SECRETS)} x ${fetchesPerSecretIdeal})`,
    ],
    ['total vs that', percent(extra)],
    ['calls in second 0 (initial load)', int(initial)],
    ['mean calls/s after the initial load', mean.toFixed(1)],
    ['peak calls/s after the initial load', `${int(peak)} (at second ${peakSecond})`],
    ['peak / mean', `${peakOverMean.toFixed(1)}x`],
    ['seconds with any call, after second 0', `${int(busySeconds)} of ${int(after.length)}`],
    ['simulation wall time', `${elapsedS.toFixed(1)} s`],
  ];
  const markdown = [
    table(['fleet', 'value'], rows, 'lr'),
    '',
    `- ${int(processes)} \`SecretCache\`s built with \`{ source, clock }\` only (every other option default), one fake clock shared by all and one source that resolves at once and counts calls per simulated second. Process *p* starts at ${processes === 1000 ? '*p* ms' : `⌊p·1000/${processes}⌋ ms`} and reads its ${SECRETS} secrets (the same ids in every process) every 1,000 ms from then on; reads are not awaited individually, a \`setImmediate\` turn per simulated second lets the fetches settle.`,
    `- "After the initial load" means seconds 1 to ${int(seconds - 1)}: every process starts (and first fetches) within second 0. Ideal = ${SECRETS} secrets × (1 initial + ⌊(${int(seconds)} s − 1 s) / ttl⌋ refreshes) per process.`,
    `- Default timing options in effect: ${timing}. Without TTL jitter every process would refresh each secret exactly one TTL after fetching it, so the fleet's refreshes would stay as synchronised as its starts (all in one second per TTL).`,
  ].join('\n');
  const targets: Target[] = [
    {
      scenario: 'fleet',
      name: 'peak calls/s within 3x the mean (after initial load)',
      goal: '<= 3.0x',
      actual: `${peakOverMean.toFixed(1)}x (peak ${int(peak)}/s, mean ${mean.toFixed(1)}/s)`,
      margin:
        peakOverMean <= 3
          ? `${(3 / peakOverMean).toFixed(2)}x headroom`
          : `${(peakOverMean / 3).toFixed(1)}x over`,
      met: peakOverMean <= 3,
    },
    {
      scenario: 'fleet',
      name: 'calls vs refreshing exactly every ttlMs',
      goal: '<= +15%',
      actual: `${percent(extra)} (${int(total)} vs ${int(ideal)})`,
      margin:
        extra <= 0.15
          ? `${((0.15 - extra) * 100).toFixed(1)} points under`
          : `${((extra - 0.15) * 100).toFixed(1)} points over`,
      met: extra <= 0.15,
    },
  ];
  return { title: '4. Fleet', markdown, targets };
}
