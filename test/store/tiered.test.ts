/** TieredStore: the store contract, then copying hits up, writing every writable tier, and serving on when a tier fails. */

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoordinatedStore, DirectHubLink } from '../../src/cluster/coordinated-store.ts';
import { CoordinationHub } from '../../src/cluster/hub.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { type CacheEntry, type CacheStore, InvalidationNotRecordedError, type TagManifest } from '../../src/store/store.ts';
import { TieredStore } from '../../src/store/tiered.ts';
import { testCacheStore } from './contract.ts';
import { listFiles, makeEntry, makeTempDir, removeDir } from './helpers.ts';

testCacheStore('TieredStore (memory over filesystem)', {
  create: async () => {
    const dir = await makeTempDir('isr-tiered-contract-');
    return {
      open: () =>
        new TieredStore({ tiers: [{ store: new MemoryStore() }, { store: new FileSystemStore({ dir }) }], logger: createMemoryLogger() }),
      cleanup: () => removeDir(dir),
    };
  },
});
// What the engine holds under `isr start --workers`: each instance's memory over the folder the hub coordinates.
testCacheStore('TieredStore (memory over a coordinated folder)', {
  shared: true,
  create: async () => {
    const dir = await makeTempDir('isr-tiered-contract-');
    const hub = new CoordinationHub({ tagStore: new FileSystemStore({ dir }) });
    const coordinated = () => new CoordinatedStore({ inner: new FileSystemStore({ dir }), link: new DirectHubLink(hub) });
    return {
      open: () => new TieredStore({ tiers: [{ store: new MemoryStore() }, { store: coordinated() }], logger: createMemoryLogger() }),
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
  root = await makeTempDir('isr-tiered-test-');
});
after(async () => {
  await removeDir(root);
});

const text = (entry: CacheEntry | undefined) => (entry ? Buffer.from(entry.value.body).toString() : undefined);

/** A MemoryStore whose operations can be made to fail, slowed down, and counted. */
class FakeStore implements CacheStore {
  readonly inner = new MemoryStore();
  failWrites = false;
  failReads = false;
  /** When set, `get` waits for it before reading. */
  gate: Promise<void> | undefined;
  /** Each `set` takes the next gate, if any, and waits for it before writing. */
  setGates: Promise<void>[] = [];
  closed = 0;
  constructor(readonly name: string) {}
  async get(key: string) {
    if (this.failReads) throw new Error(`${this.name} read exploded`);
    await this.gate;
    return this.inner.get(key);
  }
  async set(key: string, entry: CacheEntry) {
    if (this.failWrites) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    await this.setGates.shift();
    return this.inner.set(key, entry);
  }
  async delete(key: string) {
    if (this.failWrites) throw new Error('delete refused');
    return this.inner.delete(key);
  }
  async getTagManifest(): Promise<TagManifest> {
    if (this.failReads) throw new Error(`${this.name} manifest exploded`);
    return this.inner.getTagManifest();
  }
  async invalidateTags(tags: readonly string[], at: number) {
    if (this.failWrites) throw new Error('invalidate refused');
    return this.inner.invalidateTags(tags, at);
  }
  async close() {
    this.closed++;
  }
}

describe('TieredStore', () => {
  it('reads through the tiers and copies a lower hit into the writable tiers above it', async () => {
    const logger = createMemoryLogger();
    const buildDir = freshDir();
    await new FileSystemStore({ dir: buildDir }).set('page:/pre', makeEntry('page:/pre', { body: 'prerendered' }));
    const memory = new MemoryStore();
    const runtime = new FileSystemStore({ dir: freshDir() });
    const build = new FileSystemStore({ dir: buildDir, readOnly: true });
    const store = new TieredStore({ tiers: [{ store: memory }, { store: runtime }, { store: build }], logger });
    assert.equal(store.name, `tiered(memory > ${runtime.name} > ${build.name} (read-only))`);

    assert.equal(text(await store.get('page:/pre')), 'prerendered');
    assert.equal(text(memory.peek('page:/pre')), 'prerendered', 'memory is filled before get resolves');
    await store.flush();
    assert.equal(text(await runtime.get('page:/pre')), 'prerendered');
    assert.equal(await store.get('page:/missing'), undefined);
    assert.equal(store.durableWriteErrors, 0);
    assert.deepEqual(logger.lines, []);

    // a hit in the middle tier is copied to memory only
    await runtime.set('page:/rt', makeEntry('page:/rt', { body: 'runtime' }));
    assert.equal(text(await store.get('page:/rt')), 'runtime');
    assert.equal(text(memory.peek('page:/rt')), 'runtime');
    assert.equal(await build.get('page:/rt'), undefined);
  });

  it('serves entries written before a restart from the durable tier', async () => {
    const dir = freshDir();
    const first = new TieredStore({ tiers: [{ store: new MemoryStore() }, { store: new FileSystemStore({ dir }) }] });
    await first.set('page:/a', makeEntry('page:/a', { body: 'kept' }));
    await first.invalidateTags(['t'], 42);
    await first.close();

    const memory = new MemoryStore();
    const second = new TieredStore({ tiers: [{ store: memory }, { store: new FileSystemStore({ dir }) }] });
    assert.equal(memory.peek('page:/a'), undefined);
    assert.equal(text(await second.get('page:/a')), 'kept');
    assert.equal(text(memory.peek('page:/a')), 'kept');
    assert.deepEqual(await second.getTagManifest(), new Map([['t', 42]]));
  });

  it('writes and deletes in every writable tier and never in a read-only one', async () => {
    const a = new FakeStore('a');
    const b = new FakeStore('b');
    const frozen = new FakeStore('frozen');
    await frozen.inner.set('k', makeEntry('k', { body: 'frozen' }));
    const store = new TieredStore({ tiers: [{ store: a }, { store: b }, { store: frozen, readOnly: true }] });
    await store.set('k', makeEntry('k', { body: 'new' }));
    await store.invalidateTags(['t'], 7);
    assert.equal(text(a.inner.peek('k')), 'new');
    assert.equal(text(b.inner.peek('k')), 'new');
    assert.equal(text(frozen.inner.peek('k')), 'frozen');
    assert.deepEqual(await frozen.inner.getTagManifest(), new Map());
    assert.deepEqual(await b.inner.getTagManifest(), new Map([['t', 7]]));

    await store.delete('k');
    assert.equal(a.inner.peek('k'), undefined);
    assert.equal(b.inner.peek('k'), undefined);
    // documented: delete cannot hide what a read-only tier holds
    assert.equal(text(await store.get('k')), 'frozen');
  });

  it('keeps serving from memory when the durable tier cannot be written, logging once per streak', async () => {
    const parent = await makeTempDir('isr-tiered-unwritable-');
    try {
      await writeFile(join(parent, 'not-a-dir'), 'a regular file');
      const logger = createMemoryLogger();
      const memory = new MemoryStore();
      const disk = new FileSystemStore({ dir: join(parent, 'not-a-dir', 'cache') }); // mkdir fails: ENOTDIR
      const store = new TieredStore({ tiers: [{ store: memory }, { store: disk }], logger });

      for (let i = 0; i < 5; i++) await store.set(`page:/${i}`, makeEntry(`page:/${i}`, { body: `p${i}` }));
      // Not acknowledged: only the memory tier, which a restart forgets, took it; it still applies.
      await assert.rejects(store.invalidateTags(['blog'], 99), (error: unknown) => {
        assert.ok(error instanceof InvalidationNotRecordedError);
        assert.equal((error.cause as { code?: string }).code, 'ENOTDIR');
        return true;
      });
      await store.delete('page:/4'); // unlink of a missing path is not a failure

      for (let i = 0; i < 4; i++) assert.equal(text(await store.get(`page:/${i}`)), `p${i}`);
      assert.equal(await store.get('page:/4'), undefined);
      assert.deepEqual(await store.getTagManifest(), new Map([['blog', 99]]));

      assert.equal(store.durableWriteErrors, 6);
      assert.equal(store.lastDurableError?.store, disk.name);
      assert.equal(store.lastDurableError?.operation, 'invalidateTags');
      assert.equal((store.lastDurableError?.error as { code?: string } | undefined)?.code, 'ENOTDIR');
      const warnings = logger.lines.filter((l) => l.startsWith('warn'));
      assert.equal(warnings.length, 1, logger.lines.join('\n'));
      assert.ok(warnings[0]!.includes(disk.name), 'names the store');
      assert.match(warnings[0]!, /set "page:\/0" failed: ENOTDIR/, 'gives the cause');
      assert.deepEqual(await listFiles(parent), [join(parent, 'not-a-dir')], 'nothing written');
    } finally {
      await removeDir(parent);
    }
  });

  it('logs a new warning after a tier recovers and fails again', async () => {
    const logger = createMemoryLogger();
    const disk = new FakeStore('disk');
    const store = new TieredStore({ tiers: [{ store: new MemoryStore() }, { store: disk }], logger });
    disk.failWrites = true;
    await store.set('a', makeEntry('a'));
    await store.set('b', makeEntry('b'));
    disk.failWrites = false;
    await store.set('c', makeEntry('c'));
    disk.failWrites = true;
    await store.set('d', makeEntry('d'));
    assert.deepEqual(
      logger.lines.map((l) => l.split(':')[0]),
      ['warn disk', 'info disk', 'warn disk'],
    );
    assert.match(logger.lines[0]!, /set "a" failed: ENOSPC/);
    assert.match(logger.lines[1]!, /writes succeed again after 2 failure/);
    assert.equal(store.durableWriteErrors, 3);
    assert.equal(store.lastDurableError?.key, 'd');
  });

  it('rejects a write that no writable tier accepted', async () => {
    const a = new FakeStore('a');
    const b = new FakeStore('b');
    a.failWrites = b.failWrites = true;
    const logger = createMemoryLogger();
    const both = new TieredStore({ tiers: [{ store: a }, { store: b }], logger });
    await assert.rejects(both.set('k', makeEntry('k')), AggregateError);
    await assert.rejects(
      both.invalidateTags(['t'], 1),
      (error: unknown) => error instanceof InvalidationNotRecordedError && error.cause instanceof AggregateError,
    );
    await assert.rejects(both.delete('k'), AggregateError);
    assert.equal(both.durableWriteErrors, 6);

    const single = new TieredStore({ tiers: [{ store: a }, { store: new FakeStore('ro'), readOnly: true }], logger });
    await assert.rejects(single.set('k', makeEntry('k')), /ENOSPC/);

    const none = new TieredStore({ tiers: [{ store: new FakeStore('ro'), readOnly: true }], logger });
    await assert.rejects(none.set('k', makeEntry('k')), /no writable tier/);

    // an entry whose key differs from the key is a caller bug: every tier refuses it
    const memoryOnly = new TieredStore({ tiers: [{ store: new MemoryStore() }], logger });
    await assert.rejects(memoryOnly.set('a', makeEntry('b')), TypeError);
    await assert.rejects(memoryOnly.invalidateTags(['t'], NaN), TypeError);
  });

  it('merges the tag manifests of all tiers, keeping the latest time per tag', async () => {
    const logger = createMemoryLogger();
    const a = new FakeStore('a');
    const b = new FakeStore('b');
    const c = new FakeStore('c');
    const broken = new FakeStore('broken');
    await a.inner.invalidateTags(['x', 'y'], 10);
    await b.inner.invalidateTags(['y'], 30);
    await c.inner.invalidateTags(['x', 'z'], 20);
    broken.failReads = true;
    const store = new TieredStore({
      tiers: [{ store: a }, { store: broken }, { store: b }, { store: c, readOnly: true }],
      logger,
    });
    assert.deepEqual(
      await store.getTagManifest(),
      new Map([
        ['x', 20],
        ['y', 30],
        ['z', 20],
      ]),
    );
    assert.equal(logger.lines.length, 1);
    assert.match(logger.lines[0]!, /^warn broken: getTagManifest failed: broken manifest exploded/);

    a.failReads = b.failReads = c.failReads = true;
    await assert.rejects(store.getTagManifest(), AggregateError);
  });

  it('skips a tier whose get fails', async () => {
    const logger = createMemoryLogger();
    const broken = new FakeStore('broken');
    broken.failReads = true;
    const lower = new FakeStore('lower');
    await lower.inner.set('k', makeEntry('k', { body: 'lower' }));
    const store = new TieredStore({ tiers: [{ store: broken }, { store: lower }], logger });
    assert.equal(text(await store.get('k')), 'lower');
    assert.equal(text(await store.get('k')), 'lower');
    assert.equal(logger.lines.length, 1, 'logged once per streak');
    assert.match(logger.lines[0]!, /^warn broken: get failed: broken read exploded/);
  });

  it('does not let a slow read copy an older entry over a newer write', async () => {
    const memory = new MemoryStore();
    const slow = new FakeStore('slow');
    await slow.inner.set('k', makeEntry('k', { body: 'old', lastModified: 1 }));
    let open!: () => void;
    slow.gate = new Promise((resolve) => (open = resolve));
    const store = new TieredStore({ tiers: [{ store: memory }, { store: slow }] });

    const pendingRead = store.get('k'); // memory miss, waits in `slow`
    await new Promise((resolve) => setImmediate(resolve));
    await store.set('k', makeEntry('k', { body: 'new', lastModified: 2 }));
    // `slow` was written too; make it answer with the old entry it read before the write
    slow.inner.set('k', makeEntry('k', { body: 'old', lastModified: 1 }));
    open();
    assert.equal(text(await pendingRead), 'old', 'the read answers with what it found');
    await store.flush();
    assert.equal(text(memory.peek('k')), 'new', 'but memory keeps the newer entry');

    // without a racing write, the copy happens
    await memory.delete('k');
    assert.equal(text(await store.get('k')), 'old');
    assert.equal(text(memory.peek('k')), 'old');
  });

  it('makes a write wait for a copy-up of its key already under way', async () => {
    const memory = new MemoryStore();
    const middle = new FakeStore('middle');
    const bottom = new FakeStore('bottom');
    await bottom.inner.set('k', makeEntry('k', { body: 'old' }));
    let open!: () => void;
    middle.setGates = [new Promise((resolve) => (open = resolve))]; // only the copy-up is held
    const store = new TieredStore({
      tiers: [{ store: memory }, { store: middle }, { store: bottom, readOnly: true }],
    });
    assert.equal(text(await store.get('k')), 'old'); // copy-up into middle is now stuck
    const writing = store.set('k', makeEntry('k', { body: 'new' }));
    await new Promise((resolve) => setImmediate(resolve));
    open();
    await writing;
    await store.flush();
    assert.equal(text(middle.inner.peek('k')), 'new');
    assert.equal(text(memory.peek('k')), 'new');
  });

  it('does not copy up a key while a write of it is in progress', async () => {
    const middle = new FakeStore('middle');
    const bottom = new FakeStore('bottom');
    await bottom.inner.set('k', makeEntry('k', { body: 'old' }));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    middle.setGates = [gate, gate]; // the write, then (if it happened) the copy-up, in that order
    const store = new TieredStore({ tiers: [{ store: middle }, { store: bottom, readOnly: true }] });
    const writing = store.set('k', makeEntry('k', { body: 'new' }));
    assert.equal(text(await store.get('k')), 'old', 'the write has not landed yet');
    open();
    await writing;
    await store.flush();
    assert.equal(text(middle.inner.peek('k')), 'new');
  });

  it('counts failed copy-ups as durable write errors without failing the read', async () => {
    const logger = createMemoryLogger();
    const middle = new FakeStore('middle');
    middle.failWrites = true;
    const bottom = new FakeStore('bottom');
    await bottom.inner.set('k', makeEntry('k', { body: 'bottom' }));
    const memory = new MemoryStore();
    const store = new TieredStore({ tiers: [{ store: memory }, { store: middle }, { store: bottom }], logger });
    assert.equal(text(await store.get('k')), 'bottom');
    await store.flush();
    assert.equal(text(memory.peek('k')), 'bottom');
    assert.equal(store.durableWriteErrors, 1);
    assert.equal(store.lastDurableError?.operation, 'backfill');
    assert.match(logger.lines[0]!, /^warn middle: backfill "k" failed/);
  });

  it('closes every tier, after pending copy-ups', async () => {
    const a = new FakeStore('a');
    const b = new FakeStore('b');
    await b.inner.set('k', makeEntry('k'));
    const store = new TieredStore({ tiers: [{ store: a }, { store: b, readOnly: true }] });
    await store.get('k');
    await store.close();
    assert.equal(a.closed, 1);
    assert.equal(b.closed, 1);
    assert.ok(a.inner.peek('k'));
  });

  it('rejects an empty tier list', () => {
    assert.throws(() => new TieredStore({ tiers: [] }), TypeError);
  });
});
