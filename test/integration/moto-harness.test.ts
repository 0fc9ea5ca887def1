import { mkdtempSync, rmSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { createStringSecret, type MotoServer, startMotoServer } from '../support/moto.js';
import { selfSignedCertificate } from '../support/tls.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

describe('moto harness', () => {
  let moto: MotoServer | undefined;

  afterAll(async () => {
    await moto?.stop();
  });

  it('starts moto_server on 127.0.0.1, serves the real SDK, resets, and stops the process', async () => {
    moto = await startMotoServer();
    expect(moto.endpoint).toBe(`http://127.0.0.1:${moto.port}`);
    expect(isAlive(moto.pid)).toBe(true);

    const client = moto.client();
    await createStringSecret(client, 'harness/secret', 'harness-value');
    const out = await client.send(new GetSecretValueCommand({ SecretId: 'harness/secret' }));
    expect(out.SecretString).toBe('harness-value');
    expect(out.Name).toBe('harness/secret');

    await moto.reset();
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'harness/secret' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    client.destroy();

    const { pid } = moto;
    await moto.stop();
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    // stop() is idempotent
    await moto.stop();
  });

  it('answers HTTPS with a certificate its clients trust, and a client that trusts the system CAs only is refused', async (context) => {
    const dir = mkdtempSync(join(os.tmpdir(), 'secretcache-moto-tls-'));
    const tls = selfSignedCertificate(dir);
    if (tls === undefined) {
      rmSync(dir, { recursive: true, force: true });
      context.skip('no openssl on the PATH');
      return;
    }
    const server = await startMotoServer({ tls });
    try {
      expect(server.endpoint).toBe(`https://127.0.0.1:${server.port}`);
      const client = server.client();
      await createStringSecret(client, 'harness/tls', 'harness-tls-value');
      const out = await client.send(new GetSecretValueCommand({ SecretId: 'harness/tls' }));
      expect(out.SecretString).toBe('harness-tls-value');
      client.destroy();

      const untrusting = server.client({
        requestHandler: { httpsAgent: new HttpsAgent() },
        maxAttempts: 1,
      });
      await expect(
        untrusting.send(new GetSecretValueCommand({ SecretId: 'harness/tls' })),
      ).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
      untrusting.destroy();

      await server.reset();
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
