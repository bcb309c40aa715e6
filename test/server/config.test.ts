/** Configuration over HTTP: expireTime, a memory-only cache, and what a failing disk means. */

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { storableHeaders } from '../../src/http/response-head.ts';
import { pageText, request, startFixtureServer, TOKEN } from '../helpers/server.ts';
import { makeTempDir, removeDir } from '../store/helpers.ts';

describe('configuration', () => {
  test('expireTime sets stale-while-revalidate = expire − revalidate; revalidate = false stays one year', async () => {
    const f = await startFixtureServer({ expireTime: 600 });
    try {
      assert.equal((await request(f, '/items/1')).headers.get('cache-control'), 's-maxage=10, stale-while-revalidate=590');
      assert.equal((await request(f, '/forever')).headers.get('cache-control'), 's-maxage=31536000');
      f.api.items.set('1', 'one after expire');
      f.clock.advance(600_001);
      const expired = await request(f, '/items/1');
      assert.equal(expired.headers.get('x-isr-cache'), 'MISS', 'past expire the stale page is not served');
      assert.equal(pageText(expired.text), 'one after expire');
    } finally {
      await f.close();
    }
  });

  test('without a memory tier and with an unwritable cache folder, a revalidation that cannot be recorded answers 503 with Retry-After', async () => {
    const f = await startFixtureServer({ memoryCacheSize: 0 });
    try {
      const blocker = path.join(f.dir, 'blocker');
      await writeFile(blocker, 'a file where a folder should be');
      await f.server.close();
      const { startServer } = await import('../../src/server/index.ts');
      f.server = await startServer({
        siteDir: f.dir,
        port: 0,
        hostname: '127.0.0.1',
        logger: f.logger,
        clock: f.clock,
        config: { revalidateToken: TOKEN, memoryCacheSize: 0, cacheDir: path.join(blocker, 'cache') },
      });
      assert.equal((await request(f, '/items/1')).status, 200, 'prerendered pages are still served');
      const response = await request(f, '/_isr/revalidate', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ tags: ['items'] }),
      });
      // Not acknowledged: nothing durable recorded it (it applies to this process, and is written
      // back once the folder can be written), so the caller is told to retry.
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '5');
      assert.match(JSON.parse(response.text).error, /could not record it durably/);
    } finally {
      await f.close();
    }
  });

  test('stored response headers drop cookies, hop-by-hop and encoding headers', () => {
    const headers = new Headers({
      'content-type': 'application/json',
      'set-cookie': 'a=b',
      'content-encoding': 'gzip',
      'content-length': '12',
      'transfer-encoding': 'chunked',
      connection: 'keep-alive',
      'x-custom': 'kept',
    });
    assert.deepEqual(storableHeaders(headers), { 'content-type': 'application/json', 'x-custom': 'kept' });
  });

  test('siteUrl (ISR_SITE_URL): stored as its origin; anything but an http(s) origin is refused with the option named', async () => {
    const dir = await makeTempDir();
    try {
      assert.equal((await loadConfig(dir, {}, {})).siteUrl, undefined);
      assert.equal((await loadConfig(dir, {}, { ISR_SITE_URL: 'https://WWW.Example.com/' })).siteUrl, 'https://www.example.com');
      assert.equal(
        (await loadConfig(dir, { siteUrl: 'http://localhost:8080' }, { ISR_SITE_URL: 'https://a.example' })).siteUrl,
        'http://localhost:8080',
      );
      for (const bad of [
        'www.example.com',
        'ftp://example.com',
        'https://example.com/blog',
        'https://example.com/?a=1',
        'https://example.com/#top',
        ' https://example.com',
      ]) {
        await assert.rejects(
          loadConfig(dir, {}, { ISR_SITE_URL: bad }),
          /siteUrl \(ISR_SITE_URL\) must be an absolute http:\/\/ or https:\/\/ URL/,
          bad,
        );
      }
      await assert.rejects(loadConfig(dir, {}, { ISR_SITE_URL: 'https://user:hunter2@example.com' }), (error: Error) => {
        assert.match(error.message, /credentials are not allowed/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      });
    } finally {
      await removeDir(dir);
    }
  });

  test('diskCacheSize and unreadExpireTime: defaults (1 GiB, 31 days), env, 0 turns them off, errors name the option', async () => {
    const dir = await makeTempDir();
    try {
      const defaults = await loadConfig(dir, {}, {});
      assert.equal(defaults.diskCacheSize, 1024 * 1024 * 1024);
      assert.equal(defaults.unreadExpireTime, 2_678_400);
      const fromEnv = await loadConfig(dir, {}, { ISR_DISK_CACHE_SIZE: '0', ISR_UNREAD_EXPIRE_TIME: '3600' });
      assert.deepEqual([fromEnv.diskCacheSize, fromEnv.unreadExpireTime], [0, 3600]);
      assert.equal((await loadConfig(dir, { diskCacheSize: 5 }, { ISR_DISK_CACHE_SIZE: '7' })).diskCacheSize, 5);
      await assert.rejects(
        loadConfig(dir, {}, { ISR_DISK_CACHE_SIZE: '1GB' }),
        /diskCacheSize \(ISR_DISK_CACHE_SIZE\) must be a non-negative integer/,
      );
      await assert.rejects(loadConfig(dir, {}, { ISR_UNREAD_EXPIRE_TIME: '-1' }), /unreadExpireTime \(ISR_UNREAD_EXPIRE_TIME\)/);
    } finally {
      await removeDir(dir);
    }
  });

  test('redisUrl, redisKeyPrefix, lockTimeout and renderTimeout: defaults, env, and errors that never echo a password', async () => {
    const dir = path.join(await makeTempDir(), 'my-site');
    try {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(dir);
      const defaults = await loadConfig(dir, {}, {});
      assert.equal(defaults.redisUrl, undefined);
      assert.equal(defaults.redisKeyPrefix, 'isr:my-site:', 'the folder name without a package.json');
      assert.equal(defaults.lockTimeout, 10);
      await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'shop' }));
      assert.equal((await loadConfig(dir, {}, {})).redisKeyPrefix, 'isr:shop:', 'the package name when there is one');
      const fromEnv = await loadConfig(
        dir,
        {},
        { ISR_REDIS_URL: 'redis://:pw@10.0.0.5:6380/2', ISR_REDIS_KEY_PREFIX: 'x:', ISR_LOCK_TIMEOUT: '2.5' },
      );
      assert.deepEqual([fromEnv.redisUrl, fromEnv.redisKeyPrefix, fromEnv.lockTimeout], ['redis://:pw@10.0.0.5:6380/2', 'x:', 2.5]);
      await assert.rejects(loadConfig(dir, {}, { ISR_REDIS_URL: 'http://:hunter2@host' }), (error: Error) => {
        assert.match(error.message, /redisUrl \(ISR_REDIS_URL\) must be a redis:\/\/ or rediss:\/\/ URL/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      });
      await assert.rejects(loadConfig(dir, {}, { ISR_REDIS_KEY_PREFIX: 'has space' }), /redisKeyPrefix/);
      await assert.rejects(loadConfig(dir, {}, { ISR_LOCK_TIMEOUT: '0' }), /lockTimeout \(ISR_LOCK_TIMEOUT\) must be a number of seconds/);
      await assert.rejects(loadConfig(dir, {}, { ISR_LOCK_TIMEOUT: 'soon' }), /lockTimeout/);
      assert.equal(defaults.renderTimeout, 60);
      assert.equal((await loadConfig(dir, {}, { ISR_RENDER_TIMEOUT: '0.5' })).renderTimeout, 0.5);
      assert.equal((await loadConfig(dir, { renderTimeout: 2 }, { ISR_RENDER_TIMEOUT: '0.5' })).renderTimeout, 2);
      await assert.rejects(
        loadConfig(dir, {}, { ISR_RENDER_TIMEOUT: '0' }),
        /renderTimeout \(ISR_RENDER_TIMEOUT\) must be a number of seconds/,
      );
      await assert.rejects(loadConfig(dir, {}, { ISR_RENDER_TIMEOUT: 'never' }), /renderTimeout/);
    } finally {
      await removeDir(path.dirname(dir));
    }
  });
});
