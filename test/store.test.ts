import { describe, expect, it } from 'vitest';
import { CachedVersion } from '../src/entry.js';
import { SecretCacheError } from '../src/errors.js';
import { READ_OPTION_NAMES, resolveSelector, type Selector } from '../src/selector.js';
import { VersionStore } from '../src/store.js';

function selector(secretId: string, options?: { versionStage?: string; versionId?: string }): Selector {
  const resolved = resolveSelector(secretId, options, 'AWSCURRENT');
  if (resolved instanceof SecretCacheError) throw resolved;
  return resolved;
}

function entryFor(target: Selector): CachedVersion {
  const version = {
    name: target.secretId,
    arn: '',
    versionId: 'v1',
    versionStages: [],
    createdDate: undefined,
    secretString: 'x',
  };
  return new CachedVersion(target, version, 0, 1_000, 1_000);
}

const failure = (n: number) => ({
  failures: n,
  retryAt: n,
  error: new SecretCacheError('THROTTLED', 'x', 'm'),
});

describe('VersionStore', () => {
  it('finds a pinned entry by stage or version id without a key string, and the default by id', () => {
    const store = new VersionStore(10, () => {});
    const previous = selector('db', { versionStage: 'AWSPREVIOUS' });
    const pinned = selector('db', { versionId: 'v9' });
    store.store(previous, entryFor(previous));
    store.store(pinned, entryFor(pinned));
    store.store(selector('db'), entryFor(selector('db')));

    expect(
      store.warmPinned('db', { versionStage: 'AWSPREVIOUS' }, 'AWSCURRENT', READ_OPTION_NAMES)?.key,
    ).toBe(previous.key);
    expect(store.warmPinned('db', { versionId: 'v9' }, 'AWSCURRENT', READ_OPTION_NAMES)?.key).toBe(
      pinned.key,
    );
    expect(store.warmPinned('db', { versionStage: 'AWSCURRENT' }, 'AWSCURRENT', READ_OPTION_NAMES)?.key).toBe(
      'db',
    );
    expect(
      store.warmPinned('db', { versionStage: 'AWSPENDING' }, 'AWSCURRENT', READ_OPTION_NAMES),
    ).toBeUndefined();
    expect(
      store.warmPinned('db', { signal: AbortSignal.abort() }, 'AWSCURRENT', READ_OPTION_NAMES),
    ).toBeUndefined();
  });

  it('forgets a pinned key when its entry is evicted, and reports the eviction', () => {
    const removed: Array<[string, string]> = [];
    const store = new VersionStore(1, (entry, reason) => removed.push([entry.key, reason]));
    const previous = selector('db', { versionStage: 'AWSPREVIOUS' });
    store.store(previous, entryFor(previous));
    store.store(selector('other'), entryFor(selector('other')));

    expect(
      store.warmPinned('db', { versionStage: 'AWSPREVIOUS' }, 'AWSCURRENT', READ_OPTION_NAMES),
    ).toBeUndefined();
    expect(removed).toEqual([[previous.key, 'evict']]);
  });

  it('drops every version, backoff and fetch in flight of one secret on invalidate, and only that one', () => {
    const store = new VersionStore(10, () => {});
    for (const target of [selector('db'), selector('db', { versionId: 'v1' }), selector('dbx')]) {
      store.store(target, entryFor(target));
      store.recordFailure(target.key, failure(1));
      store.inflight.set(target.key, Promise.resolve(entryFor(target)));
    }

    store.invalidate('db');

    expect([...store.entries.keys()]).toEqual(['dbx']);
    expect([...store.failures.keys()]).toEqual(['dbx']);
    expect([...store.inflight.keys()]).toEqual(['dbx']);
  });

  it('keeps at most maxEntries backoffs, dropping the key that failed least recently', () => {
    const store = new VersionStore(2, () => {});
    store.recordFailure('a', failure(1));
    store.recordFailure('b', failure(1));
    store.recordFailure('a', failure(2));
    store.recordFailure('c', failure(1));

    expect([...store.failures.keys()]).toEqual(['a', 'c']);
    expect(store.failures.get('a')?.failures).toBe(2);
  });
});
