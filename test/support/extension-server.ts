/**
 * Test harness: a local imitation of the AWS Parameters and Secrets Lambda Extension's Secrets Manager endpoint,
 * HTTP on 127.0.0.1 with a free port, in front of a real `moto_server` through a real `SecretsManagerClient`.
 *
 * The extension is a closed-source binary; this follows what AWS documents and what its users have recorded:
 * - `GET /secretsmanager/get?secretId=&versionId=&versionStage=`, the token in `X-Aws-Parameters-Secrets-Token`
 *   equal to the sandbox's `AWS_SESSION_TOKEN`;
 * - a cache per (secret id, version id, stage) whose TTL (`SECRETS_MANAGER_TTL`) is at most 300 s;
 * - the body of a Go `GetSecretValueOutput` as `encoding/json` writes it: every field, in the struct's order,
 *   `null` for the value that is not set, `CreatedDate` in RFC 3339 with trailing zeros of the fraction dropped,
 *   `SecretBinary` in base64, and `ResultMetadata: {}`;
 * - every failure to fetch (a missing secret or version, denied access, throttling, a network error) is one 400 with
 *   the same text, `an unexpected error occurred while executing request`;
 * - while the sandbox initialises it refuses connections (it is not listening yet) or answers 400
 *   `not ready to serve traffic, please wait`.
 *
 * Assumed where nothing public says: a missing or wrong token is 403 with a plain-text body, an unknown parameter
 * is the generic 400.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { findFreePort } from './moto.js';

export const GENERIC_ERROR = 'an unexpected error occurred while executing request';
export const NOT_READY = 'not ready to serve traffic, please wait';

export interface ExtensionServerOptions {
  /** A client for moto_server. */
  readonly client: SecretsManagerClient;
  /** The sandbox's `AWS_SESSION_TOKEN`. */
  readonly sessionToken: string;
  /** `SECRETS_MANAGER_TTL` in milliseconds; more than 300 000 is cut to 300 000, as the extension does. */
  readonly ttlMs?: number;
  /** Its clock, for the TTL. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * The init phase, from the start: `'refuse'` (not listening yet) or `'not-ready'` (400 `not ready...`), for
   * `initMs` milliseconds of real time, or until `finishInit()`. Default: none, serving at once.
   */
  readonly init?: { readonly mode: 'refuse' | 'not-ready'; readonly initMs: number };
}

export interface ExtensionServer {
  readonly port: number;
  readonly log: {
    readonly requests: Array<{ readonly url: string; readonly status: number }>;
    readonly calls: { getSecretValue: number };
  };
  /** Ends the init phase now. */
  finishInit(): Promise<void>;
  close(): Promise<void>;
}

const MAX_TTL_MS = 300_000;
const KNOWN = new Set(['secretId', 'versionId', 'versionStage']);

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(body);
  }
}

export async function startExtensionServer(options: ExtensionServerOptions): Promise<ExtensionServer> {
  const ttlMs = Math.min(options.ttlMs ?? MAX_TTL_MS, MAX_TTL_MS);
  const now = options.now ?? Date.now;
  const cache = new Map<string, { readonly body: string; readonly expiresAt: number }>();
  const log: ExtensionServer['log'] = { requests: [], calls: { getSecretValue: 0 } };
  const sockets = new Set<Socket>();
  let initialising = options.init !== undefined;

  async function handle(req: IncomingMessage): Promise<string> {
    if (initialising) throw new Refusal(400, NOT_READY);
    if (req.headers['x-aws-parameters-secrets-token'] !== options.sessionToken)
      throw new Refusal(403, 'forbidden');
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' || url.pathname !== '/secretsmanager/get') throw new Refusal(404, 'not found');
    const params = new Map<string, string>();
    for (const [name, value] of url.searchParams) {
      if (!KNOWN.has(name)) throw new Refusal(400, GENERIC_ERROR);
      params.set(name, value);
    }
    const secretId = params.get('secretId') ?? '';
    if (secretId === '') throw new Refusal(400, GENERIC_ERROR);
    const versionId = params.get('versionId');
    const versionStage = params.get('versionStage');
    const key = JSON.stringify([secretId, versionId ?? null, versionStage ?? null]);
    const cached = cache.get(key);
    if (cached !== undefined && now() < cached.expiresAt) return cached.body;
    let output: GetSecretValueCommandOutput;
    try {
      log.calls.getSecretValue += 1;
      output = await options.client.send(
        new GetSecretValueCommand({
          SecretId: secretId,
          ...(versionId === undefined ? {} : { VersionId: versionId }),
          ...(versionStage === undefined ? {} : { VersionStage: versionStage }),
        }),
      );
    } catch {
      throw new Refusal(400, GENERIC_ERROR);
    }
    const body = JSON.stringify(goOutput(output));
    cache.set(key, { body, expiresAt: now() + ttlMs });
    return body;
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    handle(req).then(
      (body) => answer(req, res, 200, body, 'application/json'),
      (error: unknown) => {
        const refusal = error instanceof Refusal ? error : new Refusal(400, GENERIC_ERROR);
        answer(req, res, refusal.status, refusal.body, 'text/plain; charset=utf-8');
      },
    );
  });

  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    type: string,
  ): void {
    log.requests.push({ url: req.url ?? '', status });
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const port = await findFreePort();
  const listen = (): Promise<void> =>
    server.listening
      ? Promise.resolve()
      : new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  let initTimer: ReturnType<typeof setTimeout> | undefined;
  const finishInit = async (): Promise<void> => {
    clearTimeout(initTimer);
    await listen();
    initialising = false;
  };
  if (options.init?.mode !== 'refuse') await listen();
  if (options.init !== undefined) {
    initTimer = setTimeout(() => void finishInit(), options.init.initMs);
  }
  return {
    port,
    log,
    finishInit,
    close() {
      clearTimeout(initTimer);
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return Promise.resolve();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** `encoding/json` of the Go SDK's `GetSecretValueOutput`: every field, in the struct's order. */
function goOutput(output: GetSecretValueCommandOutput): Record<string, unknown> {
  return {
    ARN: output.ARN ?? null,
    CreatedDate: output.CreatedDate === undefined ? null : rfc3339Nano(output.CreatedDate),
    Name: output.Name ?? null,
    SecretBinary:
      output.SecretBinary === undefined ? null : Buffer.from(output.SecretBinary).toString('base64'),
    SecretString: output.SecretString ?? null,
    VersionId: output.VersionId ?? null,
    VersionStages: output.VersionStages ?? null,
    ResultMetadata: {},
  };
}

/** Go's `time.RFC3339Nano`: `2022-11-16T08:22:40.49Z`, the fraction's trailing zeros (and a bare dot) dropped. */
function rfc3339Nano(date: Date): string {
  return date.toISOString().replace(/\.?0+Z$/, 'Z');
}
