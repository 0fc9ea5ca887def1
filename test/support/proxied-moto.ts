/**
 * The setup of the tests that put the fault proxy (test/support/fault-proxy.ts) in front of a real moto_server:
 * both started once per test file, a client straight to moto and one through the proxy, and the proxy back to
 * pass-through with zeroed counters before each test.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FaultProxy, type FaultProxyOptions, startFaultProxy } from './fault-proxy.js';
import { type MotoServer, startMotoServer } from './moto.js';

/** What {@link useProxiedMoto} started; read it inside a test or hook, once `beforeAll` has run. */
export interface ProxiedMoto {
  readonly moto: MotoServer;
  readonly proxy: FaultProxy;
  /** Straight to moto: seeding and rotating, never counted by the proxy. */
  readonly admin: SecretsManagerClient;
  /** Through the proxy; `maxAttempts: 1` so each send is exactly one HTTP request the proxy counts. */
  readonly client: SecretsManagerClient;
}

/**
 * Starts moto_server and a fault proxy in front of it (`proxyOptions`, with moto as the target) in `beforeAll`,
 * closes both in `afterAll`, and puts the proxy back to pass-through with zeroed counters in `beforeEach`.
 */
export function useProxiedMoto(proxyOptions: Omit<FaultProxyOptions, 'target'> = {}): ProxiedMoto {
  let moto: MotoServer | undefined;
  let proxy: FaultProxy | undefined;
  let admin: SecretsManagerClient | undefined;
  let client: SecretsManagerClient | undefined;

  beforeAll(async () => {
    moto = await startMotoServer();
    admin = moto.client();
    proxy = await startFaultProxy({ ...proxyOptions, target: moto.endpoint });
    client = moto.client({ endpoint: proxy.endpoint, maxAttempts: 1 });
  });

  afterAll(async () => {
    client?.destroy();
    admin?.destroy();
    await proxy?.close();
    await moto?.stop();
  });

  beforeEach(() => {
    started(proxy).passThrough();
    started(proxy).resetCounters();
  });

  return {
    get moto() {
      return started(moto);
    },
    get proxy() {
      return started(proxy);
    },
    get admin() {
      return started(admin);
    },
    get client() {
      return started(client);
    },
  };
}

function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('moto_server and the fault proxy are started in beforeAll.');
  return value;
}
