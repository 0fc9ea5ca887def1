/**
 * Scenario 1, warm reads: what one read of an already-cached secret costs, next to the floor (`await
 * map.get(id)` on a plain Map) and to the peers (Powertools' `SecretsProvider.get`, middy's secrets-manager
 * middleware), all on the same mocked client, in one mitata `run()` (`--quick`: the same rows, each through
 * mitata's `measure` with a 20 ms budget).
 *
 * Every row checks its values and the SDK call count before it is timed, and again (no call made) after.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import middy from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import type { Context as LambdaContext } from 'aws-lambda';
import { bench, group, measure, run, summary } from 'mitata';
import { z } from 'zod';
import { SecretCache, secret } from '../src/index.js';
import {
  allocatedPerOp,
  allocatedPerOpSync,
  type BenchContext,
  bytes,
  type FakeSecret,
  int,
  median,
  mockedSecretsManager,
  nextTurn,
  ns,
  type ScenarioResult,
  type Sink,
  type Target,
  table,
  usedHeap,
  ratio as x,
} from './support.js';

const TITLE = '1. Warm read';

// Fake secrets. Values are never printed.
const STRING_ID = 'prod/orders/api-key';
const JSON_ID = 'prod/orders/db';
const STRING_VALUE = 'fake-api-key-0123456789abcdef';
const PREVIOUS_VALUE = 'fake-api-key-previous-fedcba9876543210';
const DB = { host: 'db.internal', port: 5432, username: 'orders', password: 'fake-password-0' } as const;
const DbSchema = z.object({ host: z.string(), port: z.number(), username: z.string(), password: z.string() });

const distinctIds = (n: number, make: (i: number) => string): string[] =>
  Array.from({ length: n }, (_, i) => make(i));
const IDS_100 = distinctIds(100, (i) => `prod/service-${i}/api-key`);
const IDS_10K = distinctIds(10_000, (i) => `prod/service-${i}/token-${i}`);
const ARN_IDS_100 = distinctIds(
  100,
  (i) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/orders/database-credentials-${i}-AbCdEf`,
);
const fakeValue = (id: string): string => `fake-value-of-${id.length}-${id.slice(-24)}`;

/** One timed row. */
interface Row {
  readonly name: string;
  /** Rows of one group share a floor, the group's first row. */
  readonly group: string;
  readonly kind: 'floor' | 'ours' | 'peer' | 'info';
  /** A synchronous op (no await): timed as mitata times a plain call, its allocation without an await. */
  readonly sync?: boolean;
  /** Warms and checks, then returns the op to time. Runs right before the row is timed. */
  readonly setup: () => Promise<() => unknown>;
  /** Checks after timing (and after the allocation count): warm throughout. */
  readonly after: () => void;
}

interface Measured {
  readonly row: Row;
  readonly avg: number;
  readonly p50: number;
  readonly p99: number;
  readonly alloc: number;
  readonly mitataHeap: number | undefined;
}

/** Round-robin over `items`: each call returns the next. */
function roundRobin<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => {
    const item = items[i]!;
    i = i + 1 === items.length ? 0 : i + 1;
    return item;
  };
}

export async function warm(context: BenchContext): Promise<ScenarioResult> {
  // ---- the one mocked client everybody reads through
  const secrets = new Map<string, FakeSecret>();
  secrets.set(STRING_ID, { current: STRING_VALUE, previous: PREVIOUS_VALUE });
  secrets.set(JSON_ID, { current: JSON.stringify(DB) });
  for (const id of [...IDS_100, ...IDS_10K, ...ARN_IDS_100]) secrets.set(id, { current: fakeValue(id) });
  const aws = mockedSecretsManager(secrets);

  // ---- ours: default options but the client (and, for 10,000 ids, maxEntries: the default 1,000 can't hold them)
  const cache = new SecretCache({ client: aws.client });
  const bigCache = new SecretCache({ client: aws.client, maxEntries: 10_000 });

  // ---- peers
  const powertools = new SecretsProvider({ awsSdkV3Client: aws.client });
  // middy builds its client with `new AwsClient(options)`; a constructor returning our client hands it the same one.
  const sharedClient = aws.client;
  const AwsClient = function SharedClient() {
    return sharedClient;
  } as unknown as typeof aws.client.constructor;
  const lambdaContext = (): LambdaContext & { db: unknown } => ({}) as LambdaContext & { db: unknown };
  const event = {};
  const withSecretsManager = middy()
    .use(
      secretsManager({
        AwsClient: AwsClient as never,
        fetchData: { db: JSON_ID },
        cacheKey: 'bench-warm-secrets-manager',
        cacheExpiry: 60 * 60 * 1000, // an hour: every timed invocation is served from middy's cache
        setToContext: true,
      }),
    )
    .handler((_event: unknown, ctx: LambdaContext) => (ctx as unknown as { db: unknown }).db);
  const noMiddleware = middy().handler((_event: unknown, ctx: LambdaContext) => (ctx as { db?: unknown }).db);
  const withSecretCache = middy().handler(
    (_event: unknown, _ctx: LambdaContext): Promise<unknown> =>
      cache.getSecretJson(JSON_ID, { schema: DbSchema }),
  );

  // ---- floors: the same values, already-resolved promises in a plain Map, as the cache hands them out
  const floorMap = new Map<string, Promise<unknown>>();
  const fill = (ids: readonly string[]): void => {
    for (const id of ids) {
      floorMap.set(id, Promise.resolve(fakeValue(id)));
    }
  };
  floorMap.set(STRING_ID, Promise.resolve(STRING_VALUE));
  fill(IDS_100);
  fill(ARN_IDS_100);
  const floorMap10k = new Map<string, Promise<unknown>>();
  for (const id of IDS_10K) floorMap10k.set(id, Promise.resolve(fakeValue(id)));
  // The synchronous reference: a plain Map of plain strings, read without an await.
  const syncMap = new Map<string, string>([[STRING_ID, STRING_VALUE]]);
  // Synchronous ops store what they read here, so that V8 cannot drop the read; checked after timing.
  const sink: Sink = { last: undefined };
  // The live object of the live row, made by its setup and closed by its `after`.
  let liveRead: () => unknown = () => undefined;
  let liveClose: () => void = () => {};

  /** After `warmed`, `after()` asserts that no SDK call (and no fetch of `ours`) happened while timed. */
  let expectNoCall: () => void = () => {};
  const warmed = async (
    check: () => Promise<void>,
    op: () => unknown,
    ours?: SecretCache,
  ): Promise<() => unknown> => {
    await check();
    const calls = aws.calls();
    const fetches = ours?.stats().fetches;
    assert.equal(ours?.stats().errors ?? 0, 0);
    expectNoCall = () => {
      assert.equal(aws.calls(), calls, 'a timed read called AWS: the row was not warm');
      if (ours !== undefined) assert.equal(ours.stats().fetches, fetches, 'a timed read fetched');
    };
    return op;
  };
  const after = (): void => expectNoCall();

  /** A group's floor row: `await map.get(id)` round-robin over `ids`, after checking every id's value. */
  const floorOverIds = (
    name: string,
    group: string,
    ids: readonly string[],
    map: ReadonlyMap<string, Promise<unknown>>,
  ): Row => ({
    name,
    group,
    kind: 'floor',
    setup: () => {
      const next = roundRobin(ids);
      return warmed(
        async () => {
          for (const id of ids) assert.equal(await map.get(id), fakeValue(id));
        },
        () => map.get(next()),
      );
    },
    after,
  });

  /** Reads every id of `ids` from `ours`, checking each value. */
  const readEach = async (ours: SecretCache, ids: readonly string[]): Promise<void> => {
    for (const id of ids) assert.equal(await ours.getSecretString(id), fakeValue(id));
  };

  /**
   * A group's row of ours: `getSecretString` round-robin over `ids` on `ours`, once `warmUp` (by default a read
   * of every id) has filled it and a second read of every id has checked the values without a fetch.
   */
  const oursOverIds = (
    name: string,
    group: string,
    ids: readonly string[],
    ours: SecretCache,
    warmUp = (): Promise<void> => readEach(ours, ids),
  ): Row => ({
    name,
    group,
    kind: 'ours',
    setup: async () => {
      const next = roundRobin(ids);
      await warmUp();
      return warmed(
        async () => {
          const { fetches } = ours.stats();
          await readEach(ours, ids);
          assert.equal(ours.stats().fetches, fetches, 'a warm read fetched');
        },
        () => ours.getSecretString(next()),
        ours,
      );
    },
    after,
  });

  const rows: Row[] = [
    // ---- one id
    {
      name: 'floor: await map.get(id)',
      group: 'one id',
      kind: 'floor',
      setup: () =>
        warmed(
          async () => assert.equal(await floorMap.get(STRING_ID), STRING_VALUE),
          () => floorMap.get(STRING_ID),
        ),
      after,
    },
    {
      name: 'getSecretString',
      group: 'one id',
      kind: 'ours',
      setup: async () => {
        assert.equal(await cache.getSecretString(STRING_ID), STRING_VALUE);
        return warmed(
          async () => {
            const { fetches } = cache.stats();
            assert.equal(await cache.getSecretString(STRING_ID), STRING_VALUE);
            assert.equal(cache.stats().fetches, fetches, 'second read fetched');
          },
          () => cache.getSecretString(STRING_ID),
          cache,
        );
      },
      after,
    },
    {
      name: 'map.get(id), sync (Map of strings, no await)',
      group: 'one id',
      kind: 'info',
      sync: true,
      setup: () =>
        warmed(
          async () => {
            sink.last = undefined;
            assert.equal(syncMap.get(STRING_ID), STRING_VALUE);
          },
          () => {
            sink.last = syncMap.get(STRING_ID);
          },
        ),
      after: () => {
        assert.equal(sink.last, STRING_VALUE, 'the timed op did not read the value');
        after();
      },
    },
    {
      name: 'live property access: secrets.apiKey (sync)',
      group: 'one id',
      kind: 'ours',
      sync: true,
      setup: async () => {
        assert.equal(await cache.getSecretString(STRING_ID), STRING_VALUE);
        const { fetches } = cache.stats();
        const secrets = await cache.live({ apiKey: secret.string(STRING_ID) });
        assert.equal(cache.stats().fetches, fetches, 'live() of a warm id fetched');
        liveRead = () => secrets.apiKey;
        liveClose = secrets.close;
        return warmed(
          async () => {
            sink.last = undefined;
            assert.equal(secrets.apiKey, STRING_VALUE);
          },
          () => {
            sink.last = secrets.apiKey;
          },
          cache,
        );
      },
      after: () => {
        assert.equal(sink.last, STRING_VALUE, 'the timed op did not read the value');
        assert.equal(liveRead(), STRING_VALUE);
        after();
        liveClose();
      },
    },
    {
      name: 'getSecretJson, zod schema',
      group: 'one id',
      kind: 'ours',
      setup: async () => {
        const first = await cache.getSecretJson(JSON_ID, { schema: DbSchema });
        assert.deepEqual(first, DB);
        return warmed(
          async () => {
            const again = await cache.getSecretJson(JSON_ID, { schema: DbSchema });
            assert.equal(again, first, 'a warm JSON read returns the same object');
          },
          () => cache.getSecretJson(JSON_ID, { schema: DbSchema }),
          cache,
        );
      },
      after,
    },
    {
      name: "getSecretValue, { versionStage: 'AWSPREVIOUS' }",
      group: 'one id',
      kind: 'ours',
      setup: async () => {
        const options = { versionStage: 'AWSPREVIOUS' } as const;
        const record = await cache.getSecretValue(STRING_ID, options);
        assert.equal(record.secretString, PREVIOUS_VALUE);
        assert.deepEqual(record.versionStages, ['AWSPREVIOUS']);
        return warmed(
          async () => assert.equal(await cache.getSecretValue(STRING_ID, options), record),
          () => cache.getSecretValue(STRING_ID, { versionStage: 'AWSPREVIOUS' }),
          cache,
        );
      },
      after,
    },
    {
      name: 'Powertools SecretsProvider.get',
      group: 'one id',
      kind: 'peer',
      setup: async () => {
        // Re-warmed right before timing: its default maxAge is 5 s and a row takes under 1 s.
        assert.equal(await powertools.get(STRING_ID), STRING_VALUE);
        return warmed(
          async () => assert.equal(await powertools.get(STRING_ID), STRING_VALUE),
          () => powertools.get(STRING_ID),
        );
      },
      after,
    },
    {
      name: "Powertools SecretsProvider.get, transform: 'json'",
      group: 'one id',
      kind: 'peer',
      setup: async () => {
        assert.deepEqual(await powertools.get(JSON_ID, { transform: 'json' }), DB);
        return warmed(
          async () => assert.deepEqual(await powertools.get(JSON_ID, { transform: 'json' }), DB),
          () => powertools.get(JSON_ID, { transform: 'json' }),
        );
      },
      after,
    },
    // ---- middy: one whole invocation per op
    {
      name: 'middy: no-op handler, no middleware',
      group: 'middy invocation',
      kind: 'floor',
      setup: async () => {
        const ctx = lambdaContext();
        assert.equal(await noMiddleware(event, ctx), undefined);
        return warmed(
          async () => {},
          () => noMiddleware(event, ctx),
        );
      },
      after,
    },
    {
      name: 'middy + @middy/secrets-manager (cached, setToContext)',
      group: 'middy invocation',
      kind: 'peer',
      setup: async () => {
        const ctx = lambdaContext();
        assert.deepEqual(await withSecretsManager(event, ctx), DB);
        return warmed(
          async () => assert.deepEqual(await withSecretsManager(event, lambdaContext()), DB),
          () => withSecretsManager(event, ctx),
        );
      },
      after,
    },
    {
      name: 'middy: handler awaits cache.getSecretJson',
      group: 'middy invocation',
      kind: 'info',
      setup: async () => {
        const ctx = lambdaContext();
        assert.deepEqual(await withSecretCache(event, ctx), DB);
        return warmed(
          async () => {},
          () => withSecretCache(event, ctx),
        );
      },
      after,
    },
    // ---- 100 distinct ids, round-robin
    floorOverIds('floor: await map.get(id), 100 ids', '100 ids', IDS_100, floorMap),
    oursOverIds('getSecretString, 100 ids', '100 ids', IDS_100, cache),
    // ---- 10,000 distinct ids
    floorOverIds('floor: await map.get(id), 10,000 ids', '10,000 ids', IDS_10K, floorMap10k),
    oursOverIds(
      'getSecretString, 10,000 ids (maxEntries 10,000)',
      '10,000 ids',
      IDS_10K,
      bigCache,
      async () => {
        const before = aws.calls();
        await Promise.all(IDS_10K.map((id) => bigCache.getSecretString(id)));
        await readEach(bigCache, IDS_10K);
        assert.equal(bigCache.stats().fetches, IDS_10K.length);
        assert.ok(aws.calls() - before <= IDS_10K.length);
      },
    ),
    // ---- ARN-length ids
    floorOverIds('floor: await map.get(arn), 100 ARNs', '100 ARN ids', ARN_IDS_100, floorMap),
    oursOverIds('getSecretString, 100 ARNs', '100 ARN ids', ARN_IDS_100, cache),
  ];

  // ---- time them: one mitata run (full), or mitata's measure with a small budget (quick)
  const allocOps = context.quick ? 1_000 : 2_000;
  const allocReps = context.quick ? 5 : 15;
  // Synchronous ops allocate nothing (one byte per op would show as 10 KB); a window fits in the young generation
  // even at a few small objects per op.
  const syncAllocOps = 10_000;
  const allocation = new Map<string, number>();
  const timedRow = (row: Row) =>
    async function* timed(): AsyncGenerator<() => unknown, void, undefined> {
      const op = await row.setup();
      yield op;
      // mitata resumes the generator once the row is timed: count its allocation now, with the same op, warm.
      allocation.set(
        row.name,
        row.sync === true
          ? allocatedPerOpSync(op, syncAllocOps, allocReps)
          : await allocatedPerOp(op, allocOps, allocReps),
      );
      row.after();
    };

  const stats = new Map<string, { avg: number; p50: number; p99: number; heap: number | undefined }>();
  if (context.quick) {
    for (const row of rows) {
      // `heap` as run() passes it: the same loop shape (a heap read between samples) as the full run. Without a
      // call in mitata's sample loop, V8 lifts a live access's loads out of the loop (~0.5 ns an op, not a read).
      const s = await measure(timedRow(row), { min_cpu_time: 20e6, min_samples: 4, heap: usedHeap });
      stats.set(row.name, { avg: s.avg, p50: s.p50, p99: s.p99, heap: undefined });
    }
  } else {
    const groups = [...new Set(rows.map((row) => row.group))];
    for (const name of groups) {
      group(name, () => {
        summary(() => {
          for (const row of rows.filter((r) => r.group === name)) {
            const b = bench(row.name, timedRow(row));
            if (row.kind === 'floor') b.baseline(true);
          }
        });
      });
    }
    const { benchmarks } = await run({ colors: process.stdout.isTTY === true, throw: true });
    for (const trial of benchmarks) {
      const s = trial.runs[0]?.stats;
      assert.ok(s !== undefined, `mitata measured nothing for ${trial.alias}`);
      stats.set(trial.alias, { avg: s.avg, p50: s.p50, p99: s.p99, heap: s.heap?.avg });
    }
  }

  const measured: Measured[] = rows.map((row) => {
    const s = stats.get(row.name);
    const alloc = allocation.get(row.name);
    assert.ok(s !== undefined && alloc !== undefined, `row ${row.name} was not measured`);
    return { row, avg: s.avg, p50: s.p50, p99: s.p99, alloc, mitataHeap: s.heap };
  });
  const floorOf = (row: Row): Measured => {
    const floor = measured.find((m) => m.row.group === row.group && m.row.kind === 'floor');
    assert.ok(floor !== undefined);
    return floor;
  };
  const byName = (name: string): Measured => {
    const found = measured.find((m) => m.row.name === name);
    assert.ok(found !== undefined, name);
    return found;
  };

  // ---- one read per event-loop turn: TurnClock reads Date.now() and schedules a setImmediate at the first
  // read of each turn, which the mitata rows (one turn per row) amortise away. Each block starts warm (Powertools'
  // 5 s maxAge is renewed before each of its blocks) and asserts it made no AWS call.
  const fetchesBeforeTurns = cache.stats().fetches;
  const turns = await perTurn(
    [
      { name: 'floor: await map.get(id)', read: () => floorMap.get(STRING_ID) },
      {
        name: 'getSecretString',
        read: () => cache.getSecretString(STRING_ID),
        prepare: async () => assert.equal(await cache.getSecretString(STRING_ID), STRING_VALUE),
      },
      {
        name: 'Powertools SecretsProvider.get',
        read: () => powertools.get(STRING_ID),
        prepare: async () => assert.equal(await powertools.get(STRING_ID), STRING_VALUE),
      },
    ],
    context.quick ? 1_000 : 10_000,
    context.quick ? 2 : 11,
    aws.calls,
  );
  assert.equal(cache.stats().fetches, fetchesBeforeTurns, 'a read of the per-turn measurement fetched');

  // ---- the table
  const header = [
    'row',
    'avg',
    'p50',
    'p99',
    'vs floor (avg)',
    'vs floor (p50)',
    'alloc/op',
    'alloc - floor',
  ];
  const lines = measured.map((m) => {
    const floor = floorOf(m.row);
    const isFloor = m === floor;
    return [
      `${m.row.group}: ${m.row.name}`,
      ns(m.avg),
      ns(m.p50),
      ns(m.p99),
      isFloor ? 'floor' : x(m.avg / floor.avg),
      isFloor ? 'floor' : x(m.p50 / floor.p50),
      bytes(m.alloc),
      isFloor || m.row.sync === true ? '' : signedBytes(m.alloc - floor.alloc),
    ];
  });
  const [turnFloor, turnOurs, turnPt] = turns.rows;
  assert.ok(turnFloor !== undefined && turnOurs !== undefined && turnPt !== undefined);
  const turnTable = table(
    ['one read per event-loop turn', 'per turn', 'read cost over the floor read'],
    turns.rows.map((r, i) => [r.name, ns(r.perTurn), i === 0 ? 'floor' : ns(r.overFloor)]),
    'lrr',
  );

  // ---- targets
  const str = byName('getSecretString');
  const json = byName('getSecretJson, zod schema');
  const pt = byName('Powertools SecretsProvider.get');
  const floor = floorOf(str.row);
  const live = byName('live property access: secrets.apiKey (sync)');
  const syncGet = byName('map.get(id), sync (Map of strings, no await)');
  const liveRatio = live.p50 / floor.p50;
  const strRatio = str.p50 / floor.p50;
  const jsonRatio = json.p50 / floor.p50;
  const ptSpeedup = pt.p50 / str.p50;
  // Per turn: each read's cost over the floor read, plus the floor's own read cost from the mitata row.
  const turnOursRead = floor.p50 + turnOurs.overFloor;
  const turnPtRead = floor.p50 + turnPt.overFloor;
  const turnSpeedup = turnPtRead / turnOursRead;
  const ours = measured.filter((m) => m.row.kind === 'ours' && m.row.sync !== true);
  const allocBeyond = ours.map((m) => ({ name: m.row.name, extra: m.alloc - floorOf(m.row).alloc }));
  const worstAlloc = allocBeyond.reduce((a, b) => (b.extra > a.extra ? b : a));
  const atMost = (name: string, value: number, goal: number, detail: string): Target => ({
    scenario: 'warm',
    name,
    goal: `<= ${goal.toFixed(2)}x floor`,
    actual: `${x(value)} (${detail})`,
    margin: value <= goal ? `${x(goal / value)} headroom` : `${x(value / goal)} over`,
    met: value <= goal,
  });
  const atLeast = (name: string, value: number, goal: number, detail: string): Target => ({
    scenario: 'warm',
    name,
    goal: `>= ${goal.toFixed(1)}x faster`,
    actual: `${x(value)} faster (${detail})`,
    margin: value >= goal ? `${x(value / goal)} headroom` : `${x(goal / value)} short`,
    met: value >= goal,
  });
  const targets: Target[] = [
    atMost('getSecretString vs floor (p50)', strRatio, 1.1, `${ns(str.p50)} vs ${ns(floor.p50)}`),
    atLeast(
      'getSecretString vs Powertools cached get (p50)',
      ptSpeedup,
      2.3,
      `${ns(pt.p50)} vs ${ns(str.p50)}`,
    ),
    atLeast(
      'same, one read per event-loop turn (TurnClock reads the time)',
      turnSpeedup,
      2.3,
      `${ns(turnPtRead)} vs ${ns(turnOursRead)}`,
    ),
    atMost('getSecretJson (zod) vs floor (p50)', jsonRatio, 1.5, `${ns(json.p50)} vs ${ns(floor.p50)}`),
    {
      scenario: 'warm',
      name: 'allocation per warm read beyond the floor (worst of our rows)',
      goal: '< 100 B',
      actual: `${signedBytes(worstAlloc.extra)} (${worstAlloc.name})`,
      margin:
        worstAlloc.extra < 100
          ? `${bytes(100 - worstAlloc.extra)} under`
          : `${bytes(worstAlloc.extra - 100)} over`,
      met: worstAlloc.extra < 100,
    },
    atMost(
      'live property access vs floor (p50)',
      liveRatio,
      0.25,
      `${ns(live.p50)} vs ${ns(floor.p50)}; sync map.get ${ns(syncGet.p50)}`,
    ),
    {
      scenario: 'warm',
      name: 'allocation per live property access',
      goal: '0 B',
      actual: `${bytes(live.alloc)} (${live.alloc.toFixed(3)} B/op)`,
      // Whole bytes: a window's used heap may move by a few bytes that no op allocated.
      margin: Math.round(live.alloc) === 0 ? 'exact' : `${bytes(live.alloc)} over`,
      met: Math.round(live.alloc) === 0,
    },
  ];

  const middyFloor = byName('middy: no-op handler, no middleware');
  const middySm = byName('middy + @middy/secrets-manager (cached, setToContext)');
  const middyOurs = byName('middy: handler awaits cache.getSecretJson');
  const notes = [
    `- Targets are judged on p50: the median of mitata's samples, each the mean time of a batch of 4,096 calls, which other work on the machine (GC threads, other processes) disturbs less than the avg. Both are in the table. The per-turn figure adds the row's measured overhead over the floor's turn to the floor's p50.`,
    `- Floors: \`await map.get(id)\` on a plain \`Map\` holding the same values as already-resolved promises, as the cache hands them out, so both sides await a resolved promise (a Map of plain strings would only make the floor slower: \`await 'string'\` wraps it in a new promise). Each group's ratios are to its own floor, over the same ids in the same round-robin order.`,
    `- The SecretCache has default options but the mocked client, so its clock is the default \`TurnClock\`. The 10,000-id row alone sets \`maxEntries: 10_000\`: the default 1,000 cannot hold 10,000 warm ids.`,
    `- Everything reads through one mocked \`SecretsManagerClient\` (aws-sdk-client-mock). Each row asserted its values before timing and that no SDK call (and no fetch of ours) happened while timed. Powertools is re-warmed right before its rows (default maxAge 5 s; a row takes < 1 s). The AWSPREVIOUS row passes a fresh \`{ versionStage }\` literal per call, as callers write it.`,
    `- Live: \`secrets.apiKey\` on \`await cache.live({ apiKey: secret.string(id) })\` of the same cache and id (made right before its row, from the warm entry: no fetch; closed after it), read synchronously with no await: ${ns(live.p50)} p50, ${x(liveRatio)} the awaited floor and ${x(live.p50 / syncGet.p50)} a synchronous \`map.get(id)\` on a \`Map\` of plain strings (${ns(syncGet.p50)}). Both synchronous rows store the value they read in a sink object (one property store, as mitata's \`do_not_optimize\`), so V8 cannot drop the read, and check after timing that the last value stored is the secret's. mitata's sample loop reads the heap between samples (in --quick too), a call V8 cannot see through; in a loop with no call at all V8 lifts the getter's loads out of it and an op times ~0.5 ns (a store, not a read): the figure here is one whole read per op. Inside a row the event loop never turns, so \`TurnClock\` hands the getter its cached time: this is the cost of every access but the first of a turn, which also reads \`Date.now()\` and schedules a \`setImmediate\` (see the per-turn figures below). Their \`alloc/op\` is per plain call (\`allocatedPerOpSync\`: ${int(syncAllocOps)} calls per window, no await, one event-loop turn), so it has no \`alloc - floor\`.`,
    `- middy rows time one whole invocation (\`await handler(event, context)\`, no-op-ish handler). With @middy/secrets-manager (\`cacheExpiry\` 1 h, \`setToContext: true\`, handler returns \`context.db\`) the before-middleware copies middy's cached promise into \`request.internal\` and \`getInternal\` resolves it (\`Promise.allSettled\`) onto the context: ${ns(middySm.p50 - middyFloor.p50)} per invocation (p50) over the bare middy invocation (${ns(middySm.p50)} − ${ns(middyFloor.p50)}). The same invocation whose handler awaits \`cache.getSecretJson(id, { schema })\` instead adds ${ns(middyOurs.p50 - middyFloor.p50)}.`,
    `- Allocation: \`alloc/op\` is heap bytes per awaited op: median of ${allocReps} windows of ${int(allocOps)} ops, each after a full gc (Node 20 has no \`total_allocated_bytes\`), in a loop compiled per row like mitata's. It includes the \`await\`'s own objects, which the floor pays too; \`alloc - floor\` is what the read itself adds. Multiples of 56 B are one small object (an empty \`{}\` is 56 B on this 64-bit build).${context.quick ? '' : " mitata's own heap estimate (in its console output) is noisier: it skips windows that a GC shrank."}`,
    `- One read per event-loop turn: inside a mitata row the event loop never turns (every await is on a resolved promise), so \`TurnClock\` reads \`Date.now()\` once per row. A read that is the first of its turn also pays \`Date.now()\` and a \`setImmediate\`. Measured over ${int(turns.turns)} turns per row (\`await setImmediate\`, then one read; median over ${turns.blocks} interleaved blocks), relative to the floor's turn:`,
    '',
    turnTable,
  ];

  const markdown = [table(header, lines, 'lrrrrrrr'), '', ...notes].join('\n');
  return { title: TITLE, markdown, targets };
}

function signedBytes(value: number): string {
  return `${value >= 0 ? '+' : '-'}${bytes(Math.abs(value))}`;
}

/** A read timed one per event-loop turn; `prepare` runs (untimed) before each of its blocks. */
interface TurnRead {
  readonly name: string;
  readonly read: () => unknown;
  readonly prepare?: () => Promise<void>;
}

/**
 * Each read's cost when it is the only read of its event-loop turn. Runs blocks of `turns` turns (each turn:
 * `await setImmediate`, then one awaited read), the reads' blocks interleaved; per read, the median per-turn
 * time and the median, over blocks, of its difference to the first read's (the floor's) block. Asserts that no
 * block made an AWS call.
 */
async function perTurn(
  reads: readonly TurnRead[],
  turns: number,
  blocks: number,
  calls: () => number,
): Promise<{ rows: { name: string; perTurn: number; overFloor: number }[]; turns: number; blocks: number }> {
  const block = async ({ name, read, prepare }: TurnRead): Promise<number> => {
    await prepare?.();
    const before = calls();
    const start = performance.now();
    for (let i = 0; i < turns; i++) {
      await nextTurn();
      await read();
    }
    const perTurnNs = ((performance.now() - start) * 1e6) / turns;
    assert.equal(calls(), before, `${name}: a per-turn read called AWS`);
    return perTurnNs;
  };
  for (const read of reads) await block(read); // warm
  const times = reads.map(() => [] as number[]);
  for (let b = 0; b < blocks; b++) {
    for (const [i, read] of reads.entries()) times[i]!.push(await block(read));
  }
  const floor = times[0]!;
  return {
    rows: reads.map(({ name }, i) => ({
      name,
      perTurn: median(times[i]!),
      overFloor: median(times[i]!.map((t, b) => t - floor[b]!)),
    })),
    turns: turns * blocks,
    blocks,
  };
}
