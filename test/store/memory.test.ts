/** MemoryStore: the store contract, then its byte bound and least-recently-used eviction. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryLogger } from '../../src/log.ts';
import { ENTRY_OVERHEAD_BYTES, estimateEntrySize, MemoryStore } from '../../src/store/memory.ts';
import { testCacheStore } from './contract.ts';
import { makeEntry } from './helpers.ts';

testCacheStore('MemoryStore', { create: () => ({ open: () => new MemoryStore() }), durable: false });

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('MemoryStore', () => {
  it('gets, sets, overwrites and deletes', async () => {
    const store = new MemoryStore();
    assert.equal(await store.get('a'), undefined);
    const a1 = makeEntry('a', { body: 'one' });
    await store.set('a', a1);
    assert.equal(await store.get('a'), a1);
    assert.equal(store.peek('a'), a1);
    const a2 = makeEntry('a', { body: 'two!' });
    await store.set('a', a2);
    assert.equal(store.peek('a'), a2);
    assert.equal(store.size, 1);
    assert.equal(store.bytes, estimateEntrySize('a', a2));
    await store.delete('a');
    assert.equal(await store.get('a'), undefined);
    assert.equal(store.size, 0);
    assert.equal(store.bytes, 0);
    await store.delete('missing'); // no throw
  });

  it('charges body + overhead + key + header and tag strings', () => {
    const entry = makeEntry('key', { body: new Uint8Array(1000), tags: ['t1', 'tag2'], etag: '"e"' });
    entry.value.headers = { 'content-type': 'text/html' };
    assert.equal(estimateEntrySize('key', entry), ENTRY_OVERHEAD_BYTES + 1000 + 3 + 3 + 12 + 9 + 2 + 4);
  });

  it('never exceeds its byte bound across thousands of inserts', async () => {
    const maxBytes = 200_000;
    const store = new MemoryStore({ maxBytes });
    const random = prng(42);
    const live = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const key = `page:/p/${Math.floor(random() * 800)}`;
      const entry = makeEntry(key, { body: new Uint8Array(Math.floor(random() * 20_000)) });
      await store.set(key, entry);
      if (random() < 0.3) store.peek(`page:/p/${Math.floor(random() * 800)}`);
      if (random() < 0.05) await store.delete(`page:/p/${Math.floor(random() * 800)}`);
      assert.ok(store.bytes <= maxBytes, `after insert ${i}: ${store.bytes} > ${maxBytes}`);
      live.set(key, estimateEntrySize(key, entry));
    }
    // bytes is exactly the sum of what is still kept
    let sum = 0;
    let count = 0;
    for (const [key, size] of live) {
      if (store.peek(key) !== undefined) {
        sum += size;
        count++;
      }
    }
    assert.equal(store.bytes, sum);
    assert.equal(store.size, count);
    assert.ok(count > 5, 'keeps a reasonable number of entries');
  });

  it('evicts the least recently used entry (recency bumped by get, peek and set)', async () => {
    const body = new Uint8Array(1000);
    const size = estimateEntrySize('a', makeEntry('a', { body }));
    const store = new MemoryStore({ maxBytes: size * 3 });
    for (const key of ['a', 'b', 'c']) await store.set(key, makeEntry(key, { body }));
    assert.equal(store.size, 3);

    await store.get('a'); // order (old → new): b c a
    await store.set('d', makeEntry('d', { body })); // evicts b
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((k) => store.peek(k) !== undefined),
      [true, false, true, true],
    );
    // peek above bumped a, c, d in that order: next insert evicts a
    await store.set('e', makeEntry('e', { body }));
    assert.equal(store.peek('a'), undefined);
    assert.ok(store.peek('c') && store.peek('d') && store.peek('e'));
    // overwrite bumps: c becomes newest, so f evicts d
    await store.set('c', makeEntry('c', { body }));
    await store.set('f', makeEntry('f', { body }));
    assert.equal(store.peek('d'), undefined);
    assert.ok(store.peek('c') && store.peek('e') && store.peek('f'));
  });

  it('does not keep an entry larger than the bound, and drops the old one under that key', async () => {
    const logger = createMemoryLogger();
    const store = new MemoryStore({ maxBytes: 10_000, logger });
    await store.set('small', makeEntry('small'));
    await store.set('big', makeEntry('big', { body: 'x' }));
    await store.set('big', makeEntry('big', { body: new Uint8Array(10_000) }));
    assert.equal(store.peek('big'), undefined, 'neither the big entry nor the stale small one');
    assert.ok(store.peek('small'), 'other entries are not evicted for it');
    assert.ok(store.bytes <= 10_000);
    assert.ok(logger.lines.some((l) => l.startsWith('debug memory: not keeping "big"')));
  });

  it('rejects an entry whose key differs from the key it is stored under', async () => {
    const store = new MemoryStore();
    await assert.rejects(store.set('a', makeEntry('b')), TypeError);
    assert.equal(store.size, 0);
  });

  it('validates maxBytes', () => {
    for (const maxBytes of [0, -1, 1.5, NaN, Infinity]) {
      assert.throws(() => new MemoryStore({ maxBytes }), RangeError);
    }
    assert.equal(new MemoryStore().maxBytes, 50 * 1024 * 1024);
  });
});
