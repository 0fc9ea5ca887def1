/**
 * A tiny HTTP server on 127.0.0.1 (a free port) whose answers a test scripts one request at a time, for the exact
 * wire cases of the HTTP sources. It records what each request carried.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What one request carried. */
export interface SeenRequest {
  readonly method: string;
  /** The raw path and query, as sent. */
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  /** The query's parameters, decoded as a form (as the Agent's `url` crate decodes them). */
  readonly query: ReadonlyArray<readonly [string, string]>;
}

/** How to answer: a status with a body (a string, bytes, or JSON of a value), or no answer at all. */
export type Reply =
  | { readonly status: number; readonly body?: string | Uint8Array; readonly json?: unknown }
  | 'reset'
  | 'hang'
  /** Headers and half the body, then the connection is destroyed. */
  | 'truncated';

export type Script = (request: SeenRequest, index: number) => Reply | Promise<Reply>;

export interface ScriptedServer {
  readonly port: number;
  readonly requests: readonly SeenRequest[];
  /** Replaces the script from the next request on. */
  setScript(script: Script): void;
  close(): Promise<void>;
}

/** A 200 with an Agent-shaped body for `secretString`. */
export function agentBody(
  secretId: string,
  secretString: string,
  extra: Record<string, unknown> = {},
): Reply {
  return {
    status: 200,
    json: {
      ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretId}-AbCdEf`,
      Name: secretId,
      VersionId: 'v-1',
      SecretString: secretString,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: '1700000000.123',
      ...extra,
    },
  };
}

export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  let current = script;
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    const query = [...new URL(url, 'http://127.0.0.1').searchParams.entries()];
    const seen: SeenRequest = { method: req.method ?? '', url, headers: req.headers, query };
    requests.push(seen);
    req.resume();
    void Promise.resolve(current(seen, requests.length - 1)).then((reply) => {
      if (reply === 'hang') return;
      if (reply === 'reset') {
        req.socket.destroy();
        return;
      }
      if (reply === 'truncated') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
        res.write('{"SecretString": "half');
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      const body =
        reply.json !== undefined ? JSON.stringify(reply.json) : reply.body === undefined ? '' : reply.body;
      res.writeHead(reply.status, {
        'content-type': reply.json !== undefined ? 'application/json' : 'text/plain',
      });
      res.end(body);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    requests,
    setScript(next) {
      current = next;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: bound, read and closed again. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
