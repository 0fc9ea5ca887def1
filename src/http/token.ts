/** The header both servers read the token from. */
export const TOKEN_HEADER = 'X-Aws-Parameters-Secrets-Token';

/** Where the Agent looks for its token, in this order (its `ssrf_env_variables` default). */
export const AGENT_TOKEN_VARIABLES = [
  'AWS_TOKEN',
  'AWS_SESSION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
] as const;

/** Where the Lambda extension takes its token from. */
export const EXTENSION_TOKEN_VARIABLES = ['AWS_SESSION_TOKEN'] as const;

const FILE_PREFIX = 'file://';

/** Characters Node refuses in a header value (it would throw, naming the header, at the request). */
const NOT_IN_A_HEADER = /[^\t\x20-\x7e\x80-\xff]/;

/** Whether `token` can travel in a header as it is. */
export function isHeaderSafe(token: string): boolean {
  return !NOT_IN_A_HEADER.test(token);
}

/**
 * Why no token could be had. Its message names variables and files, never a token's content: the source turns
 * it into an `ACCESS_DENIED` error for the secret asked for.
 */
export class TokenProblem extends Error {
  override readonly name = 'TokenProblem';
}

/** How a source finds its token: a value given as an option, or the first set variable of a list. */
export type TokenOrigin =
  | { readonly kind: 'option'; readonly value: string }
  | { readonly kind: 'env'; readonly variables: readonly string[]; readonly files: boolean };

/**
 * Reads the token once, at the first request (never at import or construction), and again only when a server
 * rejects it: concurrent requests that saw the same token rejected share one re-read. A failed read is not
 * kept, so the next request tries again.
 */
export class TokenStore {
  readonly #origin: TokenOrigin;
  readonly #env: NodeJS.ProcessEnv;
  #value: string | undefined;
  #reading: Promise<string> | undefined;

  constructor(origin: TokenOrigin, env: NodeJS.ProcessEnv = process.env) {
    this.#origin = origin;
    this.#env = env;
  }

  /** The token, read now if it has not been. */
  get(signal?: AbortSignal): Promise<string> {
    if (this.#value !== undefined) return Promise.resolve(this.#value);
    return this.#read(signal);
  }

  /**
   * The token to retry with after `rejected` was refused: the one another request already re-read, or a new
   * read. Resolves with `rejected` itself when reading again finds the same token (a retry would be refused
   * again).
   */
  refresh(rejected: string, signal?: AbortSignal): Promise<string> {
    if (this.#value !== undefined && this.#value !== rejected) return Promise.resolve(this.#value);
    this.#value = undefined;
    return this.#read(signal);
  }

  #read(signal: AbortSignal | undefined): Promise<string> {
    if (this.#reading === undefined) {
      const reading = resolveToken(this.#origin, this.#env, signal).then(
        (token) => {
          if (this.#reading === reading) this.#reading = undefined;
          this.#value = token;
          return token;
        },
        (error: unknown) => {
          if (this.#reading === reading) this.#reading = undefined;
          throw error;
        },
      );
      this.#reading = reading;
    }
    return this.#reading;
  }
}

async function resolveToken(
  origin: TokenOrigin,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal | undefined,
): Promise<string> {
  let found: string;
  let from: string;
  if (origin.kind === 'option') {
    found = origin.value;
    from = 'the `token` option';
  } else {
    // The first variable that is set, as the Agent reads it: an empty value counts as set.
    const variable = origin.variables.find((name) => env[name] !== undefined);
    if (variable === undefined) {
      throw new TokenProblem(`no token: none of ${origin.variables.join(', ')} is set`);
    }
    found = env[variable] as string;
    from = variable;
    if (!origin.files) return checked(found, from);
  }
  if (!found.startsWith(FILE_PREFIX)) return checked(found, from);
  const path = found.slice(FILE_PREFIX.length);
  let content: string;
  try {
    // Imported here: only an Agent token given as `file://` needs it, and a cold start that does not skips it.
    const { readFile } = await import('node:fs/promises');
    content = await readFile(path, { encoding: 'utf8', ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    if (signal?.aborted === true) throw signal.reason;
    const code = (error as { code?: unknown }).code;
    throw new TokenProblem(
      `no token: the file ${path} that ${from} names could not be read (${typeof code === 'string' ? code : 'error'})`,
    );
  }
  return checked(content.trim(), `the file ${path}`);
}

function checked(token: string, from: string): string {
  if (!isHeaderSafe(token)) {
    throw new TokenProblem(`no token: the one from ${from} has characters an HTTP header cannot carry`);
  }
  return token;
}
