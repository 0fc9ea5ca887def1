/**
 * secretcache demo: a real moto_server (a local AWS Secrets Manager), the real AWS SDK client, and the cache.
 *
 *   npm run demo
 *
 * Prints what it does at each step, with timings, but never a secret's value: only lengths and key names.
 * Uses `moto_server` (Python moto 5) when it is on the PATH, and talks to 127.0.0.1 only. Without it, runs the
 * same steps against `memorySource()` from `secretcache/testing` (an in-memory Secrets Manager) and says so first.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { isSecretCacheError, SecretCache, type SecretCacheOptions } from '../src/index.js';
import { memorySource } from '../src/testing.js';
import {
  createBinarySecret,
  createStringSecret,
  motoServerOnPath,
  putSecretValue,
  startMotoServer,
} from '../test/support/moto.js';

const DB_SECRET = 'demo/orders/db';
const API_KEY_SECRET = 'demo/payments/api-key';
const SIGNING_KEY_SECRET = 'demo/tokens/signing-key';
const MISSING_SECRET = 'demo/does-not-exist';

/** A masked form of a secret: its size only, never its content. */
const masked = (value: string | Uint8Array): string =>
  typeof value === 'string' ? `(${value.length} chars)` : `(${value.byteLength} bytes)`;

const ms = (start: number): string => `${(performance.now() - start).toFixed(1)} ms`;

/** Runs `fn`, returning its result and how long it took. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, string]> {
  const start = performance.now();
  const result = await fn();
  return [result, ms(start)];
}

const step = (title: string): void => console.log(`\n== ${title}`);
const line = (text: string): void => console.log(`   ${text}`);

function randomToken(length: number): string {
  return randomBytes(length).toString('base64url').slice(0, length);
}

/** The Secrets Manager the demo seeds and reads: moto_server through the SDK, or memorySource. */
interface Backend {
  /** What the cache reads through, and a line more about it, for the output. */
  readonly describe: string;
  readonly details: string;
  /** How the cache reaches it. */
  readonly cacheOptions: Pick<SecretCacheOptions, 'client' | 'source'>;
  create(name: string, value: string | Uint8Array): Promise<void>;
  /** Puts a new AWSCURRENT value; resolves to its version id. */
  put(name: string, value: string): Promise<string>;
}

async function run(backend: Backend): Promise<void> {
  step('Seeding three secrets (CreateSecret)');
  const dbCredential = {
    engine: 'postgres',
    host: 'orders-db.internal',
    port: 5432,
    username: 'orders_app',
    password: randomToken(24),
  };
  const apiKey = `sk_live_${randomToken(32)}`;
  const signingKey = new Uint8Array(randomBytes(32));
  {
    const [, took] = await timed(async () => {
      await backend.create(DB_SECRET, JSON.stringify(dbCredential));
      await backend.create(API_KEY_SECRET, apiKey);
      await backend.create(SIGNING_KEY_SECRET, signingKey);
    });
    line(`${DB_SECRET}: JSON with keys [${Object.keys(dbCredential).join(', ')}]`);
    line(`${API_KEY_SECRET}: string ${masked(apiKey)}`);
    line(`${SIGNING_KEY_SECRET}: binary ${masked(signingKey)}`);
    line(`created 3 secrets in ${took}`);
  }

  step(`Creating a SecretCache over ${backend.describe} (ttlMs 300000, maxEntries 1000)`);
  const cache = new SecretCache({ ...backend.cacheOptions, ttlMs: 300_000, maxEntries: 1_000 });
  line(backend.details);

  step('Reading each secret through the cache: cold (fetched from Secrets Manager), then warm (from memory)');
  for (const pass of ['cold', 'warm'] as const) {
    const [db, dbTook] = await timed(() => cache.getSecretJson<typeof dbCredential>(DB_SECRET));
    const [key, keyTook] = await timed(() => cache.getSecretString(API_KEY_SECRET));
    const [bytes, bytesTook] = await timed(() => cache.getSecretBinary(SIGNING_KEY_SECRET));
    if (db.password !== dbCredential.password || key !== apiKey || !equalBytes(bytes, signingKey)) {
      throw new Error(`the ${pass} read returned something other than what was seeded`);
    }
    line(
      `${pass}: ${DB_SECRET} -> JSON, password ${masked(db.password)}, frozen: ${Object.isFrozen(db)} in ${dbTook}`,
    );
    line(`${pass}: ${API_KEY_SECRET} -> ${masked(key)} in ${keyTook}`);
    line(`${pass}: ${SIGNING_KEY_SECRET} -> ${masked(bytes)} in ${bytesTook}`);
  }
  const afterReads = cache.stats();
  line(`after 6 reads: fetches ${afterReads.fetches}, hits ${afterReads.hits}, misses ${afterReads.misses}`);

  step(`Rotating ${API_KEY_SECRET} with PutSecretValue`);
  const newApiKey = `sk_live_${randomToken(40)}`;
  const [putVersionId, putTook] = await timed(() => backend.put(API_KEY_SECRET, newApiKey));
  line(`new version ${putVersionId} ${masked(newApiKey)} is now AWSCURRENT (${putTook})`);

  const [stale, staleTook] = await timed(() => cache.getSecretString(API_KEY_SECRET));
  line(`cached read before the TTL expires still returns the old value: ${stale === apiKey} (${staleTook})`);

  const [, refreshTook] = await timed(() => cache.refreshNow(API_KEY_SECRET));
  line(`refreshNow fetched the new version in ${refreshTook}`);

  const [current, currentTook] = await timed(() => cache.getSecretValue(API_KEY_SECRET));
  const [previous, previousTook] = await timed(() =>
    cache.getSecretValue(API_KEY_SECRET, { versionStage: 'AWSPREVIOUS' }),
  );
  line(
    `AWSCURRENT : version ${current.versionId} [${current.versionStages.join(', ')}] ` +
      `${masked(current.secretString ?? '')}, is the new key: ${current.secretString === newApiKey} (${currentTook})`,
  );
  line(
    `AWSPREVIOUS: version ${previous.versionId} [${previous.versionStages.join(', ')}] ` +
      `${masked(previous.secretString ?? '')}, is the old key: ${previous.secretString === apiKey} (${previousTook})`,
  );
  if (current.secretString !== newApiKey || previous.secretString !== apiKey) {
    throw new Error('AWSCURRENT/AWSPREVIOUS did not return the expected versions');
  }

  step(`Reading a secret that does not exist (${MISSING_SECRET})`);
  const start = performance.now();
  try {
    await cache.getSecretString(MISSING_SECRET);
    throw new Error(`reading ${MISSING_SECRET} unexpectedly succeeded`);
  } catch (error) {
    if (!isSecretCacheError(error)) throw error;
    line(`rejected after ${ms(start)} with SecretCacheError code=${error.code} secretId=${error.secretId}`);
    line(`message: ${error.message}`);
    if (error.code !== 'NOT_FOUND') throw error;
  }

  step('cache.stats()');
  line(JSON.stringify(cache.stats()));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

/** The demo against a local moto_server, through a real SecretsManagerClient. */
async function withMoto(): Promise<void> {
  step('Starting moto_server (a local AWS Secrets Manager) on 127.0.0.1');
  const [moto, startTook] = await timed(() => startMotoServer());
  line(`moto_server pid ${moto.pid} listening on ${moto.endpoint} (${startTook})`);
  const client = moto.client();
  try {
    await run({
      describe: 'a real SecretsManagerClient',
      details: `endpoint ${moto.endpoint}, region us-east-1`,
      cacheOptions: { client },
      create: async (name, value) => {
        await (typeof value === 'string'
          ? createStringSecret(client, name, value)
          : createBinarySecret(client, name, value));
      },
      put: async (name, value) => (await putSecretValue(client, name, value)).VersionId ?? '',
    });
  } finally {
    client.destroy();
    const [, stopTook] = await timed(() => moto.stop());
    step('Stopped moto_server');
    line(`pid ${moto.pid} stopped in ${stopTook}`);
  }
}

/** The same demo against secretcache/testing's in-memory Secrets Manager. */
async function withMemorySource(): Promise<void> {
  const source = memorySource();
  await run({
    describe: "secretcache/testing's memorySource()",
    details: 'an in-memory Secrets Manager: no network, no process to start, region us-east-1',
    cacheOptions: { source },
    create: async (name, value) => {
      source.createSecret(name, value);
    },
    put: async (name, value) => source.putSecretValue(name, value).versionId,
  });
  step('Calls the cache made');
  line(
    `GetSecretValue ${source.callCount({ operation: 'GetSecretValue' })}, ` +
      `BatchGetSecretValue ${source.callCount({ operation: 'BatchGetSecretValue' })}`,
  );
}

async function main(): Promise<void> {
  const total = performance.now();
  if (motoServerOnPath() === undefined) {
    console.log(
      "moto_server not found on PATH: running against secretcache/testing's memorySource " +
        '(pip install "moto[server]" for a local Secrets Manager)',
    );
    await withMemorySource();
  } else {
    await withMoto();
  }
  console.log(`\nDone in ${ms(total)}. No secret value was printed.`);
}

main().catch((error: unknown) => {
  // A SecretCacheError's message never quotes a secret's value; print only the message, not the cause chain.
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
