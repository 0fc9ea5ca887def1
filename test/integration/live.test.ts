/**
 * Live objects against a real moto_server through the real AWS SDK client, on real time: a rotation (a new
 * `AWSCURRENT` version put while the service idles) is seen within the TTL with no read in between, and a closed
 * object makes no further call.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type FetchEvent, SecretCache, secret } from '../../src/index.js';
import type { LiveChangeEvent } from '../../src/live.js';
import {
  createJsonSecret,
  createStringSecret,
  type MotoServer,
  putSecretValue,
  startMotoServer,
} from '../support/moto.js';

const runId = randomUUID().slice(0, 8);
let moto: MotoServer;
let client: SecretsManagerClient;

beforeAll(async () => {
  moto = await startMotoServer();
  client = moto.client();
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

/** Polls `check` every 20 ms until it holds or `withinMs` passes; returns how long it took. */
async function within(withinMs: number, check: () => boolean): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await sleep(20);
  }
  return Date.now() - started;
}

describe('live objects against moto_server', () => {
  it('see a rotation within their TTL without any read in between, and stop calling AWS once closed', async () => {
    const tokenId = `it-${runId}/live-token`;
    const dbId = `it-${runId}/live-db`;
    await createStringSecret(client, tokenId, 'token-value-0001');
    await createJsonSecret(client, dbId, { username: 'orders', password: 'db-password-0001' });
    const fetches: FetchEvent[] = [];
    const cache = new SecretCache({
      client,
      ttlMs: 1_000,
      ttlJitter: 0,
      refreshAheadMs: 200,
      hooks: { onFetch: (event) => fetches.push(event) },
    });
    const changes: LiveChangeEvent[] = [];
    const secrets = await cache.live(
      {
        token: secret.string(tokenId),
        db: secret.json(dbId, { schema: z.object({ username: z.string(), password: z.string() }) }),
      },
      { onChange: (event) => changes.push(event) },
    );
    expect(secrets.token).toBe('token-value-0001');
    expect(secrets.db.password).toBe('db-password-0001');

    const rotatedAt = Date.now();
    await putSecretValue(client, tokenId, 'token-value-0002');
    await putSecretValue(client, dbId, JSON.stringify({ username: 'orders', password: 'db-password-0002' }));
    // No read of the live object until the changes were announced.
    await within(3_000, () => changes.length === 2);
    const seenAfterMs = Date.now() - rotatedAt;

    expect(seenAfterMs).toBeLessThan(1_000 + 500);
    expect(secrets.token).toBe('token-value-0002');
    expect(secrets.db.password).toBe('db-password-0002');
    expect(changes.map((change) => change.key).sort()).toEqual(['db', 'token']);
    expect(fetches.some((event) => event.reason === 'live')).toBe(true);

    secrets.close();
    const callsAtClose = fetches.length;
    await sleep(2_500);
    expect(fetches.length).toBe(callsAtClose);
    expect(() => secrets.token).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });
});
