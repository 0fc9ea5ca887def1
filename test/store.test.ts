import { describe, expect, it } from 'vitest';
import { CachedVersion } from '../src/entry.js';
import { SecretCacheError } from '../src/errors.js';
import type { ReadOptions } from '../src/options.js';
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

describe('VersionStore.warmPinned', () => {
  const warm = (store: VersionStore, options: unknown) =>
    store.warmPinned('db', options as never, 'AWSCURRENT', READ_OPTION_NAMES);

  it('finds the default entry for options that name no stage', () => {
    const store = new VersionStore(10, () => {});
    store.store(selector('db'), entryFor(selector('db')));

    expect(warm(store, {})?.key).toBe('db');
    expect(warm(store, { signal: new AbortController().signal })?.key).toBe('db');
  });

  it.each([
    ['null', null],
    ['a number', 42],
    ['a string', 'AWSCURRENT'],
  ])('leaves options that are %s to the slow path, which reports them', (_label, options) => {
    const store = new VersionStore(10, () => {});
    store.store(selector('db'), entryFor(selector('db')));

    expect(warm(store, options)).toBeUndefined();
  });

  it('leaves a read naming both a stage and a version id to the slow path, even when that version is held', () => {
    const store = new VersionStore(10, () => {});
    const pinned = selector('db', { versionId: 'v9' });
    store.store(pinned, entryFor(pinned));

    expect(warm(store, { versionId: 'v9', versionStage: 'AWSCURRENT' })).toBeUndefined();
    expect(warm(store, { versionId: 'v9', versionStage: 'AWSPREVIOUS' })).toBeUndefined();
  });
});

describe('VersionStore after a pinned version of a secret is evicted', () => {
  // A stage and a version id may be spelt alike: each is still its own entry.
  const previousStage = selector('db', { versionStage: 'AWSPREVIOUS' });
  const pendingStage = selector('db', { versionStage: 'AWSPENDING' });
  const previousId = selector('db', { versionId: 'AWSPREVIOUS' });
  const otherId = selector('db', { versionId: 'v9' });

  /** A store of two entries holding `kept` after `evicted` was pushed out by another secret. */
  function evictOne(evicted: Selector, kept: Selector): VersionStore {
    const store = new VersionStore(2, () => {});
    store.store(evicted, entryFor(evicted));
    store.store(kept, entryFor(kept));
    store.store(selector('other'), entryFor(selector('other')));
    expect([...store.entries.keys()].sort()).toEqual([kept.key, 'other'].sort());
    return store;
  }

  const readOf = (target: Selector): ReadOptions =>
    target.versionId === undefined
      ? { versionStage: target.versionStage as string }
      : { versionId: target.versionId };

  it.each([
    ['a stage', 'another stage', previousStage, pendingStage],
    ['a version id', 'another version id', otherId, previousId],
    ['a stage', 'a version id', previousStage, otherId],
    ['a version id', 'a stage', otherId, previousStage],
    ['a stage', 'the version id spelt like it', previousStage, previousId],
    ['a version id', 'the stage spelt like it', previousId, previousStage],
  ])('once %s is evicted, still finds %s warm', (_evictedLabel, _keptLabel, evicted, kept) => {
    const store = evictOne(evicted, kept);

    expect(store.warmPinned('db', readOf(kept), 'AWSCURRENT', READ_OPTION_NAMES)?.key).toBe(kept.key);
    expect(store.warmPinned('db', readOf(evicted), 'AWSCURRENT', READ_OPTION_NAMES)).toBeUndefined();
  });

  it.each([
    ['a stage', 'the version id spelt like it', previousStage, previousId],
    ['a version id', 'the stage spelt like it', previousId, previousStage],
    ['a stage', 'another stage', previousStage, pendingStage],
  ])('once %s is evicted, still drops %s on invalidate', (_evictedLabel, _keptLabel, evicted, kept) => {
    const store = evictOne(evicted, kept);

    store.invalidate('db');

    expect([...store.entries.keys()]).toEqual(['other']);
  });

  it('reports each version invalidate drops as deleted', () => {
    const removed: Array<[string, string]> = [];
    const store = new VersionStore(10, (entry, reason) => removed.push([entry.key, reason]));
    for (const target of [selector('db'), previousStage, otherId]) store.store(target, entryFor(target));

    store.invalidate('db');

    expect(removed.sort()).toEqual(
      [
        ['db', 'delete'],
        [previousStage.key, 'delete'],
        [otherId.key, 'delete'],
      ].sort(),
    );
  });
});
