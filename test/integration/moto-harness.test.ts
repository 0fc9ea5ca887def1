import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { createStringSecret, type MotoServer, startMotoServer } from '../support/moto.js';

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
});
