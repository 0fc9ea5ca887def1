import type { SecretSource } from '../source.js';
import { AGENT_LOOSE_OPTIONS, AGENT_SOURCE_OPTIONS, checkSourceOptions } from './options.js';
import { HttpSecretSource } from './source.js';
import { AGENT_TOKEN_VARIABLES, isHeaderSafe, type TokenOrigin, TokenStore } from './token.js';

/**
 * Options of {@link agentSource}. Every field is optional; the defaults match an Agent installed with its
 * default configuration. An unknown key or a malformed value is a `TypeError` that names it.
 *
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import { type AgentSourceOptions, agentSource } from 'secretcache/http';
 *
 * // An Agent configured with `http_port = 2775`, its token in the installer's file.
 * const options: AgentSourceOptions = { port: 2775, token: 'file:///var/run/awssmatoken' };
 * const cache = new SecretCache({ source: agentSource(options) });
 * ```
 */
export interface AgentSourceOptions {
  /**
   * The Agent's port (its `http_port`).
   * @default 2773
   */
  readonly port?: number;
  /**
   * The Agent's address: `'127.0.0.1'`, `'::1'` or `'localhost'` (connected to as `127.0.0.1`, where the Agent
   * listens; no name is resolved). Anything else is a `TypeError`: the token goes to a loopback address only.
   * The Agent binds 127.0.0.1 only; `'::1'` is for a server of your own on the IPv6 loopback.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * The SSRF token sent in `X-Aws-Parameters-Secrets-Token`, or `file://PATH` to read it from a file (its
   * content trimmed). Read at the first request; when the Agent refuses it (403), read once more and the request
   * retried once.
   * @default the first of the variables `AWS_TOKEN`, `AWS_SESSION_TOKEN`, `AWS_CONTAINER_AUTHORIZATION_TOKEN`
   *   that is set, as the Agent itself looks them up; a value `file://PATH` names a file, as the installer's
   *   `AWS_TOKEN=file:///var/run/awssmatoken` does
   */
  readonly token?: string;
  /**
   * How long one HTTP request may take, in milliseconds, from connecting to the last byte of the answer. Keep it
   * under the cache's `fetchTimeoutMs`, so that a retry fits in one fetch.
   * @default 2_000
   */
  readonly timeoutMs?: number;
}

/**
 * A source that reads through the AWS Secrets Manager Agent, the local HTTP cache that runs beside a service on
 * EC2, ECS and EKS (and in Lambda as a layer): `GET /secretsmanager/get` on a loopback address, with the SSRF
 * token in `X-Aws-Parameters-Secrets-Token`. Nothing but `node:http`: no AWS SDK is loaded, the Agent holds the
 * credentials. Construction does no I/O; the token, and the environment, are read at the first request.
 *
 * Requests send only what the Agent knows: `secretId`, and `versionStage` and `versionId` when the cache names
 * them, percent-encoded (`+` as `%2B`, `/` as `%2F`). A `refreshNow()` of the cache, and its refresh after a
 * rejected credential, add `refreshNow=true`, which makes the Agent fetch from Secrets Manager instead of
 * answering from its cache; an Agent too old to know that parameter (it answers 400) is asked again without it,
 * and is not sent it again.
 *
 * Errors are `SecretCacheError`s with the secret's id; no message quotes a value, a token, or a body that is
 * not JSON:
 * - AWS errors the Agent passes through (`{"__type": ...}`) get the codes the SDK source gives them:
 *   `ResourceNotFoundException` is `NOT_FOUND`, `AccessDeniedException` `ACCESS_DENIED`, `DecryptionFailure`
 *   `DECRYPTION_FAILED`, `ThrottlingException` `THROTTLED`, and so on; AWS's message is the `cause`'s.
 * - The Agent's 504 (Secrets Manager timed out), 502 (a network error) and 500, any other 5xx, a refused or
 *   reset connection are `FETCH_FAILED`; its 429 (too many connections) is `THROTTLED`; a request that takes
 *   longer than `timeoutMs` is `TIMEOUT`. These are transient: the cache retries them and serves a stale value
 *   through them.
 * - A token refused twice (403) is `ACCESS_DENIED`, as is a token that cannot be had (no variable set, an
 *   unreadable file). The Agent's own 400, 404 and 405 (a request it will refuse again) are `INVALID_REQUEST`.
 *
 * Freshness: the Agent caches too (`ttl_seconds`, 300 s by default), so a value the cache serves may be as old as
 * the Agent's TTL plus the cache's `ttlMs`, plus `staleIfErrorMs` while refreshing fails. With its default
 * `ignore_transient_errors = true` the Agent itself keeps serving its cached value while Secrets Manager is
 * unreachable, so during such an outage the age has no bound but the outage's length. `refreshNow()` reads
 * through both caches.
 *
 * @param options - see {@link AgentSourceOptions}
 * @returns a `SecretSource` for `new SecretCache({ source })`; it renders as `agentSource(127.0.0.1:2773)`
 * @example
 * ```ts
 * import { SecretCache } from 'secretcache';
 * import { agentSource } from 'secretcache/http';
 *
 * // On EC2 with the Agent installed by its script: AWS_TOKEN=file:///var/run/awssmatoken in the service's env.
 * const cache = new SecretCache({ source: agentSource(), ttlMs: 60_000 });
 * const db = await cache.getSecretJson('prod/orders/db');
 * ```
 */
export function agentSource(options?: AgentSourceOptions): SecretSource {
  const { resolved, given, address } = checkSourceOptions(
    AGENT_SOURCE_OPTIONS,
    AGENT_LOOSE_OPTIONS,
    options,
    'agentSource',
  );
  const token = given.token as string | undefined;
  if (token !== undefined && !isHeaderSafe(token)) {
    throw new TypeError(
      `Expected \`token\` to hold only characters an HTTP header can carry, got a string of length ${token.length}.`,
    );
  }
  const origin: TokenOrigin =
    token === undefined
      ? { kind: 'env', variables: AGENT_TOKEN_VARIABLES, files: true }
      : { kind: 'option', value: token };
  return new HttpSecretSource({
    kind: 'agent',
    madeBy: 'agentSource',
    serverName: 'the Secrets Manager Agent',
    address,
    port: resolved.port,
    timeoutMs: resolved.timeoutMs,
    warmupMs: 0,
    token: new TokenStore(origin),
  });
}
