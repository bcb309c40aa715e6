/** FileSystemStore: the store contract, then what only it does (atomic writes, the read-only mode, the bound and unread expiry, temp files of killed writers). */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryLogger } from '../../src/log.ts';
import { decodeEntry } from '../../src/store/codec.ts';
import { FileSystemStore, type FileSystemStoreOptions, ReadOnlyStoreError } from '../../src/store/filesystem.ts';
import { testCacheStore } from './contract.ts';
import { listFiles, makeEntry, makeTempDir, removeDir } from './helpers.ts';

/** A FileSystemStore contract fixture: a fresh folder, each instance opened on it with `options`. */
const onFreshFolder = (options: Omit<FileSystemStoreOptions, 'dir'>) => async () => {
  const dir = await makeTempDir('isr-fs-contract-');
  return {
    open: () => new FileSystemStore({ dir, ...options }),
    writer: () => new FileSystemStore({ dir }),
    cleanup: () => removeDir(dir),
  };
};
testCacheStore('FileSystemStore', { create: onFreshFolder({}) });
testCacheStore('FileSystemStore (bounded: maxBytes, unreadExpire)', {
  create: onFreshFolder({ maxBytes: 10 * 1024 * 1024, unreadExpire: 3600 }),
});
testCacheStore('FileSystemStore (read-only)', { create: onFreshFolder({ readOnly: true }), readOnly: true });

let root: string;
let counter = 0;
/** A fresh, not yet existing store directory inside `root`. */
const freshDir = () => join(root, `store-${++counter}`);

before(async () => {
  root = await makeTempDir();
});
after(async () => {
  await removeDir(root);
});

describe('FileSystemStore', () => {
  it('stores one file per entry at entries/<2 hex>/<sha256>.entry and round-trips it', async () => {
    const dir = freshDir();
    const logger = createMemoryLogger();
    const store = new FileSystemStore({ dir, logger });
    const entry = makeEntry('page:/blog/1', { body: Uint8Array.from({ length: 300 }, (_, i) => i % 256) });
    await store.set('page:/blog/1', entry);

    const hash = createHash('sha256').update('page:/blog/1').digest('hex');
    const expectedPath = join(dir, 'entries', hash.slice(0, 2), `${hash}.entry`);
    assert.equal(store.entryPath('page:/blog/1'), expectedPath);
    assert.deepEqual(await listFiles(dir), [expectedPath]);
    assert.equal(decodeEntry(await readFile(expectedPath)).key, 'page:/blog/1');

    const read = await store.get('page:/blog/1');
    assert.ok(read);
    assert.ok(Buffer.from(read.value.body).equals(Buffer.from(entry.value.body)));
    assert.deepEqual({ ...read, value: { ...read.value, body: null } }, { ...entry, value: { ...entry.value, body: null } });
    assert.equal(await store.get('page:/blog/2'), undefined);
    assert.deepEqual(logger.lines, []);
  });

  it('creates its directory lazily, on the first write only', async () => {
    const dir = freshDir();
    const store = new FileSystemStore({ dir });
    assert.equal(await store.get('x'), undefined);
    assert.deepEqual(await store.getTagManifest(), new Map());
    await store.delete('x');
    await assert.rejects(stat(dir), { code: 'ENOENT' });
    await store.set('x', makeEntry('x'));
    assert.ok((await stat(dir)).isDirectory());
  });

  it('never lets a key name a location outside its directory', async () => {
    const parent = await makeTempDir('isr-fs-escape-');
    try {
      const dir = join(parent, 'store');
      const store = new FileSystemStore({ dir });
      const keys = [
        '../../etc/passwd',
        '/a/../../b',
        '..',
        '.',
        '',
        '/',
        'a\0b',
        '\0',
        '..\\..\\windows\\system32',
        'C:\\evil',
        'page:/../../../../tmp/x',
        `${'../'.repeat(40)}outside`,
        '%2e%2e%2fescape',
        'x'.repeat(5000),
        'tags.json',
        '../tags.json',
      ];
      for (const key of keys) await store.set(key, makeEntry(key, { body: `body of ${key}` }));
      await store.invalidateTags(['../../tag', '/etc/shadow'], 1);

      assert.deepEqual(await readdir(parent), ['store'], 'nothing created next to the store');
      const files = await listFiles(parent);
      assert.equal(files.length, keys.length + 2);
      for (const file of files) {
        const rel = relative(dir, file);
        assert.ok(!rel.startsWith('..') && !rel.includes(`${sep}..`), `${file} is inside ${dir}`);
        assert.match(rel, new RegExp(`^(tags\\.json|tags\\.log|entries\\${sep}[0-9a-f]{2}\\${sep}[0-9a-f]{64}\\.entry)$`));
      }
      for (const key of keys) {
        assert.equal(Buffer.from((await store.get(key))!.value.body).toString(), `body of ${key}`, JSON.stringify(key));
      }
      assert.deepEqual(
        await store.getTagManifest(),
        new Map([
          ['../../tag', 1],
          ['/etc/shadow', 1],
        ]),
      );
    } finally {
      await removeDir(parent);
    }
  });

  it('replaces entries atomically: concurrent readers always decode one complete entry', async () => {
    const dir = freshDir();
    const logger = createMemoryLogger();
    const writer = new FileSystemStore({ dir, logger });
    const reader = new FileSystemStore({ dir, logger }); // a second instance, like another process
    const key = 'page:/hot';
    const sizes = Array.from({ length: 60 }, (_, i) => ((i * 7919) % 60) * 16_384 + (i % 7)); // 0 B .. ~1 MB
    const makeSized = (size: number) => {
      const entry = makeEntry(key, { body: new Uint8Array(size).fill(size % 251), etag: `"${size}"` });
      entry.value.headers = { 'x-size': String(size) };
      return entry;
    };
    await writer.set(key, makeSized(1));

    let done = false;
    let reads = 0;
    const readLoop = async () => {
      try {
        await readUntilDone();
      } finally {
        done = true; // one failing reader stops the others and the writers' test
      }
    };
    const readUntilDone = async () => {
      while (!done) {
        const entry = await reader.get(key);
        assert.ok(entry, 'an entry is always there once written');
        const size = Number(entry.value.headers['x-size']);
        assert.equal(entry.etag, `"${size}"`);
        assert.equal(entry.value.body.byteLength, size);
        assert.ok(
          entry.value.body.every((b) => b === size % 251),
          'body matches its own metadata',
        );
        reads++;
      }
    };
    const readers = Promise.allSettled([readLoop(), readLoop(), readLoop()]); // handled from the start
    await Promise.all(sizes.map((size) => writer.set(key, makeSized(size))));
    await Promise.all(sizes.map((size) => writer.set(key, makeSized(size + 1))));
    done = true;
    for (const result of await readers) {
      if (result.status === 'rejected') throw result.reason;
    }

    assert.ok(reads > 10, `readers ran (${reads} reads)`);
    assert.deepEqual(logger.lines, [], 'no corrupt reads were logged');
    const files = await listFiles(dir);
    assert.equal(files.length, 1, `no temp files left behind: ${files.join(', ')}`);
  });

  it('reads a torn, garbage or foreign file as undefined and logs a warning', async () => {
    const dir = freshDir();
    const logger = createMemoryLogger();
    const store = new FileSystemStore({ dir, logger });
    await store.set('torn', makeEntry('torn', { body: new Uint8Array(1000).fill(7) }));
    const path = store.entryPath('torn');
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.byteLength - 10));
    assert.equal(await store.get('torn'), undefined);
    assert.equal(logger.lines.length, 1);
    assert.match(logger.lines[0]!, /^warn filesystem:.*"torn".*body length mismatch/);

    await writeFile(path, bytes.subarray(0, 5));
    assert.equal(await store.get('torn'), undefined);
    assert.match(logger.lines[1]!, /^warn .*truncated header/);

    await writeFile(path, 'not an entry at all');
    assert.equal(await store.get('torn'), undefined);
    assert.match(logger.lines[2]!, /^warn .*wrong magic/);

    // a complete entry for another key at this key's path (e.g. copied by hand)
    await store.set('other', makeEntry('other'));
    await writeFile(path, await readFile(store.entryPath('other')));
    assert.equal(await store.get('torn'), undefined);
    assert.match(logger.lines[3]!, /^warn .*"torn".*holds key "other"/);

    // the file can be replaced by a good write again
    await store.set('torn', makeEntry('torn'));
    assert.ok(await store.get('torn'));
    assert.equal(logger.lines.length, 4);
  });

  it('reads an unreadable entry (a directory at its path) as undefined with a warning', async () => {
    const logger = createMemoryLogger();
    const store = new FileSystemStore({ dir: freshDir(), logger });
    await mkdir(store.entryPath('k'), { recursive: true });
    assert.equal(await store.get('k'), undefined);
    assert.match(logger.lines[0]!, /^warn .*cannot read entry "k"/);
  });

  it('removes its temp file when the final rename fails', async () => {
    const dir = freshDir();
    const store = new FileSystemStore({ dir });
    const target = store.entryPath('k');
    await mkdir(target, { recursive: true });
    await writeFile(join(target, 'occupied'), 'x'); // rename over a non-empty directory fails
    await assert.rejects(store.set('k', makeEntry('k')));
    assert.deepEqual(await readdir(join(target, '..')), [target.split(sep).pop()]);
  });

  it('records tags incrementally (one log line per call) keeping the latest time per tag; another store on the folder reads them', async () => {
    const dir = freshDir();
    const a = new FileSystemStore({ dir });
    const reader = new FileSystemStore({ dir }); // another process on the same dir (a worker)
    await a.invalidateTags(['x', 'y'], 100);
    await a.invalidateTags(['y', 'z'], 50); // y keeps 100
    await a.invalidateTags(['z'], 75);
    await a.invalidateTags(['w'], 10);
    const expected = new Map([
      ['x', 100],
      ['y', 100],
      ['z', 75],
      ['w', 10],
    ]);
    assert.deepEqual(await a.getTagManifest(), expected);
    assert.deepEqual(await reader.getTagManifest(), expected);
    // The first call wrote the (empty-logged) record; the others each appended one line.
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'tags.json'), 'utf8')), { x: 100, y: 100 });
    const lines = (await readFile(join(dir, 'tags.log'), 'utf8')).split('\n');
    assert.deepEqual(lines, ['{"at":50,"tags":["y","z"]}', '{"at":75,"tags":["z"]}', '{"at":10,"tags":["w"]}', '']);
    assert.deepEqual(a.tagRecord.stats, { appends: 3, rewrites: 1, compactions: 0, dropped: 0 });

    // a later time written by hand into the snapshot wins over an earlier invalidation
    await writeFile(join(dir, 'tags.json'), JSON.stringify({ x: 500 }));
    await a.invalidateTags(['x', 'v'], 200);
    assert.equal((await reader.getTagManifest()).get('x'), 500);
    assert.equal((await reader.getTagManifest()).get('v'), 200);
  });

  it('serializes concurrent invalidateTags calls within the process (none is lost)', async () => {
    const store = new FileSystemStore({ dir: freshDir() });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.invalidateTags([`tag-${i}`, 'shared'], 1000 + i)));
    const manifest = await store.getTagManifest();
    assert.equal(manifest.size, 51);
    for (let i = 0; i < 50; i++) assert.equal(manifest.get(`tag-${i}`), 1000 + i);
    assert.equal(manifest.get('shared'), 1049);
  });

  it('reads a missing tags.json as empty and a malformed one as empty with a warning', async () => {
    const dir = freshDir();
    const logger = createMemoryLogger();
    const store = new FileSystemStore({ dir, logger });
    assert.deepEqual(await store.getTagManifest(), new Map());
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'tags.json'), '{"a": 1, "b": ');
    assert.deepEqual(await store.getTagManifest(), new Map());
    assert.match(logger.lines[0]!, /^warn .*malformed .*tags\.json/);
    await writeFile(join(dir, 'tags.json'), '{"a": 1, "b": "2", "c": null}');
    assert.deepEqual(await store.getTagManifest(), new Map([['a', 1]]));
    assert.equal(logger.lines.length, 3);
    await assert.rejects(store.invalidateTags(['a'], NaN), TypeError);
  });

  it('refuses every write in read-only mode but still reads', async () => {
    const dir = freshDir();
    await new FileSystemStore({ dir }).set('k', makeEntry('k'));
    const before = await listFiles(dir);
    const store = new FileSystemStore({ dir, readOnly: true });
    assert.equal(store.readOnly, true);
    for (const attempt of [
      () => store.set('k', makeEntry('k', { body: 'new' })),
      () => store.set('new', makeEntry('new')),
      () => store.delete('k'),
      () => store.invalidateTags(['t'], 1),
    ]) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof ReadOnlyStoreError);
        assert.match(error.message, /is read-only/);
        return true;
      });
    }
    assert.ok(await store.get('k'));
    assert.deepEqual(await listFiles(dir), before);
  });

  it('fails writes to an unwritable location and reads it as empty', async () => {
    const parent = await makeTempDir('isr-fs-unwritable-');
    try {
      await writeFile(join(parent, 'a-file'), 'I am a file');
      const store = new FileSystemStore({ dir: join(parent, 'a-file', 'cache') });
      await assert.rejects(store.set('k', makeEntry('k')), { code: 'ENOTDIR' });
      await assert.rejects(store.invalidateTags(['t'], 1), { code: 'ENOTDIR' });
      assert.equal(await store.get('k'), undefined);
      // what the disk refused is kept (and written back once it can be)
      assert.deepEqual(await store.getTagManifest(), new Map([['t', 1]]));
      assert.deepEqual(await new FileSystemStore({ dir: join(parent, 'a-file', 'cache') }).getTagManifest(), new Map());
      await store.close();
    } finally {
      await removeDir(parent);
    }
  });

  it('writes with fsync enabled', async () => {
    const store = new FileSystemStore({ dir: freshDir(), fsync: true });
    await store.set('k', makeEntry('k', { body: 'synced' }));
    await store.invalidateTags(['t'], 5);
    assert.equal(Buffer.from((await store.get('k'))!.value.body).toString(), 'synced');
    assert.deepEqual(await store.getTagManifest(), new Map([['t', 5]]));
  });

  it('rejects an entry whose key differs from the key it is stored under', async () => {
    const dir = freshDir();
    const store = new FileSystemStore({ dir });
    await assert.rejects(store.set('a', makeEntry('b')), TypeError);
    await assert.rejects(stat(dir), { code: 'ENOENT' });
  });

  describe('sweepTempFiles', () => {
    /** The pid of a process that has exited (a child that ran and was reaped). */
    async function deadPid(): Promise<number> {
      const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
      await once(child, 'exit');
      assert.ok(child.pid !== undefined);
      return child.pid;
    }

    it('removes temp files of dead processes and of an earlier process with this pid, keeps every other file', async () => {
      const dir = freshDir();
      const logger = createMemoryLogger();
      const store = new FileSystemStore({ dir, logger });
      await store.set('page:/a', makeEntry('page:/a'));
      await store.invalidateTags(['t'], 1);
      const target = store.entryPath('page:/a');
      const dead = await deadPid();
      const temp = (base: string, pid: number, hex: string) => `${base}.${pid}.${hex}.tmp`;
      const stale = [temp(target, dead, 'a1b2c3d4e5f6'), temp(store.tagsPath, dead, '0123456789ab')];
      const ownOld = temp(target, process.pid, 'aaaaaaaaaaaa');
      const kept = [
        temp(target, process.ppid, 'bbbbbbbbbbbb'), // a live process (another worker) may be writing it
        temp(target, process.pid, 'cccccccccccc'), // this process, now
        `${target}.notatemp`,
        join(dirname(target), 'other.tmp'), // not named like our temp files
      ];
      for (const path of [...stale, ownOld, ...kept]) await writeFile(path, 'partial');
      const hourAgo = new Date(Date.now() - process.uptime() * 1000 - 3_600_000);
      await utimes(ownOld, hourAgo, hourAgo);

      assert.equal(await store.sweepTempFiles(), 3);
      const left = new Set(await listFiles(dir));
      for (const path of [...stale, ownOld]) assert.ok(!left.has(path), `removed ${path}`);
      for (const path of [target, store.tagsPath, ...kept]) assert.ok(left.has(path), `kept ${path}`);
      assert.equal((await store.get('page:/a'))?.key, 'page:/a');
      assert.deepEqual(
        logger.lines.filter((line) => line.startsWith('warn')),
        [],
      );
      assert.equal(await store.sweepTempFiles(), 0, 'a second sweep finds nothing');
    });

    it('is a no-op on a store that holds nothing yet and on a read-only store', async () => {
      const dir = freshDir();
      assert.equal(await new FileSystemStore({ dir }).sweepTempFiles(), 0);
      await mkdir(join(dir, 'entries', 'ab'), { recursive: true });
      const path = join(dir, 'entries', 'ab', `x.entry.${await deadPid()}.abcdefabcdef.tmp`);
      await writeFile(path, 'partial');
      assert.equal(await new FileSystemStore({ dir, readOnly: true }).sweepTempFiles(), 0);
      await stat(path);
    });

    it('never rejects: a store folder that is a file is nothing to sweep', async () => {
      const parent = await makeTempDir('isr-fs-sweep-');
      try {
        await writeFile(join(parent, 'a-file'), 'I am a file');
        const logger = createMemoryLogger();
        assert.equal(await new FileSystemStore({ dir: join(parent, 'a-file'), logger }).sweepTempFiles(), 0);
      } finally {
        await removeDir(parent);
      }
    });
  });
});
