/**
 * A Lambda handler built with `withSecrets`, run locally against a real moto_server through the real AWS SDK
 * client, invoked a few times with a fake context. Prints the AWS calls of the init phase and of each
 * invocation. The clock runs `skewMs` ahead of `Date.now()` so the example can let five minutes pass at once.
 *
 *   npm run example:lambda
 *
 * Never prints a secret's value. Needs `moto_server` (Python moto 5) on PATH; talks to 127.0.0.1 only.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { isSecretCacheError, SecretCache, type SecretsManagerLike, secret } from '../src/index.js';
import { type LambdaContext, withSecrets } from '../src/lambda.js';
import {
  createBinarySecret,
  createJsonSecret,
  createStringSecret,
  putSecretValue,
  startMotoServer,
} from '../test/support/moto.js';

const TTL_MS = 5 * 60_000;
const INIT_WORK_MS = 250;

/** Counts the commands sent through a client, by operation, since the last `take()`. */
class CallLog {
  #calls: string[] = [];

  wrap(client: SecretsManagerLike): SecretsManagerLike {
    return {
      send: (command, options) => {
        this.#calls.push(
          command instanceof BatchGetSecretValueCommand
            ? 'BatchGetSecretValue'
            : command instanceof GetSecretValueCommand
              ? 'GetSecretValue'
              : 'other',
        );
        return client.send(command, options);
      },
    };
  }

  /** The calls since the last take, as `2 (1 BatchGetSecretValue, 1 GetSecretValue)`, and forgets them. */
  take(): string {
    const calls = this.#calls;
    this.#calls = [];
    if (calls.length === 0) return '0';
    const counts = new Map<string, number>();
    for (const call of calls) counts.set(call, (counts.get(call) ?? 0) + 1);
    return `${calls.length} (${[...counts].map(([operation, n]) => `${n} ${operation}`).join(', ')})`;
  }
}

const fakeContext = (): LambdaContext => ({
  awsRequestId: randomUUID(),
  getRemainingTimeInMillis: () => 3_000,
});

const token = (bytes: number): string => randomBytes(bytes).toString('base64url');

async function seed(client: SecretsManagerClient): Promise<void> {
  await createJsonSecret(client, 'example/checkout/db', {
    host: 'checkout-db.internal',
    port: 5432,
    username: 'checkout',
    password: token(24),
  });
  await createStringSecret(client, 'example/checkout/stripe-key', `sk_test_${token(24)}`);
  await createBinarySecret(client, 'example/checkout/signing-key', new Uint8Array(randomBytes(32)));
  await createJsonSecret(client, 'example/checkout/flags', { newCheckout: true, maxItems: 50 });
}

const manifest = {
  db: secret.json('example/checkout/db', {
    schema: z.object({ host: z.string(), port: z.number(), username: z.string(), password: z.string() }),
  }),
  stripeKey: secret.string('example/checkout/stripe-key'),
  signingKey: secret.binary('example/checkout/signing-key'),
  flags: secret.json<{ newCheckout: boolean; maxItems: number }>('example/checkout/flags'),
  previousStripeKey: secret.string('example/checkout/stripe-key', { versionStage: 'AWSPREVIOUS' }),
};

async function main(): Promise<void> {
  const moto = await startMotoServer();
  const client = moto.client();
  try {
    console.log(`moto_server on ${moto.endpoint}`);
    await seed(client);
    // The first rotation gives the stripe key an AWSPREVIOUS version, which the manifest also reads.
    await putSecretValue(client, 'example/checkout/stripe-key', `sk_test_${token(24)}`);
    console.log('seeded 4 secrets; the manifest reads 5 entries (one of them AWSPREVIOUS)\n');

    let skewMs = 0;
    const log = new CallLog();
    const cache = new SecretCache({
      client: log.wrap(client),
      ttlMs: TTL_MS,
      clock: { now: () => Date.now() + skewMs },
    });

    // --- what the handler module does at import (the Lambda init phase) ---
    const seenStripeKeys = new Set<string>();
    const handler = withSecrets(
      manifest,
      async (event: { orderId: string }, context, secrets) => {
        seenStripeKeys.add(secrets.stripeKey);
        return {
          statusCode: 200,
          orderId: event.orderId,
          requestId: context.awsRequestId,
          dbPort: secrets.db.port,
          newCheckout: secrets.flags.newCheckout,
          signingKeyBytes: secrets.signingKey.byteLength,
        };
      },
      { cache },
    );
    // The rest of the init phase: importing other modules, creating clients... The load runs meanwhile.
    await new Promise((resolve) => setTimeout(resolve, INIT_WORK_MS));
    console.log(
      `init (withSecrets, then ${INIT_WORK_MS} ms of other start-up work): AWS calls ${log.take()}`,
    );

    const invoke = async (label: string): Promise<void> => {
      const start = performance.now();
      const result = await handler({ orderId: `order-${randomUUID().slice(0, 8)}` }, fakeContext());
      const took = (performance.now() - start).toFixed(1);
      console.log(
        `${label}: ${took} ms, AWS calls ${log.take()}; ` +
          `status ${result.statusCode}, dbPort ${result.dbPort}, ${result.signingKeyBytes}-byte signing key, ` +
          `distinct stripe keys seen so far: ${seenStripeKeys.size}`,
      );
    };

    await invoke('invocation 1');
    await invoke('invocation 2');
    await invoke('invocation 3');

    await putSecretValue(client, 'example/checkout/stripe-key', `sk_test_${token(24)}`);
    console.log('\nrotated example/checkout/stripe-key (PutSecretValue)');
    await invoke('invocation 4 (within the TTL: the cached key)');

    skewMs += TTL_MS + 1_000;
    console.log(`\nthe clock moves ${(TTL_MS + 1_000) / 1_000} s ahead (past the ${TTL_MS / 1_000} s TTL)`);
    await invoke('invocation 5 (past the TTL: reloads)');
    await invoke('invocation 6');

    console.log('\nan init that fails: the manifest names a secret that does not exist yet');
    const failingLog = new CallLog();
    const failingCache = new SecretCache({
      client: failingLog.wrap(client),
      clock: { now: () => Date.now() + skewMs },
    });
    const failing = withSecrets(
      { ...manifest, audit: secret.string('example/checkout/audit-key') },
      async (_event: unknown, _context, secrets) => secrets.audit.length,
      { cache: failingCache },
    );
    await failing({}, fakeContext()).then(
      () => console.log('invocation 1: unexpectedly succeeded'),
      (error: unknown) => {
        if (!isSecretCacheError(error)) throw error;
        const failed = error.errors.map(({ key, code }) => `${key}: ${code}`).join(', ');
        console.log(`invocation 1: rejected with ${error.code} [${failed}]; AWS calls ${failingLog.take()}`);
      },
    );
    await createStringSecret(client, 'example/checkout/audit-key', token(16));
    skewMs += 2_000; // past the missing secret's backoff
    const length = await failing({}, fakeContext());
    console.log(`invocation 2 (the secret now exists): ok, ${length} chars; AWS calls ${failingLog.take()}`);
  } finally {
    client.destroy();
    await moto.stop();
    console.log('\nmoto_server stopped; no secret value was printed');
  }
}

main().catch((error: unknown) => {
  console.error(`example failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
