import { SecretCache } from './cache.js';
import { type LoadedSecrets, type Manifest, manifestEntries } from './manifest.js';

const noop = (): void => {};

/**
 * Starts loading `manifest` now, so the fetch overlaps the rest of module initialisation (the Lambda init
 * phase), and returns what each invocation calls for its secrets. Shared by the Lambda wrapper and the middy
 * middleware; not exported from the package.
 *
 * The first invocation waits for that initial load and rethrows its error if it failed; every invocation
 * after that calls `load` again, which answers from memory while the values are fresh. The first invocation
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
  // unhandled rejection, which ends the process; it is rethrown to the first invocation instead.
  init.catch(noop);
  const load = (): Promise<LoadedSecrets<M>> => loader.load(manifest);
  return () => {
    if (init === undefined) return load();
    const first = init;
    init = undefined;
    return first.then(load);
  };
}
