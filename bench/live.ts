/**
 * Scenario 1b, live under rotation: a live object (`cache.live`) over a source whose every call takes 5 ms,
 * its secret rotated again and again while a reader reads the property on every event-loop turn. A rotation
 * reaches the live object in one of two ways:
 * - `cache.refreshNow(id)` by another reader (default TTL: no timer refresh meanwhile);
 * - the live entry's own timer: `ttlMs` 200, `refreshAheadMs` 50, no TTL jitter, the real clock (`TurnClock`).
 *
 * Measured: accesses that returned the old value once the refresh had answered (asserted: none), the cost of an
 * access while a refresh is in flight next to steady state, and, on the timer path, the time from a rotation to
 * the first access that saw the new value. Each path runs twice: timed (the cache's own `TurnClock`), then
 * counted (a `TurnClock` that counts its reads, which tells a due read, two clock reads, from a fresh one).
 * Values, source calls (exactly one per refresh) and change events are asserted before anything is reported.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import {
  type LiveChangeEvent,
  SecretCache,
  type SecretRequest,
  type SecretSource,
  type SecretVersion,
  secret,
  TurnClock,
} from '../src/index.js';
import {
  arnOf,
  type BenchContext,
  int,
  median,
  ms,
  ns,
  type ScenarioResult,
  type Sink,
  sleep,
  table,
} from './support.js';

const TITLE = '1b. Live under rotation';
const SECRET_ID = 'prod/orders/jwt-key';
const LATENCY_MS = 5;
const TTL_MS = 200;
const REFRESH_AHEAD_MS = 50;
/** When the timer path's entry comes due: this long after its fetch started (no jitter). */
const REFRESH_EVERY_MS = TTL_MS - REFRESH_AHEAD_MS;
/** Timer path: the reader reads until this long after a refresh started, then not until the next one starts. */
const STEADY_MS = 120;
/** Accesses per timed batch. */
const BATCH = 1_000;
/** refreshNow path: steady reading between two rotations. */
const GAP_MS = 3;
/** Microtask hops a probe follows before giving up. */
const MAX_HOPS = 500;
/** Accesses, right after a refreshNow resolved, made synchronously and on the following microtasks. */
const BURST = 1_000;
const HOPS_AFTER = 10;

/** Fake values: version n of the secret. Never printed. */
const valueAt = (version: number): string => `fake-jwt-key-v${version}-0123456789abcdef`;
const versionIdOf = (version: number): string => `EXAMPLE${version}-90ab-cdef-fedc-ba987EXAMPLE`;

/** `TurnClock` (the default clock) that counts its reads: a live access reads it once, a due one twice. */
class CountingClock extends TurnClock {
  reads = 0;
  override now(): number {
    this.reads++;
    return super.now();
  }
}

/** Rejects with `what` unless `promise` settles within `timeoutMs`. */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`live: ${what} did not happen within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The source: one secret, rotated by `rotate()`. Every call takes `LATENCY_MS` and answers the version that was
 * current when it was made. Records when calls start and answer (`performance.now()`).
 */
class RotatingSource implements SecretSource {
  version = 1;
  calls = 0;
  inflight = 0;
  maxInflight = 0;
  readonly calledAt: number[] = [];
  /** The value of the last answer (the initial load's, before any rotation). */
  lastAnswered = valueAt(1);
  /** Called at the start of each call. */
  onCall: ((at: number) => void) | undefined;
  /** Called with each answer's value, just before the cache gets it. */
  onAnswer: ((value: string) => void) | undefined;
  #callWaiters: Array<(at: number) => void> = [];
  #answerWaiters: Array<() => void> = [];

  rotate(): string {
    this.version++;
    return valueAt(this.version);
  }

  /** Resolves with the start time of the next call. */
  nextCall(): Promise<number> {
    return new Promise((resolve) => this.#callWaiters.push(resolve));
  }

  /** Resolves once the next answer is handed over (and the microtasks after it ran). */
  nextAnswer(): Promise<void> {
    return new Promise((resolve) => this.#answerWaiters.push(() => setImmediate(resolve)));
  }

  async getSecretValue({ secretId, versionStage, versionId }: SecretRequest): Promise<SecretVersion> {
    assert.equal(secretId, SECRET_ID);
    assert.ok(versionId === undefined && (versionStage ?? 'AWSCURRENT') === 'AWSCURRENT');
    const version = this.version;
    this.calls++;
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    const at = performance.now();
    this.calledAt.push(at);
    this.onCall?.(at);
    for (const resolve of this.#callWaiters.splice(0)) resolve(at);
    await sleep(LATENCY_MS);
    this.inflight--;
    const value = valueAt(version);
    this.lastAnswered = value;
    this.onAnswer?.(value);
    for (const resolve of this.#answerWaiters.splice(0)) resolve();
    return {
      name: secretId,
      arn: arnOf(secretId),
      versionId: versionIdOf(version),
      versionStages: ['AWSCURRENT'],
      createdDate: new Date(1_700_000_000_000 + version * 1_000),
      secretString: value,
    };
  }
}

/** A live object of the one entry the scenario reads. */
interface Live {
  /** The live object, as `cache.live` resolved. */
  readonly object: object;
  /** Its one manifest key. */
  readonly key: string;
  /** `object[key]`, for checks (timed reads use the key as a constant, see `readBatch`). */
  read(): unknown;
  close(): void;
}

type Batch = (live: object, sink: Sink) => void;

/**
 * A loop of `BATCH` reads of the property, each stored in the sink so that none is dropped; compiled anew for
 * each reader, as mitata compiles its loop per row: with one shared loop, each pass's live object (a map of its
 * own, with getters of its own) would make the access polymorphic for the passes after it (~10 ns an access).
 */
function readBatch(key: string): Batch {
  assert.match(key, /^[A-Za-z]+$/);
  return new Function('live', 'sink', `for (let i = 0; i < ${BATCH}; i++) sink.last = live.${key};`) as Batch;
}

type Phase = 'steady' | 'in flight';

/**
 * Reads the property on every event-loop turn (a `setImmediate` loop) while `phaseAt` names a phase: one
 * untimed read, checked against the source's last answer, then a timed batch of `BATCH` reads. Records per
 * batch the time per access and, with a `CountingClock`, the due reads (clock reads beyond one per access).
 */
class Reader {
  readonly nsPerAccess: Record<Phase, number[]> = { steady: [], 'in flight': [] };
  readonly accesses: Record<Phase, number> = { steady: 0, 'in flight': 0 };
  readonly due: Record<Phase, number> = { steady: 0, 'in flight': 0 };
  /** Accesses that read anything but the source's last answer (it answered in an earlier turn). */
  stale = 0;
  lastAccessAt = Number.NEGATIVE_INFINITY;
  readonly firstSeenAt = new Map<string, number>();
  readonly #sink: Sink = { last: undefined };
  readonly #batch: Batch;
  #running = false;
  #stopped: (() => void) | undefined;
  #seenWaiters = new Map<string, (at: number) => void>();

  constructor(
    private readonly live: Live,
    private readonly source: RotatingSource,
    private readonly clock: TurnClock,
    private readonly phaseAt: (now: number) => Phase | undefined,
  ) {
    this.#batch = readBatch(live.key);
  }

  /** Compiles the batch loop before anything is timed (in steady state). */
  warm(): void {
    for (let i = 0; i < 200; i++) this.#batch(this.live.object, this.#sink);
    assert.equal(this.#sink.last, this.source.lastAnswered);
  }

  start(): void {
    this.#running = true;
    const tick = (): void => {
      if (!this.#running) {
        this.#stopped?.();
        return;
      }
      this.#turn();
      setImmediate(tick);
    };
    setImmediate(tick);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.#stopped = resolve;
      this.#running = false;
    });
  }

  /** Forgets the samples so far (the warm-up cycle's). */
  reset(): void {
    for (const phase of ['steady', 'in flight'] as const) {
      this.nsPerAccess[phase].length = 0;
      this.accesses[phase] = 0;
      this.due[phase] = 0;
    }
  }

  /** Resolves with the time of the first access that read `value`. */
  firstSeen(value: string): Promise<number> {
    const at = this.firstSeenAt.get(value);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.#seenWaiters.set(value, resolve));
  }

  #turn(): void {
    const phase = this.phaseAt(performance.now());
    if (phase === undefined) return;
    const counting = this.clock instanceof CountingClock ? this.clock : undefined;
    const reads = counting?.reads ?? 0;
    const value = String(this.live.read());
    const expected = this.source.lastAnswered;
    const t0 = performance.now();
    this.#batch(this.live.object, this.#sink);
    const t1 = performance.now();
    this.lastAccessAt = t1;
    const accesses = BATCH + 1;
    if (value !== expected || this.#sink.last !== expected) this.stale += accesses;
    if (counting !== undefined) this.due[phase] += counting.reads - reads - accesses;
    this.accesses[phase] += accesses;
    this.nsPerAccess[phase].push(((t1 - t0) * 1e6) / BATCH);
    if (!this.firstSeenAt.has(value)) {
      this.firstSeenAt.set(value, t0);
      this.#seenWaiters.get(value)?.(t0);
      this.#seenWaiters.delete(value);
    }
  }
}

/**
 * From the microtask after an answer was handed over: after how many microtask hops the property reads
 * `expected`, and after how many `done()` holds (refreshNow's promise resolved; `-1`: never within MAX_HOPS).
 */
function probeHops(
  read: () => unknown,
  expected: string,
  done: () => boolean,
): Promise<{ newAt: number; doneAt: number }> {
  return new Promise((resolve) => {
    let hop = 0;
    let newAt = -1;
    let doneAt = -1;
    const step = (): void => {
      if (newAt < 0 && read() === expected) newAt = hop;
      if (doneAt < 0 && done()) doneAt = hop;
      if ((newAt >= 0 && doneAt >= 0) || hop >= MAX_HOPS) resolve({ newAt, doneAt });
      else {
        hop++;
        queueMicrotask(step);
      }
    };
    queueMicrotask(step);
  });
}

/** A change event and when it came. */
interface Change {
  readonly event: LiveChangeEvent;
  readonly at: number;
}

/** Timer path, one rotation: when it came after the last refresh started, and how long until it was read. */
interface Latency {
  readonly offset: number;
  readonly toChange: number;
  readonly toFirstAccess: number;
  /** From the rotation to the start of the first call made after it (the refresh that fetched it). */
  readonly toPickup: number;
}

/** What one pass over one path measured. */
interface PathRun {
  readonly path: 'refreshNow' | 'timer';
  readonly counted: boolean;
  readonly reader: Reader;
  readonly refreshes: number;
  readonly rotations: number;
  readonly calls: number;
  /** refreshNow: accesses made once its promise resolved (first reaction, continuation, hops, burst). */
  readonly afterResolve: { accesses: number; old: number; firstReactionsNew: number };
  /** Microtask hops from an answer to the new value (and, for refreshNow, to its promise resolving). */
  readonly hops: { newAt: number; doneAt: number }[];
  /** Timer path: from each rotation to its change event and to the reader's first access of the new value. */
  readonly latency: Latency[];
  /** Timer path: for each timer refresh, ms since the reader's last access (by construction, no access started it). */
  readonly quietBeforeCall: number[];
  /** Timer path: ms between consecutive calls. */
  readonly gaps: number[];
}

/** Makes the cache and the live object; checks the first value and that it took exactly one call. */
async function liveOver(
  source: RotatingSource,
  cache: SecretCache,
  key: string,
  changes: Change[],
): Promise<Live> {
  const object: Record<string, unknown> & { close(): void } = await cache.live(
    { [key]: secret.string(SECRET_ID) },
    { onChange: (event) => changes.push({ event, at: performance.now() }) },
  );
  const live: Live = { object, key, read: () => object[key], close: object.close };
  assert.equal(live.read(), valueAt(1));
  assert.equal(source.calls, 1, 'live() of a cold id made more than one call');
  return live;
}

/** Every change event: one per rotation, from each version to the next, in order. */
function checkChanges(changes: readonly Change[], rotations: number, key: string): void {
  assert.equal(changes.length, rotations, 'one change event per rotation');
  changes.forEach(({ event }, i) => {
    assert.equal(event.key, key);
    assert.equal(event.secretId, SECRET_ID);
    assert.equal(event.oldVersionId, versionIdOf(i + 1));
    assert.equal(event.newVersionId, versionIdOf(i + 2));
  });
}

/** Path A: each rotation followed by `cache.refreshNow(id)` from another reader; default TTL. */
async function refreshNowPath(rotations: number, counted: boolean, key: string): Promise<PathRun> {
  const source = new RotatingSource();
  const clock = counted ? new CountingClock() : new TurnClock();
  const cache = new SecretCache({ source, clock });
  const changes: Change[] = [];
  const live = await liveOver(source, cache, key, changes);
  const reader = new Reader(live, source, clock, () => (source.inflight > 0 ? 'in flight' : 'steady'));
  reader.warm();
  reader.start();
  await sleep(GAP_MS);

  const hops: { newAt: number; doneAt: number }[] = [];
  const afterResolve = { accesses: 0, old: 0, firstReactionsNew: 0 };
  let resolved = false;
  let probe: Promise<{ newAt: number; doneAt: number }> | undefined;
  source.onAnswer = (value) => {
    probe = probeHops(
      () => live.read(),
      value,
      () => resolved,
    );
  };
  for (let r = 0; r < rotations; r++) {
    const calls = source.calls;
    const expected = source.rotate();
    resolved = false;
    let firstReaction: unknown;
    const refreshed = cache.refreshNow(SECRET_ID);
    // The first reaction to the promise: registered before anybody else's.
    refreshed.then(() => {
      resolved = true;
      firstReaction = live.read();
    });
    await within(refreshed, 5_000, 'refreshNow');
    const seen: unknown[] = [firstReaction, live.read()];
    for (let i = 0; i < HOPS_AFTER; i++) {
      await null;
      seen.push(live.read());
    }
    for (let i = 0; i < BURST; i++) seen.push(live.read());
    if (firstReaction === expected) afterResolve.firstReactionsNew++;
    afterResolve.accesses += seen.length;
    afterResolve.old += seen.filter((value) => value !== expected).length;
    assert.ok(probe !== undefined, 'the source answered no refresh');
    const hop = await probe;
    assert.ok(
      hop.newAt >= 0 && hop.doneAt > hop.newAt,
      'refreshNow resolved before the property read the new value',
    );
    hops.push(hop);
    probe = undefined;
    assert.equal(source.calls - calls, 1, 'refreshNow made other than exactly one call');
    await sleep(GAP_MS);
  }
  await reader.stop();
  live.close();

  assert.equal(afterResolve.old, 0, 'an access after refreshNow resolved returned the old value');
  assert.equal(reader.stale, 0, 'an access in a turn after the answer returned the old value');
  assert.equal(source.calls, 1 + rotations);
  assert.equal(source.maxInflight, 1);
  assert.equal(cache.stats().fetches, 1 + rotations);
  assert.equal(cache.stats().errors, 0);
  checkChanges(changes, rotations, live.key);
  return {
    path: 'refreshNow',
    counted,
    reader,
    refreshes: rotations,
    rotations,
    calls: source.calls - 1,
    afterResolve,
    hops,
    latency: [],
    quietBeforeCall: [],
    gaps: [],
  };
}

/** Rotation offsets from a refresh's start, spread over its cycle (the first while that fetch is in flight). */
function offsets(rotations: number): number[] {
  return Array.from(
    { length: rotations },
    (_, i) => 2 + ((i * 7) % rotations) * (REFRESH_EVERY_MS / rotations),
  );
}

/** Path B: the live entry's own timer refreshes it every 150 ms; rotations at spread offsets within a cycle. */
async function timerPath(rotations: number, counted: boolean, key: string): Promise<PathRun> {
  const source = new RotatingSource();
  const clock = counted ? new CountingClock() : new TurnClock();
  const cache = new SecretCache({
    source,
    clock,
    ttlMs: TTL_MS,
    refreshAheadMs: REFRESH_AHEAD_MS,
    ttlJitter: 0,
  });
  const changes: Change[] = [];
  const live = await liveOver(source, cache, key, changes);
  // Reads while a refresh is in flight, and from its start for STEADY_MS; none in the last 30 ms before the entry
  // comes due, so that its own timer starts every refresh.
  const lastCall = (): number => source.calledAt[source.calledAt.length - 1]!;
  const reader = new Reader(live, source, clock, (now) =>
    source.inflight > 0 ? 'in flight' : now < lastCall() + STEADY_MS ? 'steady' : undefined,
  );
  const quietBeforeCall: number[] = [];
  source.onCall = (at) => quietBeforeCall.push(at - reader.lastAccessAt);
  const hops: { newAt: number; doneAt: number }[] = [];
  const probes: Promise<void>[] = [];
  // Only answers that bring a new value: a refresh that brings the same one changes nothing to look for.
  source.onAnswer = (value) => {
    if (value === live.read()) return;
    probes.push(
      probeHops(
        () => live.read(),
        value,
        () => true,
      ).then((hop) => void hops.push(hop)),
    );
  };
  reader.warm();
  reader.start();

  // One refresh unrecorded: the due path's first run compiles it.
  const cycleLimit = 3 * TTL_MS + 2_000;
  await within(source.nextCall(), cycleLimit, 'the first timer refresh');
  await within(source.nextAnswer(), cycleLimit, 'its answer');
  reader.reset();
  quietBeforeCall.length = 0;
  const firstRecordedCall = source.calls;

  const latency: Latency[] = [];
  for (const offset of offsets(rotations)) {
    const callAt = await within(source.nextCall(), cycleLimit, 'a timer refresh');
    await sleep(Math.max(0, callAt + offset - performance.now()));
    const rotatedAt = performance.now();
    const expected = source.rotate();
    const changed = changes.length;
    const firstAccessAt = await within(reader.firstSeen(expected), 2 * cycleLimit, 'the rotated value');
    const change = changes[changed];
    assert.ok(change !== undefined, 'the new value was read before its change event');
    const pickupAt = source.calledAt.find((at) => at >= rotatedAt);
    assert.ok(pickupAt !== undefined && pickupAt <= firstAccessAt);
    latency.push({
      offset: rotatedAt - callAt,
      toChange: change.at - rotatedAt,
      toFirstAccess: firstAccessAt - rotatedAt,
      toPickup: pickupAt - rotatedAt,
    });
  }
  // Until the refresh in flight (if any) answered, so that every call counted was answered and read.
  if (source.inflight > 0) await within(source.nextAnswer(), cycleLimit, 'the last answer');
  await reader.stop();
  live.close();
  await Promise.all(probes);

  const refreshes = source.calls - firstRecordedCall;
  assert.equal(reader.stale, 0, 'an access in a turn after the answer returned the old value');
  assert.equal(source.maxInflight, 1, 'two calls at once');
  assert.equal(cache.stats().errors, 0);
  assert.equal(cache.stats().fetches, source.calls, 'every fetch is one call');
  // One call per refresh: the calls come one refresh period apart. The source sees a call a little after the
  // fetch starts, by a delay that a busy machine stretches to tens of ms (CI saw a gap of 121 ms for a 150 ms
  // period), so the bound is half a period; a second call for one refresh would come within the first's 5 ms.
  const gaps = source.calledAt.slice(1).map((at, i) => at - source.calledAt[i]!);
  for (const gap of gaps) {
    assert.ok(gap >= REFRESH_EVERY_MS / 2, `two calls ${gap.toFixed(1)} ms apart: a refresh called twice`);
  }
  // Every recorded refresh was started by the entry's own timer: no access in the 20 ms before it.
  assert.equal(quietBeforeCall.length, refreshes);
  for (const quiet of quietBeforeCall)
    assert.ok(quiet >= 20, `an access ${quiet.toFixed(1)} ms before a refresh`);
  for (const { newAt } of hops)
    assert.ok(newAt >= 0, 'the answered value was not read within the microtasks');
  checkChanges(changes, rotations, live.key);
  return {
    path: 'timer',
    counted,
    reader,
    refreshes,
    rotations,
    calls: refreshes,
    afterResolve: { accesses: 0, old: 0, firstReactionsNew: 0 },
    hops,
    latency,
    quietBeforeCall,
    gaps,
  };
}

/**
 * Steady reads only, for `durationMs`, of a new live object (cache and source of its own) under `key`: the time
 * per access of each batch. With a key an earlier live object had, this shows what a second live object of the
 * same manifest costs to read.
 */
async function steadyOnly(key: string, durationMs: number): Promise<number[]> {
  const source = new RotatingSource();
  const clock = new TurnClock();
  const cache = new SecretCache({ source, clock });
  const live = await liveOver(source, cache, key, []);
  const reader = new Reader(live, source, clock, () => 'steady');
  reader.warm();
  reader.start();
  await sleep(durationMs);
  await reader.stop();
  live.close();
  assert.equal(reader.stale, 0);
  assert.equal(source.calls, 1);
  return reader.nsPerAccess.steady;
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};
const range = (values: readonly number[], format: (v: number) => string): string =>
  values.length === 0
    ? 'n/a'
    : `${format(Math.min(...values))} / ${format(median(values))} / ${format(Math.max(...values))}`;

export async function live(context: BenchContext): Promise<ScenarioResult> {
  const rotationsA = context.quick ? 5 : 50;
  const rotationsB = context.quick ? 2 : 12;
  const countedRotations = context.quick ? 2 : 4;
  // Each pass's live object has a key of its own: see `steadyOnly`.
  const timedA = await refreshNowPath(rotationsA, false, 'jwtKey');
  const timedB = await timerPath(rotationsB, false, 'signingKey');
  const steadyMs = context.quick ? 30 : 300;
  const firstOfKey = await steadyOnly('controlKey', steadyMs);
  const keyAgain = await steadyOnly('jwtKey', steadyMs);
  // Last: a CountingClock makes the clock read in the code all live entries share polymorphic from then on.
  const countedA = await refreshNowPath(countedRotations, true, 'countedJwtKey');
  const countedB = await timerPath(countedRotations, true, 'countedSigningKey');

  // Due reads: none while steady; on the refreshNow path none at all (the entry never comes due); on the timer
  // path, every access between the refresh's start and its answer.
  for (const run of [countedA, countedB])
    assert.equal(run.reader.due.steady, 0, 'a steady access read as due');
  assert.equal(countedA.reader.due['in flight'], 0, 'an access during refreshNow read as due');
  assert.ok(countedB.reader.accesses['in flight'] > 0, 'no access while a timer refresh was in flight');

  // ---- (b) cost per access
  const costRows = [
    ['refreshNow by another reader', timedA, countedA],
    ['own timer (TTL 200 ms)', timedB, countedB],
  ] as const;
  const costTable = table(
    ['path', 'phase', 'batches', 'accesses', 'p50 / access', 'p99 / access', 'due reads / access (counted)'],
    costRows.flatMap(([name, timed, counted]) =>
      (['steady', 'in flight'] as const).map((phase) => [
        name,
        phase,
        int(timed.reader.nsPerAccess[phase].length),
        int(timed.reader.accesses[phase]),
        ns(percentile(timed.reader.nsPerAccess[phase], 0.5)),
        ns(percentile(timed.reader.nsPerAccess[phase], 0.99)),
        counted.reader.accesses[phase] === 0
          ? 'n/a'
          : (counted.reader.due[phase] / counted.reader.accesses[phase]).toFixed(3),
      ]),
    ),
    'llrrrrr',
  );

  // ---- (a) and call counts
  const runs = [timedA, timedB, countedA, countedB];
  const correctnessTable = table(
    [
      'path (pass)',
      'refreshes',
      'rotations',
      'source calls',
      'accesses',
      'accesses / refresh',
      'old values read after the answer',
      'hops: answer → new value',
    ],
    runs.map((run) => {
      const accesses =
        run.reader.accesses.steady + run.reader.accesses['in flight'] + run.afterResolve.accesses;
      return [
        `${run.path === 'refreshNow' ? 'refreshNow by another reader' : 'own timer'} (${run.counted ? 'counted' : 'timed'})`,
        int(run.refreshes),
        int(run.rotations),
        int(run.calls),
        int(accesses),
        int(accesses / run.refreshes),
        `${int(run.reader.stale + run.afterResolve.old)} of ${int(run.reader.accesses.steady + run.reader.accesses['in flight'] + run.afterResolve.accesses)}`,
        range(
          run.hops.map((h) => h.newAt),
          (v) => int(v),
        ),
      ];
    }),
    'lrrrrrrr',
  );

  // ---- (c) timer path: rotation to first access of the new value
  const latencies = [...timedB.latency, ...countedB.latency];
  const latencyTable = table(
    ['timer path, from the rotation', 'min / median / max', 'rotations'],
    [
      [
        'when the rotation came, after the last refresh started',
        range(
          latencies.map((l) => l.offset),
          ms,
        ),
        int(latencies.length),
      ],
      [
        'to the change event (property already new)',
        range(
          latencies.map((l) => l.toChange),
          ms,
        ),
        '',
      ],
      [
        "to the reader's first access of the new value",
        range(
          latencies.map((l) => l.toFirstAccess),
          ms,
        ),
        '',
      ],
      [
        'of which: until the refresh that fetched it started',
        range(
          latencies.map((l) => l.toPickup),
          ms,
        ),
        '',
      ],
      [
        'of which: from that start to the first access of the new value',
        range(
          latencies.map((l) => l.toFirstAccess - l.toPickup),
          ms,
        ),
        '',
      ],
    ],
    'lrr',
  );
  const bound = REFRESH_EVERY_MS + LATENCY_MS;
  const worst = Math.max(...latencies.map((l) => l.toFirstAccess));
  // The bound holds up to timer lateness; a generous margin keeps a loaded CI machine from failing the run.
  assert.ok(worst <= bound + 250, `a rotation took ${ms(worst)} to be read (bound ${ms(bound)})`);

  const hopsA = [...timedA.hops, ...countedA.hops];
  const steadyA = percentile(timedA.reader.nsPerAccess.steady, 0.5);
  const flightA = percentile(timedA.reader.nsPerAccess['in flight'], 0.5);
  const steadyB = percentile(timedB.reader.nsPerAccess.steady, 0.5);
  const flightB = percentile(timedB.reader.nsPerAccess['in flight'], 0.5);
  const notes = [
    `- Set-up: one live entry, \`cache.live({ jwtKey: secret.string(id) })\` (another key per pass), over a \`SecretSource\` whose every call takes ${LATENCY_MS} ms (\`setTimeout\`) and answers the version current when it was called; a rotation makes a new version (new value, new \`VersionId\`). A reader reads the property on every event-loop turn (a \`setImmediate\` loop): one untimed read, then a timed batch of ${int(BATCH)} reads (\`performance.now()\` around it, each value stored in a sink), and checks the value against the source's last answer. Path "refreshNow": default TTL, each rotation followed by \`await cache.refreshNow(id)\` from other code (${int(rotationsA)} rotations timed, ${int(countedRotations)} counted). Path "own timer": \`ttlMs\` ${TTL_MS}, \`refreshAheadMs\` ${REFRESH_AHEAD_MS}, \`ttlJitter\` 0, the default \`TurnClock\`, so the entry refreshes itself every ${REFRESH_EVERY_MS} ms; rotations at offsets spread over that cycle, the first while a fetch was in flight (${int(rotationsB)} timed, ${int(countedRotations)} counted, after one unrecorded refresh that compiles the due path). The reader reads from a refresh's start for ${STEADY_MS} ms and while it is in flight, never in the last ${REFRESH_EVERY_MS - STEADY_MS} ms before the entry comes due: every recorded refresh was started by the entry's own timer (asserted: no access in the 20 ms before any call; it was at least ${ms(Math.min(...timedB.quietBeforeCall, ...countedB.quietBeforeCall))}).`,
    `- Calls (asserted): exactly one source call per refresh, however many accesses: one per \`refreshNow\`, and on the timer path calls ${REFRESH_EVERY_MS} ms apart (asserted at least ${REFRESH_EVERY_MS - 20}: the source sees each call a varying moment after its fetch starts; seen: ${range([...timedB.gaps, ...countedB.gaps], ms)}) with never two in flight, while up to ${int(Math.max(...runs.map((r) => (r.reader.accesses.steady + r.reader.accesses['in flight']) / r.refreshes)))} accesses per refresh were made. One change event per rotation, old and new \`VersionId\` right; none for a refresh that brought the same version.`,
    `- Old values after the refresh (asserted 0): "after" is (1) for \`refreshNow\`, any code that runs once its promise resolved: the first reaction registered on it (before the caller's \`await\`), the awaiting continuation, ${HOPS_AFTER} further microtask hops and a synchronous burst of ${int(BURST)} reads, ${timedA.afterResolve.firstReactionsNew + countedA.afterResolve.firstReactionsNew} of ${rotationsA + countedRotations} first reactions already new; and (2) on both paths, every access in an event-loop turn after the one in which the source's answer was delivered (Node runs all microtasks after each callback, so the derive has run by then): the reader checks each turn that it reads the last answered value. Within the answer's own microtasks the old value is still read for a few hops: from the answer, the property read the new value after ${range(
      hopsA.map((h) => h.newAt),
      int,
    )} microtask hops (min / median / max) on the refreshNow path, and refreshNow's promise resolved after ${range(
      hopsA.map((h) => h.doneAt),
      int,
    )}, always later (asserted); the same ${range(
      [...timedB.hops, ...countedB.hops].map((h) => h.newAt),
      int,
    )} hops on the timer path.`,
    `- Cost while a refresh is in flight: on the refreshNow path the entry is not due, so an access in flight is the steady one (${ns(flightA)} vs ${ns(steadyA)} p50). On the timer path the entry is due from the moment its timer fires until the answer is adopted, and every access in that window takes the due path (\`#readDue\`: a second clock read and a check that a refresh runs; the counted pass shows one extra clock read per access in flight, none when steady), not just the first: ${ns(flightB)} vs ${ns(steadyB)} p50 (${(flightB / steadyB).toFixed(2)}x). It stays synchronous and starts no second call; only the first due access (here the timer) starts the fetch. Absolute figures from these loops move with what V8 compiled before them (about 1.7 to 6 ns a steady access across runs and pass orders here): compare the two phases of one path; the warm scenario's mitata row is the reference for what one access costs. Per-access figures are the mean of a batch of ${int(BATCH)}; p99 is over batches, so it shows batches that a GC, a JIT or another process disturbed, not single slow reads. The first read of a turn (untimed here) also reads \`Date.now()\` and schedules the clock's \`setImmediate\`.`,
    `- Rotation to first new read (own timer): bounded by the entry's refresh period plus one call, ${REFRESH_EVERY_MS} + ${LATENCY_MS} = ${bound} ms (asserted with ${250} ms of margin for timer lateness on a loaded machine); it is the rotation's offset in the cycle that decides where in that range it lands; a rotation made while a fetch is in flight (which answers the version current when it was called) waits for the refresh after that one. The wait for the next refresh is the whole of it but one call: from the start of the refresh that fetched the new version, its first read came one call (${LATENCY_MS} ms) and a turn later; beyond ${bound} ms is timer lateness on a loaded machine (the gaps between calls above show it too). The change event (\`onChange\`, synchronous once the property reads the new value) came first; the reader's first access of the new value followed ${range(
      latencies.map((l) => (l.toFirstAccess - l.toChange) * 1e6),
      ns,
    )} later (its next turn).`,
  ];

  const keyTable = table(
    ['steady access, by how the live object was made', 'batches', 'p50 / access', 'p99 / access'],
    [
      ['its key is new (no earlier live object had it)', firstOfKey],
      ['its key is that of an earlier live object (the same manifest again)', keyAgain],
    ].map(([name, samples]) => [
      name as string,
      int((samples as number[]).length),
      ns(percentile(samples as number[], 0.5)),
      ns(percentile(samples as number[], 0.99)),
    ]),
    'lrrr',
  );
  const keyRatio = percentile(keyAgain, 0.5) / percentile(firstOfKey, 0.5);
  notes.push(
    `- A second live object with the same manifest: each live object defines its getters (closures of its own) on an object made from one shared prototype, so V8 shares one map transition per key among them, and the second object to define a key with another getter gets dictionary-mode (slow) properties: its reads are ${keyRatio.toFixed(1)}x the first's here (${ns(percentile(keyAgain, 0.5))} vs ${ns(percentile(firstOfKey, 0.5))} p50, table below: two fresh caches, one after the other, each read by a loop of its own). Every pass above uses a key of its own so that they compare; the warm scenario's live row is its process's first live object with its key.`,
    '',
    keyTable,
  );

  const markdown = [costTable, '', correctnessTable, '', latencyTable, '', ...notes].join('\n');
  return { title: TITLE, markdown, targets: [] };
}
