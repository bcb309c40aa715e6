/**
 * Rule 6 (cache shielding, synchronized purges) with two engines — two instances — sharing one
 * store through an in-process CoordinationHub: the same hub `isr start --workers` runs in its
 * primary, linked directly instead of over IPC. Each engine has its own memory tier in front.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinatedStore, DirectHubLink } from '../../src/cluster/coordinated-store.ts';
import { CoordinationHub } from '../../src/cluster/hub.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { type Generated, IsrEngine } from '../../src/engine/engine.ts';
import { implicitTags } from '../../src/engine/tags.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import type { CacheStore, Lease, SharedStore } from '../../src/store/store.ts';
import { TieredStore } from '../../src/store/tiered.ts';

const text = (body: Uint8Array) => new TextDecoder().decode(body);

/** The content both instances render; counts renders across the cluster. */
function origin(initial: string) {
  const state = { value: initial, calls: 0, fail: false, gate: undefined as Promise<void> | undefined };
  const generate = async (): Promise<Generated> => {
    state.calls++;
    const read = state.value;
    if (state.gate) await state.gate;
    if (state.fail) throw new Error('content API answered 500');
    return {
      value: { kind: 'page', status: 200, headers: { 'content-type': 'text/html' }, body: new TextEncoder().encode(read) },
      tags: ['posts', ...implicitTags('/blog/1', '/blog/[id]')],
      revalidate: 60,
    };
  };
  return { state, generate };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Two instances on one shared store; `wrap` may change the shared tier an instance sees. */
async function cluster(options: { lockTimeout?: number; wrap?: (store: SharedStore, index: number) => CacheStore } = {}) {
  const clock = new ManualClock(1_800_000_000_000);
  const shared = new MemoryStore();
  // Locks expire on wall time (the engines' waits are wall time too); the hub records invalidations in the shared store.
  const hub = new CoordinationHub({ tagStore: shared });
  const instances = await Promise.all(
    [0, 1].map(async (index) => {
      const logger = createMemoryLogger();
      const coordinated = new CoordinatedStore({ inner: shared, link: new DirectHubLink(hub) });
      const sharedTier = options.wrap?.(coordinated, index) ?? coordinated;
      const local = new MemoryStore();
      const store = new TieredStore({ tiers: [{ store: local }, { store: sharedTier }], logger });
      const engine = new IsrEngine({ store, clock, logger, lockTimeout: options.lockTimeout ?? 5 });
      await engine.init();
      return { engine, store, local, logger };
    }),
  );
  return { clock, hub, shared, a: instances[0]!, b: instances[1]! };
}

describe('rule 6: one regeneration per page across instances (cache shielding)', () => {
  test('a MISS on two instances at once renders once; the other waits and serves that result', async () => {
    const { a, b } = await cluster();
    const { state, generate } = origin('v1');
    const gate = deferred();
    state.gate = gate.promise;
    const first = a.engine.serve('page:/blog/1', generate);
    await sleep(5);
    const second = b.engine.serve('page:/blog/1', generate);
    await sleep(5);
    gate.resolve();
    const [x, y] = await Promise.all([first, second]);
    assert.equal(state.calls, 1, 'one render across the two instances');
    assert.deepEqual([text(x.entry.value.body), text(y.entry.value.body)], ['v1', 'v1']);
    assert.equal(x.entry.etag, y.entry.etag);
  });

  test('a stale page on two instances regenerates once; both keep serving stale meanwhile, then the new page', async () => {
    const { a, b, clock } = await cluster();
    const { state, generate } = origin('v1');
    await a.engine.serve('page:/blog/1', generate);
    assert.equal((await b.engine.serve('page:/blog/1', generate)).state, 'HIT', 'b reads what a stored');
    assert.equal(state.calls, 1);
    clock.advanceSeconds(61);
    state.value = 'v2';
    const gate = deferred();
    state.gate = gate.promise;
    const stale = await Promise.all([a.engine.serve('page:/blog/1', generate), b.engine.serve('page:/blog/1', generate)]);
    assert.deepEqual(
      stale.map((s) => [s.state, text(s.entry.value.body)]),
      [
        ['STALE', 'v1'],
        ['STALE', 'v1'],
      ],
    );
    await sleep(20);
    assert.equal(state.calls, 2, 'exactly one regeneration started');
    gate.resolve();
    await Promise.all([a.engine.flush(), b.engine.flush()]);
    for (const instance of [a, b]) {
      const served = await instance.engine.serve('page:/blog/1', generate);
      assert.deepEqual([served.state, text(served.entry.value.body)], ['HIT', 'v2']);
    }
    assert.equal(state.calls, 2);
  });

  test('the waiting instance adopts the result at once, woken by the set event (not after a 200 ms poll)', async () => {
    const { a, b } = await cluster();
    const delays: number[] = [];
    for (let trial = 0; trial < 5; trial++) {
      const key = `page:/blog/${trial}`;
      const slow = origin('v1');
      const gate = deferred();
      slow.state.gate = gate.promise;
      const holder = a.engine.serve(key, slow.generate);
      await sleep(5);
      let woken = 0;
      const waiter = b.engine.serve(key, origin('v1').generate).then(() => (woken = performance.now()));
      await sleep(10);
      const released = performance.now();
      gate.resolve();
      await Promise.all([holder, waiter]);
      delays.push(woken - released);
    }
    // A poll would wake a waiter anywhere from 0 to 200 ms later: five wake-ups all this quick are the event.
    assert.ok(Math.max(...delays) < 60, `woken ${delays.map((d) => d.toFixed(1)).join(', ')} ms after the holder finished`);
  });

  test("the holder's result arriving while the waiter is still asking for the lock wakes it (no lost wake-up)", async () => {
    let onHeld: (() => Promise<void>) | undefined;
    const { a, b } = await cluster({
      wrap: (store, index) =>
        index === 0
          ? store
          : Object.assign(Object.create(store) as CacheStore, {
              subscribe: store.subscribe.bind(store),
              lock: async (key: string, ttlMs: number): Promise<Lease | undefined> => {
                const lease = await store.lock(key, ttlMs);
                if (lease === undefined) await onHeld?.(); // the holder stores and unlocks meanwhile
                return lease;
              },
            }),
    });
    const slow = origin('v1');
    const gate = deferred();
    slow.state.gate = gate.promise;
    const holder = a.engine.serve('page:/blog/1', slow.generate);
    await sleep(5);
    onHeld = async () => {
      onHeld = undefined;
      gate.resolve();
      await holder;
    };
    const started = performance.now();
    const served = await b.engine.serve('page:/blog/1', origin('other').generate);
    const elapsed = performance.now() - started;
    assert.equal(text(served.entry.value.body), 'v1', "b adopted a's result");
    assert.ok(elapsed < 100, `b answered ${elapsed.toFixed(1)} ms later (a lost wake-up waits for the 200 ms poll)`);
  });

  test('a result that went stale while it rendered (render longer than the window) is adopted, not rendered again', async () => {
    const { a, b, clock } = await cluster();
    const slow = origin('v1');
    const gate = deferred();
    slow.state.gate = gate.promise;
    const holder = a.engine.serve('page:/blog/1', slow.generate);
    await sleep(5);
    const other = origin('v1');
    const waiter = b.engine.serve('page:/blog/1', other.generate);
    await sleep(5);
    clock.advanceSeconds(61); // the 60-second window passes while the page renders
    gate.resolve();
    const [x, y] = await Promise.all([holder, waiter]);
    assert.equal(slow.state.calls + other.state.calls, 1, 'one render across the two instances');
    assert.equal(x.entry.etag, y.entry.etag);
  });

  test('a holder whose render fails releases the lock; a waiter then renders itself (no stale copy to fall back on)', async () => {
    const { a, b } = await cluster();
    const failing = origin('v1');
    failing.state.fail = true;
    const gate = deferred();
    failing.state.gate = gate.promise;
    const working = origin('v1 from b');
    const holder = a.engine.serve('page:/blog/1', failing.generate).catch((error: Error) => error);
    await sleep(5);
    const waiter = b.engine.serve('page:/blog/1', working.generate);
    await sleep(5);
    gate.resolve();
    assert.ok((await holder) instanceof Error);
    const served = await waiter;
    assert.deepEqual([served.state, text(served.entry.value.body)], ['MISS', 'v1 from b']);
    assert.equal(working.state.calls, 1);
  });

  test('a holder that hangs past lockTimeout: the waiter renders itself, and the late result does not replace the newer one', async () => {
    const { a, b, shared, clock } = await cluster({ lockTimeout: 0.15 });
    const hanging = origin('old data');
    const gate = deferred();
    hanging.state.gate = gate.promise;
    const holder = a.engine.serve('page:/blog/1', hanging.generate);
    await sleep(5);
    clock.advance(100); // b's render starts after a's (the injected clock only moves when told)
    const fresh = origin('new data');
    const started = performance.now();
    const waited = await b.engine.serve('page:/blog/1', fresh.generate);
    const elapsed = performance.now() - started;
    assert.equal(text(waited.entry.value.body), 'new data');
    assert.ok(elapsed >= 140 && elapsed < 1000, `rendered itself after ${elapsed.toFixed(0)} ms (lockTimeout 150 ms)`);
    gate.resolve(); // the expired holder finishes with data read before b's render started
    await holder;
    await a.engine.flush();
    const stored = await shared.get('page:/blog/1');
    assert.equal(text(stored!.value.body), 'new data', 'compare-and-set: the older generation did not overwrite the newer');
  });

  test('when the lock cannot be taken (store unreachable), the instance regenerates on its own', async () => {
    const { a } = await cluster({
      wrap: (store) =>
        Object.assign(Object.create(store) as CacheStore, {
          subscribe: store.subscribe.bind(store),
          lock: (): Promise<Lease | undefined> => Promise.reject(new Error('hub unreachable')),
        }),
    });
    const { state, generate } = origin('v1');
    const served = await a.engine.serve('page:/blog/1', generate);
    assert.deepEqual([served.state, text(served.entry.value.body), state.calls], ['MISS', 'v1', 1]);
  });
});

describe('rule 6: synchronized purges', () => {
  test('a revalidateTag on one instance applies on the other at once: its fresh memory copy is no longer served', async () => {
    const { a, b } = await cluster();
    const { state, generate } = origin('v1');
    await a.engine.serve('page:/blog/1', generate);
    assert.equal((await b.engine.serve('page:/blog/1', generate)).state, 'HIT');
    assert.ok(b.engine.peekFresh('page:/blog/1'), 'b holds it fresh in memory');
    state.value = 'v2';
    await a.engine.invalidateTagsDurably(['posts']);
    assert.equal(b.engine.peekFresh('page:/blog/1'), undefined, 'b stopped serving the old page when the invalidation arrived');
    const [x, y] = await Promise.all([a.engine.serve('page:/blog/1', generate), b.engine.serve('page:/blog/1', generate)]);
    assert.deepEqual([text(x.entry.value.body), text(y.entry.value.body)], ['v2', 'v2']);
    assert.equal(state.calls, 2, 'one regeneration after the purge, across both instances');
  });

  test("a newer generation stored by one instance drops the other's older memory copy", async () => {
    const { a, b, clock } = await cluster();
    const { state, generate } = origin('v1');
    await a.engine.serve('page:/blog/1', generate);
    await b.engine.serve('page:/blog/1', generate);
    assert.ok(b.local.peek('page:/blog/1'));
    clock.advanceSeconds(1);
    state.value = 'v2';
    await a.engine.regenerate('page:/blog/1', generate);
    assert.equal(b.local.peek('page:/blog/1'), undefined, "b's older copy is gone");
    const served = await b.engine.serve('page:/blog/1', generate);
    assert.deepEqual([served.state, text(served.entry.value.body)], ['HIT', 'v2']);
    assert.equal(state.calls, 2);
  });

  test('after a gap (resync), an instance reconciles from the recorded invalidation times before serving again', async () => {
    const { a, b, hub, shared, clock } = await cluster();
    const { state, generate } = origin('v1');
    await a.engine.serve('page:/blog/1', generate);
    await b.engine.serve('page:/blog/1', generate);
    assert.ok(b.engine.peekFresh('page:/blog/1'));
    // An invalidation recorded while b was disconnected: in the record, but its message never reached b.
    clock.advance(1);
    state.value = 'v2';
    await shared.invalidateTags(['posts'], clock.now());
    assert.ok(b.engine.peekFresh('page:/blog/1'), 'b missed the message');
    // b's connection is back (the shared tier announces resync): b serves nothing before it has re-read the record.
    hub.publish({ type: 'resync' });
    assert.equal(b.engine.peekFresh('page:/blog/1'), undefined, 'the fast path is closed while reconciling');
    const served = await b.engine.serve('page:/blog/1', generate);
    assert.deepEqual([served.state, text(served.entry.value.body)], ['MISS', 'v2']);
  });
});
