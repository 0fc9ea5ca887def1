/**
 * A service's cold start: 50 secrets (JSON validated with a schema, plain strings, one binary key) loaded with
 * one `cache.load(manifest)`, against a real moto_server through the real AWS SDK client. It counts the AWS
 * calls each way of loading makes, by wrapping the client's `send`, and times them:
 *
 * - with batching: `BatchGetSecretValue`, 20 secrets a call, the calls in parallel;
 * - without: a source that has no `batchGetSecretValue`, so one `GetSecretValue` per secret (what happens when
 *   the function's role may not call `BatchGetSecretValue`).
 *
 *   npm run example:service
 *
 * Never prints a secret's value. Needs `moto_server` (Python moto 5) on PATH; talks to 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import {
  AwsSecretSource,
  type Manifest,
  SecretCache,
  type SecretSource,
  type SecretsManagerLike,
  secret,
} from '../src/index.js';
import {
  createBinarySecret,
  createJsonSecret,
  createStringSecret,
  startMotoServer,
} from '../test/support/moto.js';

const JSON_SECRETS = 30;
const STRING_SECRETS = 19;
const RUNS = 5;

const DbCredential = z.object({
  engine: z.literal('postgres'),
  host: z.string(),
  port: z.number().int(),
  username: z.string(),
  password: z.string().min(16),
});
type DbCredential = z.infer<typeof DbCredential>;

/** Calls sent through a client, by operation. */
class CallCounter {
  batch = 0;
  single = 0;
  other = 0;

  /** `client`, with every command it sends counted here. */
  wrap(client: SecretsManagerLike): SecretsManagerLike {
    return {
      send: (command, options) => {
        if (command instanceof BatchGetSecretValueCommand) this.batch++;
        else if (command instanceof GetSecretValueCommand) this.single++;
        else this.other++;
        return client.send(command, options);
      },
    };
  }

  get total(): number {
    return this.batch + this.single + this.other;
  }

  reset(): void {
    this.batch = 0;
    this.single = 0;
    this.other = 0;
  }

  toString(): string {
    return `${this.total} (${this.batch} BatchGetSecretValue, ${this.single} GetSecretValue)`;
  }
}

interface Seeded {
  readonly manifest: Manifest;
  readonly db: ReadonlyMap<string, DbCredential>;
  readonly strings: ReadonlyMap<string, string>;
  readonly signingKey: Uint8Array;
}

async function seed(client: SecretsManagerClient): Promise<Seeded> {
  const manifest: Record<string, Manifest[string]> = {};
  const db = new Map<string, DbCredential>();
  const strings = new Map<string, string>();
  for (let i = 0; i < JSON_SECRETS; i++) {
    const key = `db${String(i).padStart(2, '0')}`;
    const value: DbCredential = {
      engine: 'postgres',
      host: `shard-${i}.orders-db.internal`,
      port: 5432,
      username: `orders_${i}`,
      password: randomBytes(24).toString('base64url'),
    };
    await createJsonSecret(client, `example/orders/${key}`, value);
    manifest[key] = secret.json(`example/orders/${key}`, { schema: DbCredential });
    db.set(key, value);
  }
  for (let i = 0; i < STRING_SECRETS; i++) {
    const key = `apiKey${String(i).padStart(2, '0')}`;
    const value = `sk_test_${randomBytes(24).toString('base64url')}`;
    await createStringSecret(client, `example/orders/${key}`, value);
    manifest[key] = secret.string(`example/orders/${key}`);
    strings.set(key, value);
  }
  const signingKey = new Uint8Array(randomBytes(32));
  await createBinarySecret(client, 'example/orders/signing-key', signingKey);
  manifest.signingKey = secret.binary('example/orders/signing-key');
  return { manifest, db, strings, signingKey };
}

/** How many of the loaded values equal what was seeded (compared here, never printed). */
function matching(loaded: Readonly<Record<string, unknown>>, seeded: Seeded): number {
  let same = 0;
  for (const [key, value] of seeded.db) if (JSON.stringify(loaded[key]) === JSON.stringify(value)) same++;
  for (const [key, value] of seeded.strings) if (loaded[key] === value) same++;
  const bytes = loaded.signingKey;
  if (bytes instanceof Uint8Array && Buffer.from(bytes).equals(Buffer.from(seeded.signingKey))) same++;
  return same;
}

interface Outcome {
  readonly calls: string;
  readonly coldMs: number[];
  readonly warmCalls: number;
}

/** Loads the manifest cold `RUNS` times with a new cache each time, then once warm. */
async function coldStarts(
  seeded: Seeded,
  makeCache: (counter: CallCounter) => SecretCache,
): Promise<Outcome> {
  const coldMs: number[] = [];
  let calls = '';
  let warmCalls = 0;
  for (let run = 0; run < RUNS; run++) {
    const counter = new CallCounter();
    const cache = makeCache(counter);
    const start = performance.now();
    const loaded = await cache.load(seeded.manifest);
    coldMs.push(performance.now() - start);
    const total = Object.keys(seeded.manifest).length;
    if (matching(loaded, seeded) !== total) throw new Error('a loaded value differs from what was seeded');
    calls = counter.toString();
    counter.reset();
    await cache.load(seeded.manifest);
    warmCalls = counter.total;
  }
  return { calls, coldMs, warmCalls };
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const moto = await startMotoServer();
  const client = moto.client();
  try {
    console.log(`moto_server on ${moto.endpoint}`);
    const seeded = await seed(client);
    console.log(
      `seeded ${Object.keys(seeded.manifest).length} secrets: ${JSON_SECRETS} JSON (zod schema), ` +
        `${STRING_SECRETS} string, 1 binary`,
    );
    await client.send(new GetSecretValueCommand({ SecretId: 'example/orders/signing-key' })); // warm the connection

    const batched = await coldStarts(seeded, (counter) => new SecretCache({ client: counter.wrap(client) }));
    const unbatched = await coldStarts(seeded, (counter) => {
      const aws = new AwsSecretSource(counter.wrap(client));
      // No batchGetSecretValue: the cache loads one GetSecretValue per secret.
      const source: SecretSource = {
        getSecretValue: (request, signal) => aws.getSecretValue(request, signal),
      };
      return new SecretCache({ source });
    });

    console.log(`\ncold start of ${Object.keys(seeded.manifest).length} secrets, median of ${RUNS} runs:`);
    console.log('| load | AWS calls | median ms | min ms | max ms | warm reload calls |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const [label, outcome] of [
      ['with batching', batched],
      ['without batching', unbatched],
    ] as const) {
      const { calls, coldMs, warmCalls } = outcome;
      console.log(
        `| ${label} | ${calls} | ${median(coldMs).toFixed(1)} | ${Math.min(...coldMs).toFixed(1)} | ` +
          `${Math.max(...coldMs).toFixed(1)} | ${warmCalls} |`,
      );
    }
    console.log('\nall loaded values matched what was seeded; no value was printed');
  } finally {
    client.destroy();
    await moto.stop();
    console.log('moto_server stopped');
  }
}

main().catch((error: unknown) => {
  console.error(`example failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
