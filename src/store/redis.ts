/**
 * The shared tier: one Redis (or Redis-compatible) server used by every instance of a deployment.
 *
 * ```
 * base = <keyPrefix><buildId>:
 * <base>e:<key>        HASH { lm: <lastModified ms, decimal string>, v: <encodeEntry bytes> },
 *                      expiring (PEXPIREAT) when the entry may no longer be served: lm + expire s
 * <base>tags           HASH { <tag>: <invalidation time ms, decimal string>, ... }
 * <base>lock:<key>     STRING <random token of the holder>, with PX <ttl>
 * <base>events         pub/sub channel: JSON StoreEvent plus "origin" (the publishing store's id)
 * ```
 *
 * Keys are data, never parsed: a key only ever selects a Redis key under `<base>`, and different
 * key prefixes or build IDs never see each other's entries, tags, locks or events. Entry values
 * use the format in `codec.ts`. Every write is one Lua script (atomic on the server) that changes
 * the data and publishes the matching event, so an entry is never half-written, an invalidation
 * is never recorded without being announced, and `set` is a compare-and-set on `lm`: an older
 * generation never replaces a newer one.
 *
 * Needs Redis 6 or later (the client speaks RESP3, opened with HELLO).
 *
 * Faults: the store connects in the background and reconnects forever (backoff 50 ms doubling to
 * 1 s). While Redis is unreachable every command rejects at once with `StoreUnavailableError` (no
 * offline queue); nothing waits for Redis to come back. A command that gets no reply within
 * `commandTimeoutMs` (a paused or overloaded Redis whose connection stays open) rejects with
 * `StoreUnavailableError` too, and from then on Redis counts as unreachable: every command
 * rejects at once while a `PING` (one at a time, each given `commandTimeoutMs`) probes it; the
 * first `PING` answered ends the outage and announces `resync`. So one request waits at most
 * `commandTimeoutMs` in all for a Redis that stopped answering, not once per command.
 *
 * Clocks: the `set` and `invalidateTags` scripts read Redis's `TIME`. An entry whose `lastModified`
 * is more than `CLOCK_SKEW_TOLERANCE_MS` ahead of it is refused (this host's clock is fast), and a
 * stored one that far ahead never blocks a write; an invalidation time that far ahead is recorded
 * and announced as Redis's time instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createClient, RESP_TYPES } from 'redis';
import { createConsoleLogger, errorMessage, excerpt, type Logger, warnRepeated } from '../log.ts';
import type { Milliseconds } from '../units.ts';
import { CorruptEntryError, decodeEntry, encodeEntry } from './codec.ts';
import {
  type CacheEntry,
  CLOCK_SKEW_TOLERANCE_MS,
  type Lease,
  mergeTagTimes,
  type SharedStore,
  type StoreEvent,
  StoreUnavailableError,
  type TagManifest,
} from './store.ts';

/** Default `commandTimeoutMs`: 1 s. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS: Milliseconds = 1000;
/** Default `connectTimeoutMs`: 2 s. */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS: Milliseconds = 2000;
/** First reconnection delay; it doubles per failed attempt up to `REDIS_RECONNECT_MAX_MS`. */
export const REDIS_RECONNECT_MIN_MS: Milliseconds = 50;
/** Longest delay between two reconnection attempts. */
export const REDIS_RECONNECT_MAX_MS: Milliseconds = 1000;

export interface RedisStoreOptions {
  /** `redis[s]://[[user]:password@]host[:port][/db]`. The password never appears in `name` or logs. */
  url: string;
  /** Prepended to every Redis key and the channel (e.g. `isr:myapp:`); may be empty. */
  keyPrefix: string;
  /** The build whose entries this store holds: part of every key, so builds never mix. Non-empty. */
  buildId: string;
  /** Where the outage/recovery notices and corrupt-entry warnings go. Default: the console logger. */
  logger?: Logger;
  /** A command without a reply within this many ms rejects. Default 1000. */
  commandTimeoutMs?: Milliseconds;
  /** A TCP connection attempt is abandoned (and retried) after this many ms. Default 2000. */
  connectTimeoutMs?: Milliseconds;
}

/** The part of the node-redis client this store uses. */
interface Connection {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  duplicate(): Connection;
  sendCommand<T = unknown>(args: ReadonlyArray<string | Buffer>, options?: object): Promise<T>;
  subscribe(channel: string, listener: (message: string, channel: string) => unknown): Promise<void>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/** A Lua script, sent with EVALSHA (EVAL when the server does not have it cached yet). */
interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Lua: `now`, Redis's clock (`TIME`) in ms since the epoch, and `ahead`, the tolerance in ms. */
const REDIS_NOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local ahead = ${CLOCK_SKEW_TOLERANCE_MS}
`;

/**
 * KEYS[1] entry hash; ARGV: lm, encoded value, channel, message, expiry (ms since the epoch).
 * Returns -(ms ahead) and writes nothing when `lm` is more than the tolerance ahead of Redis's
 * clock. Writes (one HSET) unless the stored `lm` is later — a stored `lm` that far ahead does not
 * count — and sets the key to expire when the entry may no longer be served (PEXPIREAT, so
 * `maxmemory-policy volatile-lru` evicts entries but never the tag manifest); publishes only what
 * it wrote (returns 1; 0 when a newer one is stored). A key holding something other than a hash
 * (not written by this store) is replaced. Reading TIME before writing needs effects replication,
 * the default since Redis 5.
 */
const SET_SCRIPT = script(`${REDIS_NOW}
local lm = tonumber(ARGV[1])
if lm > now + ahead then return -math.max(1, math.floor(lm - now)) end
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'hash' then
  local stored = tonumber(redis.call('HGET', KEYS[1], 'lm'))
  if stored and stored > lm and stored <= now + ahead then return 0 end
elseif kind ~= 'none' then
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'lm', ARGV[1], 'v', ARGV[2])
if ARGV[5] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[5]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`);

/** KEYS[1] entry hash; ARGV: channel, message. */
const DELETE_SCRIPT = script(`
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`);

/**
 * KEYS[1] tags hash; ARGV: at, channel, message without its time, tag... Keeps the later time per
 * tag, except that a stored time more than the tolerance ahead of Redis's clock is replaced. An
 * `at` that far ahead is recorded and published as Redis's time. The message is ARGV[3] followed
 * by the time and `}`. Returns how many ms `at` was ahead when it was replaced (else 0).
 */
const INVALIDATE_SCRIPT = script(`${REDIS_NOW}
local at = tonumber(ARGV[1])
local text = ARGV[1]
local replaced = 0
if at > now + ahead then
  replaced = math.max(1, math.floor(at - now))
  at = now
  text = string.format('%.3f', now)
end
for i = 4, #ARGV do
  local previous = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if not previous or previous < at or previous > now + ahead then redis.call('HSET', KEYS[1], ARGV[i], text) end
end
redis.call('PUBLISH', ARGV[2], ARGV[3] .. text .. '}')
return replaced
`);

/**
 * KEYS[1] lock; ARGV: token, channel, message. Deletes the lock only if it still holds `token`;
 * announces `unlock` unless another holder has the lock now (that holder announces its own).
 */
const RELEASE_SCRIPT = script(`
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('DEL', KEYS[1])
elseif holder then
  return 0
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`);

/** A command without a reply within the command timeout (turned into StoreUnavailableError). */
class NoReplyError extends Error {
  override readonly name = 'NoReplyError';
}

/** Replies of bulk strings as Buffers (entry values are binary). */
const BUFFER_REPLIES = { [RESP_TYPES.BLOB_STRING]: Buffer };
/** RESP3 maps as Map (HGETALL). */
const MAP_REPLIES = { [RESP_TYPES.MAP]: Map };

/**
 * `url` with any password replaced by `***` (for names, logs and error messages).
 * A string that is not a URL keeps everything up to `://` and drops the rest of its user info.
 */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.href.replace('%2A%2A%2A@', '***@');
  } catch {
    return url.replace(/\/\/[^@/]*@/, (userInfo) =>
      userInfo.includes(':') ? `${userInfo.slice(0, userInfo.indexOf(':'))}:***@` : userInfo,
    );
  }
}

/** The wire form of a published event: the StoreEvent's fields plus the publisher's id. */
type WireEvent = Exclude<StoreEvent, { type: 'resync' }> & { origin: string };

/** The event in a published message, or undefined if the message is not one this store publishes. */
function parseWireEvent(message: string): { event: StoreEvent; origin: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (typeof m.origin !== 'string') return undefined;
  const origin = m.origin;
  switch (m.type) {
    case 'invalidate':
      if (!Array.isArray(m.tags) || !m.tags.every((tag) => typeof tag === 'string')) return undefined;
      if (typeof m.at !== 'number' || !Number.isFinite(m.at)) return undefined;
      return { origin, event: { type: 'invalidate', tags: m.tags as string[], at: m.at } };
    case 'set':
      if (typeof m.key !== 'string' || typeof m.lastModified !== 'number' || !Number.isFinite(m.lastModified)) {
        return undefined;
      }
      return { origin, event: { type: 'set', key: m.key, lastModified: m.lastModified } };
    case 'delete':
    case 'unlock':
      if (typeof m.key !== 'string') return undefined;
      return { origin, event: { type: m.type, key: m.key } };
    default:
      return undefined;
  }
}

/** [field, value] pairs of an HGETALL reply: a Map (RESP3 with MAP_REPLIES), an object, or a flat array (RESP2). */
function hashPairs(reply: unknown): Array<[string, unknown]> {
  if (reply instanceof Map) return [...reply.entries()].map(([field, value]) => [String(field), value]);
  if (Array.isArray(reply)) {
    const pairs: Array<[string, unknown]> = [];
    for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([String(reply[i]), reply[i + 1]]);
    return pairs;
  }
  if (typeof reply === 'object' && reply !== null) return Object.entries(reply);
  return [];
}

/** `promise`, or a rejection with `timeoutError()` after `ms` (the late outcome of `promise` is dropped). */
function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function positiveOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`RedisStore ${name} must be a positive number of ms (got ${String(value)})`);
  }
  return value;
}

/**
 * `CacheStore` on Redis, shared by every instance of a deployment (layout and atomicity in the
 * module comment). A {@link SharedStore}: `subscribe`, `lock`, and `set` compares-and-sets.
 *
 * - Construction never waits for Redis and never fails because Redis is down: it connects in the
 *   background (`ready` settles when the first connection is up), reconnecting forever.
 * - `get`, `set`, `delete`, `getTagManifest`, `invalidateTags` and `lock` reject while Redis is
 *   unreachable (at once when the connection is known to be down, else after `commandTimeoutMs`);
 *   a TieredStore in front logs that and keeps serving from its other tiers.
 * - An outage is logged once (`warn`) when it starts and once (`info`) when Redis is reachable
 *   again; the client's repeated connection errors in between are not logged.
 * - `get` of a corrupt value (undecodable, holding another key, or a Redis key of the wrong type)
 *   is a `warn` and `undefined`.
 * - `set` rejects with TypeError when the entry cannot be encoded or `entry.key !== key`;
 *   `invalidateTags` with TypeError on a bad time or tag (before contacting Redis); `lock` with
 *   RangeError on a ttl that is not a positive number.
 */
export class RedisStore implements SharedStore {
  /** `redis:<url with the password replaced by ***>`. */
  readonly name: string;
  /** Every instance of the deployment uses it (see `SharedStore`). */
  readonly shared = true;
  /** `<keyPrefix><buildId>:`, the start of every key this store uses. */
  readonly keyBase: string;
  /** The pub/sub channel of this key prefix and build: `<keyBase>events`. */
  readonly channel: string;
  /** This store's origin id in published events; its own events are not delivered to its listeners. */
  readonly id: string = randomBytes(8).toString('hex');
  /**
   * Resolves when the first connection is established (possibly much later than construction,
   * when Redis is down at start-up); rejects if the store is closed first. Awaiting it is
   * optional: commands issued before simply reject.
   */
  readonly ready: Promise<void>;

  readonly #logger: Logger;
  readonly #timeoutMs: Milliseconds;
  readonly #password: string;
  readonly #client: Connection;
  /** A `resync` waits for the command connection to be ready. */
  #resyncPending = false;
  #subscriber: Connection | undefined;
  /** The subscriber's channel subscription is registered (the client renews it on reconnection). */
  #subscribed = false;
  #subscribing = false;
  #subscribeRetry: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<{ listener: (event: StoreEvent) => void }>();
  /** An outage has been logged and Redis has not been reachable since. */
  #down = false;
  /**
   * A command got no reply within the timeout on a connection that is still open: Redis counts as
   * unreachable (commands reject at once) until a probing PING is answered.
   */
  #stalled = false;
  /** This host's invalidation times are being replaced by Redis's (logged once per streak). */
  #invalidationsAhead = false;
  #warnedMalformed = false;
  #closing: Promise<void> | undefined;

  /**
   * Whether Redis answers now: false during an outage (connection lost, or a command that got no
   * reply until a probe is answered) and before the first connection.
   */
  get reachable(): boolean {
    return this.#client.isReady && !this.#stalled;
  }

  /**
   * Starts connecting in the background; never throws because Redis is unreachable.
   * @throws TypeError if `url` is not a redis:// or rediss:// URL, or `keyPrefix`/`buildId` are not
   *   strings (`buildId` non-empty); RangeError on a non-positive timeout.
   */
  constructor(options: RedisStoreOptions) {
    const { url, keyPrefix, buildId } = options;
    if (typeof url !== 'string') throw new TypeError('RedisStore needs a url');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`RedisStore url is not a URL: ${redactRedisUrl(url)}`);
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
      throw new TypeError(`RedisStore url must start with redis:// or rediss:// (got ${redactRedisUrl(url)})`);
    }
    if (typeof keyPrefix !== 'string') throw new TypeError('RedisStore keyPrefix must be a string');
    if (typeof buildId !== 'string' || buildId === '') throw new TypeError('RedisStore needs a non-empty buildId');

    this.name = `redis:${redactRedisUrl(url)}`;
    this.keyBase = `${keyPrefix}${buildId}:`;
    this.channel = `${this.keyBase}events`;
    this.#logger = options.logger ?? createConsoleLogger();
    this.#timeoutMs = positiveOption('commandTimeoutMs', options.commandTimeoutMs, DEFAULT_REDIS_COMMAND_TIMEOUT_MS);
    const connectTimeout = positiveOption('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_REDIS_CONNECT_TIMEOUT_MS);
    this.#password = decodeURIComponent(parsed.password);

    this.#client = createClient({
      url,
      disableOfflineQueue: true,
      maintNotifications: 'disabled',
      commandOptions: { timeout: this.#timeoutMs },
      socket: {
        connectTimeout,
        reconnectStrategy: (retries: number) => Math.min(REDIS_RECONNECT_MIN_MS * 2 ** Math.min(retries, 10), REDIS_RECONNECT_MAX_MS),
      },
    }) as unknown as Connection;
    this.#client.on('error', (error) => this.#onError(error));
    this.#client.on('ready', () => this.#onReady());
    this.ready = this.#client.connect().then(() => undefined);
    this.ready.catch(() => {}); // settles without an unhandled rejection when closed before connecting
  }

  /** Whether the command connection is up right now (it may still be stalled: see {@link reachable}). */
  get connected(): boolean {
    return this.#client.isReady;
  }

  /** The Redis key of the entry hash of `key`. */
  entryKey(key: string): string {
    return `${this.keyBase}e:${key}`;
  }

  /** The Redis key of the regeneration lock of `key`. */
  lockKey(key: string): string {
    return `${this.keyBase}lock:${key}`;
  }

  /** The Redis key of the tag manifest hash. */
  get tagsKey(): string {
    return `${this.keyBase}tags`;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    let bytes: unknown;
    try {
      bytes = await this.#call(['HGET', this.entryKey(key), 'v'], { typeMapping: BUFFER_REPLIES });
    } catch (error) {
      if (!errorMessage(error).startsWith('WRONGTYPE')) throw error;
      warnRepeated(
        this.#logger,
        'redis: entry not a hash',
        `${this.name}: ignoring entry ${JSON.stringify(excerpt(key))}: the Redis key is not a hash`,
      );
      return undefined;
    }
    if (bytes === null || bytes === undefined) return undefined;
    let entry: CacheEntry;
    try {
      if (!Buffer.isBuffer(bytes)) throw new CorruptEntryError(`unexpected reply type ${typeof bytes}`);
      entry = decodeEntry(bytes);
    } catch (error) {
      const reason = error instanceof CorruptEntryError ? error.message : `cannot decode: ${errorMessage(error)}`;
      warnRepeated(this.#logger, 'redis: corrupt entry', `${this.name}: ignoring entry ${JSON.stringify(excerpt(key))}: ${reason}`);
      return undefined;
    }
    if (entry.key !== key) {
      warnRepeated(
        this.#logger,
        'redis: entry of another key',
        `${this.name}: ignoring entry ${JSON.stringify(excerpt(key))}: it holds key ${JSON.stringify(excerpt(entry.key))}`,
      );
      return undefined;
    }
    return entry;
  }

  /**
   * Stores `entry` unless the stored generation of `key` is newer (a later `lastModified`); an
   * equal or older stored one, or one more than `CLOCK_SKEW_TOLERANCE_MS` ahead of Redis's clock,
   * is replaced. Publishes `set` when it wrote.
   * @throws Error (not stored) when `entry.lastModified` is more than `CLOCK_SKEW_TOLERANCE_MS`
   *   ahead of Redis's clock (`TIME`): this host's clock is fast.
   */
  async set(key: string, entry: CacheEntry): Promise<void> {
    if (entry.key !== key) {
      throw new TypeError(`cache entry key ${JSON.stringify(entry.key)} does not match ${JSON.stringify(key)}`);
    }
    const bytes = encodeEntry(entry);
    const message = this.#message({ type: 'set', key, lastModified: entry.lastModified });
    // The entry is useless once past `expire` seconds after its generation (engine rule: expired).
    const expiresAt = entry.lastModified + entry.expire * 1000;
    const expiry = Number.isFinite(expiresAt) ? String(Math.ceil(expiresAt)) : '';
    const written = await this.#eval(SET_SCRIPT, [this.entryKey(key)], [String(entry.lastModified), bytes, this.channel, message, expiry]);
    if (typeof written === 'number' && written < 0) {
      throw new Error(
        `${this.name}: entry not stored: its lastModified is ${-written} ms ahead of Redis's clock (TIME); ` +
          "this host's clock is fast (check NTP)",
      );
    }
  }

  /** Removes `key` (a missing one is fine) and publishes `delete`. */
  async delete(key: string): Promise<void> {
    await this.#eval(DELETE_SCRIPT, [this.entryKey(key)], [this.channel, this.#message({ type: 'delete', key })]);
  }

  /** The manifest (tag → invalidation time in ms); a stored time that is not a number is a `warn` and skipped. */
  async getTagManifest(): Promise<TagManifest> {
    const reply = await this.#call(['HGETALL', this.tagsKey], { typeMapping: MAP_REPLIES });
    const manifest: TagManifest = new Map();
    for (const [tag, value] of hashPairs(reply)) {
      const time = Number(String(value));
      if (Number.isFinite(time) && String(value).trim() !== '') manifest.set(tag, time);
      else this.#logger.warn(`${this.name}: ignoring tag ${JSON.stringify(tag)} in ${this.tagsKey}: bad time`);
    }
    return manifest;
  }

  /**
   * Records `tags` as invalidated at `at` ms (keeping the later time per tag) and publishes
   * `invalidate`, in one atomic script. An `at` more than `CLOCK_SKEW_TOLERANCE_MS` ahead of
   * Redis's clock is recorded and published as Redis's time (a `warn` once per streak). No tags:
   * nothing to do (Redis is not contacted).
   */
  async invalidateTags(tags: readonly string[], at: Milliseconds): Promise<void> {
    mergeTagTimes(new Map(), tags, at); // validates before anything is sent
    if (tags.length === 0) return;
    const tagList = [...tags];
    // The script appends the time it records (`at`, or Redis's own when `at` is from the future).
    const message = `${JSON.stringify({ origin: this.id, type: 'invalidate', tags: tagList }).slice(0, -1)},"at":`;
    const replaced = await this.#eval(INVALIDATE_SCRIPT, [this.tagsKey], [String(at), this.channel, message, ...tagList]);
    if (typeof replaced === 'number' && replaced > 0) {
      if (!this.#invalidationsAhead) {
        this.#invalidationsAhead = true;
        this.#logger.warn(
          `${this.name}: an invalidation time was ${replaced} ms ahead of Redis's clock (TIME) and was recorded as Redis's time; ` +
            "this host's clock is fast (check NTP). Further ones are not logged until a time is no longer ahead",
        );
      }
    } else if (this.#invalidationsAhead) {
      this.#invalidationsAhead = false;
      this.#logger.info(`${this.name}: invalidation times are no longer ahead of Redis's clock`);
    }
  }

  /**
   * Takes the lock of `key` for `ttlMs` (rounded up to whole ms) with `SET NX PX` and a random
   * token. The lease's `release` deletes the lock only while it still holds that token, then
   * publishes `unlock` (unless another holder has taken the expired lock meanwhile); it never
   * rejects. A `SET` that timed out on our side but reached Redis leaves a lock nobody releases:
   * it expires after `ttlMs`.
   */
  async lock(key: string, ttlMs: Milliseconds): Promise<Lease | undefined> {
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new RangeError(`lock ttl must be a positive number of ms (got ${String(ttlMs)})`);
    }
    const lockKey = this.lockKey(key);
    const token = randomBytes(16).toString('hex');
    const reply = await this.#call(['SET', lockKey, token, 'NX', 'PX', String(Math.ceil(ttlMs))]);
    if (reply === null || reply === undefined) return undefined;
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await this.#eval(RELEASE_SCRIPT, [lockKey], [token, this.channel, this.#message({ type: 'unlock', key })]);
        } catch (error) {
          if (this.#logger.debugEnabled) {
            this.#logger.debug(
              `${this.name}: lock ${JSON.stringify(key)} not released (it expires on its own): ${this.#redact(errorMessage(error))}`,
            );
          }
        }
      },
    };
  }

  /**
   * Delivers the events other RedisStores on the same key prefix and build publish (this store's
   * own are skipped), from a second connection opened on the first call. `resync` is delivered
   * each time the subscription becomes active: the first time (events published before that were
   * missed) and after every reconnection. A message that is not a valid event is dropped (the
   * first one is a `warn`). Returns the function that removes `listener`.
   */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    if (this.#closing) return () => {};
    const holder = { listener };
    this.#listeners.add(holder);
    this.#startSubscriber();
    return () => {
      this.#listeners.delete(holder);
    };
  }

  /**
   * Closes both connections (waiting up to `commandTimeoutMs` for pending replies, then dropping
   * them) and removes every listener. Idempotent; later commands reject.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#listeners.clear();
    clearTimeout(this.#subscribeRetry);
    const connections = [this.#client, this.#subscriber].filter((c): c is Connection => c !== undefined);
    await Promise.all(connections.map((connection) => this.#closeConnection(connection)));
  }

  async #closeConnection(connection: Connection): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const closed = connection.isOpen
      ? connection.close().then(
          () => true,
          () => true,
        )
      : Promise.resolve(true);
    const graceOver = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#timeoutMs);
    });
    const finished = await Promise.race([closed, graceOver]);
    clearTimeout(timer);
    if (!finished || connection.isOpen) connection.destroy();
  }

  /**
   * Sends one command. Rejects at once with StoreUnavailableError while Redis is unreachable
   * (connection down, or stalled: see the module comment), and with StoreUnavailableError after
   * `commandTimeoutMs` without a reply, which starts a stall.
   */
  #call(args: ReadonlyArray<string | Buffer>, options: { typeMapping?: object } = {}): Promise<unknown> {
    if (this.#closing) return Promise.reject(new Error(`${this.name} is closed`));
    // Down (outage logged once by the connection's handlers): reject without trying.
    if (!this.#client.isReady || this.#stalled) return Promise.reject(new StoreUnavailableError(`${this.name} is unreachable`));
    return this.#send(args, options).catch((error: unknown) => {
      if (error instanceof NoReplyError || (error as { name?: unknown } | null)?.name === 'TimeoutError') {
        this.#stall(String(args[0]));
        throw new StoreUnavailableError(`${this.name}: ${String(args[0])} got no reply within ${this.#timeoutMs} ms`, { cause: error });
      }
      // The connection went down while the command waited for its reply.
      if (!this.#client.isReady) throw new StoreUnavailableError(`${this.name} is unreachable: ${errorMessage(error)}`, { cause: error });
      throw error;
    });
  }

  /** Sends one command on the command connection, rejecting with NoReplyError after `commandTimeoutMs`. */
  #send(args: ReadonlyArray<string | Buffer>, options: { typeMapping?: object } = {}): Promise<unknown> {
    let sent: Promise<unknown>;
    try {
      sent = this.#client.sendCommand(args, { ...options, timeout: this.#timeoutMs });
    } catch (error) {
      return Promise.reject(error);
    }
    return withTimeout(
      sent,
      this.#timeoutMs,
      () => new NoReplyError(`${this.name}: ${String(args[0])} got no reply within ${this.#timeoutMs} ms`),
    );
  }

  /**
   * A command got no reply on an open connection: Redis counts as unreachable (logged once, with
   * the connection outages) and is probed with PING until it answers; then `resync`.
   */
  #stall(command: string): void {
    if (this.#stalled || this.#closing) return;
    this.#stalled = true;
    if (!this.#down) {
      this.#down = true;
      this.#logger.warn(
        `${this.name}: Redis is unreachable (${command} got no reply within ${this.#timeoutMs} ms); this instance keeps serving ` +
          'from its memory cache, sends no command until Redis answers a PING, and will resync then',
      );
    }
    void this.#probe();
  }

  /** PINGs (one at a time, each waiting `commandTimeoutMs`) until Redis answers, then ends the stall. */
  async #probe(): Promise<void> {
    while (this.#stalled && !this.#closing) {
      if (this.#client.isReady) {
        try {
          await this.#send(['PING']);
          break;
        } catch {
          // no reply yet (or the connection went down): try again
        }
      }
      if (!this.#client.isReady) await new Promise((resolve) => setTimeout(resolve, REDIS_RECONNECT_MAX_MS).unref());
    }
    if (!this.#stalled || this.#closing) return;
    this.#stalled = false;
    this.#recovered();
  }

  /** Runs a script by its SHA1, falling back to sending its source when Redis does not know it. */
  async #eval(lua: Script, keys: string[], args: Array<string | Buffer>): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#call(['EVALSHA', lua.sha, ...tail]);
    } catch (error) {
      if (!errorMessage(error).startsWith('NOSCRIPT')) throw error;
      return this.#call(['EVAL', lua.source, ...tail]);
    }
  }

  #message(event: Exclude<StoreEvent, { type: 'resync' }>): string {
    const wire: WireEvent = { origin: this.id, ...event };
    return JSON.stringify(wire);
  }

  #onError(error: unknown): void {
    if (this.#closing) return;
    if (this.#client.isReady) {
      // Not a lost connection (e.g. a reply the client could not parse): worth a line each time.
      this.#logger.warn(`${this.name}: ${this.#redact(errorMessage(error))}`);
      return;
    }
    if (this.#down) return;
    this.#down = true;
    this.#logger.warn(
      `${this.name}: Redis is unreachable (${this.#redact(errorMessage(error))}); this instance keeps serving ` +
        'from its memory cache and will resync when Redis is back',
    );
  }

  #onReady(): void {
    if (this.#closing) return;
    // A new connection answered its handshake: a stall on the old one is over.
    if (this.#stalled) {
      this.#stalled = false;
      this.#recovered();
      return;
    }
    if (this.#down) {
      this.#down = false;
      this.#logger.info(`${this.name}: Redis is reachable again; resyncing`);
    }
    if (this.#resyncPending) this.#emitResync();
  }

  /**
   * The end of a stall: logs the recovery and announces `resync` (the connections never dropped,
   * so the subscriber does not announce one; events published meanwhile may have been missed and
   * this instance's own invalidations may not have been recorded).
   */
  #recovered(): void {
    if (this.#down) {
      this.#down = false;
      this.#logger.info(`${this.name}: Redis is reachable again; resyncing`);
    }
    this.#emitResync();
  }

  /**
   * Announces `resync` once both connections are up: listeners re-read and write through the
   * command connection, which may come back after the subscriber.
   */
  #emitResync(): void {
    if (!this.#client.isReady) {
      this.#resyncPending = true;
      return;
    }
    this.#resyncPending = false;
    this.#emit({ type: 'resync' });
  }

  #startSubscriber(): void {
    if (this.#subscriber) return;
    const subscriber = this.#client.duplicate();
    this.#subscriber = subscriber;
    let quiet = false;
    subscriber.on('error', (error) => {
      // Outages are reported once by the command connection; this one retries quietly.
      if (quiet || this.#closing) return;
      quiet = true;
      if (this.#logger.debugEnabled) {
        this.#logger.debug(`${this.name}: subscriber connection lost: ${this.#redact(errorMessage(error))}`);
      }
    });
    subscriber.on('ready', () => {
      quiet = false;
      if (this.#closing) return;
      // The client renews a registered subscription before announcing 'ready'.
      if (this.#subscribed) this.#emitResync();
      else void this.#subscribeChannel();
    });
    subscriber.connect().catch(() => {}); // rejects only when closed before connecting
  }

  async #subscribeChannel(): Promise<void> {
    const subscriber = this.#subscriber;
    if (!subscriber || this.#subscribed || this.#subscribing || this.#closing) return;
    this.#subscribing = true;
    try {
      await withTimeout(subscriber.subscribe(this.channel, this.#onMessage), this.#timeoutMs, () => new Error('SUBSCRIBE got no reply'));
      this.#subscribed = true;
      this.#emitResync();
    } catch (error) {
      if (this.#logger.debugEnabled) this.#logger.debug(`${this.name}: cannot subscribe yet: ${this.#redact(errorMessage(error))}`);
      // A lost connection retries on its next 'ready'; a live one that did not answer, in a second.
      if (subscriber.isReady && !this.#closing) {
        this.#subscribeRetry = setTimeout(() => void this.#subscribeChannel(), REDIS_RECONNECT_MAX_MS);
        this.#subscribeRetry.unref();
      }
    } finally {
      this.#subscribing = false;
    }
  }

  /** One bound function, so a repeated SUBSCRIBE never registers the listener twice. */
  readonly #onMessage = (message: string): void => {
    if (this.#closing) return;
    const parsed = parseWireEvent(message);
    if (!parsed) {
      const line = `${this.name}: ignoring a malformed message on ${this.channel}: ${JSON.stringify(message.slice(0, 200))}`;
      if (!this.#warnedMalformed) {
        this.#warnedMalformed = true;
        this.#logger.warn(`${line} (further ones are not logged as warnings)`);
      } else if (this.#logger.debugEnabled) {
        this.#logger.debug(line);
      }
      return;
    }
    if (parsed.origin === this.id) return;
    this.#emit(parsed.event);
  };

  #emit(event: StoreEvent): void {
    for (const { listener } of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.error(`${this.name}: a store event listener threw on ${event.type}`, error);
      }
    }
  }

  /** `text` without the password (raw or URL-encoded), for log lines. */
  #redact(text: string): string {
    if (this.#password === '') return text;
    return text.split(this.#password).join('***').split(encodeURIComponent(this.#password)).join('***');
  }
}
