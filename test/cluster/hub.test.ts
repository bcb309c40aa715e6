/** The coordination hub of `isr start --workers` (locks, event fan-out, tag invalidations) and the coordinated store, in one process over an injected clock. */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoordinatedStore, DirectHubLink } from '../../src/cluster/coordinated-store.ts';
import { CoordinationHub } from '../../src/cluster/hub.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import type { CacheEntry, CacheStore, StoreEvent } from '../../src/store/store.ts';
import { testCacheStore } from '../store/contract.ts';
import { makeEntry, makeTempDir, removeDir } from '../store/helpers.ts';

// Workers' stores on one folder, coordinated by one hub (linked directly, as over IPC in `isr start --workers`).
testCacheStore('CoordinatedStore', {
  shared: true,
  create: async () => {
    const dir = await makeTempDir('isr-hub-contract-');
    const hub = new CoordinationHub({ tagStore: new FileSystemStore({ dir }) });
    return {
      open: () => new CoordinatedStore({ inner: new FileSystemStore({ dir }), link: new DirectHubLink(hub) }),
      cleanup: async () => {
        await hub.close();
        await removeDir(dir);
      },
    };
  },
});

let root: string;
let counter = 0;
const freshDir = () => join(root, `store-${++counter}`);
before(async () => {
  root = await makeTempDir('isr-hub-test-');
});
after(async () => {
  await removeDir(root);
});

/** `store` with its invalidateTags calls counted (a wrapper: FileSystemStore has private fields). */
function countingTags(store: CacheStore): CacheStore & { calls: number } {
  const spy = {
    calls: 0,
    name: store.name,
    get: (key: string) => store.get(key),
    set: (key: string, entry: CacheEntry) => store.set(key, entry),
    delete: (key: string) => store.delete(key),
    getTagManifest: () => store.getTagManifest(),
    invalidateTags: (tags: readonly string[], at: number) => {
      spy.calls++;
      return store.invalidateTags(tags, at);
    },
    close: () => store.close?.() ?? Promise.resolve(),
  };
  return spy;
}

describe('CoordinationHub locks', () => {
  it('are exclusive: a second tryLock of a held key gets undefined, other keys are independent', () => {
    const hub = new CoordinationHub({ clock: new ManualClock() });
    const token = hub.tryLock('page:/a', 10_000);
    assert.equal(typeof token, 'string');
    assert.equal(hub.tryLock('page:/a', 10_000), undefined);
    assert.equal(typeof hub.tryLock('page:/b', 10_000), 'string');
    assert.ok(hub.isLocked('page:/a'));
  });

  it('expire after their ttl on the injected clock, and can then be taken by someone else', () => {
    const clock = new ManualClock();
    const hub = new CoordinationHub({ clock });
    const first = hub.tryLock('k', 1_000);
    assert.ok(first);
    clock.advance(999);
    assert.equal(hub.tryLock('k', 1_000), undefined);
    clock.advance(1);
    assert.ok(!hub.isLocked('k'));
    const second = hub.tryLock('k', 1_000);
    assert.ok(second);
    assert.notEqual(second, first);
  });

  it('release by the holder frees the key and publishes unlock; a stale token is ignored', () => {
    const clock = new ManualClock();
    const hub = new CoordinationHub({ clock });
    const events: StoreEvent[] = [];
    hub.subscribe((event) => events.push(event));

    const stale = hub.tryLock('k', 1_000)!;
    clock.advance(1_000);
    const current = hub.tryLock('k', 1_000)!; // took over the expired lock
    assert.equal(hub.release('k', stale), false, 'the expired holder cannot release the new holder’s lock');
    assert.ok(hub.isLocked('k'));
    assert.equal(hub.release('k', 'not-a-token'), false);
    assert.equal(hub.release('other', current), false);
    assert.deepEqual(events, []);

    assert.equal(hub.release('k', current), true);
    assert.ok(!hub.isLocked('k'));
    assert.deepEqual(events, [{ type: 'unlock', key: 'k' }]);
    assert.equal(hub.release('k', current), false, 'releasing twice does nothing');
    assert.equal(events.length, 1);
    assert.ok(hub.tryLock('k', 1_000));
  });

  it('reject a bad ttl', () => {
    const hub = new CoordinationHub();
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => hub.tryLock('k', ttl), TypeError);
  });

  it('sweep forgets expired locks only', () => {
    const clock = new ManualClock();
    const hub = new CoordinationHub({ clock });
    hub.tryLock('short', 10);
    hub.tryLock('long', 10_000);
    clock.advance(10);
    hub.sweep();
    assert.equal(hub.lockCount, 1);
    assert.ok(hub.isLocked('long'));
  });
});

describe('CoordinationHub fan-out', () => {
  it('delivers every event to every subscriber until it unsubscribes; a throwing one does not stop the others', () => {
    const hub = new CoordinationHub();
    const a: StoreEvent[] = [];
    const b: StoreEvent[] = [];
    const unsubscribeA = hub.subscribe((event) => a.push(event));
    hub.subscribe(() => {
      throw new Error('bad listener');
    });
    hub.subscribe((event) => b.push(event));
    hub.publish({ type: 'set', key: 'k', lastModified: 1 });
    unsubscribeA();
    hub.publish({ type: 'delete', key: 'k' });
    assert.deepEqual(a, [{ type: 'set', key: 'k', lastModified: 1 }]);
    assert.deepEqual(b, [
      { type: 'set', key: 'k', lastModified: 1 },
      { type: 'delete', key: 'k' },
    ]);
  });
});

describe('CoordinationHub invalidation', () => {
  it('records through the tag store, then publishes', async () => {
    const dir = freshDir();
    const tagStore = countingTags(new FileSystemStore({ dir }));
    const hub = new CoordinationHub({ tagStore });
    const events: StoreEvent[] = [];
    hub.subscribe((event) => events.push(event));
    await hub.invalidate(['posts', 'post-1'], 1234.5);
    assert.equal(tagStore.calls, 1);
    assert.deepEqual(Object.fromEntries(await new FileSystemStore({ dir }).getTagManifest()), { posts: 1234.5, 'post-1': 1234.5 });
    assert.deepEqual(events, [{ type: 'invalidate', tags: ['posts', 'post-1'], at: 1234.5 }]);
  });

  it('rejects bad arguments before writing or publishing anything', async () => {
    const tagStore = countingTags(new FileSystemStore({ dir: freshDir() }));
    const hub = new CoordinationHub({ tagStore });
    const events: StoreEvent[] = [];
    hub.subscribe((event) => events.push(event));
    await assert.rejects(hub.invalidate(['t'], Number.NaN), TypeError);
    await assert.rejects(hub.invalidate([1 as unknown as string], 1), TypeError);
    assert.equal(tagStore.calls, 0);
    assert.deepEqual(events, []);
  });

  it('publishes nothing when the tag store cannot record the invalidation', async () => {
    const failing = new FileSystemStore({ dir: freshDir(), readOnly: true });
    const hub = new CoordinationHub({ tagStore: failing });
    const events: StoreEvent[] = [];
    hub.subscribe((event) => events.push(event));
    await assert.rejects(hub.invalidate(['t'], 1));
    assert.deepEqual(events, []);
  });

  it('many concurrent invalidations from several workers’ stores: tags.json written by the hub only, holding every tag', async () => {
    const dir = freshDir();
    const tagStore = countingTags(new FileSystemStore({ dir }));
    const hub = new CoordinationHub({ tagStore });
    const link = new DirectHubLink(hub);
    const workers = [0, 1, 2].map(() => {
      const inner = countingTags(new FileSystemStore({ dir }));
      return { inner, store: new CoordinatedStore({ inner, link }) };
    });
    const heard: StoreEvent[] = [];
    workers[2]!.store.subscribe((event) => heard.push(event));
    const tags = Array.from({ length: 60 }, (_, i) => `tag-${i}`);
    await Promise.all(tags.map((tag, i) => workers[i % 3]!.store.invalidateTags([tag], 1_000 + i)));
    assert.equal(tagStore.calls, tags.length, 'one record per invalidation');
    for (const { inner } of workers) assert.equal(inner.calls, 0, 'workers never write tags.json themselves');
    const written = Object.fromEntries(await new FileSystemStore({ dir }).getTagManifest()) as Record<string, number>;
    assert.deepEqual(Object.keys(written).sort(), [...tags].sort());
    for (const [i, tag] of tags.entries()) assert.equal(written[tag], 1_000 + i);
    assert.equal(heard.filter((event) => event.type === 'invalidate').length, tags.length);
    // Every worker reads the same manifest back.
    for (const { store } of workers) assert.equal((await store.getTagManifest()).size, tags.length);
  });
});

describe('CoordinatedStore', () => {
  it('is named after its inner store and passes reads through', async () => {
    const inner = new FileSystemStore({ dir: freshDir() });
    const store = new CoordinatedStore({ inner, link: new DirectHubLink(new CoordinationHub()) });
    assert.equal(store.name, `coordinated(${inner.name})`);
    await inner.set('k', makeEntry('k'));
    assert.equal((await store.get('k'))?.key, 'k');
    assert.equal(await store.get('missing'), undefined);
  });

  it('set stores and announces; an older generation never replaces a newer one and is not announced', async () => {
    const hub = new CoordinationHub();
    const dir = freshDir();
    const a = new CoordinatedStore({ inner: new FileSystemStore({ dir }), link: new DirectHubLink(hub) });
    const b = new CoordinatedStore({ inner: new FileSystemStore({ dir }), link: new DirectHubLink(hub) });
    const events: StoreEvent[] = [];
    b.subscribe((event) => events.push(event));
    await a.set('k', makeEntry('k', { lastModified: 2_000, body: 'new' }));
    await b.set('k', makeEntry('k', { lastModified: 1_000, body: 'old' }));
    assert.equal(new TextDecoder().decode((await b.get('k'))!.value.body), 'new');
    assert.deepEqual(events, [{ type: 'set', key: 'k', lastModified: 2_000 }]);
    await b.set('k', makeEntry('k', { lastModified: 2_000, body: 'same time' }));
    assert.equal(new TextDecoder().decode((await a.get('k'))!.value.body), 'same time');
    await a.delete('k');
    assert.equal(await b.get('k'), undefined);
    assert.deepEqual(events.slice(1), [
      { type: 'set', key: 'k', lastModified: 2_000 },
      { type: 'delete', key: 'k' },
    ]);
  });

  it('lock is cluster-wide: one lease per key; releasing it announces unlock and frees the key; close ends subscriptions', async () => {
    const hub = new CoordinationHub();
    const a = new CoordinatedStore({ inner: new FileSystemStore({ dir: freshDir() }), link: new DirectHubLink(hub) });
    const b = new CoordinatedStore({ inner: new FileSystemStore({ dir: freshDir() }), link: new DirectHubLink(hub) });
    const events: StoreEvent[] = [];
    b.subscribe((event) => events.push(event));
    const lease = await a.lock('k', 5_000);
    assert.ok(lease);
    assert.equal(await b.lock('k', 5_000), undefined);
    await lease.release();
    await lease.release(); // twice is harmless
    assert.deepEqual(events, [{ type: 'unlock', key: 'k' }]);
    const again = await b.lock('k', 5_000);
    assert.ok(again);
    await b.close();
    await again.release();
    assert.equal(events.length, 1, 'no event after close');
  });
});
