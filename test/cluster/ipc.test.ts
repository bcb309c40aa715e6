/** The hub behind node:cluster IPC: requests, replies, timeouts and announcements between a primary and its workers, over fake channels that round-trip JSON as IPC does. */

import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoordinatedStore } from '../../src/cluster/coordinated-store.ts';
import { HubUnavailableError, type IpcChannel, IpcHubLink, serveHubOverIpc } from '../../src/cluster/ipc.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import type { StoreEvent } from '../../src/store/store.ts';
import { makeEntry, makeTempDir, removeDir } from '../store/helpers.ts';

let root: string;
before(async () => {
  root = await makeTempDir('isr-ipc-test-');
});
after(async () => {
  await removeDir(root);
});

/**
 * A fake node:cluster: each fake worker has a channel (what `process` is in the worker). Messages
 * are JSON round-tripped and delivered on a later tick, as IPC does.
 */
function fakeCluster(workerCount: number) {
  const cluster = new EventEmitter() as EventEmitter & { workers: Record<string, Worker> };
  cluster.workers = {};
  const channels: (IpcChannel & EventEmitter & { connected: boolean; sent: unknown[] })[] = [];
  for (let i = 0; i < workerCount; i++) {
    const channel = Object.assign(new EventEmitter(), { connected: true, sent: [] as unknown[] }) as IpcChannel &
      EventEmitter & { connected: boolean; sent: unknown[] };
    const worker = {
      process: { pid: 1000 + i },
      isConnected: () => channel.connected,
      send(message: unknown, _handle?: unknown, callback?: (error: Error | null) => void) {
        const copy = JSON.parse(JSON.stringify(message)) as unknown;
        setImmediate(() => {
          channel.emit('message', copy);
          callback?.(null);
        });
        return true;
      },
    } as unknown as Worker;
    channel.send = (message, _handle, _options, callback) => {
      channel.sent.push(message);
      if (!channel.connected) {
        setImmediate(() => callback?.(new Error('channel closed')));
        return false;
      }
      const copy = JSON.parse(JSON.stringify(message)) as unknown;
      setImmediate(() => {
        cluster.emit('message', worker, copy);
        callback?.(null);
      });
      return true;
    };
    cluster.workers[String(i + 1)] = worker;
    channels.push(channel);
  }
  return { cluster, channels };
}

describe('the hub over IPC', () => {
  it('locks, releases, invalidations (written once, by the primary) and events reach every worker', async () => {
    const dir = join(root, 'scope-1');
    const { cluster, channels } = fakeCluster(2);
    const server = serveHubOverIpc({ cluster });
    try {
      const stores = channels.map(
        (channel) => new CoordinatedStore({ inner: new FileSystemStore({ dir }), link: new IpcHubLink({ scope: dir, channel }) }),
      );
      const heard: StoreEvent[][] = [[], []];
      for (const [i, store] of stores.entries()) store.subscribe((event) => heard[i]!.push(event));

      const lease = await stores[0]!.lock('k', 5_000);
      assert.ok(lease);
      assert.equal(await stores[1]!.lock('k', 5_000), undefined);
      await lease.release();
      assert.ok(await stores[1]!.lock('k', 5_000));

      await Promise.all([stores[0]!.invalidateTags(['a'], 10), stores[1]!.invalidateTags(['b', 'c'], 20)]);
      assert.deepEqual(Object.fromEntries(await new FileSystemStore({ dir }).getTagManifest()), { a: 10, b: 20, c: 20 });

      await stores[1]!.set('page:/x', makeEntry('page:/x', { lastModified: 99.5 }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const events of heard) {
        assert.deepEqual(events, [
          { type: 'unlock', key: 'k' },
          ...(events[1]?.type === 'invalidate' && events[1].at === 20
            ? [
                { type: 'invalidate', tags: ['b', 'c'], at: 20 },
                { type: 'invalidate', tags: ['a'], at: 10 },
              ]
            : [
                { type: 'invalidate', tags: ['a'], at: 10 },
                { type: 'invalidate', tags: ['b', 'c'], at: 20 },
              ]),
          { type: 'set', key: 'page:/x', lastModified: 99.5 },
        ]);
      }
      assert.deepEqual([...server.hubs.keys()], [dir]);
    } finally {
      await server.close();
    }
  });

  it('events of another store folder (another build) are not delivered', async () => {
    const { cluster, channels } = fakeCluster(2);
    const server = serveHubOverIpc({ cluster });
    try {
      const one = new IpcHubLink({ scope: join(root, 'build-1'), channel: channels[0]! });
      const two = new IpcHubLink({ scope: join(root, 'build-2'), channel: channels[1]! });
      const heard: StoreEvent[] = [];
      two.subscribe((event) => heard.push(event));
      const token = await one.lock('k', 1_000);
      assert.ok(token, 'locks are per folder');
      assert.ok(await two.lock('k', 1_000));
      await one.release('k', token);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(heard, []);
    } finally {
      await server.close();
    }
  });

  it('ignores messages that are not hub requests, and answers a malformed one with an error', async () => {
    const { cluster, channels } = fakeCluster(1);
    const server = serveHubOverIpc({ cluster });
    try {
      const channel = channels[0]!;
      const replies: unknown[] = [];
      channel.on('message', (message) => replies.push(message));
      channel.send!({ hello: 'from the site' });
      channel.send!({ isr: 'other', id: 1, op: 'lock' });
      channel.send!({ isr: 'hub', id: 7, scope: 'relative/dir', op: 'lock', key: 'k', ttlMs: 10 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(replies.length, 1);
      assert.deepEqual({ ...(replies[0] as object), error: undefined }, { isr: 'hub', id: 7, ok: false, error: undefined });
      const link = new IpcHubLink({ scope: join(root, 'x'), channel });
      await assert.rejects(link.lock('k', -5), /failed in the primary: lock ttlMs must be a positive number/);
    } finally {
      await server.close();
    }
  });

  it('a request the primary never answers rejects after the timeout instead of hanging', async () => {
    const channel = Object.assign(new EventEmitter(), {
      send: () => true, // swallowed: no primary answers
    }) as unknown as IpcChannel;
    const link = new IpcHubLink({ scope: join(root, 'x'), channel, timeoutMs: 50 });
    const started = performance.now();
    await assert.rejects(link.lock('k', 1_000), (error: unknown) => {
      assert.ok(error instanceof HubUnavailableError);
      assert.match(error.message, /primary did not answer lock within 50 ms/);
      return true;
    });
    assert.ok(performance.now() - started < 1_000);
    await assert.rejects(link.invalidate(['t'], 1), HubUnavailableError);
    assert.equal((channel as unknown as EventEmitter).listenerCount('message'), 0, 'stops listening when idle');
  });

  it('a closed channel rejects at once, and a process without IPC cannot make a link work', async () => {
    const { channels } = fakeCluster(1);
    channels[0]!.connected = false;
    const link = new IpcHubLink({ scope: join(root, 'x'), channel: channels[0]!, timeoutMs: 10_000 });
    const started = performance.now();
    await assert.rejects(link.lock('k', 1_000), /cannot reach the primary for lock: channel closed/);
    assert.ok(performance.now() - started < 1_000);
    const noIpc = new IpcHubLink({ scope: join(root, 'x'), channel: new EventEmitter() as unknown as IpcChannel });
    await assert.rejects(noIpc.lock('k', 1_000), /no IPC channel/);
    noIpc.publish({ type: 'resync' }); // fire and forget: never throws
  });
});
