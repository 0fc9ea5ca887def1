import { SecretCache } from './cache.js';
import { describeValue as describe } from './describe.js';
import { type LoadedSecrets, type Manifest, manifestEntries } from './manifest.js';
import { unknownKeyProblem } from './option-table.js';

const noop = (): void => {};

/**
 * Starts loading `manifest` now, so the fetch overlaps the rest of module initialisation (the Lambda init
 * phase), and returns what each invocation calls for its secrets. Shared by the Lambda wrapper and the middy
 * middleware; not exported from the package.
 *
 * The first invocation waits for that initial load and, if it failed, loads again (within the backoff of the
 * failed secrets that fails at once with the same errors, without calling AWS); every invocation after that
 * calls `load` again, which answers from memory while the values are fresh. The first invocation
 * also loads again once the initial load succeeded: it costs no AWS call then, but a sandbox initialised
 * ahead of its first event (provisioned concurrency) may have sat idle past the TTL, and its first event must
 * not see values older than the cache allows.
 */
export function preload<M extends Manifest>(
  manifest: M,
  cache: SecretCache | undefined,
  what: string,
): () => Promise<LoadedSecrets<M>> {
  // A manifest that is not made of `secret.*()` entries is a programming error: fail at import, like the
  // builders do, rather than at the first event.
  manifestEntries(manifest);
  if (cache !== undefined && typeof (cache as Partial<SecretCache> | null)?.load !== 'function') {
    throw new TypeError(`Expected \`cache\` of ${what} to be a SecretCache.`);
  }
  const loader = cache ?? new SecretCache();
  let init: Promise<LoadedSecrets<M>> | undefined = loader.load(manifest);
  // Nobody awaits the initial load until the first event arrives. Without a handler its failure would be an
  // unhandled rejection, which ends the process. The first invocation loads again instead: within the failed
  // secrets' backoff that answers at once with the same errors, without calling AWS; after it (a sandbox that
  // idled before its first event), it fetches anew rather than failing with an old error.
  init.catch(noop);
  const load = (): Promise<LoadedSecrets<M>> => loader.load(manifest);
  return () => {
    if (init === undefined) return load();
    const first = init;
    init = undefined;
    return first.then(load, load);
  };
}

/**
 * Checks the options object of `withSecrets` or `secretsMiddleware` (`what`): absent, or an object with only
 * the `known` keys. Anything else is a `TypeError`, thrown at import like a bad manifest.
 *
 * @example
 * ```ts
 * import { checkOptions } from './preload.js';
 *
 * checkOptions({ cahce: cache }, ['cache'], 'withSecrets');
 * // TypeError: Unknown option `cahce` in options of withSecrets; did you mean `cache`?
 * ```
 */
export function checkOptions(options: unknown, known: readonly string[], what: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected \`options\` of ${what} to be an object, got ${describe(options)}.`);
  }
  const unknown = unknownKeyProblem(options, known, `options of ${what}`);
  if (unknown !== undefined) throw new TypeError(unknown);
}
