/**
 * Model-based tests of `SecretCache`: fast-check generates a configuration and a sequence of commands (reads
 * through every accessor, clock advances, source outcome changes, releases of hung calls, invalidations,
 * refreshNow, manifest loads, aborts); each runs against the real cache, over a `ModelSource` whose every answer
 * the test decides, and against a reference model of the documented semantics (README "Caching semantics" and
 * "What happens when AWS fails", and the hardening issue's staleWaitMs, stale events, FetchEvent.fetchedVersionId,
 * onVersionChange and NO_VALUE). After every step the two must agree on every read's outcome, every source call,
 * every hook event, `stats()`, and a set of invariants that do not depend on the model at all (a value's age, the
 * source's history, single flight, no value in any error, event or rendering, no unhandled rejection).
 *
 * Time: `setTimeout`, `clearTimeout` and `Date` are vitest fake timers, and the cache's clock reads `Date.now()`,
 * so the fetch timeout and the `staleWaitMs` timer fire at exactly the model's times when a step advances the
 * clock. `Math.random` returns one value per run (drawn by fast-check), so backoff delays and jittered lifetimes
 * are predictable. The source answers each call on a turn of the event loop of its own, in call order; a step
 * ends when no answer is queued (`drain`), so no test sleeps.
 *
 * Replaying a failure: fast-check prints the seed and path of the shrunk counterexample. Run
 *
 *   SECRETCACHE_MODEL_SEED=<seed> SECRETCACHE_MODEL_PATH=<path> npx vitest run test/model -t '<test name>'
 *
 * (the path belongs to the test that printed it: filter with -t). `SECRETCACHE_MODEL_RUNS=<n>` runs n cases
 * per test instead of CI's few (the time limit grows with it).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretCache } from '../../src/cache.js';
import { isSecretCacheError } from '../../src/errors.js';
import { type JsonSpecOptions, secret } from '../../src/manifest.js';
import type { SecretCacheOptions } from '../../src/options.js';
import type { StandardSchemaV1 } from '../../src/schema.js';
import type { SecretVersion } from '../../src/source.js';
import { LeakScanner } from '../support/model-leaks.js';
import {
  codeOfAwsError,
  drain,
  type Mode,
  ModelSource,
  modelKey,
  type ReleaseOutcome,
  type SourceCall,
  type ValueKind,
} from '../support/model-source.js';

// ---------------------------------------------------------------------------------------------------------------
// Run counts and replay

const RUNS = Number(process.env.SECRETCACHE_MODEL_RUNS ?? '') || undefined;
const SEED = process.env.SECRETCACHE_MODEL_SEED;
const PATH = process.env.SECRETCACHE_MODEL_PATH;

function assertParameters(ciRuns: number): fc.Parameters<[Scenario]> {
  return {
    numRuns: RUNS ?? ciRuns,
    ...(SEED === undefined || SEED === '' ? {} : { seed: Number(SEED) }),
    ...(PATH === undefined || PATH === '' ? {} : { path: PATH }),
  };
}

function timeLimit(ciRuns: number): number {
  return 30_000 + (RUNS ?? ciRuns) * 300;
}

// ---------------------------------------------------------------------------------------------------------------
// Configurations and commands

const IDS = ['app/db', 'app/api', 'tls/key'] as const;
const TTL_MS = 10_000;
const T0 = 1_700_000_000_000;
const NO_TIMEOUT = 2 ** 31 - 1;
const CHANNELS = [
  'secretcache:fetch',
  'secretcache:error',
  'secretcache:stale',
  'secretcache:evict',
  'secretcache:version',
];

/** Known defects the model can be told to reproduce, so the families that test everything else stay green. */
interface KnownDefects {
  /** refreshNow with an already-aborted signal fetches and resolves with the fetch's outcome, not ABORTED. */
  readonly refreshNowIgnoresAbortedSignal: boolean;
  /** A reader that was aborted, or already served stale by staleWaitMs, is counted (and reported) stale again when
   * its fetch fails. */
  readonly staleCountedForSettledReaders: boolean;
  /** A fetch that took longer than ttlMs hands its waiting readers a value already past its lifetime. */
  readonly waitersGetExpiredAnswer: boolean;
  /** When staleWaitMs runs out, the value is served stale even if it is past expiresAt + staleIfErrorMs by then. */
  readonly staleWaitIgnoresWindowEnd: boolean;
}

const STRICT: KnownDefects = {
  refreshNowIgnoresAbortedSignal: false,
  staleCountedForSettledReaders: false,
  waitersGetExpiredAnswer: false,
  staleWaitIgnoresWindowEnd: false,
};

/**
 * What the families model. The first three were defects the model found (fixed; see the regression tests below).
 * A reader that waited for a fetch gets that fetch's answer however long it took, even when its lifetime (counted
 * from the fetch's start) has run out on arrival: it is the freshest value there is (documented in the README).
 */
const KNOWN: KnownDefects = { ...STRICT, waitersGetExpiredAnswer: true };

interface Config {
  readonly ttlMs: number;
  readonly ttlJitter: number;
  readonly refreshAheadMs: number;
  readonly staleIfErrorMs: number;
  readonly staleOnAnyError: boolean;
  readonly staleWaitMs: number;
  readonly maxEntries: number;
  readonly backoff: { readonly baseMs: number; readonly factor: number; readonly maxMs: number };
  readonly fetchTimeoutMs: number;
  /** What Math.random returns throughout the run. */
  readonly random: number;
  /** Whether the source has BatchGetSecretValue. */
  readonly batch: boolean;
  readonly valueSeed: number;
  readonly initial: readonly ValueKind[];
  /** The cache's `versionStage` option: the stage of a read that names none. */
  readonly versionStage: 'AWSCURRENT' | 'AWSPENDING';
}

type Acc = 'string' | 'binary' | 'json' | 'jsonSchema' | 'jsonLeaky' | 'jsonThrows' | 'record';
type SelCmd =
  | { readonly by: 'default' }
  | { readonly by: 'empty' }
  | { readonly by: 'current' }
  | { readonly by: 'stage'; readonly stage: 'AWSPREVIOUS' | 'AWSPENDING' }
  | { readonly by: 'version'; readonly pick: number };
type AbortWhen = 'none' | 'before' | 'later';

interface ReadCmd {
  readonly acc: Acc;
  readonly id: number;
  readonly sel: SelCmd;
  readonly abort: AbortWhen;
}

interface LoadEntryCmd {
  readonly kind: 'string' | 'binary' | 'json';
  readonly id: number;
  readonly sel: SelCmd;
  readonly key: 'token' | 'absent' | undefined;
  readonly schema: 'token' | 'string' | 'leaky' | undefined;
}

type Command =
  | { readonly t: 'reads'; readonly reads: readonly ReadCmd[] }
  | { readonly t: 'advance'; readonly ms: number }
  | { readonly t: 'advanceTo'; readonly pick: number; readonly delta: -1 | 0 | 1 }
  | {
      readonly t: 'publish';
      readonly id: number;
      readonly kind: ValueKind;
      readonly as: 'current' | 'pending';
    }
  | { readonly t: 'promote'; readonly id: number }
  | { readonly t: 'dropStage'; readonly id: number; readonly stage: 'AWSPREVIOUS' | 'AWSPENDING' }
  | { readonly t: 'mode'; readonly id: number; readonly mode: Mode }
  | { readonly t: 'batchDenied'; readonly denied: boolean }
  | { readonly t: 'release'; readonly id: number | undefined; readonly outcome: ReleaseOutcome }
  | { readonly t: 'invalidate'; readonly id: number | undefined }
  | { readonly t: 'refreshNow'; readonly id: number; readonly sel: SelCmd; readonly abort: AbortWhen }
  | { readonly t: 'load'; readonly entries: readonly LoadEntryCmd[] }
  | { readonly t: 'abortAll' }
  /** An outage: the secret starts failing or hanging, and the clock moves to the next deadline (an expiry...). */
  | {
      readonly t: 'outage';
      readonly id: number;
      readonly mode: Mode;
      readonly pick: number;
      readonly delta: 0 | 1;
    };

interface Scenario {
  readonly config: Config;
  readonly commands: readonly Command[];
}

// One hot secret and two cooler ones: the interesting sequences (cache, expire, fail, read again) need repeats.
const idArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.constant(1) },
  { weight: 1, arbitrary: fc.constant(2) },
);
const selArb: fc.Arbitrary<SelCmd> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ by: 'default' as const }) },
  { weight: 1, arbitrary: fc.constant({ by: 'empty' as const }) },
  { weight: 1, arbitrary: fc.constant({ by: 'current' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      by: fc.constant('stage' as const),
      stage: fc.constantFrom('AWSPREVIOUS', 'AWSPENDING'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ by: fc.constant('version' as const), pick: fc.nat({ max: 50 }) }) },
);
const abortArb = fc.constantFrom<AbortWhen>('none', 'none', 'none', 'none', 'before', 'later');
const readArb: fc.Arbitrary<ReadCmd> = fc.record({
  acc: fc.constantFrom<Acc>(
    'string',
    'string',
    'binary',
    'json',
    'jsonSchema',
    'jsonLeaky',
    'jsonThrows',
    'record',
  ),
  id: idArb,
  sel: selArb,
  abort: abortArb,
});
const modeArb: fc.Arbitrary<Mode> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'ok' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('transient' as const),
      name: fc.constantFrom('ThrottlingException' as const, 'ServiceUnavailable' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('permanent' as const),
      name: fc.constantFrom('ResourceNotFoundException' as const, 'AccessDeniedException' as const),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'hang' as const }) },
);
const valueKindArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant<ValueKind>('json') },
  { weight: 2, arbitrary: fc.constant<ValueKind>('text') },
  { weight: 2, arbitrary: fc.constant<ValueKind>('binary') },
  { weight: 1, arbitrary: fc.constant<ValueKind>('none') },
);
const loadEntryArb: fc.Arbitrary<LoadEntryCmd> = fc.record({
  kind: fc.constantFrom('string' as const, 'binary' as const, 'json' as const, 'json' as const),
  id: idArb,
  sel: selArb,
  key: fc.constantFrom(undefined, undefined, 'token' as const, 'absent' as const),
  schema: fc.constantFrom(undefined, undefined, 'token' as const, 'string' as const, 'leaky' as const),
});

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      t: fc.constant('reads' as const),
      reads: fc.array(readArb, { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.integer({ min: 1, max: 3_000 }),
        fc.constantFrom(1, 499, 500, 1_000, 5_000, 9_999, 10_000, 10_001, 30_000, 45_000, 120_000),
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('advanceTo' as const),
      pick: fc.nat({ max: 20 }),
      delta: fc.constantFrom(-1 as const, 0 as const, 1 as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('publish' as const),
      id: idArb,
      kind: valueKindArb,
      as: fc.constantFrom('current' as const, 'current' as const, 'pending' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('promote' as const), id: idArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('dropStage' as const),
      id: idArb,
      stage: fc.constantFrom('AWSPREVIOUS' as const, 'AWSPENDING' as const),
    }),
  },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('mode' as const), id: idArb, mode: modeArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('batchDenied' as const), denied: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('release' as const),
      id: fc.option(idArb, { nil: undefined }),
      outcome: fc.constantFrom<ReleaseOutcome>('current', 'current', 'throttle', 'notfound', 'denied'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('invalidate' as const), id: fc.option(idArb, { nil: undefined }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('refreshNow' as const), id: idArb, sel: selArb, abort: abortArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('load' as const),
      entries: fc.array(loadEntryArb, { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'abortAll' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('outage' as const),
      id: idArb,
      mode: modeArb.filter((mode) => mode.kind === 'transient' || mode.kind === 'hang'),
      pick: fc.nat({ max: 3 }),
      delta: fc.constantFrom(0 as const, 1 as const),
    }),
  },
);

function configArb(family: { ttlJitter: fc.Arbitrary<number>; staleWaitMs: fc.Arbitrary<number> }) {
  return fc
    .record({
      ttlJitter: family.ttlJitter,
      refreshAheadMs: fc.constantFrom(0, 1_000, 4_000),
      staleIfErrorMs: fc.constantFrom(0, 5_000, 30_000, Number.POSITIVE_INFINITY),
      staleOnAnyError: fc.boolean(),
      staleWaitMs: family.staleWaitMs,
      maxEntries: fc.constantFrom(2, 3, 1_000, 1_000),
      baseMs: fc.constantFrom(500, 1_000),
      factor: fc.constantFrom(1, 2, 3),
      fetchTimeoutMs: fc.constantFrom(NO_TIMEOUT, 7_000),
      random: fc.constantFrom(0, 0.25, 0.5, 0.75),
      batch: fc.boolean(),
      valueSeed: fc.integer(),
      initial: fc.array(valueKindArb, { minLength: IDS.length, maxLength: IDS.length }),
      versionStage: fc.constantFrom('AWSCURRENT' as const, 'AWSCURRENT' as const, 'AWSPENDING' as const),
    })
    .map(
      ({ baseMs, factor, ...rest }): Config => ({
        ...rest,
        ttlMs: TTL_MS,
        backoff: { baseMs, factor, maxMs: 8_000 },
      }),
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas and the expected value of each accessor

function makeSchema(validate: (value: unknown) => StandardSchemaV1.Result<unknown>): StandardSchemaV1 {
  return { '~standard': { version: 1, vendor: 'secretcache-model', validate } };
}

const isRecordObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const SCHEMAS = {
  token: makeSchema((value) =>
    isRecordObject(value) && typeof value.token === 'string'
      ? { value: { token: value.token } }
      : { issues: [{ message: 'expected { token: string }', path: ['token'] }] },
  ),
  string: makeSchema((value) =>
    typeof value === 'string' ? { value } : { issues: [{ message: 'expected a string' }] },
  ),
  // A validator whose messages quote the value, as valibot's do: the cache must report paths only.
  leaky: makeSchema((value) => ({
    issues: [{ message: `rejected ${JSON.stringify(value)}`, path: ['token'] }],
  })),
  throws: makeSchema((value) => {
    throw new Error(`cannot validate ${JSON.stringify(value)}`);
  }),
} as const;

type SpecAcc = {
  readonly kind: 'string' | 'binary' | 'json';
  readonly key?: string;
  readonly schema?: StandardSchemaV1;
};
type ModelAcc = Acc | SpecAcc;

/** What an accessor gives for a version: a value, or an error code. */
type Expected = { readonly value: unknown } | { readonly code: string };

function expectedRead(acc: ModelAcc, version: SecretVersion, stale: boolean): Expected {
  const fail = (code: string): Expected => ({ code });
  const json = (): Expected => {
    if (version.secretString === undefined) return fail('WRONG_TYPE');
    try {
      return { value: JSON.parse(version.secretString) };
    } catch {
      return fail('INVALID_JSON');
    }
  };
  const validate = (schema: StandardSchemaV1, value: unknown): Expected => {
    try {
      const result = schema['~standard'].validate(value) as StandardSchemaV1.Result<unknown>;
      return result.issues === undefined ? { value: result.value } : fail('SCHEMA_MISMATCH');
    } catch {
      return fail('SCHEMA_MISMATCH');
    }
  };
  if (typeof acc === 'object') {
    if (acc.kind !== 'json') return expectedRead(acc.kind, version, stale);
    const parsed = json();
    if (!('value' in parsed)) return parsed;
    let value = parsed.value;
    if (acc.key !== undefined) {
      if (!isRecordObject(value) || !Object.hasOwn(value, acc.key)) return fail('MISSING_KEY');
      value = value[acc.key];
    }
    return acc.schema === undefined ? { value } : validate(acc.schema, value);
  }
  switch (acc) {
    case 'string':
      return version.secretString === undefined ? fail('WRONG_TYPE') : { value: version.secretString };
    case 'binary':
      return version.secretBinary === undefined ? fail('WRONG_TYPE') : { value: version.secretBinary };
    case 'json':
      return json();
    case 'jsonSchema':
    case 'jsonLeaky':
    case 'jsonThrows': {
      const parsed = json();
      if (!('value' in parsed)) return parsed;
      const schema = { jsonSchema: SCHEMAS.token, jsonLeaky: SCHEMAS.leaky, jsonThrows: SCHEMAS.throws }[acc];
      return validate(schema, parsed.value);
    }
    case 'record':
      return {
        value: {
          name: version.name,
          arn: version.arn,
          versionId: version.versionId,
          versionStages: version.versionStages,
          stale,
          ...(version.secretString === undefined ? {} : { secretString: version.secretString }),
          ...(version.secretBinary === undefined ? {} : { secretBinary: version.secretBinary }),
        },
      };
  }
}

/** One string for a value, the same for the model's and the cache's. */
function canonValue(value: unknown): string {
  if (typeof value === 'string') return `s:${value}`;
  if (value instanceof Uint8Array) return `b:${Buffer.from(value).toString('hex')}`;
  return `j:${JSON.stringify(value)}`;
}

function canonRecord(record: Record<string, unknown>): string {
  const value = record.secretString ?? record.secretBinary;
  const stages = (record.versionStages as readonly string[]).join(',');
  return `record ${record.name} ${record.arn} ${record.versionId} [${stages}] stale=${record.stale} ${canonValue(value)}`;
}

function canonLoaded(loaded: object): string {
  return `loaded {${Object.keys(loaded)
    .map((key) => `${key}=${canonValue((loaded as Record<string, unknown>)[key])}`)
    .join('; ')}}`;
}

/** Fails with both sides printed in full (vitest's diff is cut short inside fast-check's report). */
function same(actual: unknown, expected: unknown, what: string): void {
  const sortKeys = (_: string, value: unknown) =>
    isRecordObject(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value;
  const a = JSON.stringify(actual, sortKeys);
  const b = JSON.stringify(expected, sortKeys);
  if (a !== b) throw new Error(`${what}: the cache gives ${a}, the model ${b}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The reference model

interface Sel {
  readonly id: string;
  readonly stage: string | undefined;
  readonly versionId: string | undefined;
  readonly key: string;
}

interface MEntry {
  readonly uid: number;
  readonly sel: Sel;
  readonly version: SecretVersion;
  readonly startedAt: number;
  readonly expiresAt: number;
  readonly refreshAt: number;
  servedStale: boolean;
}

interface MFailure {
  readonly count: number;
  readonly retryAt: number;
  readonly code: string;
}

interface MRead {
  readonly readId: number;
  readonly acc: ModelAcc | 'refresh';
  readonly sel: Sel;
  readonly signal: AbortWhen;
  captured: MEntry | undefined;
  patience: boolean;
  settled: boolean;
  readonly onSettle: (
    outcome: string,
    stale: boolean,
    fetchStartedAt: number | undefined,
    pastWindow: boolean,
  ) => void;
}

interface MFlight {
  readonly sel: Sel;
  readonly reason: string;
  readonly startedAt: number;
  orphaned: boolean;
  settled: boolean;
  readonly waiters: MRead[];
  patienceDue: number | undefined;
  patienceSeq: number;
  patienceFired: boolean;
}

interface MCall {
  readonly type: 'get' | 'batch';
  readonly targets: ReadonlyArray<{ readonly sel: Sel; readonly flight: MFlight }>;
  readonly startedAt: number;
  readonly timeoutAt: number;
  readonly timerSeq: number;
  readonly held: boolean;
  answered: boolean;
}

/** What the model says a settled read gave. */
interface ModelOutcome {
  readonly canon: string;
  readonly stale: boolean;
  /** For a read answered by the fetch it waited for: when that fetch started. */
  readonly fetchStartedAt: number | undefined;
  /** Served stale past expiresAt + staleIfErrorMs (only under the known defect). */
  readonly pastWindow?: boolean;
  /** For a load: each entry's staleness and fetch. */
  readonly parts?: ReadonlyArray<{
    readonly stale: boolean;
    readonly fetchStartedAt: number | undefined;
    readonly pastWindow: boolean;
  }>;
}

interface StaleServe {
  readonly key: string;
  readonly staleForMs: number;
  readonly code: string;
  /** The version's first stale read: a stale period starts, and must be reported. */
  readonly first: boolean;
  /** How many backoff windows of the key had ended by then (see `Model.windows`). */
  readonly window: number;
}

const TRANSIENT = new Set(['THROTTLED', 'FETCH_FAILED', 'TIMEOUT']);

/** How often each situation came up (printed with SECRETCACHE_MODEL_COVERAGE=1, to keep the generators honest). */
const coverage = new Map<string, number>();
const cover = (what: string): void => {
  coverage.set(what, (coverage.get(what) ?? 0) + 1);
};
afterAll(() => {
  if (process.env.SECRETCACHE_MODEL_COVERAGE === '1') console.log(Object.fromEntries([...coverage].sort()));
});

function describeCall(
  type: 'get' | 'batch',
  ids: readonly string[],
  stage: string | undefined,
  versionId: string | undefined,
) {
  return type === 'batch' ? `batch ${ids.join(',')}` : `get ${ids[0]} stage=${stage} id=${versionId}`;
}

class Model {
  now = T0;
  readonly lru = new Map<string, MEntry>();
  readonly failures = new Map<string, MFailure>();
  readonly inflight = new Map<string, MFlight>();
  batchDenied = false;
  readonly stats = {
    hits: 0,
    misses: 0,
    fetches: 0,
    errors: 0,
    staleServed: 0,
    refreshAhead: 0,
    backoffSkips: 0,
  };
  readonly calls: MCall[] = [];
  readonly patient: MFlight[] = [];
  readonly outcomes = new Map<number, ModelOutcome>();
  readonly abortable: MRead[] = [];
  /** Per key, how many backoff windows ended (a failed fetch, a backoff dropped): stale events may repeat per window. */
  readonly windows = new Map<string, number>();
  // What one step did: compared with the cache's, then cleared.
  stepCalls: string[] = [];
  stepEvents = {
    fetch: [] as string[],
    error: [] as string[],
    evict: [] as string[],
    version: [] as string[],
  };
  stepStale: StaleServe[] = [];
  #prompt: Array<{ call: MCall; outcome: ReleaseOutcome }> = [];
  #uid = 0;
  #timerSeq = 0;

  constructor(
    readonly config: Config,
    readonly source: ModelSource,
    readonly defects: KnownDefects,
  ) {}

  beginStep(): void {
    this.stepCalls = [];
    this.stepEvents = { fetch: [], error: [], evict: [], version: [] };
    this.stepStale = [];
  }

  selector(id: string, sel: SelCmd): Sel {
    const versionId = sel.by === 'version' ? this.versionIdFor(sel.pick) : undefined;
    const stage =
      versionId !== undefined
        ? undefined
        : sel.by === 'stage'
          ? sel.stage
          : sel.by === 'current'
            ? 'AWSCURRENT'
            : this.config.versionStage;
    return { id, stage, versionId, key: modelKey(id, stage, versionId) };
  }

  /** A version id of any secret (reading it under another id must fail), or one that never existed. */
  versionIdFor(pick: number): string {
    const ids = this.source.allVersions().map((version) => version.versionId);
    return [...ids, 'no-such-version'][pick % (ids.length + 1)] as string;
  }

  // --- reads

  read(read: MRead): void {
    if (read.signal === 'before') {
      this.#finish(read, 'error ABORTED', false);
      return;
    }
    if (read.signal === 'later') this.abortable.push(read);
    const { sel } = read;
    const now = this.now;
    const entry = this.#touch(sel.key);
    if (entry !== undefined && now < entry.expiresAt) {
      this.stats.hits++;
      if (now >= entry.refreshAt) this.#background(sel, 'refresh-ahead');
      this.#finish(read, this.#apply(read, entry, false), false);
      return;
    }
    const failure = this.failures.get(sel.key);
    if (failure !== undefined && now < failure.retryAt) {
      this.stats.backoffSkips++;
      if (entry !== undefined && this.#canServeStale(entry, failure.code, now)) {
        this.stats.hits++;
        this.#serveStale(read, entry, failure.code);
        return;
      }
      this.#finish(read, `error ${failure.code}`, false);
      return;
    }
    if (entry !== undefined && failure !== undefined && this.#canServeStale(entry, failure.code, now)) {
      this.stats.hits++;
      this.#background(sel, 'stale-retry');
      this.#serveStale(read, entry, failure.code);
      return;
    }
    this.stats.misses++;
    const flight = this.#fetch(sel, 'miss');
    read.captured = entry;
    flight.waiters.push(read);
    // staleWaitMs: an expired value still servable and no backoff recorded: wait at most staleWaitMs (one timer
    // per fetch, started by its first such reader), then take the value stale while the fetch goes on.
    const { staleWaitMs, staleIfErrorMs } = this.config;
    if (
      entry !== undefined &&
      failure === undefined &&
      Number.isFinite(staleWaitMs) &&
      now < entry.expiresAt + staleIfErrorMs
    ) {
      read.patience = true;
      if (flight.patienceFired) this.#serveStale(read, entry, 'TIMEOUT');
      else if (flight.patienceDue === undefined) {
        flight.patienceDue = now + staleWaitMs;
        flight.patienceSeq = this.#timerSeq++;
        this.patient.push(flight);
      }
    }
  }

  refreshNow(read: MRead): void {
    if (read.signal === 'before' && !this.defects.refreshNowIgnoresAbortedSignal) {
      this.#finish(read, 'error ABORTED', false);
      return;
    }
    if (read.signal === 'later') this.abortable.push(read);
    this.#fetch(read.sel, 'refresh-now').waiters.push(read);
  }

  load(readId: number, entries: ReadonlyArray<readonly [string, SpecAcc, Sel]>): void {
    const now = this.now;
    if (this.config.batch && !this.batchDenied) {
      const wanted = new Map<string, Sel>();
      for (const [, , sel] of entries) {
        if (sel.versionId !== undefined || sel.stage !== 'AWSCURRENT' || wanted.has(sel.key)) continue;
        const entry = this.lru.get(sel.key);
        const failure = this.failures.get(sel.key);
        if (entry !== undefined && now < entry.refreshAt) continue;
        if (this.inflight.has(sel.key) || (failure !== undefined && now < failure.retryAt)) continue;
        wanted.set(sel.key, sel);
      }
      if (wanted.size >= 2) this.#startBatch([...wanted.values()]);
    }
    const results: Array<{
      key: string;
      id: string;
      outcome: string;
      stale: boolean;
      fetchStartedAt: number | undefined;
      pastWindow: boolean;
    }> = [];
    let remaining = entries.length;
    entries.forEach(([key, acc, sel], index) => {
      this.read({
        readId: -1,
        acc,
        sel,
        signal: 'none',
        captured: undefined,
        patience: false,
        settled: false,
        onSettle: (outcome, stale, fetchStartedAt, pastWindow) => {
          results[index] = { key, id: sel.id, outcome, stale, fetchStartedAt, pastWindow };
          if (--remaining > 0) return;
          const failed = results.filter((result) => result.outcome.startsWith('error '));
          const canon =
            failed.length === 0
              ? `loaded {${results.map((result) => `${result.key}=${result.outcome}`).join('; ')}}`
              : `error LOAD_FAILED [${failed.map((f) => `${f.key}:${f.id}:${f.outcome.slice(6)}`).join('; ')}]`;
          this.outcomes.set(readId, { canon, stale: false, fetchStartedAt: undefined, parts: results });
        },
      });
    });
  }

  abortAll(): void {
    for (const read of this.abortable.splice(0)) this.#finish(read, 'error ABORTED', false);
  }

  // --- the store

  invalidate(id: string | undefined): void {
    const belongs = (sel: Sel) => id === undefined || sel.id === id;
    for (const [key, flight] of [...this.inflight]) {
      if (!belongs(flight.sel)) continue;
      flight.orphaned = true;
      cover('fetch orphaned by invalidate');
      this.inflight.delete(key);
    }
    for (const key of [...this.failures.keys()]) {
      if (id !== undefined && !key.startsWith(`${id} @`)) continue;
      this.failures.delete(key);
      this.#endWindow(key);
    }
    for (const [key, entry] of [...this.lru]) {
      if (!belongs(entry.sel)) continue;
      this.lru.delete(key);
      this.#evictEvent(entry, 'delete');
    }
  }

  #touch(key: string): MEntry | undefined {
    const entry = this.lru.get(key);
    if (entry !== undefined) {
      this.lru.delete(key);
      this.lru.set(key, entry);
    }
    return entry;
  }

  #store(entry: MEntry): void {
    const { key } = entry.sel;
    if (this.lru.has(key)) this.lru.delete(key);
    else if (this.lru.size >= this.config.maxEntries) {
      const [oldestKey, oldest] = this.lru.entries().next().value as [string, MEntry];
      this.lru.delete(oldestKey);
      this.#evictEvent(oldest, 'evict');
      cover('evicted by maxEntries');
    }
    this.lru.set(key, entry);
  }

  #recordFailure(key: string, failure: MFailure): void {
    if (!this.failures.delete(key) && this.failures.size >= this.config.maxEntries) {
      // The backoff map is bounded like the entries: the key that failed least recently is forgotten.
      const oldest = this.failures.keys().next().value as string;
      this.failures.delete(oldest);
      this.#endWindow(oldest);
      cover('backoff forgotten (maxEntries)');
    }
    this.failures.set(key, failure);
  }

  #endWindow(key: string): void {
    this.windows.set(key, (this.windows.get(key) ?? 0) + 1);
  }

  #evictEvent(entry: MEntry, reason: string): void {
    const { id, stage, versionId } = entry.sel;
    this.stepEvents.evict.push(`${id}|${stage}|${versionId}|${reason}`);
  }

  #canServeStale(entry: MEntry, code: string, now: number): boolean {
    return (
      now < entry.expiresAt + this.config.staleIfErrorMs &&
      (this.config.staleOnAnyError || TRANSIENT.has(code))
    );
  }

  #serveStale(read: MRead, entry: MEntry, code: string, pastWindow = false): void {
    cover(`stale served (${code})`);
    this.stats.staleServed++;
    this.stepStale.push({
      key: entry.sel.key,
      staleForMs: this.now - entry.expiresAt,
      code,
      first: !entry.servedStale,
      window: this.windows.get(entry.sel.key) ?? 0,
    });
    entry.servedStale = true;
    this.#finish(read, this.#apply(read, entry, true), true, undefined, pastWindow);
  }

  #apply(read: MRead, entry: MEntry, stale: boolean): string {
    if (read.acc === 'refresh') return 'refreshed';
    const expected = expectedRead(read.acc, entry.version, stale);
    if ('code' in expected) return `error ${expected.code}`;
    return read.acc === 'record'
      ? canonRecord(expected.value as Record<string, unknown>)
      : canonValue(expected.value);
  }

  #finish(read: MRead, outcome: string, stale: boolean, fetchStartedAt?: number, pastWindow = false): void {
    if (read.settled) return;
    cover(`outcome ${outcome.startsWith('error') ? outcome : outcome.split(/[ :]/)[0]}`);
    read.settled = true;
    read.onSettle(outcome, stale, fetchStartedAt, pastWindow);
  }

  // --- fetches

  #background(sel: Sel, reason: string): void {
    if (this.inflight.has(sel.key)) return;
    const failure = this.failures.get(sel.key);
    if (failure !== undefined && this.now < failure.retryAt) {
      this.stats.backoffSkips++;
      return;
    }
    if (reason === 'refresh-ahead') this.stats.refreshAhead++;
    cover(`background ${reason}`);
    this.#fetch(sel, reason);
  }

  #fetch(sel: Sel, reason: string): MFlight {
    const running = this.inflight.get(sel.key);
    if (running !== undefined) return running;
    const flight: MFlight = {
      sel,
      reason,
      startedAt: this.now,
      orphaned: false,
      settled: false,
      waiters: [],
      patienceDue: undefined,
      patienceSeq: 0,
      patienceFired: false,
    };
    this.inflight.set(sel.key, flight);
    this.#startGet(flight);
    return flight;
  }

  #startGet(flight: MFlight): void {
    const { sel } = flight;
    this.#startCall('get', [{ sel, flight }], this.source.mode(sel.id).kind === 'hang');
  }

  #startBatch(sels: Sel[]): void {
    cover('batch call');
    const targets = sels.map((sel) => {
      const flight: MFlight = {
        sel,
        reason: 'load',
        startedAt: this.now,
        orphaned: false,
        settled: false,
        waiters: [],
        patienceDue: undefined,
        patienceSeq: 0,
        patienceFired: false,
      };
      return { sel, flight };
    });
    this.#startCall('batch', targets, this.source.batchHangs(sels.map((sel) => sel.id)));
    for (const { sel, flight } of targets) this.inflight.set(sel.key, flight);
  }

  #startCall(type: 'get' | 'batch', targets: MCall['targets'], held: boolean): void {
    this.stats.fetches++;
    const call: MCall = {
      type,
      targets,
      startedAt: this.now,
      timeoutAt: this.now + this.config.fetchTimeoutMs,
      timerSeq: this.#timerSeq++,
      held,
      answered: false,
    };
    this.calls.push(call);
    const first = targets[0]?.sel as Sel;
    this.stepCalls.push(
      describeCall(
        type,
        targets.map((target) => target.sel.id),
        first.stage,
        first.versionId,
      ),
    );
    if (!held) this.#prompt.push({ call, outcome: 'current' });
  }

  heldCalls(): string[] {
    return this.calls
      .filter((call) => call.held && !call.answered)
      .map((call) => {
        const first = call.targets[0]?.sel as Sel;
        return describeCall(
          call.type,
          call.targets.map((target) => target.sel.id),
          first.stage,
          first.versionId,
        );
      });
  }

  release(id: string | undefined, outcome: ReleaseOutcome): void {
    for (const call of this.calls) {
      if (!call.held || call.answered) continue;
      if (id !== undefined && !call.targets.some((target) => target.sel.id === id)) continue;
      this.#prompt.push({ call, outcome });
      // Released calls are no longer held: a later release does not answer them twice.
      (call as { held: boolean }).held = false;
    }
  }

  /** Answers every queued call in order, then fires the timers due now (staleWaitMs 0), until nothing is left. */
  drain(): void {
    for (;;) {
      while (this.#prompt.length > 0) {
        const { call, outcome } = this.#prompt.shift() as { call: MCall; outcome: ReleaseOutcome };
        if (!call.answered) this.#answer(call, outcome);
      }
      if (!this.#fireNextTimer(this.now)) return;
    }
  }

  advance(ms: number): void {
    const target = this.now + ms;
    while (this.#fireNextTimer(target)) this.drain();
    this.now = target;
    this.drain();
  }

  /** The next times anything changes on its own: expiries, refresh-ahead, ends of stale windows and backoffs. */
  deadlines(): number[] {
    const times = new Set<number>();
    for (const entry of this.lru.values()) {
      for (const time of [entry.refreshAt, entry.expiresAt, entry.expiresAt + this.config.staleIfErrorMs]) {
        if (Number.isFinite(time) && time > this.now) times.add(time);
      }
    }
    for (const failure of this.failures.values()) if (failure.retryAt > this.now) times.add(failure.retryAt);
    for (const call of this.calls) {
      if (!call.answered && call.timeoutAt > this.now && call.timeoutAt < NO_TIMEOUT)
        times.add(call.timeoutAt);
    }
    for (const flight of this.patient) {
      if (!flight.settled && !flight.patienceFired && (flight.patienceDue ?? 0) > this.now) {
        times.add(flight.patienceDue as number);
      }
    }
    return [...times].sort((a, b) => a - b);
  }

  /** Fires the earliest timer due by `until` (a fetch timeout or a staleWaitMs wait), in timer order. */
  #fireNextTimer(until: number): boolean {
    let next: { due: number; seq: number; fire: () => void } | undefined;
    const consider = (due: number, seq: number, fire: () => void) => {
      if (due > until) return;
      if (next === undefined || due < next.due || (due === next.due && seq < next.seq))
        next = { due, seq, fire };
    };
    for (const call of this.calls) {
      if (!call.answered && call.held) consider(call.timeoutAt, call.timerSeq, () => this.#timeOut(call));
    }
    for (const flight of this.patient) {
      if (!flight.settled && !flight.patienceFired) {
        consider(flight.patienceDue as number, flight.patienceSeq, () => this.#losePatience(flight));
      }
    }
    if (next === undefined) return false;
    this.now = Math.max(this.now, next.due);
    next.fire();
    return true;
  }

  #timeOut(call: MCall): void {
    cover(`${call.type} timed out`);
    call.answered = true;
    for (const { flight } of call.targets) this.#settleFlight(flight, { code: 'TIMEOUT' });
  }

  #losePatience(flight: MFlight): void {
    cover('staleWaitMs ran out');
    flight.patienceFired = true;
    for (const read of flight.waiters) {
      if (!read.patience || read.settled) continue;
      const entry = read.captured as MEntry;
      // staleIfErrorMs bounds every stale read: past it, the reader waits for the fetch after all.
      const inWindow = this.now < entry.expiresAt + this.config.staleIfErrorMs;
      if (!inWindow) cover('staleWaitMs ran out past the stale window');
      if (inWindow || this.defects.staleWaitIgnoresWindowEnd)
        this.#serveStale(read, entry, 'TIMEOUT', !inWindow);
    }
  }

  #answer(call: MCall, outcome: ReleaseOutcome): void {
    call.answered = true;
    const releaseName = {
      throttle: 'ThrottlingException',
      notfound: 'ResourceNotFoundException',
      denied: 'AccessDeniedException',
    };
    if (call.type === 'get') {
      const { sel, flight } = call.targets[0] as MCall['targets'][number];
      const answer =
        outcome === 'current'
          ? this.source.answerFor(
              { secretId: sel.id, versionStage: sel.stage, versionId: sel.versionId },
              true,
            )
          : { error: releaseName[outcome] };
      this.#settleFlight(flight, 'error' in answer ? { code: codeOfAwsError(answer.error) } : answer);
      return;
    }
    const ids = call.targets.map((target) => target.sel.id);
    const answer =
      outcome === 'current' ? this.source.batchAnswerFor(ids, true) : { error: releaseName[outcome] };
    if ('error' in answer) {
      const code = codeOfAwsError(answer.error);
      if (code === 'ACCESS_DENIED' || code === 'INVALID_REQUEST') {
        // A denied batch is not the secrets' fault: each is fetched alone, within the same flight.
        this.batchDenied = true;
        cover('batch denied');
        for (const { flight } of call.targets) this.#startGet(flight);
      } else {
        for (const { flight } of call.targets) this.#settleFlight(flight, { code });
      }
      return;
    }
    for (const { sel, flight } of call.targets) {
      const version = answer.versions.find((candidate) => candidate.name === sel.id);
      const failure = answer.errors.find((candidate) => candidate.secretId === sel.id);
      if (version !== undefined) this.#settleFlight(flight, { version });
      else if (failure !== undefined) this.#settleFlight(flight, { code: failure.error.code });
      else this.#startGet(flight);
    }
  }

  #settleFlight(flight: MFlight, result: { version: SecretVersion } | { code: string }): void {
    if (flight.settled) return;
    flight.settled = true;
    const { sel } = flight;
    const now = this.now;
    if (
      'version' in result &&
      result.version.secretString === undefined &&
      result.version.secretBinary === undefined
    ) {
      result = { code: 'NO_VALUE' };
      cover('no value');
    }
    if ('version' in result) {
      const { version } = result;
      const entry = this.#entryFor(flight, version);
      let replaced: MEntry | undefined;
      if (!flight.orphaned) {
        this.inflight.delete(sel.key);
        replaced = this.lru.get(sel.key);
        this.failures.delete(sel.key);
        this.#store(entry);
      }
      this.stepEvents.fetch.push(
        `${sel.id}|${sel.stage}|${sel.versionId}|${now - flight.startedAt}|${flight.reason}|${version.versionId}`,
      );
      if (replaced !== undefined && replaced.version.versionId !== version.versionId) {
        cover('version change');
        this.stepEvents.version.push(
          `${sel.id}|${sel.stage}|${sel.versionId}|${replaced.version.versionId}|${version.versionId}`,
        );
      }
      for (const read of flight.waiters)
        this.#finish(read, this.#apply(read, entry, false), false, flight.startedAt);
      return;
    }
    const { code } = result;
    this.stats.errors++;
    this.#endWindow(sel.key);
    let retryInMs = 0;
    if (!flight.orphaned) {
      this.inflight.delete(sel.key);
      const count = (this.failures.get(sel.key)?.count ?? 0) + 1;
      const { baseMs, factor, maxMs } = this.config.backoff;
      const nominal = Math.min(maxMs, baseMs * factor ** Math.max(0, count - 1));
      retryInMs = nominal / 2 + (nominal / 2) * this.config.random;
      this.#recordFailure(sel.key, { count, retryAt: now + retryInMs, code });
    }
    this.stepEvents.error.push(
      `${sel.id}|${sel.stage}|${sel.versionId}|${now - flight.startedAt}|${flight.reason}|${code}|${retryInMs}`,
    );
    for (const read of flight.waiters) {
      if (read.acc === 'refresh') {
        this.#finish(read, `error ${code}`, false);
        continue;
      }
      const entry = read.captured;
      const stale = entry !== undefined && this.#canServeStale(entry, code, now);
      if (!read.settled) {
        if (stale) this.#serveStale(read, entry, code);
        else this.#finish(read, `error ${code}`, false);
      } else if (stale) {
        cover('failed fetch of a settled reader with a stale value');
        if (!this.defects.staleCountedForSettledReaders) continue;
        this.stats.staleServed++;
        this.stepStale.push({
          key: entry.sel.key,
          staleForMs: now - entry.expiresAt,
          code,
          first: !entry.servedStale,
          window: this.windows.get(entry.sel.key) ?? 0,
        });
        entry.servedStale = true;
      }
    }
  }

  #entryFor(flight: MFlight, version: SecretVersion): MEntry {
    const { sel, startedAt } = flight;
    let expiresAt = Number.POSITIVE_INFINITY;
    let refreshAt = Number.POSITIVE_INFINITY;
    if (sel.versionId === undefined) {
      const { ttlMs, ttlJitter, refreshAheadMs, random } = this.config;
      // The first lifetime is drawn from [ttl * (1 - jitter), ttl]; later ones from that window's top tenth.
      const window = ttlMs * ttlJitter * (this.lru.has(sel.key) ? 0.1 : 1);
      const lifetime = ttlJitter === 0 ? ttlMs : ttlMs - window * random;
      expiresAt = startedAt + lifetime;
      refreshAt = expiresAt - Math.min(refreshAheadMs, lifetime / 2);
    }
    return { uid: this.#uid++, sel, version, startedAt, expiresAt, refreshAt, servedStale: false };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Running a scenario against the cache and the model

interface Actual {
  readonly kind: 'read' | 'refresh' | 'load';
  readonly acc: Acc | undefined;
  readonly id: string;
  readonly sel: Sel | undefined;
  settled: boolean;
  at: number;
  value: unknown;
  error: unknown;
  failed: boolean;
  loadSels?: readonly Sel[];
}

type Recorded = {
  readonly hook: 'fetch' | 'error' | 'stale' | 'evict' | 'version';
  readonly event: Record<string, unknown>;
};

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

async function settle(source: ModelSource): Promise<void> {
  await drain(source);
  // Timers due now (a staleWaitMs of 0) fire once every queued answer has been given.
  await vi.advanceTimersByTimeAsync(0);
  await drain(source);
}

function readOptions(
  model: Model,
  sel: SelCmd,
  signal: AbortSignal | undefined,
  extra: Record<string, unknown> = {},
): Record<string, unknown> | undefined {
  const selector =
    sel.by === 'default'
      ? {}
      : sel.by === 'empty'
        ? {}
        : sel.by === 'current'
          ? { versionStage: 'AWSCURRENT' }
          : sel.by === 'stage'
            ? { versionStage: sel.stage }
            : { versionId: model.versionIdFor(sel.pick) };
  const options = { ...selector, ...extra, ...(signal === undefined ? {} : { signal }) };
  return sel.by === 'default' && Object.keys(options).length === 0 ? undefined : options;
}

async function runScenario({ config, commands }: Scenario, defects: KnownDefects): Promise<void> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: T0 });
  const random = vi.spyOn(Math, 'random').mockReturnValue(config.random);
  unhandled.length = 0;
  const source = new ModelSource({ now: () => Date.now(), seed: config.valueSeed, batch: config.batch });
  for (const [index, kind] of config.initial.entries()) source.publish(IDS[index] as string, kind, 'current');
  const model = new Model(config, source, defects);
  const recorded: Array<Recorded & { seq: number }> = [];
  let seq = 0;
  const record = (hook: Recorded['hook']) => (event: object) => {
    recorded.push({ hook, event: event as Record<string, unknown>, seq: seq++ });
  };
  const options = {
    source,
    clock: { now: () => Date.now() },
    ttlMs: config.ttlMs,
    ttlJitter: config.ttlJitter,
    refreshAheadMs: config.refreshAheadMs,
    versionStage: config.versionStage,
    staleIfErrorMs: config.staleIfErrorMs,
    staleOnAnyError: config.staleOnAnyError,
    maxEntries: config.maxEntries,
    backoff: config.backoff,
    retry: { retries: 0 },
    fetchTimeoutMs: config.fetchTimeoutMs,
    // Infinity is the cache's "wait for the whole fetch"; the option is new (see the hardening issue).
    staleWaitMs: config.staleWaitMs,
    hooks: {
      onFetch: record('fetch'),
      onError: record('error'),
      onStale: record('stale'),
      onEvict: record('evict'),
      onVersionChange: record('version'),
    },
  } as unknown as SecretCacheOptions;
  const cache = new SecretCache(options);
  // The diagnostics channels carry the same events as the hooks, in the same order.
  const onChannel = (message: unknown): void => {
    channelEvents.push(message);
  };
  const channelEvents: unknown[] = [];
  for (const name of CHANNELS) subscribe(name, onChannel);
  const scanner = new LeakScanner();
  const actual = new Map<number, Actual>();
  const controllers: AbortController[] = [];
  let nextReadId = 0;
  const lastStaleEvent = new Map<string, number>();

  const track = (
    kind: Actual['kind'],
    acc: Acc | undefined,
    id: string,
    sel: Sel | undefined,
    run: () => Promise<unknown>,
  ) => {
    const readId = nextReadId++;
    const entry: Actual = {
      kind,
      acc,
      id,
      sel,
      settled: false,
      at: 0,
      value: undefined,
      error: undefined,
      failed: false,
    };
    actual.set(readId, entry);
    let promise: Promise<unknown>;
    try {
      promise = run();
    } catch (error) {
      throw new Error(`a ${kind} of ${id} threw synchronously instead of rejecting: ${String(error)}`);
    }
    promise.then(
      (value) => Object.assign(entry, { settled: true, at: Date.now(), value }),
      (error: unknown) => Object.assign(entry, { settled: true, at: Date.now(), error, failed: true }),
    );
    return readId;
  };

  const signalFor = (abort: AbortWhen): AbortSignal | undefined => {
    if (abort === 'none') return undefined;
    const controller = new AbortController();
    if (abort === 'before') controller.abort(new Error('the caller gave up first'));
    else controllers.push(controller);
    return controller.signal;
  };

  const modelRead = (readId: number, acc: ModelAcc | 'refresh', sel: Sel, signal: AbortWhen): MRead => ({
    readId,
    acc,
    sel,
    signal,
    captured: undefined,
    patience: false,
    settled: false,
    onSettle: (canon, stale, fetchStartedAt, pastWindow) =>
      model.outcomes.set(readId, { canon, stale, fetchStartedAt, pastWindow }),
  });

  const issueRead = (read: ReadCmd): void => {
    const id = IDS[read.id] as string;
    const sel = model.selector(id, read.sel);
    const signal = signalFor(read.abort);
    const schema = {
      jsonSchema: SCHEMAS.token,
      jsonLeaky: SCHEMAS.leaky,
      jsonThrows: SCHEMAS.throws,
    } as const;
    const extra = read.acc in schema ? { schema: schema[read.acc as keyof typeof schema] } : {};
    const options = readOptions(model, read.sel, signal, extra);
    const readId = track('read', read.acc, id, sel, () => {
      switch (read.acc) {
        case 'string':
          return cache.getSecretString(id, options);
        case 'binary':
          return cache.getSecretBinary(id, options);
        case 'record':
          return cache.getSecretValue(id, options);
        default:
          return cache.getSecretJson(id, options);
      }
    });
    model.read(modelRead(readId, read.acc, sel, read.abort));
  };

  /** Moves the clock to one of the model's next deadlines (`pick`), or a millisecond before or after it. */
  const advanceTo = async (pick: number, delta: number): Promise<void> => {
    const deadlines = model.deadlines();
    const target =
      deadlines.length === 0
        ? model.now + 1_000
        : // The fake clock counts whole milliseconds: the first one at or after the deadline, or its neighbours.
          Math.ceil(deadlines[pick % deadlines.length] as number) + delta;
    const ms = Math.max(1, target - model.now);
    model.advance(ms);
    await vi.advanceTimersByTimeAsync(ms);
  };

  const execute = async (command: Command): Promise<void> => {
    switch (command.t) {
      case 'reads':
        for (const read of command.reads) issueRead(read);
        break;
      case 'advance':
        model.advance(command.ms);
        await vi.advanceTimersByTimeAsync(command.ms);
        break;
      case 'outage':
        source.modes.set(IDS[command.id] as string, command.mode);
        await advanceTo(command.pick, command.delta);
        break;
      case 'advanceTo':
        await advanceTo(command.pick, command.delta);
        break;
      case 'publish':
        source.publish(IDS[command.id] as string, command.kind, command.as);
        break;
      case 'promote':
        source.promote(IDS[command.id] as string);
        break;
      case 'dropStage':
        source.dropStage(IDS[command.id] as string, command.stage);
        break;
      case 'mode':
        source.modes.set(IDS[command.id] as string, command.mode);
        break;
      case 'batchDenied':
        source.batchDenied = command.denied;
        break;
      case 'release': {
        const id = command.id === undefined ? undefined : (IDS[command.id] as string);
        model.release(id, command.outcome);
        source.release(
          (call: SourceCall) => id === undefined || call.secretIds.includes(id),
          command.outcome,
        );
        break;
      }
      case 'invalidate': {
        const id = command.id === undefined ? undefined : (IDS[command.id] as string);
        cache.invalidate(id);
        model.invalidate(id);
        break;
      }
      case 'refreshNow': {
        const id = IDS[command.id] as string;
        const sel = model.selector(id, command.sel);
        const options = readOptions(model, command.sel, signalFor(command.abort));
        const readId = track('refresh', undefined, id, sel, () => cache.refreshNow(id, options));
        model.refreshNow(modelRead(readId, 'refresh', sel, command.abort));
        break;
      }
      case 'load': {
        const specs = command.entries.map((entry, index) => {
          const id = IDS[entry.id] as string;
          const sel = model.selector(id, entry.sel);
          const selector = (readOptions(model, entry.sel, undefined) ?? {}) as {
            versionStage?: string;
            versionId?: string;
          };
          const key = entry.key === 'absent' ? 'no-such-field' : entry.key;
          const schema = entry.schema === undefined ? undefined : SCHEMAS[entry.schema];
          const spec =
            entry.kind === 'json'
              ? secret.json(id, {
                  ...selector,
                  ...(key === undefined ? {} : { key }),
                  ...(schema === undefined ? {} : { schema }),
                } as JsonSpecOptions<StandardSchemaV1 | undefined> as JsonSpecOptions)
              : secret[entry.kind](id, selector);
          const acc: SpecAcc = {
            kind: entry.kind,
            ...(entry.kind === 'json' && key !== undefined ? { key } : {}),
            ...(entry.kind === 'json' && schema !== undefined ? { schema } : {}),
          };
          return { name: `k${index}`, spec, acc, sel };
        });
        const manifest = Object.fromEntries(specs.map(({ name, spec }) => [name, spec]));
        const readId = track('load', undefined, '', undefined, () => cache.load(manifest));
        (actual.get(readId) as Actual).loadSels = specs.map(({ sel }) => sel);
        model.load(
          readId,
          specs.map(({ name, acc, sel }) => [name, acc, sel] as const),
        );
        break;
      }
      case 'abortAll':
        for (const controller of controllers.splice(0)) controller.abort(new Error('the caller gave up'));
        model.abortAll();
        break;
    }
  };

  const outcomeOf = (entry: Actual): string => {
    if (entry.failed) {
      const error = entry.error;
      if (!isSecretCacheError(error) || typeof error.code !== 'string') {
        throw new Error(
          `a ${entry.kind} of ${entry.id} rejected with something other than a SecretCacheError: ${inspect(error)}`,
        );
      }
      if (error.code === 'LOAD_FAILED') {
        return `error LOAD_FAILED [${error.errors.map((f) => `${f.key}:${f.secretId}:${f.code}`).join('; ')}]`;
      }
      if (entry.kind !== 'load' && error.secretId !== entry.id) {
        throw new Error(`an error for ${entry.id} names secret ${JSON.stringify(error.secretId)}`);
      }
      return `error ${error.code}`;
    }
    if (entry.kind === 'refresh')
      return entry.value === undefined ? 'refreshed' : `refreshed with ${inspect(entry.value)}`;
    if (entry.kind === 'load') return canonLoaded(entry.value as object);
    if (entry.acc === 'record') return canonRecord(entry.value as Record<string, unknown>);
    return canonValue(entry.value);
  };

  /** The version a served value came from, found by its value (every value is unique). */
  const versionOfValue = (value: unknown) => {
    const canon = canonValue(value);
    for (const version of source.allVersions()) {
      const { string, bytes } = version.value;
      if (string !== undefined) {
        if (canon === `s:${string}`) return version;
        try {
          const parsed = JSON.parse(string) as { token?: unknown };
          if (canon === canonValue(parsed) || canon === `s:${parsed.token}`) return version;
          if (canon === canonValue({ token: parsed.token })) return version;
        } catch {
          // not JSON
        }
      }
      if (bytes !== undefined && canon === canonValue(bytes)) return version;
    }
    return undefined;
  };

  /** Invariants of a served value that hold whatever the model says. */
  const checkServed = (
    id: string,
    sel: Sel,
    value: unknown,
    versionId: string | undefined,
    at: number,
    stale: boolean,
    how:
      | { readonly fetchStartedAt: number | undefined; readonly pastWindow?: boolean | undefined }
      | undefined,
  ) => {
    const version =
      versionId === undefined
        ? versionOfValue(value)
        : source.allVersions().find((candidate) => candidate.versionId === versionId);
    if (version === undefined) throw new Error(`${sel.key} was served a value the source never held`);
    if (version.secretId !== id) throw new Error(`${sel.key} was served a value of ${version.secretId}`);
    if (versionId !== undefined && versionOfValue(value) !== version) {
      throw new Error(`${sel.key}: the record's version id does not match its value`);
    }
    if (sel.versionId !== undefined) {
      if (version.versionId !== sel.versionId) {
        throw new Error(`${sel.key} (pinned) was served version ${version.versionId}`);
      }
      return;
    }
    const { ttlMs, staleIfErrorMs } = config;
    const since = at - ttlMs - staleIfErrorMs;
    const held = source.stageHistory.some(
      (h) =>
        h.secretId === id &&
        h.stage === sel.stage &&
        h.versionId === version.versionId &&
        h.from <= at &&
        (h.to ?? Number.POSITIVE_INFINITY) >= since,
    );
    if (!held)
      throw new Error(
        `${sel.key} was served ${version.versionId}, which did not hold ${sel.stage} since ${since - T0}`,
      );
    const starts = source.answers
      .filter(
        (answer) =>
          answer.key === sel.key && answer.versionId === version.versionId && answer.startedAt <= at,
      )
      .map((answer) => answer.startedAt);
    if (starts.length === 0)
      throw new Error(`${sel.key} was served ${version.versionId}, which no call for it answered`);
    const age = at - Math.max(...starts);
    const limit = stale ? ttlMs + staleIfErrorMs : ttlMs;
    // (Known defect: a reader that waited for a fetch gets its answer whatever the fetch's age.)
    // (Known defect: staleWaitMs serves a value stale past expiresAt + staleIfErrorMs.)
    const excused =
      (defects.waitersGetExpiredAnswer && how?.fetchStartedAt !== undefined) || how?.pastWindow === true;
    if (!(age < limit) && !excused) {
      throw new Error(
        `${sel.key} was served ${version.versionId} ${age} ms after its fetch started (stale: ${stale}, limit ${limit})`,
      );
    }
  };

  const checkStep = (): void => {
    if (unhandled.length > 0) throw new Error(`unhandled rejection: ${inspect(unhandled[0])}`);
    // Source calls made this step, and those held now.
    const newCalls = source.calls.filter((call) => !seenCalls.has(call));
    for (const call of newCalls) seenCalls.add(call);
    same(
      newCalls.map((call) => describeCall(call.type, call.secretIds, call.versionStage, call.versionId)),
      model.stepCalls,
      'source calls',
    );
    same(
      source.held.map((call) => describeCall(call.type, call.secretIds, call.versionStage, call.versionId)),
      model.heldCalls(),
      'held calls',
    );

    // Read outcomes.
    for (const [readId, entry] of actual) {
      const expected = model.outcomes.get(readId);
      if (!entry.settled) {
        if (expected !== undefined)
          throw new Error(
            `read ${readId} (${entry.kind} ${entry.id}) is pending; the model says ${expected.canon}`,
          );
        continue;
      }
      if (checkedReads.has(readId)) continue;
      checkedReads.add(readId);
      const got = outcomeOf(entry);
      if (expected === undefined)
        throw new Error(
          `read ${readId} (${entry.kind} ${entry.id}) settled with ${got}; the model says it is pending`,
        );
      same(
        got,
        expected.canon,
        `outcome of read ${readId} (${entry.kind} ${entry.acc ?? ''} ${entry.sel?.key ?? ''})`,
      );
      if (entry.failed) scanner.scanValue(entry.error, `the error of read ${readId}`);
      else if (entry.kind === 'read' && entry.sel !== undefined) {
        const isRecord = entry.acc === 'record';
        const record = entry.value as Record<string, unknown>;
        const value = isRecord ? (record.secretString ?? record.secretBinary) : entry.value;
        if (isRecord) scanner.scanValue(entry.value, `the record of read ${readId}`);
        checkServed(
          entry.id,
          entry.sel,
          value,
          isRecord ? (record.versionId as string) : undefined,
          entry.at,
          isRecord ? record.stale === true : expected.stale,
          expected,
        );
      } else if (entry.kind === 'load') {
        scanner.scanValue(entry.value, `what load ${readId} resolved to`);
        const loaded = entry.value as Record<string, unknown>;
        for (const [index, sel] of (entry.loadSels ?? []).entries()) {
          const part = expected.parts?.[index];
          checkServed(sel.id, sel, loaded[`k${index}`], undefined, entry.at, part?.stale ?? true, part);
        }
      }
    }

    // Events.
    const stepEvents = recorded.filter((r) => r.seq >= eventsChecked);
    eventsChecked = seq;
    const published = channelEvents.splice(0);
    if (
      published.length !== stepEvents.length ||
      published.some((event, i) => event !== stepEvents[i]?.event)
    ) {
      throw new Error(
        `the diagnostics channels carried ${published.length} events, the hooks ${stepEvents.length}`,
      );
    }
    const target = (e: Record<string, unknown>) => `${e.secretId}|${e.versionStage}|${e.versionId}`;
    const of = (hook: Recorded['hook']) => stepEvents.filter((r) => r.hook === hook).map((r) => r.event);
    const sorted = (list: string[]) => [...list].sort();
    same(
      sorted(of('fetch').map((e) => `${target(e)}|${e.durationMs}|${e.reason}|${e.fetchedVersionId}`)),
      sorted(model.stepEvents.fetch),
      'fetch events',
    );
    same(
      sorted(of('error').map((e) => `${target(e)}|${e.durationMs}|${e.reason}|${e.code}|${e.retryInMs}`)),
      sorted(model.stepEvents.error),
      'error events',
    );
    same(
      sorted(of('evict').map((e) => `${target(e)}|${e.reason}`)),
      sorted(model.stepEvents.evict),
      'evict events',
    );
    same(
      sorted(of('version').map((e) => `${target(e)}|${e.oldVersionId}|${e.newVersionId}`)),
      sorted(model.stepEvents.version),
      'version events',
    );
    for (const { event } of stepEvents.filter((r) => r.hook === 'error')) {
      if (!isSecretCacheError(event.error) || event.error.code !== event.code)
        throw new Error('an error event carries no SecretCacheError of its code');
    }
    // Stale events: one when a period starts (a version's first stale read); after that at most one per backoff
    // window (a fetch of the key failed, or its backoff was dropped, since the last one).
    // Events come in the order of the reads they report: match each to the next stale read of its key.
    const serves = [...model.stepStale];
    const matched = new Set<StaleServe>();
    for (const { event } of stepEvents.filter((r) => r.hook === 'stale')) {
      const key = modelKey(
        event.secretId as string,
        event.versionStage as string | undefined,
        event.versionId as string | undefined,
      );
      const index = serves.findIndex(
        (serve) => serve.key === key && serve.staleForMs === event.staleForMs && serve.code === event.code,
      );
      const serve = serves[index];
      if (serve === undefined) {
        throw new Error(
          `stale event ${inspect(event)} matches no stale read of this step: ${inspect(model.stepStale)}`,
        );
      }
      // Reads of this key before the one reported went unreported.
      serves.splice(0, index + 1, ...serves.slice(0, index).filter((other) => other.key !== key));
      matched.add(serve);
      if (!serve.first && serve.window <= (lastStaleEvent.get(key) ?? -1)) {
        throw new Error(`a second stale event for ${key} within one backoff window: ${inspect(event)}`);
      }
      lastStaleEvent.set(key, serve.window);
    }
    const required = model.stepStale.filter((serve) => serve.first && !matched.has(serve));
    if (required.length > 0)
      throw new Error(`no stale event when a stale period started: ${inspect(required)}`);
    for (const { event, hook } of stepEvents) scanner.scanValue(event, `a ${hook} event`);

    // Counters.
    const stats = cache.stats();
    same(
      stats,
      {
        ...model.stats,
        size: model.lru.size,
        inflight: model.inflight.size,
      },
      'stats()',
    );
    if (stats.size > config.maxEntries)
      throw new Error(`size ${stats.size} > maxEntries ${config.maxEntries}`);
    // The calls the source has not answered, by key, leaving out fetches `invalidate` orphaned (they still answer
    // their waiting readers, but are no longer the key's fetch): one call per key at most, and as many keys as
    // stats().inflight. The source's call i is the model's call i (the calls are compared above).
    const flightOf = (seq: number, key: string) =>
      model.calls[seq]?.targets.find((target) => target.sel.key === key)?.flight;
    const unansweredKeys = new Set<string>();
    for (const call of source.unanswered()) {
      for (const id of call.secretIds) {
        const key = modelKey(id, call.versionStage, call.versionId);
        if (flightOf(call.seq, key)?.orphaned === false) unansweredKeys.add(key);
      }
    }
    if (stats.inflight !== unansweredKeys.size) {
      throw new Error(
        `stats().inflight is ${stats.inflight}, but ${unansweredKeys.size} keys have a call the source has not answered`,
      );
    }
    for (const call of newCalls) {
      for (const id of call.secretIds) {
        const key = modelKey(id, call.versionStage, call.versionId);
        const tracked = [call.seq, ...call.concurrentWith].filter(
          (seq) => flightOf(seq, key)?.orphaned === false,
        );
        if (tracked.length > 1)
          throw new Error(`calls ${tracked.join(' and ')} were in flight together for ${key}`);
      }
    }
    scanner.scanValue(stats, 'stats()');
    scanner.scanText(
      inspect(cache, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      'util.inspect(cache)',
    );
    scanner.scanText(JSON.stringify(cache) ?? '', 'JSON.stringify(cache)');
  };

  const seenCalls = new Set<SourceCall>(source.calls);
  const checkedReads = new Set<number>();
  let eventsChecked = 0;
  const addValues = () => {
    for (const [index, core] of source.cores.entries()) scanner.addString(core, `value ${index}`);
    for (const [index, bytes] of source.byteValues.entries())
      scanner.addBytes(bytes, `binary value ${index}`);
  };

  try {
    for (const [index, command] of commands.entries()) {
      model.beginStep();
      try {
        await execute(command);
        await settle(source);
        model.drain();
        addValues();
        checkStep();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`step ${index} ${JSON.stringify(command)} (t=${model.now - T0}): ${message}`);
      }
    }
  } finally {
    source.release(() => true, 'current');
    for (const controller of controllers) controller.abort();
    await drain(source);
    for (const name of CHANNELS) unsubscribe(name, onChannel);
    random.mockRestore();
    vi.useRealTimers();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The families

const commandsArb = fc.array(commandArb, { minLength: 1, maxLength: 60, size: 'max' });

function scenarioArb(family: { ttlJitter: fc.Arbitrary<number>; staleWaitMs: fc.Arbitrary<number> }) {
  return fc.record({ config: configArb(family), commands: commandsArb });
}

const families = {
  core: { ttlJitter: fc.constant(0), staleWaitMs: fc.constant(Number.POSITIVE_INFINITY) },
  jitter: { ttlJitter: fc.constantFrom(0.25, 0.5, 0.75), staleWaitMs: fc.constant(Number.POSITIVE_INFINITY) },
  staleWait: { ttlJitter: fc.constant(0), staleWaitMs: fc.constantFrom(0, 500, 2_000) },
};

describe('SecretCache against its model', () => {
  const CI_RUNS = 40;
  it(
    'agrees with the model: no jitter, reads wait for their fetch (staleWaitMs Infinity)',
    async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb(families.core), (scenario) => runScenario(scenario, KNOWN)),
        assertParameters(CI_RUNS),
      );
    },
    timeLimit(CI_RUNS),
  );
  it(
    'agrees with the model with ttlJitter: every value younger than ttlMs unless stale',
    async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb(families.jitter), (scenario) => runScenario(scenario, KNOWN)),
        assertParameters(CI_RUNS),
      );
    },
    timeLimit(CI_RUNS),
  );
  it(
    'agrees with the model with staleWaitMs 0, 500 and 2,000',
    async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb(families.staleWait), (scenario) => runScenario(scenario, KNOWN)),
        assertParameters(CI_RUNS),
      );
    },
    timeLimit(CI_RUNS),
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Known defects, each reproduced by a fixed scenario against the strict model. Each test passes only while the
// cache fails that scenario with that defect's own symptom: once the defect is fixed (or the scenario fails in
// another way) it turns red, and it should become a plain `it` and its relaxation leave `KNOWN`.

const BASE_CONFIG: Config = {
  ttlMs: TTL_MS,
  ttlJitter: 0,
  refreshAheadMs: 0,
  staleIfErrorMs: 30_000,
  staleOnAnyError: false,
  staleWaitMs: Number.POSITIVE_INFINITY,
  maxEntries: 1_000,
  backoff: { baseMs: 1_000, factor: 2, maxMs: 8_000 },
  fetchTimeoutMs: NO_TIMEOUT,
  random: 0,
  batch: false,
  valueSeed: 1,
  initial: ['json', 'json', 'json'],
  versionStage: 'AWSCURRENT',
};

const readDb = (abort: AbortWhen = 'none'): Command => ({
  t: 'reads',
  reads: [{ acc: 'string', id: 0, sel: { by: 'default' }, abort }],
});
const dbMode = (mode: Mode): Command => ({ t: 'mode', id: 0, mode });
const HANG: Mode = { kind: 'hang' };

/** Runs `commands` against the strict model; rethrows only a failure whose message matches `symptom`. */
/** Runs one scenario against the strict model: it must agree at every step. */
function regression(config: Partial<Config>, commands: Command[]): Promise<void> {
  return runScenario({ config: { ...BASE_CONFIG, ...config }, commands }, STRICT);
}

describe('defects the model found (regressions; each failed before its fix)', () => {
  // Defect A: refreshNow(id, { signal }) with an already-aborted signal starts a fetch and settles with the fetch's
  // outcome; the README says a read whose signal fires rejects with ABORTED (and reads check `aborted` first).
  // #abortable listens for an 'abort' event that an aborted signal never fires again.
  it('refreshNow with an already-aborted signal rejects with ABORTED and fetches nothing', () =>
    regression({}, [{ t: 'refreshNow', id: 0, sel: { by: 'default' }, abort: 'before' }]));

  // Defect B: a reader that no longer waits (its signal aborted, or staleWaitMs already served it the stale value)
  // is served stale again when its fetch fails: stats().staleServed counts that read twice (or counts a read that
  // got ABORTED) and a stale event may be reported for it. The error branch of #read's fetch.then runs for readers
  // the race or the abort already settled.
  it('a reader that aborted is not counted as served stale when its fetch fails', () =>
    regression({}, [
      readDb(),
      { t: 'advance', ms: TTL_MS },
      dbMode(HANG),
      readDb('later'),
      { t: 'abortAll' },
      { t: 'release', id: 0, outcome: 'throttle' },
    ]));
  it('a reader served stale after staleWaitMs is not counted again when its fetch fails', () =>
    regression({ staleWaitMs: 500 }, [
      readDb(),
      { t: 'advance', ms: TTL_MS },
      dbMode(HANG),
      readDb(),
      { t: 'advance', ms: 500 },
      { t: 'release', id: 0, outcome: 'throttle' },
    ]));

  // Found by a long run after the fix above: a reader that aborted while it waited under staleWaitMs was still
  // counted (and reported) as served stale when the wait ran out. Fixed with defect B.
  it('a reader that aborted is not counted as served stale when its staleWaitMs runs out', () =>
    regression({ staleWaitMs: 500 }, [
      readDb(),
      { t: 'advance', ms: TTL_MS },
      dbMode(HANG),
      readDb('later'),
      { t: 'abortAll' },
      { t: 'advance', ms: 500 },
    ]));

  // Defect C: staleWaitMs serves the stale value when the wait ends even if the value is past
  // expiresAt + staleIfErrorMs by then (the read qualified when it started): served 1,999 ms past the bound here.
  // staleIfErrorMs bounds every stale read; the wait should end at the window's end, or the reader keep waiting.
  it('staleWaitMs never serves a value past expiresAt + staleIfErrorMs', () =>
    regression({ staleWaitMs: 2_000, staleIfErrorMs: 5_000 }, [
      readDb(),
      { t: 'advance', ms: TTL_MS + 4_999 },
      dbMode(HANG),
      readDb(),
      { t: 'advance', ms: 2_000 },
    ]));
});

describe('the harness', () => {
  it('finds a fragment of a value in every rendering the leak checks use', () => {
    const source = new ModelSource({ now: () => 0, seed: 7, batch: false });
    source.publish('a', 'text', 'current');
    source.publish('b', 'binary', 'current');
    const scanner = new LeakScanner();
    scanner.addString(source.cores[0] as string, 'the text');
    scanner.addBytes(source.byteValues[0] as Uint8Array, 'the bytes');
    const text = (source.cores[0] as string).slice(3, 9);
    const bytes = (source.byteValues[0] as Uint8Array).slice(5, 12);
    for (const value of [
      new Error(`Unexpected token in "${text}"`),
      { nested: { quoted: text } },
      bytes,
      Buffer.from(bytes),
      { base64: Buffer.from(source.byteValues[0] as Uint8Array).toString('base64') },
      [...bytes],
    ]) {
      expect(() => scanner.scanValue(value, 'a test value')).toThrow(/leak in a test value/);
    }
    expect(() =>
      scanner.scanValue({ stats: { hits: 120, misses: 130 }, when: 'now' }, 'stats'),
    ).not.toThrow();
  });
});
