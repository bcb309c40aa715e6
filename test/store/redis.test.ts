/** RedisStore: the shared-store contract on a real Redis, then outages, pauses, restarts and resync. */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createClient, RESP_TYPES } from 'redis';
import { createMemoryLogger } from '../../src/log.ts';
import { encodeEntry } from '../../src/store/codec.ts';
import { RedisStore, type RedisStoreOptions, redactRedisUrl } from '../../src/store/redis.ts';
import type { CacheEntry, StoreEvent } from '../../src/store/store.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { testCacheStore } from './contract.ts';
import { makeEntry as makeAnyEntry } from './helpers.ts';

/**
 * The contract runs on the Redis at 127.0.0.1:6379 (the one the test machines run), each test
 * under a key prefix of its own, removed afterwards. Without that Redis, every contract test fails
 * saying so. The tests further down use a throwaway redis-server each (`startRedis`) since they
 * stop, pause and restart it.
 */
const CONTRACT_REDIS_URL = 'redis://127.0.0.1:6379';
const contractRun = randomBytes(4).toString('hex');
let contractTests = 0;
const newContractClient = () => createClient({ url: CONTRACT_REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } });
let contractClient: Promise<ReturnType<typeof newContractClient>> | undefined;

/** A plain client on the contract's Redis; rejects with what to do when it cannot be reached. */
function contractRedis(): Promise<ReturnType<typeof newContractClient>> {
  contractClient ??= (async () => {
    const client = newContractClient();
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
    } catch (error) {
      throw new Error(`the RedisStore contract needs a Redis at ${CONTRACT_REDIS_URL} (start redis-server there): ${String(error)}`);
    }
    return client;
  })();
  return contractClient;
}

testCacheStore('RedisStore', {
  shared: true,
  create: async () => {
    const raw = await contractRedis();
    const keyPrefix = `isr-contract-${contractRun}-${++contractTests}:`;
    return {
      open: async () => {
        const store = new RedisStore({ url: CONTRACT_REDIS_URL, keyPrefix, buildId: 'build-1', logger: createMemoryLogger() });
        await store.ready;
        return store;
      },
      cleanup: async () => {
        for await (const keys of raw.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 100 })) if (keys.length > 0) await raw.del(keys);
      },
    };
  },
});
after(async () => {
  if (contractClient) await (await contractClient.catch(() => undefined))?.close();
});

/** A test entry that never expires in Redis (test times are arbitrary); expiry has its own test. */
function makeEntry(key: string, overrides: Parameters<typeof makeAnyEntry>[1] = {}): ReturnType<typeof makeAnyEntry> {
  return makeAnyEntry(key, { expire: Infinity, ...overrides });
}

/** A key prefix no other test uses. */
const freshPrefix = () => `isr-test-${randomBytes(6).toString('hex')}:`;

/** Polls `check` every 10 ms until it returns true; fails after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** The entry without its body, and the body as a Buffer: for deepEqual across Uint8Array/Buffer. */
function split(entry: CacheEntry | undefined): [unknown, Buffer] {
  assert.ok(entry, 'expected an entry');
  return [{ ...entry, value: { ...entry.value, body: null } }, Buffer.from(entry.value.body)];
}

let server: RedisServer;
const opened: Array<{ close(): Promise<unknown> }> = [];

/** A RedisStore on the shared test server (quiet unless given a logger), closed after all tests. */
function openStore(options: Partial<RedisStoreOptions> = {}): RedisStore {
  const store = new RedisStore({ url: server.url, keyPrefix: freshPrefix(), buildId: 'build-1', logger: createMemoryLogger(), ...options });
  opened.push(store);
  return store;
}

/** A plain client on the shared test server (bulk strings as Buffers). */
async function rawClient() {
  const client = createClient({ url: server.url });
  client.on('error', () => {});
  await client.connect();
  opened.push({ close: () => client.close() });
  return client;
}

/** Subscribes to `store`, collecting events; resolves once the subscription is active (first resync). */
async function collect(store: RedisStore): Promise<StoreEvent[]> {
  const events: StoreEvent[] = [];
  store.subscribe((event) => events.push(event));
  await waitFor('the first resync', () => events.some((e) => e.type === 'resync'));
  events.length = 0;
  return events;
}

before(async () => {
  server = await startRedis();
});
after(async () => {
  await Promise.all(opened.map((o) => o.close().catch(() => {})));
  await server.close();
});

describe('RedisStore', () => {
  it('round-trips entries: binary bodies, headers, tags, revalidate false and numbers, fractional times', async () => {
    const logger = createMemoryLogger();
    const store = openStore({ logger });
    await store.ready;
    const entries = [
      makeEntry('page:/bin', { body: Uint8Array.from({ length: 1024 }, (_, i) => i % 256) }),
      makeEntry('page:/forever', { revalidate: false, expire: Infinity, lastModified: 1_700_000_000_123.456 }),
      makeEntry('fetch:0', { revalidate: 0, tags: [], body: '' }),
      {
        ...makeEntry('route:/api/ü', { revalidate: 2.5, lastModified: 0.1 + 0.2 }),
        value: {
          kind: 'route',
          status: 404,
          headers: { 'content-type': 'application/json', 'x-a': 'b c' },
          body: new TextEncoder().encode('{"é":1}'),
        },
      } satisfies CacheEntry,
    ];
    for (const entry of entries) await store.set(entry.key, entry);
    for (const entry of entries) {
      const read = await store.get(entry.key);
      assert.deepEqual(split(read), split(entry));
      assert.equal(read!.lastModified, entry.lastModified); // bit-identical, not rounded
    }
    assert.equal(await store.get('page:/missing'), undefined);
    await store.delete('page:/bin');
    assert.equal(await store.get('page:/bin'), undefined);
    await store.delete('page:/bin'); // a missing key is fine
    await assert.rejects(store.set('a', makeEntry('b')), TypeError);
    await assert.rejects(store.set('a', makeEntry('a', { lastModified: NaN })), TypeError);
    assert.deepEqual(
      logger.lines.filter((l) => !l.startsWith('debug')),
      [],
    );
  });

  it('stores an entry as one hash {lm, v} written by a single HSET, v being the ISR1 encoding', async () => {
    const store = openStore();
    await store.ready;
    const raw = await rawClient();
    const monitor = await rawClient();
    const commands: string[] = [];
    await monitor.monitor((line) => commands.push(String(line)));

    const entry = makeEntry('page:/one', { lastModified: 1_700_000_000_000.25 });
    await store.set('page:/one', entry);
    await waitFor('MONITOR output', () => commands.some((c) => c.includes('"HSET"')));

    const hash = await raw.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).hGetAll(store.entryKey('page:/one'));
    assert.deepEqual(Object.keys(hash).sort(), ['lm', 'v']);
    assert.equal(hash.lm!.toString(), '1700000000000.25');
    assert.ok(hash.v!.equals(encodeEntry(entry)));
    assert.equal(store.entryKey('page:/one'), `${store.keyBase}e:page:/one`);

    const writes = commands.filter((c) => /"(HSET|HMSET|HSETNX|HDEL|DEL|SET)"/.test(c) && c.includes(store.entryKey('page:/one')));
    assert.equal(writes.length, 1, writes.join('\n'));
    assert.match(writes[0]!, /\[\d+ lua\] "HSET" "[^"]+" "lm" "1700000000000\.25" "v" /);
  });

  it('expires an entry in Redis when it may no longer be served (lastModified + expire), so volatile-lru can evict it', async () => {
    const store = openStore();
    await store.ready;
    const raw = await rawClient();
    const now = Date.now();
    await store.set('page:/hour', makeAnyEntry('page:/hour', { lastModified: now, expire: 3600 }));
    const ttl = await raw.pTTL(store.entryKey('page:/hour'));
    assert.ok(ttl > 3_595_000 && ttl <= 3_600_000, `PTTL ${ttl}`);
    await store.set('page:/past', makeAnyEntry('page:/past', { lastModified: now - 7_200_000, expire: 3600 }));
    assert.equal(await store.get('page:/past'), undefined, 'an entry already past its expire time is not kept');
    await store.set('page:/forever', makeAnyEntry('page:/forever', { lastModified: now, expire: Infinity }));
    assert.equal(await raw.pTTL(store.entryKey('page:/forever')), -1, 'no expiry when the entry never expires');
    assert.equal(await raw.pTTL(store.tagsKey), -2, 'the tag manifest does not exist yet');
    await store.invalidateTags(['t'], now);
    assert.equal(await raw.pTTL(store.tagsKey), -1, 'the tag manifest never expires');
  });

  it('isolates key prefixes and build IDs (entries, tags, locks)', async () => {
    const prefix = freshPrefix();
    const a = openStore({ keyPrefix: prefix, buildId: 'build-a' });
    const b = openStore({ keyPrefix: prefix, buildId: 'build-b' });
    const c = openStore({ buildId: 'build-a' }); // another prefix, same build ID
    await Promise.all([a.ready, b.ready, c.ready]);
    await a.set('page:/', makeEntry('page:/'));
    await a.invalidateTags(['t'], 10);
    assert.ok(await a.lock('page:/', 5000));
    for (const s of [b, c]) {
      assert.equal(await s.get('page:/'), undefined);
      assert.deepEqual(await s.getTagManifest(), new Map());
      assert.ok(await s.lock('page:/', 5000));
    }
    assert.equal(a.keyBase, `${prefix}build-a:`);
    assert.equal(a.tagsKey, `${prefix}build-a:tags`);
    assert.equal(a.lockKey('page:/'), `${prefix}build-a:lock:page:/`);
    assert.equal(a.channel, `${prefix}build-a:events`);
  });

  it('skips a hand-edited tag time that is not a number, with a warning', async () => {
    const keyPrefix = freshPrefix();
    const store = openStore({ keyPrefix });
    const raw = await rawClient();
    await store.ready;
    await store.invalidateTags(['a'], 1000.5);
    const logger = createMemoryLogger();
    const reader = openStore({ keyPrefix, logger });
    await reader.ready;
    await raw.hSet(store.tagsKey, 'bad', 'soon');
    assert.deepEqual(await reader.getTagManifest(), new Map([['a', 1000.5]]));
    assert.equal(logger.lines.filter((l) => l.startsWith('warn') && l.includes('"bad"')).length, 1);
  });

  it('reads a corrupt value, another key or a non-hash Redis key as undefined, with a warning', async () => {
    const logger = createMemoryLogger();
    const store = openStore({ logger });
    const raw = await rawClient();
    await store.ready;
    await raw.hSet(store.entryKey('garbage'), { lm: '1', v: 'not an entry' });
    await raw.hSet(store.entryKey('other'), { lm: '1', v: encodeEntry(makeEntry('someone-else')) });
    await raw.set(store.entryKey('string'), 'x');
    for (const key of ['garbage', 'other', 'string']) assert.equal(await store.get(key), undefined);
    const warnings = logger.lines.filter((l) => l.startsWith('warn'));
    assert.equal(warnings.length, 3, warnings.join('\n'));
    // set replaces what it cannot read.
    await store.set('string', makeEntry('string'));
    assert.equal((await store.get('string'))?.key, 'string');
  });

  it('delivers invalidate, set, delete and unlock to the other instances, not back to the publisher', async () => {
    const keyPrefix = freshPrefix();
    const logger = createMemoryLogger();
    const a = openStore({ keyPrefix, logger });
    const b = openStore({ keyPrefix });
    const elsewhere = openStore({ buildId: 'build-2', keyPrefix });
    const [eventsA, eventsB, eventsElsewhere] = await Promise.all([collect(a), collect(b), collect(elsewhere)]);

    await b.invalidateTags(['blog', 'x'], 1234.5);
    await b.set('page:/p', makeEntry('page:/p', { lastModified: 50.5 }));
    await b.set('page:/p', makeEntry('page:/p', { lastModified: 40 })); // refused: not announced
    await b.delete('page:/p');
    const lease = await b.lock('page:/q', 5000);
    await lease!.release();
    await lease!.release(); // twice: harmless, announced once

    const expected: StoreEvent[] = [
      { type: 'invalidate', tags: ['blog', 'x'], at: 1234.5 },
      { type: 'set', key: 'page:/p', lastModified: 50.5 },
      { type: 'delete', key: 'page:/p' },
      { type: 'unlock', key: 'page:/q' },
    ];
    await waitFor('the events at a', () => eventsA.length >= expected.length);
    await delay(50);
    assert.deepEqual(eventsA, expected);
    assert.deepEqual(eventsB, []);
    assert.deepEqual(eventsElsewhere, []);

    // a's own writes reach b.
    await a.invalidateTags(['y'], 1);
    await waitFor('the event at b', () => eventsB.length === 1);
    assert.deepEqual(eventsB, [{ type: 'invalidate', tags: ['y'], at: 1 }]);

    // Malformed messages are dropped; only the first is a warning.
    const raw = await rawClient();
    await raw.publish(a.channel, 'not json');
    await raw.publish(a.channel, JSON.stringify({ origin: 'x', type: 'set', key: 'k' }));
    await raw.publish(a.channel, JSON.stringify({ origin: 'x', type: 'delete', key: 'ok' }));
    await waitFor('the valid event', () => eventsA.some((e) => e.type === 'delete' && e.key === 'ok'));
    assert.equal(eventsA.length, expected.length + 1);
    assert.equal(logger.lines.filter((l) => l.startsWith('warn')).length, 1);

    // Unsubscribing stops delivery.
    const late: StoreEvent[] = [];
    const unsubscribe = a.subscribe((event) => late.push(event));
    unsubscribe();
    await b.delete('page:/r');
    await waitFor('the delete at a', () => eventsA.some((e) => e.type === 'delete' && e.key === 'page:/r'));
    assert.deepEqual(late, []);
  });

  it('locks: one holder at a time, expiry after the ttl, and a late release never frees a new holder', async () => {
    const keyPrefix = freshPrefix();
    const a = openStore({ keyPrefix });
    const b = openStore({ keyPrefix });
    const raw = await rawClient();
    await Promise.all([a.ready, b.ready]);

    const first = await a.lock('page:/x', 150);
    assert.ok(first);
    assert.equal(await b.lock('page:/x', 150), undefined);
    assert.equal(await a.lock('page:/x', 150), undefined); // not re-entrant
    assert.ok(await b.lock('page:/other', 150)); // per key

    await delay(200); // first expired
    const second = await b.lock('page:/x', 5000);
    assert.ok(second);
    await first.release(); // late: must not free b's lock
    assert.ok(await raw.get(a.lockKey('page:/x')));
    assert.equal(await a.lock('page:/x', 5000), undefined);
    await second.release();
    assert.equal(await raw.get(a.lockKey('page:/x')), null);
    assert.ok(await a.lock('page:/x', 5000));

    await assert.rejects(a.lock('k', 0), RangeError);
    await assert.rejects(a.lock('k', NaN), RangeError);
  });

  it('NOSCRIPT (a restarted Redis, or SCRIPT FLUSH): each script is sent again with EVAL and the write succeeds', async () => {
    const store = openStore();
    const raw = await rawClient();
    await store.ready;
    const first = makeEntry('k', { lastModified: Date.now() - 10 });
    await store.set('k', first);
    await raw.sendCommand(['SCRIPT', 'FLUSH']);
    const second = makeEntry('k', { lastModified: Date.now() });
    await store.set('k', second);
    assert.equal((await store.get('k'))?.lastModified, second.lastModified);
    await raw.sendCommand(['SCRIPT', 'FLUSH']);
    await store.invalidateTags(['t'], Date.now());
    assert.ok((await store.getTagManifest()).has('t'));
    await raw.sendCommand(['SCRIPT', 'FLUSH']);
    await store.delete('k');
    assert.equal(await store.get('k'), undefined);
  });

  it("clocks: an entry or invalidation time more than 1 s ahead of Redis's TIME is refused or recorded as Redis's time; a stored future entry never blocks a write", async () => {
    const logger = createMemoryLogger();
    const store = openStore({ logger });
    const other = openStore({ keyPrefix: store.keyBase.slice(0, -'build-1:'.length) });
    const raw = await rawClient();
    await store.ready;
    const events = await collect(other);
    const hour = 3600_000;
    // A fast host's entry is not stored.
    await assert.rejects(store.set('k', makeEntry('k', { lastModified: Date.now() + hour })), /ahead of Redis's clock/);
    assert.equal(await store.get('k'), undefined);
    // One written with a future lm before this rule (or by an older version) does not block a correct write.
    await raw.sendCommand([
      'HSET',
      store.entryKey('k'),
      'lm',
      String(Date.now() + hour),
      'v',
      encodeEntry(makeEntry('k', { lastModified: Date.now() + hour })),
    ]);
    const now = makeEntry('k', { lastModified: Date.now() });
    await store.set('k', now);
    assert.equal((await store.get('k'))?.lastModified, now.lastModified);
    // A future invalidation time is recorded, and announced, as Redis's time; a stored future one is replaced.
    await raw.sendCommand(['HSET', store.tagsKey, 'old', String(Date.now() + hour)]);
    const before = Date.now();
    await store.invalidateTags(['t', 'old'], before + hour);
    const manifest = await store.getTagManifest();
    for (const tag of ['t', 'old']) {
      const at = manifest.get(tag)!;
      assert.ok(at >= before - 1000 && at <= Date.now() + 1000, `${tag} recorded at ${at}, not in the future`);
    }
    await waitFor('the invalidate event', () => events.some((e) => e.type === 'invalidate'));
    const event = events.find((e) => e.type === 'invalidate') as Extract<StoreEvent, { type: 'invalidate' }>;
    assert.equal(event.at, manifest.get('t'));
    assert.equal(logger.lines.filter((line) => line.includes("ahead of Redis's clock")).length, 1, logger.lines.join('\n'));
    await store.invalidateTags(['t'], Date.now() + hour);
    assert.equal(logger.lines.filter((line) => line.includes("ahead of Redis's clock")).length, 1, 'once per streak');
  });

  it('a paused server: the first command rejects after the command timeout, later ones at once, until a PING is answered; then resync', async () => {
    const paused = await startRedis();
    const logger = createMemoryLogger();
    const store = new RedisStore({ url: paused.url, keyPrefix: freshPrefix(), buildId: 'b', commandTimeoutMs: 200, logger });
    const events: StoreEvent[] = [];
    store.subscribe((event) => events.push(event));
    try {
      await store.ready;
      for (let i = 0; i < 100 && !events.some((e) => e.type === 'resync'); i++) await delay(20);
      events.length = 0;
      paused.pause();
      await assert.rejects(
        store.get('k'),
        (error: Error) => error.name === 'StoreUnavailableError' && /GET got no reply within 200 ms/.test(error.message),
      );
      assert.equal(store.reachable, false);
      await assert.rejects(store.set('k', makeEntry('k')), { name: 'StoreUnavailableError', message: /is unreachable$/ });
      await assert.rejects(store.invalidateTags(['t'], Date.now()), { name: 'StoreUnavailableError' });
      assert.equal(logger.lines.filter((line) => line.includes('Redis is unreachable')).length, 1, logger.lines.join('\n'));
      paused.resume();
      for (let i = 0; i < 150 && !store.reachable; i++) await delay(20);
      assert.equal(store.reachable, true, 'reachable again once a PING is answered');
      await store.set('k', makeEntry('k'));
      assert.ok(await store.get('k'));
      assert.deepEqual(events, [{ type: 'resync' }], 'the stall ends with a resync (the connection never dropped)');
      assert.ok(
        logger.lines.some((line) => line.includes('Redis is reachable again')),
        logger.lines.join('\n'),
      );
    } finally {
      paused.resume();
      await store.close();
      await paused.close();
    }
  });

  it('survives Redis going away: fast rejections, one warning, no password in logs, resync on return', async () => {
    const password = 'secret-Pa55';
    const redis = await startRedis({ password });
    const logger = createMemoryLogger();
    const timeout = 300;
    const keyPrefix = freshPrefix();
    const store = new RedisStore({ url: redis.url, keyPrefix, buildId: 'b', commandTimeoutMs: timeout, logger });
    const peer = new RedisStore({ url: redis.url, keyPrefix, buildId: 'b', commandTimeoutMs: timeout, logger: createMemoryLogger() });
    const failures: string[] = [];
    try {
      assert.equal(store.name, `redis:${redactRedisUrl(redis.url)}`);
      assert.ok(!store.name.includes(password));
      assert.match(store.name, /^redis:redis:\/\/:\*\*\*@127\.0\.0\.1:\d+$/);
      const events = await collect(store);
      await store.set('k', makeEntry('k'));

      await redis.stop();
      await waitFor('the disconnection', () => !store.connected);
      // Several rounds of every command across several reconnection attempts.
      for (let round = 0; round < 4; round++) {
        const operations: Array<() => Promise<unknown>> = [
          () => store.get('k'),
          () => store.set('k', makeEntry('k')),
          () => store.lock('k', 1000),
          () => store.delete('k'),
          () => store.getTagManifest(),
          () => store.invalidateTags(['t'], 1),
        ];
        for (const operation of operations) {
          const started = Date.now();
          await assert.rejects(operation(), (error: Error) => {
            failures.push(error.message);
            return true;
          });
          assert.ok(Date.now() - started < 2 * timeout, `rejected after ${Date.now() - started} ms`);
        }
        await delay(150);
      }
      const lease = await peer.lock('k', 1000).catch(() => undefined);
      assert.equal(lease, undefined);

      const warnings = logger.lines.filter((l) => l.startsWith('warn'));
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /unreachable.*keeps serving from its memory cache and will resync/);
      assert.ok(warnings[0]!.includes(store.name));

      await redis.start();
      await waitFor('commands to work again', async () => (await store.get('k').catch(() => 'failed')) !== 'failed', 5000);
      await waitFor('the resync', () => events.some((e) => e.type === 'resync'), 5000);
      assert.deepEqual(
        logger.lines.filter((l) => l.startsWith('info')),
        [`info ${store.name}: Redis is reachable again; resyncing`],
      );
      assert.equal(logger.lines.filter((l) => l.startsWith('warn')).length, 1);
      assert.equal((await store.get('k'))?.key, undefined); // Redis kept nothing (no persistence)
      await store.set('k', makeEntry('k'));
      assert.equal((await peer.get('k'))?.key, 'k');

      for (const line of [...logger.lines, ...failures]) assert.ok(!line.includes(password), line);
    } finally {
      await Promise.all([store.close(), peer.close()]);
      await redis.close();
    }
  });

  it('starts while Redis is down, serves rejections until it is up, and closes cleanly', async () => {
    const redis = await startRedis();
    await redis.stop();
    const logger = createMemoryLogger();
    const started = Date.now();
    const store = new RedisStore({ url: redis.url, keyPrefix: freshPrefix(), buildId: 'b', commandTimeoutMs: 300, logger });
    const events: StoreEvent[] = [];
    store.subscribe((event) => events.push(event));
    assert.ok(Date.now() - started < 100, 'the constructor returns at once');
    try {
      await assert.rejects(store.get('k'));
      await waitFor('the outage warning', () => logger.lines.some((l) => l.startsWith('warn')));
      await redis.start();
      await store.ready;
      await waitFor('the first resync', () => events.some((e) => e.type === 'resync'), 5000);
      await store.set('k', makeEntry('k'));
      assert.equal((await store.get('k'))?.key, 'k');
      assert.equal(logger.lines.filter((l) => l.startsWith('warn')).length, 1);
      assert.equal(logger.lines.filter((l) => l.startsWith('info')).length, 1);
    } finally {
      await store.close();
      await redis.close();
    }
  });

  it('close is idempotent, settles pending commands, and later commands reject', async () => {
    const store = openStore();
    store.subscribe(() => {});
    await store.ready;
    const pending = store.get('k');
    const closing = Promise.all([store.close(), store.close()]);
    await Promise.allSettled([pending]);
    await closing;
    await assert.rejects(store.get('k'), /closed/);
    await store.close();

    // Closed before it ever connected.
    const never = new RedisStore({ url: 'redis://127.0.0.1:1', keyPrefix: 'p:', buildId: 'b', logger: createMemoryLogger() });
    const t0 = Date.now();
    await never.close();
    await assert.rejects(never.ready);
    assert.ok(Date.now() - t0 < 1500);
  });
});
