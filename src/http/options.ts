import { describeValue } from '../describe.js';
import { type OptionTable, type Resolved, resolveTable } from '../option-table.js';
import { hostProblem, loopbackAddress } from './loopback.js';

/** The Agent's and the extension's port when nothing else is configured. */
export const DEFAULT_PORT = 2773;

/** Well under the cache's `fetchTimeoutMs` (5 s), so that a retry still fits in one fetch. */
export const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * Long enough for a Lambda sandbox's init phase that loads secrets at module level (the extension answers
 * only once the invoke phase begins), short enough to fit in one fetch with the cache's default
 * `fetchTimeoutMs`.
 */
export const DEFAULT_WARMUP_MS = 3_000;

const port = {
  kind: 'positive-integer',
  max: 65_535,
  default: DEFAULT_PORT,
  doc: 'the TCP port on the loopback address',
} as const;

const host = {
  kind: 'string',
  // Long enough for any host name, so that one is refused by the loopback check, whose message says why.
  maxLength: 253,
  default: '127.0.0.1',
  doc: "`'127.0.0.1'`, `'::1'` or `'localhost'` (connected to as `127.0.0.1`); nothing else is accepted",
} as const;

const timeoutMs = {
  kind: 'positive-ms',
  default: DEFAULT_TIMEOUT_MS,
  doc: 'how long one HTTP request may take, from connecting to the last byte of the answer',
} as const;

/**
 * An option without a default (the code that uses it decides what its absence means), which an option table
 * cannot hold: what it must be, as the phrase after "Expected `name` to be", and whether a value is that.
 */
export interface LooseOption {
  readonly expected: string;
  accepts(value: unknown): boolean;
}

/** The options of `agentSource` that have a default, in the order they are checked. */
export const AGENT_SOURCE_OPTIONS = { port, host, timeoutMs } as const satisfies OptionTable;

/** The options of `agentSource` without one. */
export const AGENT_LOOSE_OPTIONS: Readonly<Record<string, LooseOption>> = {
  token: {
    expected: 'a non-empty string of at most 16384 characters',
    accepts: (value) => typeof value === 'string' && value.length > 0 && value.length <= 16_384,
  },
};

/** The options of `lambdaExtensionSource` that have a default, in the order they are checked. */
export const EXTENSION_SOURCE_OPTIONS = {
  host,
  timeoutMs,
  warmupMs: {
    kind: 'non-negative-ms',
    default: DEFAULT_WARMUP_MS,
    doc: 'how long after the first request refused connections and "not ready" answers are retried',
  },
} as const satisfies OptionTable;

/** The options of `lambdaExtensionSource` without one: its port defaults to a variable, read later. */
export const EXTENSION_LOOSE_OPTIONS: Readonly<Record<string, LooseOption>> = {
  port: {
    expected: 'a positive integer of at most 65_535',
    accepts: (value) =>
      typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= 65_535,
  },
};

/** A checked options object: the defaults applied, the caller's object for options without one. */
export interface CheckedOptions<T extends OptionTable> {
  readonly resolved: Resolved<T>;
  readonly given: Readonly<Record<string, unknown>>;
  /** The address `host` names. */
  readonly address: string;
}

/**
 * Checks a source's options once, at construction: an unknown key or a malformed value is a `TypeError`
 * naming it, with the messages every other options object of the package has.
 */
export function checkSourceOptions<T extends OptionTable & { readonly host: typeof host }>(
  table: T,
  loose: Readonly<Record<string, LooseOption>>,
  options: unknown,
  where: string,
): CheckedOptions<T> {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new TypeError(`Expected the options of ${where} to be an object, got ${describeValue(options)}.`);
  }
  const given = (options ?? {}) as Readonly<Record<string, unknown>>;
  const resolved = resolveTable(table, given, `options of ${where}`, Object.keys(loose));
  for (const [name, option] of Object.entries(loose)) {
    const value = given[name];
    if (value !== undefined && !option.accepts(value)) {
      throw new TypeError(`Expected \`${name}\` to be ${option.expected}, got ${describeValue(value)}.`);
    }
  }
  const hostName = (resolved as unknown as { host: string }).host;
  const address = loopbackAddress(hostName);
  if (address === undefined) throw new TypeError(hostProblem(hostName));
  return { resolved, given, address };
}
