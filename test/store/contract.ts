/**
 * The store contract: one suite that every `CacheStore` runs, in the spirit of unstorage's
 * `testDriver()` (https://github.com/unjs/unstorage, `test/drivers/utils.ts`). Each store's own
 * test file calls {@link testCacheStore} and keeps only what is particular to that store.
 *
 * What it asserts is what `src/store/store.ts` documents on `CacheStore` and `SharedStore`:
 *
 * - every store: `get` of a missing key is undefined; `set`/`get` round-trips an entry bytes for
 *   bytes; keys are data; a later (or equally recent) `set` replaces; `delete`; a `set` under
 *   another key is refused; the tag manifest keeps the latest time per tag and refuses bad input;
 *   `close` twice;
 * - `durable` stores: an instance opened after another closed reads its entries and invalidations;
 * - `readOnly` stores: every write rejects and changes nothing (they are filled through a writable
 *   instance on the same backing);
 * - `shared` stores (`SharedStore`), with two instances on one backing at once: what one stores
 *   the other reads; `subscribe` delivers the other's `set`, `delete` and `invalidate`; `lock` is
 *   exclusive until released or expired; an older `lastModified` never replaces a newer one.
 *
 * Times are taken a minute before the wall clock (a Redis refuses entries from the future) and
 * entries expire a year after it (Redis drops expired ones).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type CacheEntry, type CacheStore, isSharedStore, type SharedStore, type StoreEvent } from '../../src/store/store.ts';
import { makeEntry } from './helpers.ts';

/** One backing (a memory store's nothing, a folder, a Redis key prefix, a hub and its folder) for one test. */
export interface StoreFixture {
  /** A new instance on this fixture's backing; each call opens another one. */
  open(): CacheStore | Promise<CacheStore>;
  /** `readOnly` stores only: a writable instance on the same backing, through which the suite fills it. */
  writer?(): CacheStore | Promise<CacheStore>;
  /** Removes the backing (temp folder, Redis keys). Called once every instance opened was closed. */
  cleanup?(): Promise<void>;
}

export interface CacheStoreContractOptions {
  /** A fresh, empty backing; called once per test. */
  create(): StoreFixture | Promise<StoreFixture>;
  /**
   * The store's contents outlive the instance: one opened after another closed reads what it
   * stored (`CacheStore.durable` is not false). Default true; false for the memory tier.
   */
  durable?: boolean;
  /** Every write rejects (`CacheStore.readOnly`); the fixture has `writer`. Default false. */
  readOnly?: boolean;
  /** The store is a SharedStore: run its contract too (`isSharedStore`). Default false. */
  shared?: boolean;
}

/** A minute ago on the wall clock, in ms: the base of every time the suite stores. */
const past = () => Date.now() - 60_000;

/** A valid entry under `key` (a page, body `body`), generated at `lastModified` ms. */
function entry(
  key: string,
  lastModified: number,
  body: string | Uint8Array = `<p>${key}</p>`,
  overrides: Partial<CacheEntry> = {},
): CacheEntry {
  return {
    ...makeEntry(key, {
      body,
      lastModified,
      tags: ['_N_T_/layout', `_N_T_/${encodeURIComponent(key)}`],
      expire: 365 * 24 * 3600,
      etag: '"e-1"',
    }),
    ...overrides,
  };
}

const text = (found: CacheEntry | undefined) => (found === undefined ? undefined : Buffer.from(found.value.body).toString());

/** Asserts `actual` is `expected`: every field equal, `body` and `data` the same bytes. */
function assertSameEntry(actual: CacheEntry | undefined, expected: CacheEntry, what: string): void {
  assert.ok(actual, `${what}: expected an entry`);
  const fields = (e: CacheEntry) => ({ ...e, value: { ...e.value, body: null, data: null } });
  assert.deepEqual(fields(actual), fields(expected), what);
  assert.ok(Buffer.from(actual.value.body).equals(Buffer.from(expected.value.body)), `${what}: body bytes`);
  assert.equal(actual.value.data === undefined, expected.value.data === undefined, `${what}: data present`);
  if (expected.value.data !== undefined) {
    assert.ok(Buffer.from(actual.value.data!).equals(Buffer.from(expected.value.data)), `${what}: data bytes`);
  }
}

/** Polls `check` every 10 ms until it holds; fails naming `what` after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

/** What a test gets: instances on its backing, closed (and the backing removed) after it. */
interface Context {
  /** A new instance on the test's backing. */
  open(): Promise<CacheStore>;
  /** Where the test writes what `store` must read: `store` itself, or the fixture's writer when read-only. */
  writerFor(store: CacheStore): Promise<CacheStore>;
}

/**
 * Registers the contract of `CacheStore` (and of `SharedStore` when `options.shared`) as a
 * `describe(name)` block of node:test tests. Each test opens what it needs from a fresh
 * `options.create()` backing and closes it afterwards.
 */
export function testCacheStore(name: string, options: CacheStoreContractOptions): void {
  const durable = options.durable ?? true;
  const readOnly = options.readOnly ?? false;
  const shared = options.shared ?? false;

  const test = (title: string, body: (context: Context) => Promise<void>) =>
    it(title, async () => {
      const fixture = await options.create();
      const opened: CacheStore[] = [];
      const track = (store: CacheStore) => {
        opened.push(store);
        return store;
      };
      const context: Context = {
        open: async () => track(await fixture.open()),
        writerFor: async (store) => {
          if (!readOnly) return store;
          assert.ok(fixture.writer, `${name}: a read-only store's fixture needs writer()`);
          return track(await fixture.writer());
        },
      };
      try {
        await body(context);
      } finally {
        await Promise.all(opened.map((store) => store.close?.().catch(() => {})));
        await fixture.cleanup?.();
      }
    });

  describe(`${name}: the CacheStore contract`, () => {
    test('declares what it is: a name, and durable, readOnly and shared as the suite was told', async ({ open }) => {
      const store = await open();
      assert.equal(typeof store.name, 'string');
      assert.ok(store.name.length > 0);
      assert.equal(store.durable !== false, durable, 'CacheStore.durable');
      assert.equal(store.readOnly === true, readOnly, 'CacheStore.readOnly');
      assert.equal(isSharedStore(store), shared, 'isSharedStore');
    });

    test('get of a key never stored is undefined', async ({ open }) => {
      const store = await open();
      assert.equal(await store.get('page:/never'), undefined);
      assert.equal(await store.get(''), undefined);
    });

    test('set then get returns the entry: every field, the body and data bytes for bytes', async ({ open, writerFor }) => {
      const store = await open();
      const writer = await writerFor(store);
      const t = past();
      const entries: CacheEntry[] = [
        entry(
          'page:/binary',
          t + 0.25,
          Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) % 256),
        ),
        entry('page:/forever', t, 'x', { revalidate: false, expire: Infinity, tags: [] }),
        entry('page:/empty', t + 1, new Uint8Array(0), { revalidate: 0 }),
        {
          ...entry('page:/blog/[slug]', t + 2.5),
          value: {
            kind: 'page',
            status: 200,
            headers: { 'content-type': 'text/html; charset=utf-8', 'x-powered-by': 'isr' },
            body: new TextEncoder().encode('<h1>é</h1>'),
            data: new TextEncoder().encode('{"pageProps":{"slug":"é"}}'),
          },
        },
        {
          ...entry('route:/api/ü', t + 3, '', { revalidate: 2.5, etag: '"r-2"' }),
          value: {
            kind: 'route',
            status: 404,
            headers: { 'content-type': 'application/json', 'cache-tag': 'a b' },
            body: new TextEncoder().encode('{"error":"none"}'),
          },
        },
        {
          ...entry('fetch:0123abcd', t + 4),
          value: { kind: 'fetch', status: 200, headers: {}, body: new TextEncoder().encode('[1,2,3]') },
        },
        { ...entry('function:f', t + 5), value: { kind: 'function', status: 200, headers: {}, body: new TextEncoder().encode('null') } },
      ];
      for (const stored of entries) await writer.set(stored.key, stored);
      for (const stored of entries) assertSameEntry(await store.get(stored.key), stored, stored.key);
    });

    test('keys are data: every string is its own entry, and none reaches outside the store', async ({ open, writerFor }) => {
      const store = await open();
      const writer = await writerFor(store);
      const keys = [
        'page:/a',
        'page:/A',
        'page:/a/',
        'page:/a?b',
        '../../etc/passwd',
        '..',
        'a\0b',
        'e:page:/a',
        'lock:page:/a',
        'tags',
        'tags.json',
        'é',
        '😀',
        ' ',
        'x'.repeat(3000),
      ];
      const t = past();
      for (const [i, key] of keys.entries()) await writer.set(key, entry(key, t + i, `body ${i}`));
      for (const [i, key] of keys.entries()) assert.equal(text(await store.get(key)), `body ${i}`, JSON.stringify(key.slice(0, 40)));
    });

    test('a later set replaces the entry, and so does one with the same lastModified', async ({ open, writerFor }) => {
      const store = await open();
      const writer = await writerFor(store);
      const t = past();
      await writer.set('k', entry('k', t, 'first'));
      await writer.set('k', entry('k', t + 1000.5, 'second'));
      assert.equal(text(await store.get('k')), 'second');
      await writer.set('k', entry('k', t + 1000.5, 'same time'));
      assert.equal(text(await store.get('k')), 'same time');
      assert.equal((await store.get('k'))?.lastModified, t + 1000.5);
    });

    test('delete removes the entry; deleting a missing key resolves', async ({ open, writerFor }) => {
      const store = await open();
      const writer = await writerFor(store);
      await writer.set('k', entry('k', past()));
      await writer.set('other', entry('other', past()));
      await writer.delete('k');
      assert.equal(await store.get('k'), undefined);
      assert.equal(text(await store.get('other')), '<p>other</p>', 'other keys are untouched');
      await writer.delete('k');
      await writer.delete('never-stored');
    });

    test('the tag manifest: empty at first, the latest time per tag, no tags is nothing, a copy for the caller', async ({
      open,
      writerFor,
    }) => {
      const store = await open();
      const writer = await writerFor(store);
      assert.deepEqual(await store.getTagManifest(), new Map());
      const t = past();
      await writer.invalidateTags(['a', 'b'], t + 100.5);
      await writer.invalidateTags(['a'], t + 50); // earlier: a keeps t + 100.5
      await writer.invalidateTags(['b', 'c', '_N_T_/blog/é'], t + 200.25);
      await writer.invalidateTags([], t + 999);
      const expected = new Map([
        ['a', t + 100.5],
        ['b', t + 200.25],
        ['c', t + 200.25],
        ['_N_T_/blog/é', t + 200.25],
      ]);
      const manifest = await store.getTagManifest();
      assert.deepEqual(manifest, expected);
      manifest.set('a', 0);
      manifest.delete('b');
      assert.deepEqual(await store.getTagManifest(), expected, 'changing the returned map changes nothing stored');
    });

    test('close may be called twice', async ({ open }) => {
      const store = await open();
      await store.close?.();
      await store.close?.();
    });

    if (readOnly) {
      test('every write rejects and changes nothing', async ({ open, writerFor }) => {
        const store = await open();
        const writer = await writerFor(store);
        const t = past();
        await writer.set('k', entry('k', t, 'kept'));
        await writer.invalidateTags(['t'], t);
        for (const write of [
          () => store.set('k', entry('k', t + 1, 'new')),
          () => store.set('new', entry('new', t)),
          () => store.delete('k'),
          () => store.invalidateTags(['t', 'u'], t + 1),
        ]) {
          await assert.rejects(write());
        }
        assert.equal(text(await store.get('k')), 'kept');
        assert.equal(await store.get('new'), undefined);
        assert.deepEqual(await store.getTagManifest(), new Map([['t', t]]));
      });
    } else {
      test('set of an entry whose key differs from the key it is stored under rejects and stores nothing', async ({ open }) => {
        const store = await open();
        await assert.rejects(store.set('a', entry('b', past())));
        assert.equal(await store.get('a'), undefined);
        assert.equal(await store.get('b'), undefined);
      });

      test('invalidateTags rejects a bad time or tag with TypeError, recording nothing', async ({ open }) => {
        const store = await open();
        const t = past();
        await store.invalidateTags(['a'], t);
        await assert.rejects(store.invalidateTags(['a', 'b'], NaN), TypeError);
        await assert.rejects(store.invalidateTags(['a', 'b'], Infinity), TypeError);
        await assert.rejects(store.invalidateTags(['a', 'b'], '1' as unknown as number), TypeError);
        await assert.rejects(store.invalidateTags(['b', 7 as unknown as string], t + 1), TypeError);
        assert.deepEqual(await store.getTagManifest(), new Map([['a', t]]));
      });
    }

    if (durable) {
      test('durable: an instance opened after this one closed reads its entries and tag invalidations', async ({ open, writerFor }) => {
        const first = await open();
        const writer = await writerFor(first);
        const t = past();
        const stored = entry('page:/kept', t + 0.5, 'kept');
        await writer.set(stored.key, stored);
        await writer.set('page:/gone', entry('page:/gone', t));
        await writer.delete('page:/gone');
        await writer.invalidateTags(['blog'], t + 1.5);
        await writer.close?.();
        await first.close?.();
        const second = await open();
        assertSameEntry(await second.get(stored.key), stored, 'after reopening');
        assert.equal(await second.get('page:/gone'), undefined);
        assert.deepEqual(await second.getTagManifest(), new Map([['blog', t + 1.5]]));
      });
    }
  });

  if (!shared) return;

  describe(`${name}: the SharedStore contract`, () => {
    /** Two instances on one backing, each a SharedStore. */
    const pair = async (open: Context['open']): Promise<[SharedStore, SharedStore]> => {
      const [a, b] = [await open(), await open()];
      assert.ok(isSharedStore(a) && isSharedStore(b), 'both instances are SharedStores');
      return [a, b];
    };

    /**
     * Subscribes to `store`, keeping the events other than `resync`, and resolves once `from`'s
     * events reach it (probes: deletes of a key of its own, repeated until one arrives).
     */
    const listen = async (store: SharedStore, from: SharedStore): Promise<{ events: StoreEvent[]; unsubscribe(): void }> => {
      const events: StoreEvent[] = [];
      const probe = `probe:${Math.random()}`;
      const unsubscribe = store.subscribe((event) => {
        if (event.type !== 'resync') events.push(event);
      });
      await waitFor('the subscription to receive the other instance’s events', async () => {
        await from.delete(probe);
        await delay(10);
        return events.some((event) => event.type === 'delete' && event.key === probe);
      });
      events.length = 0;
      return { events, unsubscribe };
    };

    /** The events about `key` or the tag `tag`, in the order they arrived. */
    const about = (events: StoreEvent[], key: string, tag?: string) =>
      events.filter(
        (event) => ('key' in event && event.key === key) || (tag !== undefined && event.type === 'invalidate' && event.tags.includes(tag)),
      );

    /** `key` as an instance reads the shared generation (past per-process copies: `getShared`). */
    const readShared = (store: CacheStore, key: string) => (store.getShared ? store.getShared(key) : store.get(key));

    test('what one instance stores, deletes or invalidates, the others read at once', async ({ open }) => {
      const [a, b] = await pair(open);
      const t = past();
      const stored = entry('page:/shared', t + 0.5, 'from a');
      await a.set(stored.key, stored);
      assertSameEntry(await b.get(stored.key), stored, 'read by b');
      await a.invalidateTags(['posts'], t + 2);
      assert.equal((await b.getTagManifest()).get('posts'), t + 2);
      await b.delete(stored.key);
      assert.equal(await (await open()).get(stored.key), undefined, 'deleted for an instance opened since');
    });

    test("subscribe receives another instance's set, delete and invalidate, in order; unsubscribing stops them", async ({ open }) => {
      const [a, b] = await pair(open);
      const first = await listen(b, a);
      const second = await listen(b, a);
      const t = past();
      await a.set('page:/p', entry('page:/p', t + 0.5));
      await a.delete('page:/p');
      await a.invalidateTags(['blog', 'x'], t + 1.25);
      const expected: StoreEvent[] = [
        { type: 'set', key: 'page:/p', lastModified: t + 0.5 },
        { type: 'delete', key: 'page:/p' },
        { type: 'invalidate', tags: ['blog', 'x'], at: t + 1.25 },
      ];
      await waitFor('the three events', () => about(first.events, 'page:/p', 'blog').length >= 3);
      assert.deepEqual(about(first.events, 'page:/p', 'blog'), expected);

      first.unsubscribe();
      await a.delete('page:/after');
      await waitFor('the delete at the other listener', () => about(second.events, 'page:/after').length === 1);
      assert.deepEqual(about(first.events, 'page:/after'), [], 'no event after unsubscribing');
      second.unsubscribe();
    });

    test('lock is exclusive until released: per key, not re-entrant; release announces unlock and frees it; twice is harmless', async ({
      open,
    }) => {
      const [a, b] = await pair(open);
      const heard = await listen(b, a);
      const lease = await a.lock('page:/x', 10_000);
      assert.ok(lease, 'a takes the free lock');
      assert.equal(await b.lock('page:/x', 10_000), undefined, 'held: b does not get it');
      assert.equal(await a.lock('page:/x', 10_000), undefined, 'held: not even by its holder (not re-entrant)');
      const other = await b.lock('page:/y', 10_000);
      assert.ok(other, 'locks are per key');
      await lease.release();
      await lease.release();
      await waitFor('the unlock event', () => about(heard.events, 'page:/x').length > 0);
      assert.deepEqual(about(heard.events, 'page:/x'), [{ type: 'unlock', key: 'page:/x' }]);
      const next = await b.lock('page:/x', 10_000);
      assert.ok(next, 'released: b gets it');
      await Promise.all([next.release(), other.release()]);
    });

    test('lock expires after its ttl; the late release of the expired holder does not free the next one', async ({ open }) => {
      const [a, b] = await pair(open);
      const expired = await a.lock('page:/x', 100);
      assert.ok(expired);
      assert.equal(await b.lock('page:/x', 10_000), undefined);
      await delay(250);
      const taken = await b.lock('page:/x', 10_000);
      assert.ok(taken, 'after the ttl, another instance takes it');
      await expired.release();
      assert.equal(await a.lock('page:/x', 10_000), undefined, "b's lock still holds");
      await taken.release();
      assert.ok(await a.lock('page:/x', 10_000));
    });

    test('lock rejects a ttl that is not a positive number of ms', async ({ open }) => {
      const [a] = await pair(open);
      for (const ttl of [0, -1, NaN]) await assert.rejects(a.lock('page:/x', ttl), `ttl ${ttl}`);
    });

    test('compare-and-set: a set with an older lastModified neither replaces a newer entry nor is announced', async ({ open }) => {
      const [a, b] = await pair(open);
      const heard = await listen(a, b);
      const t = past();
      await a.set('k', entry('k', t + 2000, 'newer'));
      await b.set('k', entry('k', t + 1999.5, 'older, late'));
      for (const [who, store] of [
        ['a', a],
        ['b', b],
        ['a third instance', await open()],
      ] as const) {
        assert.equal(text(await readShared(store, 'k')), 'newer', `${who} reads the newer generation`);
      }
      await b.delete('page:/sentinel'); // once a hears this, it has heard everything b announced before
      await waitFor('the sentinel', () => about(heard.events, 'page:/sentinel').length === 1);
      assert.deepEqual(
        about(heard.events, 'k').filter((event) => event.type === 'set' && event.lastModified !== t + 2000),
        [],
        'the refused set was not announced',
      );
      await b.set('k', entry('k', t + 2000, 'same time'));
      assert.equal(text(await (await open()).get('k')), 'same time', 'an equal lastModified replaces');
      await b.set('k', entry('k', t + 2000.001, 'later'));
      assert.equal(text(await readShared(a, 'k')), 'later');
      await a.delete('k');
      await b.set('k', entry('k', t, 'after a delete'));
      assert.equal(text(await readShared(a, 'k')), 'after a delete', 'after a delete any generation may be stored');
    });
  });
}
