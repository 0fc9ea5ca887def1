import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { EventEmitter } from '../src/events.js';

const target = { secretId: 'db', versionStage: 'AWSCURRENT', versionId: undefined };

describe('EventEmitter', () => {
  it('wants nothing when there are no hooks and no subscribers', () => {
    const events = new EventEmitter(undefined);

    expect([
      events.wantsFetch(),
      events.wantsError(),
      events.wantsStale(),
      events.wantsEvict(),
      events.wantsVersionChange(),
    ]).toEqual([false, false, false, false, false]);
  });

  it('wants version changes once onVersionChange is given, and no other event', () => {
    const events = new EventEmitter({ onVersionChange: () => {} });

    expect(events.wantsVersionChange()).toBe(true);
    expect([events.wantsFetch(), events.wantsError(), events.wantsStale(), events.wantsEvict()]).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('wants version changes while secretcache:version has a subscriber', () => {
    const events = new EventEmitter(undefined);
    const listener = () => {};
    subscribe('secretcache:version', listener);
    try {
      expect(events.wantsVersionChange()).toBe(true);
    } finally {
      unsubscribe('secretcache:version', listener);
    }
    expect(events.wantsVersionChange()).toBe(false);
  });

  it('delivers a version change to onVersionChange and the channel', () => {
    const hooked: unknown[] = [];
    const published: unknown[] = [];
    const listener = (message: unknown) => published.push(message);
    const events = new EventEmitter({ onVersionChange: (event) => hooked.push(event) });
    const change = { ...target, oldVersionId: 'v1', newVersionId: 'v2' };
    subscribe('secretcache:version', listener);
    try {
      events.versionChange(change);
    } finally {
      unsubscribe('secretcache:version', listener);
    }

    expect(hooked).toEqual([change]);
    expect(published).toEqual([change]);
  });

  it('wants an event once a channel has a subscriber', () => {
    const events = new EventEmitter(undefined);
    const listener = () => {};
    subscribe('secretcache:stale', listener);
    try {
      expect(events.wantsStale()).toBe(true);
      expect(events.wantsFetch()).toBe(false);
    } finally {
      unsubscribe('secretcache:stale', listener);
    }
  });

  it('delivers to the hook and the channel', () => {
    const hooked: unknown[] = [];
    const published: unknown[] = [];
    const listener = (message: unknown) => published.push(message);
    const events = new EventEmitter({ onEvict: (event) => hooked.push(event) });
    subscribe('secretcache:evict', listener);
    try {
      events.evict({ ...target, reason: 'evict' });
    } finally {
      unsubscribe('secretcache:evict', listener);
    }

    expect(hooked).toEqual([{ ...target, reason: 'evict' }]);
    expect(published).toEqual(hooked);
  });

  it('swallows a hook that throws', () => {
    const events = new EventEmitter({
      onFetch: () => {
        throw new Error('broken');
      },
    });

    expect(() =>
      events.fetch({ ...target, durationMs: 1, reason: 'miss', fetchedVersionId: 'v1' }),
    ).not.toThrow();
  });
});
