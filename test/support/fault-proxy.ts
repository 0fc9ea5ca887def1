/**
 * Test harness: a small fault-injecting HTTP proxy (node:http only) in front of moto_server. Point a real
 * `SecretsManagerClient` at `proxy.endpoint` and choose, at any time, what each request meets: pass-through,
 * added latency, a `ThrottlingException`, an HTTP 500 or 503, a reset connection, or a request that is never
 * answered. Faults can hit every request or a seeded-random fraction of them. Requests are counted by AWS
 * operation (the `x-amz-target` header). Traffic only ever goes to 127.0.0.1.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { seededRandom } from '../../src/testing/random.js';

const HOST = '127.0.0.1';

/**
 * What a faulted request meets.
 * - `throttle`: HTTP 400 `ThrottlingException`, as AWS's JSON 1.1 protocol sends it.
 * - `internal-error`: HTTP 500 `InternalServiceError`.
 * - `unavailable`: HTTP 503 `ServiceUnavailable`.
 * - `reset`: the connection is destroyed without an answer.
 * - `hang`: no answer ever; the socket is held open until the client gives up or the proxy closes.
 */
export type Fault = 'throttle' | 'internal-error' | 'unavailable' | 'reset' | 'hang';

/** How the proxy treats requests from now on. `{}` passes everything through at once. */
export interface FaultMode {
  /** The fault to inject; none (pass-through) when unset. */
  readonly fault?: Fault | undefined;
  /** The fraction of requests, in `[0, 1]`, that get `fault` (drawn with the proxy's RNG); default 1. */
  readonly probability?: number | undefined;
  /** Milliseconds to wait before doing anything with a request (forwarding it or faulting it). */
  readonly latencyMs?: number | undefined;
  /** Fault only these operations (e.g. `['GetSecretValue']`); the others pass. Default: every request. */
  readonly operations?: readonly string[] | undefined;
}

/** What the proxy has seen since it started or since `resetCounters()`. */
export interface FaultProxyCounts {
  /** Every request that arrived. */
  readonly total: number;
  /** Requests by operation name (`GetSecretValue`, ...); `(none)` for requests without `x-amz-target`. */
  readonly byOperation: Readonly<Record<string, number>>;
  /** Requests forwarded to the target. */
  readonly forwarded: number;
  /** Requests that got a fault, by fault. */
  readonly faulted: Readonly<Record<Fault, number>>;
}

export interface FaultProxyOptions {
  /** Where to forward, e.g. moto's `http://127.0.0.1:PORT`. */
  readonly target: string;
  /** Seeds the RNG that decides which requests a probabilistic mode faults; `Math.random` when unset. */
  readonly seed?: number;
  /** The starting mode; pass-through when unset. */
  readonly mode?: FaultMode;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly port: number;
  /** The current mode; assign to change it for every request that arrives from now on. */
  mode: FaultMode;
  /** Shorthand: `mode = { latencyMs }` (pass-through, optionally slowed down). */
  passThrough(latencyMs?: number): void;
  /** Shorthand: `mode = { fault, ...options }`. */
  inject(fault: Fault, options?: Omit<FaultMode, 'fault'>): void;
  /** Reseeds the RNG (deterministic probabilistic modes from here on). */
  seed(seed: number): void;
  /** A snapshot of the counters. */
  counts(): FaultProxyCounts;
  /** Requests seen of one operation: `'GetSecretValue'` or `'secretsmanager.GetSecretValue'`. */
  count(operation: string): number;
  /** Zeroes every counter. */
  resetCounters(): void;
  /** Requests being held open by `hang` now. */
  readonly hanging: number;
  /** Destroys every socket (hung ones included) and closes the server. Idempotent. */
  close(): Promise<void>;
}

/** mulberry32 (the memory source's generator): uniform in `[0, 1)`, good enough for picking faults. */
export { seededRandom };

/** The operation name of a request: `secretsmanager.GetSecretValue` gives `GetSecretValue`. */
function operationOf(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  const value = Array.isArray(target) ? target[0] : target;
  if (value === undefined || value === '') return '(none)';
  const dot = value.lastIndexOf('.');
  return dot === -1 ? value : value.slice(dot + 1);
}

const ERROR_ANSWERS: Readonly<
  Record<'throttle' | 'internal-error' | 'unavailable', [number, string, string]>
> = {
  throttle: [400, 'ThrottlingException', 'Rate exceeded'],
  'internal-error': [500, 'InternalServiceError', 'An error occurred on the server side.'],
  unavailable: [503, 'ServiceUnavailable', 'The service is unavailable. Please try again later.'],
};

let requestIds = 0;

/** Answers the way AWS's JSON 1.1 protocol reports an error: `x-amzn-ErrorType` and a `__type` body. */
function answerError(res: ServerResponse, fault: keyof typeof ERROR_ANSWERS): void {
  const [status, type, message] = ERROR_ANSWERS[fault];
  const body = JSON.stringify({ __type: type, message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': type,
    'x-amzn-requestid': `fault-proxy-${++requestIds}`,
  });
  res.end(body);
}

function emptyFaulted(): Record<Fault, number> {
  return { throttle: 0, 'internal-error': 0, unavailable: 0, reset: 0, hang: 0 };
}

/** Starts the proxy on 127.0.0.1 with a free port. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const upstreamAgent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const hung = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let random = options.seed === undefined ? Math.random : seededRandom(options.seed);
  let mode: FaultMode = options.mode ?? {};
  let closed = false;

  let total = 0;
  let forwarded = 0;
  let byOperation: Record<string, number> = {};
  let faulted = emptyFaulted();

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    forwarded++;
    const headers: OutgoingHttpHeaders = { ...req.headers };
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent: upstreamAgent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      // The target went away or the client hung up: drop the client's connection, as a real gateway would.
      if (!res.headersSent) res.writeHead(502);
      res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };

  const act = (req: IncomingMessage, res: ServerResponse, fault: Fault | undefined): void => {
    if (closed) {
      req.socket.destroy();
      return;
    }
    if (fault === undefined) {
      forward(req, res);
      return;
    }
    faulted[fault]++;
    switch (fault) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang': {
        const socket = req.socket;
        hung.add(socket);
        socket.once('close', () => hung.delete(socket));
        req.resume(); // read the body so the client's upload finishes; never answer
        return;
      }
      default:
        // Drain the request body before answering, so keep-alive connections stay in step.
        req.resume();
        req.once('end', () => answerError(res, fault));
    }
  };

  const server = createServer((req, res) => {
    total++;
    const operation = operationOf(req);
    byOperation[operation] = (byOperation[operation] ?? 0) + 1;
    const current = mode;
    const applies =
      current.fault !== undefined &&
      (current.operations === undefined || current.operations.includes(operation)) &&
      random() < (current.probability ?? 1);
    const fault = applies ? current.fault : undefined;
    const latencyMs = current.latencyMs ?? 0;
    if (latencyMs > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        act(req, res, fault);
      }, latencyMs);
      timers.add(timer);
    } else {
      act(req, res, fault);
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    server.close();
    throw new Error(`fault proxy: unexpected server address ${String(address)}`);
  }
  const { port } = address;

  let closing: Promise<void> | undefined;
  const setMode = (next: FaultMode): void => {
    const probability = next.probability ?? 1;
    if (!(probability >= 0 && probability <= 1)) {
      throw new RangeError(`fault proxy: probability must be in [0, 1], got ${probability}`);
    }
    mode = { ...next };
  };

  return {
    endpoint: `http://${HOST}:${port}`,
    port,
    get mode(): FaultMode {
      return mode;
    },
    set mode(next: FaultMode) {
      setMode(next);
    },
    passThrough(latencyMs?: number): void {
      setMode(latencyMs === undefined ? {} : { latencyMs });
    },
    inject(fault: Fault, extra: Omit<FaultMode, 'fault'> = {}): void {
      setMode({ ...extra, fault });
    },
    seed(seed: number): void {
      random = seededRandom(seed);
    },
    counts(): FaultProxyCounts {
      return { total, forwarded, byOperation: { ...byOperation }, faulted: { ...faulted } };
    },
    count(operation: string): number {
      const dot = operation.lastIndexOf('.');
      return byOperation[dot === -1 ? operation : operation.slice(dot + 1)] ?? 0;
    },
    resetCounters(): void {
      total = 0;
      forwarded = 0;
      byOperation = {};
      faulted = emptyFaulted();
    },
    get hanging(): number {
      return hung.size;
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        hung.clear();
        upstreamAgent.destroy();
      });
      return closing;
    },
  };
}
