/**
 * Scenario 5, memory: heap bytes per cached entry for 10,000 secrets of distinct 1 KiB string values
 * (`maxEntries: 10_000`), measured with `gc()` before and after filling a cache, against the bytes the values
 * themselves take. Target: at most 400 B beyond the value per entry filled through a client.
 */
import assert from 'node:assert/strict';
import { SecretCache, type SecretSource, type SecretsManagerLike } from '../src/index.js';
import {
  type BenchContext,
  bytes,
  gc,
  int,
  median,
  type ScenarioResult,
  type Target,
  table,
  usedHeap,
} from './support.js';

const ENTRIES = 10_000;
const VALUE_CHARS = 1024;
/** The most heap an entry of the client row may take beyond its value. */
const MAX_OVERHEAD = 400;

/** A distinct, flat one-byte string of 1,024 chars (decoded from bytes, as the SDK's JSON parser makes them). */
function makeValue(i: number): string {
  const buffer = Buffer.alloc(VALUE_CHARS, 'x');
  buffer.write(`fake-secret-${i}-`, 0, 'latin1');
  return buffer.toString('latin1');
}

/** A fresh copy of a string (what parsing a response gives), not the caller's string object. */
function copyOf(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}

/**
 * Heap growth, after full gcs, of what `fill` builds and keeps alive (checked by `check` before it is dropped):
 * the median of three tries (the first try of a process also pays for one-off lazily made objects).
 */
async function retained<T>(fill: () => Promise<T>, check: (kept: T) => Promise<void>): Promise<number> {
  const tries: number[] = [];
  // Declared out here and cleared after each try: a block-scoped `kept` would stay in the async frame's
  // register until overwritten, so the previous try's cache would be freed inside the next window.
  let kept: T | undefined;
  for (let t = 0; t < 3; t++) {
    gc();
    gc();
    const before = usedHeap();
    kept = await fill();
    gc();
    gc();
    tries.push(usedHeap() - before);
    await check(kept);
    kept = undefined;
  }
  return median(tries);
}

export async function memory(_context: BenchContext): Promise<ScenarioResult> {
  const ids = Array.from({ length: ENTRIES }, (_, i) => `prod/tenant-${i}/api-key`);
  const indexOf = new Map(ids.map((id, i) => [id, i]));
  const index = (secretId: string): number => {
    const i = indexOf.get(secretId);
    assert.ok(i !== undefined, 'unknown secret id');
    return i;
  };

  // A client like the SDK's: every answer's strings, Date and array are new.
  const client: SecretsManagerLike = {
    send: (command: { input: { SecretId: string } }) => {
      const secretId = command.input.SecretId;
      const i = index(secretId);
      return Promise.resolve({
        ARN: copyOf(`arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretId}-AbCdEf`),
        Name: copyOf(secretId),
        VersionId: copyOf(`EXAMPLE1-90ab-cdef-fedc-ba98${String(i).padStart(8, '0')}`),
        SecretString: makeValue(i),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: new Date(1_700_000_000_000 + i),
      });
    },
  };
  // A source with no metadata of its own: only the value is new.
  const stages = Object.freeze(['AWSCURRENT']);
  const bare: SecretSource = {
    getSecretValue: ({ secretId }) =>
      Promise.resolve({
        name: secretId,
        arn: '',
        versionId: 'v1',
        versionStages: stages,
        createdDate: undefined,
        secretString: makeValue(index(secretId)),
      }),
  };

  // ---- correctness first, on small caches: right values, one fetch each, then warm.
  for (const options of [{ client }, { source: bare }]) {
    const cache = new SecretCache({ ...options, maxEntries: 100 });
    const some = ids.slice(0, 100);
    const values = await Promise.all(some.map((id) => cache.getSecretString(id)));
    values.forEach((value, i) => {
      assert.equal(value, makeValue(i));
      assert.equal(value.length, VALUE_CHARS);
    });
    await Promise.all(some.map((id) => cache.getSecretString(id)));
    assert.equal(cache.stats().fetches, 100);
    assert.equal(cache.stats().size, 100);
  }

  // ---- the values alone: 10,000 distinct 1 KiB strings in an array made beforehand
  const held: string[] = new Array<string>(ENTRIES).fill('');
  const valueBytes =
    (await retained(
      async () => {
        for (let i = 0; i < ENTRIES; i++) held[i] = makeValue(i);
        return held;
      },
      async (kept) => {
        assert.equal(kept[ENTRIES - 1], makeValue(ENTRIES - 1));
        kept.fill('');
      },
    )) / ENTRIES;

  // ---- full caches: the cache (made inside the window, so its own tables count) filled with 10,000 secrets
  const check = async (cache: SecretCache): Promise<void> => {
    const { size, fetches, errors } = cache.stats();
    assert.equal(size, ENTRIES);
    assert.equal(fetches, ENTRIES);
    assert.equal(errors, 0);
    for (const i of [0, 1, ENTRIES / 2, ENTRIES - 1])
      assert.equal(await cache.getSecretString(ids[i]!), makeValue(i));
  };
  const fillCache = (options: { client: SecretsManagerLike } | { source: SecretSource }) =>
    retained(async () => {
      const cache = new SecretCache({ ...options, maxEntries: ENTRIES });
      await Promise.all(ids.map((id) => cache.getSecretString(id)));
      return cache;
    }, check);
  const viaClient = await fillCache({ client });
  const viaBare = await fillCache({ source: bare });

  const row = (name: string, total: number): string[] => {
    const perEntry = total / ENTRIES;
    const overhead = perEntry - valueBytes;
    return [
      name,
      bytes(perEntry),
      bytes(valueBytes),
      bytes(overhead),
      `${((overhead / valueBytes) * 100).toFixed(0)}%`,
    ];
  };
  const markdown = [
    table(
      [
        `${int(ENTRIES)} cached secrets of ${int(VALUE_CHARS)}-char values`,
        'heap per entry',
        'value',
        'overhead per entry',
        'overhead / value',
      ],
      [
        [
          `the values alone (${int(VALUE_CHARS)}-char one-byte strings)`,
          bytes(valueBytes),
          bytes(valueBytes),
          '',
          '',
        ],
        row(
          'SecretCache via a client (SDK-shaped answers: new ARN, name, version id, Date, stages)',
          viaClient,
        ),
        row('SecretCache via a bare source (value only; shared metadata)', viaBare),
      ],
      'lrrrr',
    ),
    '',
    `- Heap growth (\`used_heap_size\` after two full \`gc()\`s) from before the \`SecretCache\` (\`maxEntries: ${int(ENTRIES)}\`, otherwise default) is made to after ${int(ENTRIES)} \`getSecretString\`s filled it; the ids are the caller's and were allocated before. Values are distinct flat one-byte strings, as decoding a response makes them. Overhead = heap per entry − the value's own size, measured the same way (a one-byte string is a 16 B header + 1 B per char: 1,040 B here). Each figure is the median of 3 fills.`,
    `- The client row is what a service holds: per secret, the cache's entry, its key in the LRU (whose tables are sized to maxEntries up front), the resolved promise handed to warm reads, and the metadata the answer carried (ARN, name, version id, stages, created date) as the entry keeps it: the version id, the created time as a number and what follows the name in the ARN (the ARN's start and the stage list are shared between entries, the name is the secret id's string). The bare-source row leaves the metadata out, which isolates the cache's own structures.`,
  ].join('\n');
  const clientOverhead = viaClient / ENTRIES - valueBytes;
  const targets: Target[] = [
    {
      scenario: 'memory',
      name: 'overhead per entry via a client (SDK-shaped answers)',
      goal: `<= ${bytes(MAX_OVERHEAD)}`,
      actual: bytes(clientOverhead),
      margin:
        clientOverhead <= MAX_OVERHEAD
          ? `${bytes(MAX_OVERHEAD - clientOverhead)} under`
          : `${bytes(clientOverhead - MAX_OVERHEAD)} over`,
      met: clientOverhead <= MAX_OVERHEAD,
    },
  ];
  return { title: '5. Memory', markdown, targets };
}
