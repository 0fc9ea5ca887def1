/**
 * Test harness: a local imitation of the AWS Secrets Manager Agent (aws/aws-secretsmanager-agent), HTTP on
 * 127.0.0.1 with a free port, in front of a real `moto_server` through a real `SecretsManagerClient`. It is
 * written from the Agent's source, and follows it where a client can tell:
 *
 * - `server.rs`: checks in order the connection limit (429 `Connection limit exceeded`), the SSRF token in
 *   `X-Aws-Parameters-Secrets-Token` or `X-Vault-Token` (400 `Forwarded` when `X-Forwarded-For` is set, 403
 *   `Bad Token`), the method (405 `Not allowed`); `/ping` needs no token; `/secretsmanager/get` and the path style
 *   `/v1/<id>`; anything else is 404 `Not found`. Optionally its Lambda mode: 503 until `/start_serving`.
 * - `parse.rs`: the query decoded as a form (`+` is a space), only `secretId`, `versionId`, `versionStage`,
 *   `refreshNow` (`true`/`1`/`false`/`0`, any case) known: any other is 400 `unknown parameter: <name>`;
 *   `missing parameter secretId`, `invalid refreshNow value`.
 * - `aws_secretsmanager_caching`: a cache per (secret id, version id, stage) with a TTL (300 s by default); an
 *   expired entry is re-used after a `DescribeSecret` shows its version still has the stage; `refreshNow` fetches
 *   at once; with `ignore_transient_errors` (the default) a transient failure (5xx, timeout, network) serves the
 *   cached value.
 * - `cache_manager.rs`, `utils.rs`: the body is `GetSecretValueOutputDef` (`ARN`, `Name`, `VersionId` always, `null`
 *   when absent; `SecretString`, `SecretBinary` as base64 and `VersionStages` left out when absent; `CreatedDate` as
 *   epoch seconds with a fraction, in a string); errors pass AWS's status through with
 *   `{"__type":"<code>", "message":"<message>"}` written unescaped, as the Agent's `format!` does; a timeout is 504
 *   `TimeoutError`, a network error 502 `ConnectionError`, anything else 500 `{"__type":"InternalFailure"}`.
 *
 * Not imitated: the 61 s cap on a connection's life, the LRU bound of 1,000 entries, the STS check at start-up,
 * configuration files.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

export interface AgentServerOptions {
  /** A client for moto_server. */
  readonly client: SecretsManagerClient;
  /** The SSRF token it expects. */
  readonly token: string;
  /** Its cache's TTL (`ttl_seconds`), in milliseconds. Default 300 000. */
  readonly ttlMs?: number;
  /** Its clock, for the TTL. Default `Date.now`. */
  readonly now?: () => number;
  /** `ignore_transient_errors`. Default true. */
  readonly ignoreTransientErrors?: boolean;
  /** The Lambda mode: `/secretsmanager/get` answers 503 until `/start_serving` is called. Default false. */
  readonly lambdaMode?: boolean;
  /** `max_conn`. Default 800. */
  readonly maxConnections?: number;
}

/** What the Agent did: each request it answered, and each call it made to Secrets Manager. */
export interface AgentServerLog {
  readonly requests: Array<{ readonly url: string; readonly status: number }>;
  readonly calls: { getSecretValue: number; describeSecret: number };
}

export interface AgentServer {
  readonly port: number;
  readonly log: AgentServerLog;
  /** A restart with a new token (the installer writes a new one at every boot); the cache survives here. */
  setToken(token: string): void;
  /** Empties its cache, as a restart would. */
  clearCache(): void;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(body);
  }
}

/** The Agent's `GetSecretValueOutputDef`, as serde writes it. */
interface OutputDef {
  readonly ARN: string | null;
  readonly Name: string | null;
  readonly VersionId: string | null;
  readonly SecretString?: string;
  readonly SecretBinary?: string;
  readonly VersionStages?: string[];
  readonly CreatedDate: string | null;
}

interface Entry {
  readonly value: OutputDef;
  readonly expiresAt: number;
}

interface Query {
  readonly secretId: string;
  readonly versionId: string | undefined;
  readonly versionStage: string | undefined;
  readonly refreshNow: boolean;
}

const TOKEN_HEADERS = ['x-aws-parameters-secrets-token', 'x-vault-token'];

export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const ttlMs = options.ttlMs ?? 300_000;
  const now = options.now ?? Date.now;
  const ignoreTransient = options.ignoreTransientErrors ?? true;
  const maxConnections = options.maxConnections ?? 800;
  let token = options.token;
  let serving = options.lambdaMode !== true;
  let inFlight = 0;
  const cache = new Map<string, Entry>();
  const log: AgentServerLog = { requests: [], calls: { getSecretValue: 0, describeSecret: 0 } };
  const sockets = new Set<Socket>();

  async function getResult(req: IncomingMessage): Promise<string> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const health = path === '/ping' || path === '/start_serving';
    if (inFlight > (health ? maxConnections + 2 : maxConnections)) {
      throw new HttpError(429, 'Connection limit exceeded');
    }
    if (!health) {
      if (req.headers['x-forwarded-for'] !== undefined) throw new HttpError(400, 'Forwarded');
      if (!TOKEN_HEADERS.some((name) => req.headers[name] === token)) throw new HttpError(403, 'Bad Token');
    }
    if (req.method !== 'GET') throw new HttpError(405, 'Not allowed');
    if (path === '/ping') return 'healthy';
    if (path === '/start_serving') {
      if (options.lambdaMode !== true) throw new HttpError(404, 'Not found');
      serving = true;
      return 'serving enabled';
    }
    const queryStyle = path === '/secretsmanager/get';
    if (!queryStyle && !path.startsWith('/v1/')) throw new HttpError(404, 'Not found');
    if (!serving) {
      throw new HttpError(
        503,
        'Serving not enabled. Hit the /start_serving endpoint to enable serving requests.',
      );
    }
    const query = parseQuery(url, queryStyle);
    return JSON.stringify(await fetchSecret(query));
  }

  async function fetchSecret(query: Query): Promise<OutputDef> {
    const key = JSON.stringify([query.secretId, query.versionId ?? null, query.versionStage ?? null]);
    if (query.refreshNow) return refresh(key, query, undefined);
    const entry = cache.get(key);
    if (entry === undefined) return refresh(key, query, undefined);
    if (now() >= entry.expiresAt) return refresh(key, query, entry.value);
    return entry.value;
  }

  async function refresh(key: string, query: Query, cached: OutputDef | undefined): Promise<OutputDef> {
    if (cached !== undefined && (await isCurrent(query, cached))) {
      cache.set(key, { value: cached, expiresAt: now() + ttlMs });
      return cached;
    }
    let value: OutputDef;
    try {
      log.calls.getSecretValue += 1;
      value = outputDef(
        await options.client.send(
          new GetSecretValueCommand({
            SecretId: query.secretId,
            ...(query.versionId === undefined ? {} : { VersionId: query.versionId }),
            ...(query.versionStage === undefined ? {} : { VersionStage: query.versionStage }),
          }),
        ),
      );
    } catch (error) {
      if (ignoreTransient && isTransient(error) && cached !== undefined) value = cached;
      else throw svcErr(error);
    }
    cache.set(key, { value, expiresAt: now() + ttlMs });
    return value;
  }

  /** `is_current`: the cached version still has the stage asked for (or still exists, for a version id). */
  async function isCurrent(query: Query, cached: OutputDef): Promise<boolean> {
    let stages: Record<string, string[]> | undefined;
    try {
      log.calls.describeSecret += 1;
      const described = await options.client.send(new DescribeSecretCommand({ SecretId: cached.ARN ?? '' }));
      stages = described.VersionIdsToStages;
    } catch (error) {
      if (ignoreTransient && isTransient(error)) return true;
      throw svcErr(error);
    }
    if (stages === undefined) return false;
    if (query.versionId !== undefined && query.versionStage === undefined) return query.versionId in stages;
    const versionId = query.versionId ?? cached.VersionId ?? '';
    const stage = query.versionStage ?? 'AWSCURRENT';
    return stages[versionId]?.includes(stage) === true;
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight += 1;
    req.resume();
    getResult(req).then(
      (body) => answer(res, req, 200, body),
      (error: unknown) => {
        const failure =
          error instanceof HttpError ? error : new HttpError(500, '{"__type":"InternalFailure"}');
        answer(res, req, failure.status, failure.body);
      },
    );
  });

  function answer(res: ServerResponse, req: IncomingMessage, status: number, body: string): void {
    inFlight -= 1;
    log.requests.push({ url: req.url ?? '', status });
    // hyper writes no content-type of its own; the body is JSON or the plain text of an error.
    res.writeHead(status, { 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    log,
    setToken(next) {
      token = next;
    },
    clearCache() {
      cache.clear();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** `GSVQuery::try_from_query` and `try_from_path_query`. */
function parseQuery(url: URL, queryStyle: boolean): Query {
  let secretId = queryStyle ? '' : url.pathname.slice('/v1/'.length);
  if (!queryStyle && secretId === '') throw new HttpError(400, 'missing secret ID');
  let versionId: string | undefined;
  let versionStage: string | undefined;
  let refreshNow = false;
  // URLSearchParams decodes a query as the `url` crate's query_pairs does: as a form, `+` a space.
  for (const [name, value] of url.searchParams) {
    if (name === 'secretId' && queryStyle) secretId = value;
    else if (name === 'versionId') versionId = value;
    else if (name === 'versionStage') versionStage = value;
    else if (name === 'refreshNow') {
      const lower = value.toLowerCase();
      if (lower === 'true' || lower === '1') refreshNow = true;
      else if (lower === 'false' || lower === '0') refreshNow = false;
      else throw new HttpError(400, 'invalid refreshNow value');
    } else throw new HttpError(400, `unknown parameter: ${name}`);
  }
  if (secretId === '') throw new HttpError(400, 'missing parameter secretId');
  return { secretId, versionId, versionStage, refreshNow };
}

function outputDef(output: GetSecretValueCommandOutput): OutputDef {
  return {
    ARN: output.ARN ?? null,
    Name: output.Name ?? null,
    VersionId: output.VersionId ?? null,
    ...(output.SecretString === undefined ? {} : { SecretString: output.SecretString }),
    ...(output.SecretBinary === undefined
      ? {}
      : { SecretBinary: Buffer.from(output.SecretBinary).toString('base64') }),
    ...(output.VersionStages === undefined ? {} : { VersionStages: output.VersionStages }),
    // serde_with's TimestampSecondsWithFrac<String>: "1569534789.046".
    CreatedDate: output.CreatedDate === undefined ? null : String(output.CreatedDate.getTime() / 1_000),
  };
}

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** `is_transient_error`: a timeout, a network failure, an unreadable answer, a 5xx. */
function isTransient(error: unknown): boolean {
  const { name, $metadata } = error as SdkError;
  const status = $metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  return name === 'TimeoutError' || isNetworkError(error);
}

function isNetworkError(error: unknown): boolean {
  const code = (error as SdkError).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** `svc_err` and `err_response`: AWS's status and error, timeouts as 504, network errors as 502. */
function svcErr(error: unknown): HttpError {
  const { name, message, $metadata } = error as SdkError;
  const status = $metadata?.httpStatusCode;
  if (name === 'TimeoutError') return new HttpError(504, errResponse('TimeoutError', 'Timeout'));
  if (status === undefined) {
    return isNetworkError(error)
      ? new HttpError(502, errResponse('ConnectionError', 'Read Error'))
      : new HttpError(500, errResponse('InternalFailure', ''));
  }
  return new HttpError(status, errResponse(name ?? 'InternalFailure', message ?? ''));
}

function errResponse(code: string, message: string): string {
  if (message === '' || code === 'InternalFailure') return '{"__type":"InternalFailure"}';
  // Unescaped, as the Agent's format! writes it: a message with a quote makes this invalid JSON.
  return `{"__type":"${code}", "message":"${message}"}`;
}
