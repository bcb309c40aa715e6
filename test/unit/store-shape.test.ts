/**
 * A store handed to isr is checked at the boundary (`assertCacheStore`): an embedder's store that
 * lacks a method, or that has `lock`/`subscribe` without declaring `shared: true`, fails at once
 * with a message naming it, instead of silently not coordinating the instances.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IsrEngine } from '../../src/engine/engine.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { TieredStore } from '../../src/store/tiered.ts';

/** A store an embedder might write: a MemoryStore's methods plus `extra`. */
function customStore(extra: Record<string, unknown>): unknown {
  const inner = new MemoryStore();
  return {
    name: 'custom',
    get: inner.get.bind(inner),
    set: inner.set.bind(inner),
    delete: inner.delete.bind(inner),
    getTagManifest: inner.getTagManifest.bind(inner),
    invalidateTags: inner.invalidateTags.bind(inner),
    ...extra,
  };
}

describe('the shape of a store (assertCacheStore)', () => {
  test('a store with lock() and subscribe() but no shared: true is refused by the engine and by TieredStore, naming it', () => {
    const store = customStore({ lock: async () => undefined, subscribe: () => () => {} });
    assert.throws(() => new IsrEngine({ store: store as never }), {
      name: 'TypeError',
      message: /^IsrEngine: store custom has lock\(\) or subscribe\(\) but does not declare shared: true/,
    });
    assert.throws(() => new TieredStore({ tiers: [{ store: new MemoryStore() }, { store: store as never }] }), {
      name: 'TypeError',
      message: /^TieredStore tier 1: store custom has lock\(\) or subscribe\(\)/,
    });
  });

  test('shared: true without lock() or subscribe() is refused', () => {
    assert.throws(() => new IsrEngine({ store: customStore({ shared: true, subscribe: () => () => {} }) as never }), {
      message: /store custom declares shared: true but lacks lock\(\) or subscribe\(\)/,
    });
  });

  test('a store without one of the required methods is refused, naming the method', () => {
    const store = customStore({}) as Record<string, unknown>;
    delete store.getTagManifest;
    assert.throws(() => new IsrEngine({ store: store as never }), { message: /store custom has no getTagManifest\(\)/ });
    assert.throws(() => new IsrEngine({ store: undefined as never }), { message: /IsrEngine: the store must be an object/ });
  });

  test('a complete store, and one declaring shared: true with both methods, are accepted', () => {
    assert.ok(new IsrEngine({ store: customStore({}) as never }));
    const shared = customStore({ shared: true, lock: async () => undefined, subscribe: () => () => {} });
    assert.ok(new TieredStore({ tiers: [{ store: new MemoryStore() }, { store: shared as never }] }).shared);
  });
});
