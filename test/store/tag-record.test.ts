/** The tag record of a cache folder: the compaction rule (`droppable`) and the snapshot and log on disk. */

import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createMemoryLogger } from '../../src/log.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import { DROP_GRACE_MS, droppable, type TagHorizon } from '../../src/store/tag-record.ts';
import { makeEntry, makeTempDir, removeDir } from './helpers.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await removeDir(dir);
});
async function fresh(): Promise<string> {
  const dir = await makeTempDir('isr-tag-record-');
  dirs.push(dir);
  return dir;
}

describe('droppable (the compaction rule)', () => {
  const now = 10 * DROP_GRACE_MS;
  const horizon: TagHorizon = {
    carried: new Map([
      ['posts', 5_000],
      ['_N_T_/blog/layout', 9_000],
    ]),
    oldestData: 7_000,
  };

  it('drops a tag older than every entry carrying it, and than the grace period', () => {
    assert.equal(droppable('posts', 4_999, horizon, now), true);
    assert.equal(droppable('posts', 5_000, horizon, now), false, 'an entry generated at the same instant is invalidated by it');
    assert.equal(droppable('nobody-carries-it', 1, horizon, now), true);
  });

  it('keeps anything invalidated within the grace period (a render running then may store an older entry)', () => {
    assert.equal(droppable('nobody-carries-it', now - DROP_GRACE_MS + 1, horizon, now), false);
    assert.equal(droppable('nobody-carries-it', now - DROP_GRACE_MS - 1, horizon, now), true);
  });

  it('holds an implicit tag to the oldest data-cache entry too (it reaches them as extraTags)', () => {
    assert.equal(droppable('_N_T_/blog/layout', 6_999, horizon, now), true);
    assert.equal(droppable('_N_T_/blog/layout', 7_000, horizon, now), false);
    assert.equal(droppable('_N_T_/other', 7_500, horizon, now), false, 'a data entry older than it could be read by that page');
    assert.equal(droppable('explicit', 7_500, horizon, now), true, 'explicit tags are carried by the data entries themselves');
  });
});

describe('the tag record on disk', () => {
  it('ignores a last line cut short, and never appends after one (rewrites first)', async () => {
    const dir = await fresh();
    const store = new FileSystemStore({ dir });
    await store.invalidateTags(['a'], 1);
    await store.invalidateTags(['b'], 2);
    // A kill -9 during a large append: the last line has no newline.
    await appendFile(join(dir, 'tags.log'), '{"at":3,"tags":["c","d');
    const logger = createMemoryLogger();
    const restarted = new FileSystemStore({ dir, logger });
    assert.deepEqual(
      await restarted.getTagManifest(),
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    assert.deepEqual(logger.lines, [], 'a torn tail is expected, not a warning');
    await restarted.invalidateTags(['e'], 4);
    assert.equal(restarted.tagRecord.stats.appends, 0, 'rewritten, not appended after the torn line');
    assert.equal(await readFile(join(dir, 'tags.log'), 'utf8'), '');
    assert.deepEqual(
      await new FileSystemStore({ dir }).getTagManifest(),
      new Map([
        ['a', 1],
        ['b', 2],
        ['e', 4],
      ]),
    );
  });

  it('reads a tags.json written by an earlier version, and keeps it whole when it starts the log', async () => {
    const dir = await fresh();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'tags.json'), `${JSON.stringify({ old: 10, older: 5 }, null, 1)}\n`);
    const store = new FileSystemStore({ dir });
    assert.deepEqual(
      await store.getTagManifest(),
      new Map([
        ['old', 10],
        ['older', 5],
      ]),
    );
    await store.invalidateTags(['new'], 20);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'tags.json'), 'utf8')), { old: 10, older: 5, new: 20 });
    await store.invalidateTags(['newer'], 30);
    assert.equal(await readFile(join(dir, 'tags.log'), 'utf8'), '{"at":30,"tags":["newer"]}\n');
  });

  it('compaction folds the log into the snapshot and drops what no entry can be affected by', async () => {
    const dir = await fresh();
    let now = 1_000_000_000;
    const store = new FileSystemStore({ dir, now: () => now });
    await store.set('/kept', makeEntry('/kept', { tags: ['kept'], lastModified: now - 1 }));
    await store.invalidateTags(['kept'], now); // the entry predates it: kept
    await store.invalidateTags(['gone'], now); // nobody carries it: dropped after the grace period
    now += DROP_GRACE_MS + 1;
    const tags = Array.from({ length: 40_000 }, (_, i) => `bulk-${i}`);
    for (let i = 0; i < 3; i++) await store.invalidateTags(tags, now + i); // > 1 MiB of log
    await store.tagRecord.settled();
    assert.equal(store.tagRecord.stats.compactions, 1);
    const manifest = await new FileSystemStore({ dir, readOnly: true }).getTagManifest();
    assert.equal(manifest.get('kept'), 1_000_000_000);
    assert.equal(manifest.has('gone'), false);
    assert.equal(manifest.get('bulk-7'), now + 2, 'recent ones stay');
    assert.equal(await readFile(join(dir, 'tags.log'), 'utf8'), '');
    await store.close();
  });
});
