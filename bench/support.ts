/**
 * Shared helpers of the benchmarks: the mocked Secrets Manager client, allocation measurement, formatting,
 * markdown tables and the report that `bench/run.ts` prints and (on a full run) writes to bench/RESULTS.md.
 *
 * Every value here is fake. Nothing prints a secret's value: tables show timings, counts and sizes only.
 */
import { getHeapStatistics } from 'node:v8';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';

/** What every scenario gets from `run.ts`. */
export interface BenchContext {
  /** `--quick`: brief runs for CI; correctness is asserted, timings are printed but mean little. */
  readonly quick: boolean;
}

/** One target of the issue, with what this run measured. */
export interface Target {
  readonly scenario: string;
  readonly name: string;
  /** The goal, in words (`<= 1.30x`). */
  readonly goal: string;
  /** What was measured, in words. */
  readonly actual: string;
  /** By how much it was met or missed, in words. */
  readonly margin: string;
  readonly met: boolean;
}

/** What a scenario hands back: its markdown section (printed, and written to RESULTS.md) and its targets. */
export interface ScenarioResult {
  readonly title: string;
  readonly markdown: string;
  readonly targets: readonly Target[];
}

// ---------------------------------------------------------------------------------------------------------
// gc and heap

type GcFunction = () => void;

/** `globalThis.gc`, which `--expose-gc` provides; the benchmarks refuse to run without it. */
export function gc(): void {
  const collect = (globalThis as { gc?: GcFunction }).gc;
  if (collect === undefined) throw new Error('Run the benchmarks with `node --expose-gc` (npm run bench).');
  collect();
}

/** V8's used heap size, in bytes (what mitata 1.x also reads, less `malloced_memory`). */
export function usedHeap(): number {
  return getHeapStatistics().used_heap_size;
}

/** The median of some numbers (sorts a copy). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

type AsyncLoop = (fn: () => unknown, ops: number) => Promise<void>;
const AsyncFunction = (async () => {}).constructor as new (...source: string[]) => AsyncLoop;

/**
 * Heap bytes allocated per awaited call of `fn`, measured the way mitata's loop calls it: `await fn()` in a
 * freshly compiled async loop of its own (so the call site sees `fn` only and may inline it, as in mitata's
 * generated loop), and the await's own objects count, as they do for the floor.
 *
 * Node 20's `v8.getHeapStatistics()` has no `total_allocated_bytes`, so this reads `used_heap_size` right
 * after a full `gc()` and again after `ops` calls, and keeps the median of `reps` tries. `ops` is kept small
 * enough (a few hundred KB of garbage) that no scavenge runs inside the window; a try in which one did anyway
 * shows up as a low outlier, which the median ignores.
 */
export async function allocatedPerOp(fn: () => unknown, ops = 2_000, reps = 15): Promise<number> {
  const loop = new AsyncFunction('fn', 'ops', 'for (let i = 0; i < ops; i++) await fn();');
  for (let r = 0; r < 5; r++) await loop(fn, ops); // warm: ICs, optimised code, lazily made objects
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    gc();
    const before = usedHeap();
    await loop(fn, ops);
    const after = usedHeap();
    samples.push((after - before) / ops);
  }
  return median(samples);
}

type SyncLoop = (fn: () => unknown, ops: number) => void;

/**
 * Heap bytes allocated per plain (not awaited) call of `fn`: `allocatedPerOp` for synchronous reads, whose
 * loop must not await (an await allocates on its own, and lets the event loop's microtasks run in the window).
 * `fn` runs in a freshly compiled loop of its own, as in mitata's generated loop; warm-up and every window run
 * synchronously, within one event-loop turn. `fn` should hand its value to a sink (see {@link Sink}) so that
 * the read is not optimised away. Median of `reps` windows of `ops` calls, each after a full `gc()`.
 */
export function allocatedPerOpSync(fn: () => unknown, ops = 10_000, reps = 15): number {
  const loop = new Function('fn', 'ops', 'for (let i = 0; i < ops; i++) fn();') as SyncLoop;
  for (let r = 0; r < 5; r++) loop(fn, ops); // warm: ICs, optimised code, lazily made objects
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    gc();
    const before = usedHeap();
    loop(fn, ops);
    const after = usedHeap();
    samples.push((after - before) / ops);
  }
  return median(samples);
}

/**
 * Where a synchronous benchmark op puts the value it read, so that V8 cannot drop the read (mitata's
 * `do_not_optimize` does the same: one property store). A store of a pointer allocates nothing, unlike a
 * running sum of lengths, which leaves the Smi range after a billion or so characters and then boxes a number
 * per op. Checked after timing: the last value stored must be the expected one.
 */
export interface Sink {
  last: unknown;
}

/** Resolves on the next turn of the event loop (after I/O, in the check phase). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------------------
// the mocked Secrets Manager

/** What the mock answers for a secret: its current value and, optionally, its AWSPREVIOUS one. */
export interface FakeSecret {
  readonly current: string;
  readonly previous?: string;
}

/** A `GetSecretValue` request as the SDK command carries it. */
interface GetSecretValueInput {
  readonly SecretId?: string;
  readonly VersionStage?: string;
  readonly VersionId?: string;
}

/** An ARN-shaped string for a secret name, as Secrets Manager makes them (name + `-` + 6 random chars). */
export function arnOf(name: string): string {
  return name.startsWith('arn:')
    ? name
    : `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
}

/** The `GetSecretValue` output for a secret, the shape the SDK resolves to. */
export function getSecretValueOutput(
  secretId: string,
  secretString: string,
  stage: string,
): Record<string, unknown> {
  return {
    ARN: arnOf(secretId),
    Name: secretId,
    VersionId:
      stage === 'AWSCURRENT'
        ? 'EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE'
        : 'EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE',
    SecretString: secretString,
    VersionStages: [stage],
    CreatedDate: new Date(1_700_000_000_000),
  };
}

/** An error shaped like the SDK's, for ids the mock does not know. */
function notFound(secretId: string | undefined): Error {
  const error = new Error(`Secrets Manager can't find the specified secret (${String(secretId)}).`);
  error.name = 'ResourceNotFoundException';
  return error;
}

/** A real `SecretsManagerClient` whose `send` is stubbed by aws-sdk-client-mock. */
export interface MockedClient {
  readonly client: SecretsManagerClient;
  /** `GetSecretValue` calls since the mock was made (or since `resetCalls`). */
  calls(): number;
  /** `BatchGetSecretValue` calls since the mock was made (or since `resetCalls`). */
  batchCalls(): number;
  resetCalls(): void;
}

/**
 * A real `SecretsManagerClient` (so Powertools and middy accept it as one) with `send` mocked by
 * aws-sdk-client-mock: `GetSecretValue` answers from `secrets` after `latencyMs` (0: resolves at once, on the
 * microtask queue). Unknown ids reject with `ResourceNotFoundException`. `BatchGetSecretValue` answers the
 * `AWSCURRENT` values of its `SecretIdList` (unknown ids in `Errors`) in one page, after the same latency.
 *
 * aws-sdk-client-mock (sinon) records every call; that is fine for the thousands of calls made here, and the
 * timed warm reads make none.
 */
export function mockedSecretsManager(secrets: ReadonlyMap<string, FakeSecret>, latencyMs = 0): MockedClient {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example' },
  });
  const mock = mockClient(client);
  let calls = 0;
  const answer = (input: GetSecretValueInput): Record<string, unknown> => {
    const secretId = input.SecretId;
    const secret = secretId === undefined ? undefined : secrets.get(secretId);
    if (secretId === undefined || secret === undefined) throw notFound(secretId);
    if (input.VersionStage === 'AWSPREVIOUS') {
      if (secret.previous === undefined) throw notFound(secretId);
      return getSecretValueOutput(secretId, secret.previous, 'AWSPREVIOUS');
    }
    return getSecretValueOutput(secretId, secret.current, 'AWSCURRENT');
  };
  mock.on(GetSecretValueCommand).callsFake(async (input: GetSecretValueInput) => {
    calls++;
    if (latencyMs > 0) await sleep(latencyMs);
    return answer(input);
  });
  let batchCalls = 0;
  mock.on(BatchGetSecretValueCommand).callsFake(async (input: { SecretIdList?: readonly string[] }) => {
    batchCalls++;
    if (latencyMs > 0) await sleep(latencyMs);
    const SecretValues: Record<string, unknown>[] = [];
    const Errors: Record<string, unknown>[] = [];
    for (const secretId of input.SecretIdList ?? []) {
      const secret = secrets.get(secretId);
      if (secret === undefined) {
        Errors.push({ SecretId: secretId, ErrorCode: 'ResourceNotFoundException', Message: 'not found' });
      } else {
        SecretValues.push(getSecretValueOutput(secretId, secret.current, 'AWSCURRENT'));
      }
    }
    return { SecretValues, Errors };
  });
  return {
    client,
    calls: () => calls,
    batchCalls: () => batchCalls,
    resetCalls: () => {
      calls = 0;
      batchCalls = 0;
      mock.resetHistory();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// formatting

/** Nanoseconds, 3 significant digits: `41.2 ns`, `1.23 µs`. */
export function ns(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value < 1_000) return `${value.toPrecision(3)} ns`;
  if (value < 1_000_000) return `${(value / 1_000).toPrecision(3)} µs`;
  return `${(value / 1_000_000).toPrecision(3)} ms`;
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

/** Bytes, whole: `88 B`, `1,040 B`. */
export function bytes(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return `${Math.round(value).toLocaleString('en-US')} B`;
}

export function ratio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return `${value.toFixed(2)}x`;
}

export function int(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function percent(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;
}

/** A markdown table with padded columns, readable as plain text too. `align`: one of l/r per column. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: string,
): string {
  const widths = headers.map((header, c) =>
    Math.max(header.length, ...rows.map((row) => (row[c] ?? '').length)),
  );
  const pad = (cell: string, c: number): string =>
    align?.[c] === 'r' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!);
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, c) => pad(cell, c)).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (align?.[c] === 'r' ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(headers), rule, ...rows.map((row) => line(headers.map((_, c) => row[c] ?? '')))].join('\n');
}

/** `met` / `MISSED` as it appears in tables. */
export function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/** The table of some targets. */
export function targetTable(targets: readonly Target[]): string {
  return table(
    ['scenario', 'target', 'goal', 'measured', 'margin', 'verdict'],
    targets.map((t) => [t.scenario, t.name, t.goal, t.actual, t.margin, verdict(t.met)]),
  );
}
