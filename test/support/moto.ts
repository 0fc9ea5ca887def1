/**
 * Test/demo harness: runs a real `moto_server` (Python moto 5) on 127.0.0.1 with a free port and
 * hands out real `SecretsManagerClient`s pointed at it. Network traffic only ever goes to 127.0.0.1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import {
  CreateSecretCommand,
  type CreateSecretCommandOutput,
  DeleteSecretCommand,
  PutSecretValueCommand,
  type PutSecretValueCommandOutput,
  RotateSecretCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';

/** What to tell someone whose PATH has no `moto_server`: what is missing, and the one command that installs it. */
export const MOTO_SERVER_MISSING =
  'moto_server (Python moto 5, a local AWS Secrets Manager) is not on the PATH: the integration tests need it. ' +
  'Install it with `pip install "moto[server]"`, check that `moto_server --help` runs, and run again. ' +
  'The unit tests alone run without it: `npm run test:unit`.';

/** The `moto_server` executable the PATH names, or `undefined` when there is none. */
export function motoServerOnPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    for (const extension of extensions) {
      const file = join(dir, `moto_server${extension}`);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

const HOST = '127.0.0.1';
const STARTUP_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3_000;
const STDERR_TAIL_BYTES = 4_096;

/** A certificate for 127.0.0.1 and its key, as PEM files, for a moto_server that answers HTTPS. */
export interface MotoTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** The PEM text clients trust (for a self-signed certificate, the certificate itself). */
  readonly ca: string;
}

export interface MotoServer {
  /** `http://127.0.0.1:PORT`, or `https://` when started with `tls` */
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after a short grace period; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
  /** A real SecretsManagerClient for this server (region us-east-1, dummy static credentials). */
  client(overrides?: Partial<SecretsManagerClientConfig>): SecretsManagerClient;
  /** Clears all moto state (POST /moto-api/reset). */
  reset(): Promise<void>;
}

/** Finds a free TCP port on 127.0.0.1 by binding to port 0, reading the port and closing the socket. */
export async function findFreePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`unexpected server address: ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a child process has exited (by code or signal). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves once the process has exited (or could not be spawned at all, in which case no 'exit' follows). */
export function waitForExit(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => {
      if (child.pid === undefined) resolve();
    });
  });
}

/** What a harness keeps of a server it spawned: the tail of its stderr, a spawn error, its exit. */
export interface WatchedChild {
  /** The last 4 KB of stderr, for error messages. */
  stderrTail(): string;
  /** The error the spawn itself failed with (no such executable, say), if any. */
  spawnError(): Error | undefined;
  /** Resolves once the process has exited, or could not be spawned. */
  readonly exited: Promise<void>;
}

/** Watches a spawned server: keeps the tail of its stderr, drains its stdout so the pipe never fills. */
export function watchChild(child: ChildProcess): WatchedChild {
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
  });
  child.stdout?.resume();
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  return { stderrTail: () => stderrTail, spawnError: () => spawnError, exited: waitForExit(child) };
}

/** One request to a moto_server over HTTPS, trusting `ca` only: its status once the body is read. */
function httpsStatus(url: string, method: string, ca: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, ca, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts `moto_server -H 127.0.0.1 -p PORT` and waits until it answers HTTP; with `tls`, it answers HTTPS with
 * that certificate, and its clients trust it.
 */
export async function startMotoServer(options: { readonly tls?: MotoTls } = {}): Promise<MotoServer> {
  const { tls } = options;
  const port = await findFreePort();
  const endpoint = `${tls === undefined ? 'http' : 'https'}://${HOST}:${port}`;
  const tlsArgs = tls === undefined ? [] : ['-c', tls.certFile, '-k', tls.keyFile];
  const status = async (path: string, method: string): Promise<number> => {
    if (tls !== undefined) return httpsStatus(`${endpoint}${path}`, method, tls.ca, 1_000);
    const res = await fetch(`${endpoint}${path}`, { method, signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status;
  };
  const child = spawn('moto_server', ['-H', HOST, '-p', String(port), ...tlsArgs], {
    detached: false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const watched = watchChild(child);
  const { exited } = watched;

  const pid = child.pid;

  const stop = async (): Promise<void> => {
    if (child.pid === undefined || hasExited(child)) {
      await exited;
      return;
    }
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const killedInTime = await Promise.race([
      exited.then(() => true),
      delay(STOP_GRACE_MS).then(() => false),
    ]);
    if (!killedInTime && !hasExited(child)) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
  };

  const describeFailure = (why: string): Error =>
    new Error(
      `moto_server on ${endpoint} ${why}` +
        (watched.stderrTail()
          ? `\n--- moto_server stderr (tail) ---\n${watched.stderrTail()}`
          : ' (no stderr output)'),
    );

  // Poll until it answers HTTP, the process dies, or we time out.
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    const spawnError = watched.spawnError();
    if (pid === undefined || spawnError) {
      await stop();
      const reason = spawnError?.message ?? `exit code ${child.exitCode}`;
      if ((spawnError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
        throw new Error(MOTO_SERVER_MISSING);
      throw describeFailure(`could not be spawned (is moto_server on PATH?): ${reason}`);
    }
    if (hasExited(child)) {
      await stop();
      throw describeFailure(`exited before answering (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    try {
      const answered = await status('/moto-api/', 'GET');
      if (answered < 500) break;
      lastError = new Error(`HTTP ${answered}`);
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      await stop();
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw describeFailure(`did not answer HTTP within ${STARTUP_TIMEOUT_MS} ms (last error: ${reason})`);
    }
    await delay(100);
  }

  return {
    endpoint,
    port,
    pid,
    stop,
    client(overrides: Partial<SecretsManagerClientConfig> = {}): SecretsManagerClient {
      return new SecretsManagerClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
        ...(tls === undefined ? {} : { requestHandler: { httpsAgent: new HttpsAgent({ ca: tls.ca }) } }),
        ...overrides,
      });
    },
    async reset(): Promise<void> {
      const answered = await status('/moto-api/reset', 'POST');
      if (answered < 200 || answered >= 300) throw new Error(`moto reset failed: HTTP ${answered}`);
    },
  };
}

/** Minimal client surface the seeding helpers need (a SecretsManagerClient satisfies it). */
type SendClient = Pick<SecretsManagerClient, 'send'>;

/** Creates a secret with a string value. */
export async function createStringSecret(
  client: SendClient,
  name: string,
  value: string,
): Promise<CreateSecretCommandOutput> {
  return client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
}

/** Creates a secret with a binary value. */
export async function createBinarySecret(
  client: SendClient,
  name: string,
  value: Uint8Array,
): Promise<CreateSecretCommandOutput> {
  return client.send(new CreateSecretCommand({ Name: name, SecretBinary: value }));
}

/** Creates a secret whose string value is `JSON.stringify(value)`. */
export async function createJsonSecret(
  client: SendClient,
  name: string,
  value: unknown,
): Promise<CreateSecretCommandOutput> {
  return createStringSecret(client, name, JSON.stringify(value));
}

/**
 * Puts a new value (string or binary). By default the new version becomes AWSCURRENT and the previous
 * AWSCURRENT becomes AWSPREVIOUS.
 */
export async function putSecretValue(
  client: SendClient,
  secretId: string,
  value: string | Uint8Array,
  versionStages?: string[],
): Promise<PutSecretValueCommandOutput> {
  return client.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      ...(typeof value === 'string' ? { SecretString: value } : { SecretBinary: value }),
      ...(versionStages ? { VersionStages: versionStages } : {}),
    }),
  );
}

/** Deletes a secret immediately (no recovery window). */
export async function deleteSecret(client: SendClient, secretId: string): Promise<void> {
  await client.send(new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true }));
}

/**
 * What Secrets Manager does before it invokes a rotation's createSecret: a version with the token, labelled
 * AWSPENDING, with no value. moto makes one when `RotateSecret` names a Lambda that does not exist (and then
 * fails the call with ResourceNotFoundException, which is expected here).
 */
export async function stagePendingPlaceholder(
  client: SendClient,
  secretId: string,
  token: string,
): Promise<void> {
  try {
    await client.send(
      new RotateSecretCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:no-such-function',
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'ResourceNotFoundException') throw error;
  }
}
