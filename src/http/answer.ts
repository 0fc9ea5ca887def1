import { CODE_BY_AWS_NAME, WHAT_FAILED } from '../aws-errors.js';
import { SecretCacheError, type SecretCacheErrorCode } from '../errors.js';
import type { SecretVersion } from '../source.js';
import type { Answer, TransportFailure } from './request.js';

/** Which server answered, for messages and for the dialect of its errors. */
export interface Server {
  readonly kind: 'agent' | 'extension';
  /** `the Secrets Manager Agent at 127.0.0.1:2773` */
  readonly label: string;
}

/**
 * What an error answer's body said, read without ever keeping any of its text but an AWS error name: a body
 * that is not JSON could be anything, a secret included.
 */
interface ErrorBody {
  /** The AWS error name (`ResourceNotFoundException`), when the body names one. */
  readonly awsName: string | undefined;
  /** AWS's own message, from a JSON body only. */
  readonly awsMessage: string | undefined;
  readonly isJson: boolean;
}

const AWS_NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

/** `com.amazonaws.secretsmanager#ResourceNotFoundException:http://...` names `ResourceNotFoundException`. */
function bareName(type: string): string | undefined {
  const name = type.replace(/^.*#/, '').replace(/:.*$/, '');
  return AWS_NAME.test(name) ? name : undefined;
}

function readErrorBody(body: Buffer): ErrorBody {
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The Agent writes AWS's message into its JSON unescaped, so a message with a quote breaks the JSON; and the
    // Lambda extension answers in plain text. Only a name from the known table is taken from such a body.
    for (const name of CODE_BY_AWS_NAME.keys()) {
      if (new RegExp(`\\b${name}\\b`).test(text))
        return { awsName: name, awsMessage: undefined, isJson: false };
    }
    return { awsName: undefined, awsMessage: undefined, isJson: false };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { awsName: undefined, awsMessage: undefined, isJson: true };
  }
  const fields = parsed as Record<string, unknown>;
  const type = fields.__type ?? fields.code ?? fields.Code;
  const message = fields.message ?? fields.Message;
  return {
    awsName: typeof type === 'string' ? bareName(type) : undefined,
    awsMessage: typeof message === 'string' ? message.slice(0, 1_000) : undefined,
    isJson: true,
  };
}

/** The error a source's cause carries: the AWS error name, or the server's status, and AWS's message. */
function causeOf(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name, status });
}

/** Whether the answer is the token being refused (the Agent answers 403 `Bad Token`). */
export function isTokenRefused(answer: Answer): boolean {
  if (answer.status !== 401 && answer.status !== 403) return false;
  // An AWS AccessDeniedException passed through is not about the token.
  return readErrorBody(answer.body).awsName === undefined;
}

/** Whether a Lambda extension's answer says it is still starting (`not ready to serve traffic, please wait`). */
export function isNotReady(answer: Answer): boolean {
  if (answer.status === 503) return true;
  return (
    answer.status >= 400 &&
    answer.status < 500 &&
    /not ready/i.test(answer.body.toString('utf8').slice(0, 200))
  );
}

/** Whether the Agent refused the `refreshNow` parameter (versions before it was added know no such thing). */
export function refusedRefreshNow(answer: Answer): boolean {
  return answer.status === 400 && answer.body.toString('utf8').trim() === 'unknown parameter: refreshNow';
}

/** The error for an answer other than 200. */
export function answerError(answer: Answer, secretId: string, server: Server): SecretCacheError {
  const { status } = answer;
  const body = readErrorBody(answer.body);
  const via = `${server.label} answered HTTP ${status}`;
  if (body.awsName !== undefined) {
    const code = CODE_BY_AWS_NAME.get(body.awsName) ?? 'FETCH_FAILED';
    const what = WHAT_FAILED[code] ?? 'could not be fetched';
    return new SecretCacheError(code, secretId, `Secret "${secretId}" ${what} (${body.awsName}; ${via}).`, {
      cause: causeOf(body.awsName, body.awsMessage ?? `HTTP ${status}`, status),
    });
  }
  const [code, why] = statusMeaning(status, server, body.isJson);
  return new SecretCacheError(code, secretId, `Secret "${secretId}" could not be read: ${via}${why}.`, {
    cause: causeOf(
      server.kind === 'agent' ? 'AgentHttpError' : 'ExtensionHttpError',
      `HTTP ${status}`,
      status,
    ),
  });
}

/** What a status means when the body names no AWS error: the code, and a clause that explains it. */
function statusMeaning(status: number, server: Server, isJson: boolean): [SecretCacheErrorCode, string] {
  if (status === 401 || status === 403)
    return ['ACCESS_DENIED', ': it refused the token, also after reading it again'];
  if (status === 429) return ['THROTTLED', ': it has too many requests in flight'];
  if (status >= 500) return ['FETCH_FAILED', ''];
  if (server.kind === 'extension' && status === 400) {
    // The extension answers 400 with one generic text for a missing secret, denied access, throttling and a
    // network failure alike. Transient is the safe reading: a stale value keeps being served through an outage,
    // where a permanent code would drop it; a secret that does not exist costs a retry and the backoff.
    return [
      'FETCH_FAILED',
      ' without saying why (it does so for a missing secret or version, denied access, throttling and network failures alike; its log in CloudWatch says which)',
    ];
  }
  if (status === 400 || status === 404 || status === 405) {
    // The Agent's own refusals (an unknown parameter, a forwarded request, no such path, not a GET): a request it
    // will refuse again. A JSON 400 without an error name is not the Agent's shape: treat it as a failure.
    return isJson ? ['FETCH_FAILED', ''] : ['INVALID_REQUEST', ': it refused the request itself'];
  }
  return ['FETCH_FAILED', ''];
}

/** The error for a request that got no answer. Refusals, resets and timeouts are transient. */
export function transportError(
  failure: TransportFailure,
  secretId: string,
  server: Server,
): SecretCacheError {
  const code: SecretCacheErrorCode = failure.kind === 'timeout' ? 'TIMEOUT' : 'FETCH_FAILED';
  const hint = failure.kind === 'refused' ? ' (is it running?)' : '';
  return new SecretCacheError(
    code,
    secretId,
    `Secret "${secretId}" could not be read from ${server.label}: ${failure.message}${hint}.`,
    { cause: failure },
  );
}

/** A malformed answer: what was wrong, in words that name fields and types, never values. */
function malformed(secretId: string, server: Server, what: string): SecretCacheError {
  return new SecretCacheError(
    'FETCH_FAILED',
    secretId,
    `Secret "${secretId}" could not be read: ${server.label} answered HTTP 200 with ${what}.`,
  );
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const EPOCH_SECONDS = /^-?\d+(?:\.\d+)?$/;

/**
 * The version a 200 answer carries. Both dialects are read: the Agent's (`CreatedDate` as epoch seconds in a
 * string, absent fields left out or `null`) and the extension's (ISO-8601 dates, the unused value `null`,
 * `ResultMetadata`). Types are checked strictly; no message ever quotes the body or a value from it.
 */
export function versionFromAnswer(body: Buffer, secretId: string, server: Server): SecretVersion {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    // JSON.parse's own message quotes the input around the error: it is dropped, not kept as a cause.
    return throwing(malformed(secretId, server, `a body that is not JSON (${body.length} bytes)`));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return throwing(malformed(secretId, server, `JSON that is not an object (${typeName(parsed)})`));
  }
  const fields = parsed as Record<string, unknown>;
  const text = (field: string, fallback: string): string => {
    const value = fields[field];
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'string') return value;
    return throwing(malformed(secretId, server, `a ${field} that is not a string (${typeName(value)})`));
  };
  const secretString = fields.SecretString;
  if (secretString !== undefined && secretString !== null && typeof secretString !== 'string') {
    throwing(malformed(secretId, server, `a SecretString that is not a string (${typeName(secretString)})`));
  }
  const secretBinary = binaryOf(fields.SecretBinary, secretId, server);
  if (typeof secretString === 'string' && secretBinary !== undefined) {
    throwing(malformed(secretId, server, 'both a SecretString and a SecretBinary'));
  }
  return {
    name: text('Name', secretId),
    arn: text('ARN', ''),
    versionId: text('VersionId', ''),
    versionStages: stagesOf(fields.VersionStages, secretId, server),
    createdDate: dateOf(fields.CreatedDate, secretId, server),
    ...(typeof secretString === 'string' ? { secretString } : {}),
    ...(secretBinary === undefined ? {} : { secretBinary }),
  };
}

function throwing(error: SecretCacheError): never {
  throw error;
}

function binaryOf(value: unknown, secretId: string, server: Server): Uint8Array | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    return throwing(malformed(secretId, server, `a SecretBinary that is not a string (${typeName(value)})`));
  }
  if (!BASE64.test(value)) {
    return throwing(
      malformed(secretId, server, `a SecretBinary that is not base64 (${value.length} characters)`),
    );
  }
  // A copy with a buffer of its own: a small Buffer is a view into a pool that other data shares.
  return new Uint8Array(Buffer.from(value, 'base64'));
}

function stagesOf(value: unknown, secretId: string, server: Server): readonly string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value) && value.every((stage) => typeof stage === 'string')) return [...value];
  return throwing(
    malformed(secretId, server, `VersionStages that are not a list of strings (${typeName(value)})`),
  );
}

function dateOf(value: unknown, secretId: string, server: Server): Date | undefined {
  if (value === undefined || value === null) return undefined;
  let date: Date | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) date = new Date(value * 1_000);
  else if (typeof value === 'string') {
    date = EPOCH_SECONDS.test(value) ? new Date(Number(value) * 1_000) : new Date(value);
  }
  if (date === undefined || Number.isNaN(date.getTime())) {
    return throwing(malformed(secretId, server, `a CreatedDate that is not a date (${typeName(value)})`));
  }
  return date;
}
