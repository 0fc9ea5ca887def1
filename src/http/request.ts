import { Agent, request } from 'node:http';

/** Where a source sends its requests: a loopback address, never a name to resolve. */
export interface LoopbackTarget {
  /** The address connected to: `127.0.0.1` or `::1` (`localhost` is connected to as `127.0.0.1`). */
  readonly address: string;
  readonly port: number;
}

/** A server's answer: its status and its whole body. */
export interface Answer {
  readonly status: number;
  readonly body: Buffer;
}

/** Why no answer came. `refused` and `reset` are what a server that is not (yet) listening gives. */
export type TransportFailureKind = 'refused' | 'reset' | 'timeout' | 'too-large' | 'network';

/**
 * A request that got no usable answer. Its message names the address and the system error code, never a
 * header (the token travels in one).
 */
export class TransportFailure extends Error {
  override readonly name = 'TransportFailure';
  readonly kind: TransportFailureKind;
  /** The system error code (`ECONNREFUSED`), when there is one. */
  readonly code: string | undefined;

  constructor(kind: TransportFailureKind, message: string, code?: string) {
    super(message);
    this.kind = kind;
    this.code = code;
  }
}

/** The largest body read. A secret is at most 64 KiB; its base64 and metadata stay well under this. */
export const MAX_BODY_BYTES = 1_048_576;

/**
 * An idle connection is closed after this long. The Secrets Manager Agent ends every connection 61 s after it
 * opened, busy or idle: an idle socket kept for less than that is rarely the one it closes under a request.
 */
const IDLE_SOCKET_MS = 5_000;

/**
 * A keep-alive agent of one source's own. Its idle sockets are unref'd by Node (they never hold a process
 * open), and being a private agent it never goes through a proxy that the environment configures for the
 * global one: the token must reach the loopback server and nothing else.
 */
export function loopbackAgent(): Agent {
  return new Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
}

const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function describeTarget({ address, port }: LoopbackTarget): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * One HTTP GET to a loopback server. Resolves with any status (a redirect is an answer like any other: it is
 * never followed, so the token never travels on); rejects with a {@link TransportFailure} when no
 * answer came within `timeoutMs` (connecting and reading the whole body included), or with `signal.reason`
 * when `signal` aborted it. A reused keep-alive socket that the server had already closed is retried once on
 * a new one: a GET is safe to send twice.
 */
export async function loopbackGet(
  agent: Agent,
  target: LoopbackTarget,
  path: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  try {
    return await getOnce(agent, target, path, headers, timeoutMs, signal);
  } catch (error) {
    if (error instanceof StaleSocket) return getOnce(agent, target, path, headers, timeoutMs, signal);
    throw error;
  }
}

/** A reused socket reset before any of the answer came: the server closed it while it sat idle. */
class StaleSocket extends Error {}

function getOnce(
  agent: Agent,
  target: LoopbackTarget,
  path: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const where = describeTarget(target);
    let settled = false;
    let answered = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const req = request({
      agent,
      host: target.address,
      port: target.port,
      path,
      method: 'GET',
      headers,
    });
    const timer = setTimeout(() => {
      finish(() =>
        reject(
          new TransportFailure('timeout', `no answer from ${where} within ${timeoutMs} ms`, 'ETIMEDOUT'),
        ),
      );
      req.destroy();
    }, timeoutMs);
    const onAbort = (): void => {
      finish(() => reject(signal?.reason));
      req.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = typeof error.code === 'string' ? error.code : undefined;
      if (!answered && req.reusedSocket && code !== undefined && RESET_CODES.has(code)) {
        finish(() => reject(new StaleSocket()));
        return;
      }
      finish(() => reject(failureOf(code, where)));
    });
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > MAX_BODY_BYTES) {
          finish(() =>
            reject(
              new TransportFailure('too-large', `the answer from ${where} exceeds ${MAX_BODY_BYTES} bytes`),
            ),
          );
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error: NodeJS.ErrnoException) => {
        finish(() => reject(failureOf(typeof error.code === 'string' ? error.code : undefined, where)));
      });
      res.on('close', () => {
        // Closed before its end: the server went away in the middle of the body.
        if (!res.complete) finish(() => reject(failureOf('ECONNRESET', where)));
      });
      res.on('end', () => {
        finish(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks, length) }));
      });
    });
    req.end();
  });
}

function failureOf(code: string | undefined, where: string): TransportFailure {
  if (code === 'ECONNREFUSED')
    return new TransportFailure('refused', `${where} refused the connection`, code);
  if (code !== undefined && (RESET_CODES.has(code) || code === 'ERR_STREAM_PREMATURE_CLOSE')) {
    return new TransportFailure('reset', `${where} closed the connection before answering`, code);
  }
  return new TransportFailure('network', `the request to ${where} failed (${code ?? 'no error code'})`, code);
}
