import type { Agent } from 'node:http';
import { SecretCacheError } from '../errors.js';
import type { SecretRequest, SecretSource, SecretVersion } from '../source.js';
import {
  answerError,
  isNotReady,
  isTokenRefused,
  refusedRefreshNow,
  type Server,
  transportError,
  versionFromAnswer,
} from './answer.js';
import { secretPath } from './query.js';
import { type Answer, loopbackAgent, loopbackGet, TransportFailure } from './request.js';
import { TOKEN_HEADER, TokenProblem, type TokenStore } from './token.js';

/** Everything a source decided at construction. */
export interface HttpSourceConfig {
  readonly kind: 'agent' | 'extension';
  /** The function that made it, for renderings: `agentSource`. */
  readonly madeBy: string;
  /** Who answers, in messages: `the Secrets Manager Agent`. */
  readonly serverName: string;
  readonly address: string;
  /** The port, or how to find it at the first request (the extension's comes from the env): it, or why none. */
  readonly port: number | (() => number | string);
  readonly timeoutMs: number;
  /** `0`: no warm-up. */
  readonly warmupMs: number;
  readonly token: TokenStore;
}

/** The first pause of the warm-up, before jitter; each next one doubles, up to {@link WARMUP_MAX_PAUSE_MS}. */
const WARMUP_FIRST_PAUSE_MS = 20;
const WARMUP_MAX_PAUSE_MS = 250;

const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/**
 * A {@link SecretSource} over a loopback HTTP server that answers `GetSecretValue` (the Secrets Manager Agent,
 * the AWS Parameters and Secrets Lambda Extension). It does nothing at construction: the port, the token and
 * the keep-alive agent are had at the first request. Its renderings name the server, never the token.
 */
export class HttpSecretSource implements SecretSource {
  readonly #config: HttpSourceConfig;
  #server: Server | undefined;
  #port: number | undefined;
  #agent: Agent | undefined;
  /** Cleared when the Agent refuses `refreshNow` (a version from before it): it is not sent again. */
  #refreshNowKnown: boolean;
  /** When the first request started (monotonic), for the warm-up window. */
  #startedAt: number | undefined;
  /** Set by the first answer that is not "not ready": the warm-up is over. */
  #ready = false;

  constructor(config: HttpSourceConfig) {
    this.#config = config;
    this.#refreshNowKnown = config.kind === 'agent';
    if (typeof config.port === 'number') this.#port = config.port;
  }

  async getSecretValue(request: SecretRequest, signal?: AbortSignal): Promise<SecretVersion> {
    if (signal?.aborted === true) throw signal.reason;
    const { secretId } = request;
    const server = this.#serverFor(secretId);
    let sentRefreshNow = this.#refreshNowKnown && request.refreshNow === true;
    let path = secretPath(request, sentRefreshNow);
    let token = await this.#token(() => this.#config.token.get(signal), secretId, server, signal);
    let tokenRetried = false;
    for (;;) {
      const answer = await this.#exchange(server, path, token, secretId, signal);
      if (answer.status === 200) return versionFromAnswer(answer.body, secretId, server);
      if (!tokenRetried && isTokenRefused(answer)) {
        // Once per request, never in a loop: the Agent may have restarted with a new token file.
        tokenRetried = true;
        const rejected = token;
        token = await this.#token(
          () => this.#config.token.refresh(rejected, signal),
          secretId,
          server,
          signal,
        );
        if (token !== rejected) continue;
      } else if (sentRefreshNow && refusedRefreshNow(answer)) {
        this.#refreshNowKnown = false;
        sentRefreshNow = false;
        path = secretPath(request, false);
        continue;
      }
      if (this.#config.kind === 'extension' && !this.#ready && isNotReady(answer)) {
        const { warmupMs } = this.#config;
        const when = warmupMs > 0 ? `${warmupMs} ms after the first request` : '(warmupMs is 0: no wait)';
        throw new SecretCacheError(
          'FETCH_FAILED',
          secretId,
          `Secret "${secretId}" could not be read: ${server.label} was still not ready (HTTP ${answer.status}) ${when}.`,
        );
      }
      throw answerError(answer, secretId, server);
    }
  }

  #serverFor(secretId: string): Server {
    if (this.#server !== undefined) return this.#server;
    if (this.#port === undefined) {
      const port = typeof this.#config.port === 'number' ? this.#config.port : this.#config.port();
      if (typeof port === 'string') {
        throw new SecretCacheError(
          'INVALID_REQUEST',
          secretId,
          `Secret "${secretId}" could not be read: ${port}.`,
        );
      }
      this.#port = port;
    }
    this.#server = { kind: this.#config.kind, label: `${this.#config.serverName} at ${this.#where()}` };
    return this.#server;
  }

  #where(): string {
    const { address } = this.#config;
    const host = address.includes(':') ? `[${address}]` : address;
    return this.#port === undefined ? host : `${host}:${this.#port}`;
  }

  async #token(
    read: () => Promise<string>,
    secretId: string,
    server: Server,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    try {
      return await read();
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      if (error instanceof TokenProblem) {
        throw new SecretCacheError(
          'ACCESS_DENIED',
          secretId,
          `Secret "${secretId}" could not be read from ${server.label}: ${error.message}.`,
        );
      }
      throw error;
    }
  }

  /** One request, retried while the warm-up lasts if the server refuses it or says it is not ready. */
  async #exchange(
    server: Server,
    path: string,
    token: string,
    secretId: string,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    this.#agent ??= loopbackAgent();
    this.#startedAt ??= performance.now();
    const target = { address: this.#config.address, port: this.#port as number };
    let pause = WARMUP_FIRST_PAUSE_MS;
    for (;;) {
      let answer: Answer;
      try {
        answer = await loopbackGet(
          this.#agent,
          target,
          path,
          { [TOKEN_HEADER]: token },
          this.#config.timeoutMs,
          signal,
        );
      } catch (error) {
        if (!(error instanceof TransportFailure)) throw error;
        const remaining = this.#warmupLeft();
        if (remaining > 0 && (error.kind === 'refused' || error.kind === 'reset')) {
          await sleep(jittered(pause, remaining), signal);
          pause = Math.min(pause * 2, WARMUP_MAX_PAUSE_MS);
          continue;
        }
        throw transportError(error, secretId, server);
      }
      if (this.#config.warmupMs > 0 && !this.#ready) {
        if (!isNotReady(answer)) this.#ready = true;
        else {
          const remaining = this.#warmupLeft();
          if (remaining > 0) {
            await sleep(jittered(pause, remaining), signal);
            pause = Math.min(pause * 2, WARMUP_MAX_PAUSE_MS);
            continue;
          }
        }
      }
      return answer;
    }
  }

  /** Milliseconds left of the warm-up window (monotonic time: a wall-clock step neither stretches nor cuts it). */
  #warmupLeft(): number {
    if (this.#config.warmupMs === 0 || this.#ready || this.#startedAt === undefined) return 0;
    return this.#config.warmupMs - (performance.now() - this.#startedAt);
  }

  /** `agentSource(127.0.0.1:2773)`: where it reads from, never the token. */
  toString(): string {
    return `${this.#config.madeBy}(${this.#where()})`;
  }

  /** `{ source: 'agentSource', host: '127.0.0.1', port: 2773 }`: where it reads from, never the token. */
  toJSON(): Record<string, unknown> {
    return {
      source: this.#config.madeBy,
      host: this.#config.address,
      ...(this.#port === undefined ? {} : { port: this.#port }),
    };
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

/** Equal jitter (half fixed, half random), never past the end of the window. */
function jittered(pause: number, remaining: number): number {
  return Math.max(0, Math.min(remaining, pause / 2 + Math.random() * (pause / 2)));
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
