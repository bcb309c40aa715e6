/**
 * Reading a site's next.config (src/config/next-config.ts): the file forms Next.js accepts, the
 * `images` defaults and checks, `env`, and the settings isr refuses (with the file and the setting
 * named) or ignores (with a warning).
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BUILT_IN_PROFILES, INFINITE_CACHE, resolveCacheLifeProfiles } from '../../src/config/cache-life.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { DEFAULT_IMAGES, loadNextConfig, NO_ROUTING_RULES } from '../../src/config/next-config.ts';
import { matchesRemotePattern } from '../../src/server/image.ts';

async function withConfig(name: string, text: string, check: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'isr-next-config-test-'));
  try {
    await writeFile(path.join(dir, name), text);
    await check(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('next.config', () => {
  it('is optional: Next.js 16 image defaults', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'isr-next-config-test-'));
    const config = await loadNextConfig(dir);
    assert.deepEqual(config, {
      images: DEFAULT_IMAGES,
      routing: NO_ROUTING_RULES,
      env: {},
      file: undefined,
      warnings: [],
      cacheComponents: false,
      useCache: false,
      cacheLife: BUILT_IN_PROFILES,
      pageExtensions: undefined,
    });
    await rm(dir, { recursive: true });
  });

  it('reads CommonJS, a function of the phase, and TypeScript', async () => {
    await withConfig(
      'next.config.js',
      "module.exports = { images: { domains: ['images.example.com'] }, env: { GREETING: 'hi' } };",
      async (dir) => {
        const config = await loadNextConfig(dir);
        assert.deepEqual(config.images.remotePatterns, [{ hostname: 'images.example.com' }]);
        assert.deepEqual(config.env, { GREETING: 'hi' });
        assert.equal(config.file, 'next.config.js');
      },
    );
    await withConfig('next.config.mjs', 'export default (phase) => ({ env: { PHASE: phase } });', async (dir) => {
      assert.deepEqual((await loadNextConfig(dir)).env, { PHASE: 'phase-production-build' });
    });
    await withConfig(
      'next.config.ts',
      "import type { NextConfig } from 'next';\nconst config: NextConfig = { images: { qualities: [50, 90], formats: ['image/avif', 'image/webp'] } };\nexport default config;",
      async (dir) => {
        const { images } = await loadNextConfig(dir);
        assert.deepEqual(images.qualities, [50, 90]);
        assert.deepEqual(images.formats, ['image/avif', 'image/webp']);
      },
    );
  });

  it('refuses what isr does not implement, naming the file and the setting', async () => {
    for (const [text, message] of [
      ["module.exports = { assetPrefix: 'https://cdn.example.com' }", /^next\.config\.js: assetPrefix is not supported by isr; /],
      ["module.exports = { trailingSlash: 'yes' }", /^next\.config\.js: trailingSlash must be true or false$/],
      [
        "module.exports = { pageExtensions: ['mdx', 'tsx'] }",
        /^next\.config\.js: pageExtensions "mdx": Markdown pages \(@next\/mdx\) are not supported by isr/,
      ],
      [
        "module.exports = { pageExtensions: ['page.css'] }",
        /^next\.config\.js: pageExtensions "page\.css" is not a JavaScript or TypeScript extension/,
      ],
      ['module.exports = { pageExtensions: [] }', /^next\.config\.js: pageExtensions must be a non-empty array/],
      [
        "module.exports = { async redirects() { return [{ source: '/a', destination: '/b' }]; } }",
        /^next\.config\.js: redirects\[0\] needs permanent: true or false/,
      ],
      [
        "module.exports = { rewrites: () => [{ source: 'a', destination: '/b' }] }",
        /^next\.config\.js: rewrites\.afterFiles\[0\]\.source must be a path starting with \//,
      ],
      [
        "module.exports = { headers: async () => [{ source: '/a', headers: [{ key: 'x' }] }] }",
        /^next\.config\.js: headers\[0\]\.headers must be an array of \{ key, value \} strings/,
      ],
      ["module.exports = { i18n: { locales: ['en'], defaultLocale: 'en' } }", /^next\.config\.js: i18n is not supported by isr; /],
      ['module.exports = { images: { loader: "custom" } }', /^next\.config\.js: images\.loader is not supported by isr/],
      ['module.exports = { images: { deviceSizes: [0] } }', /^next\.config\.js: images\.deviceSizes must be a non-empty array/],
    ] as const) {
      await withConfig('next.config.js', text, async (dir) => {
        await assert.rejects(loadNextConfig(dir), (error: Error) => error instanceof ConfigError && message.test(error.message));
      });
    }
  });

  it('warns about what only tunes Next’s own tooling, and about unknown settings', async () => {
    await withConfig(
      'next.config.js',
      'module.exports = { reactStrictMode: true, experimental: { appDir: true }, trailingSlash: false, frobnicate: 1 }',
      async (dir) => {
        assert.deepEqual((await loadNextConfig(dir)).warnings, [
          "next.config.js: reactStrictMode tunes Next's own tooling; isr ignores it",
          "next.config.js: experimental.appDir tunes Next's own tooling; isr ignores it",
          'next.config.js: unknown setting frobnicate; isr ignores it',
        ]);
      },
    );
  });

  it('matches remotePatterns as Next.js does (* one label or segment, ** any)', () => {
    const url = new URL('https://cdn.images.example.com/photos/2024/a.jpg');
    assert.ok(matchesRemotePattern({ hostname: '**.example.com' }, url));
    assert.ok(matchesRemotePattern({ hostname: '*.images.example.com', pathname: '/photos/**' }, url));
    assert.ok(!matchesRemotePattern({ hostname: '*.example.com' }, url));
    assert.ok(!matchesRemotePattern({ hostname: 'cdn.images.example.com', protocol: 'http' }, url));
    assert.ok(!matchesRemotePattern({ hostname: 'cdn.images.example.com', pathname: '/photos/*' }, url));
  });
});

describe('next.config cacheComponents and cacheLife (Next.js 16)', () => {
  it('reads cacheComponents and the site’s profiles over the built-in ones', async () => {
    await withConfig(
      'next.config.js',
      'module.exports = { cacheComponents: true, cacheLife: { editorial: { stale: 600, revalidate: 3600, expire: 86400 }, forever: { revalidate: Infinity } } };',
      async (dir) => {
        const config = await loadNextConfig(dir);
        assert.equal(config.cacheComponents, true);
        assert.equal(config.useCache, true);
        assert.deepEqual(config.cacheLife.editorial, { stale: 600, revalidate: 3600, expire: 86400 });
        assert.deepEqual(
          config.cacheLife.forever,
          { revalidate: INFINITE_CACHE },
          'Infinity kept as Next.js keeps it; omitted values stay omitted',
        );
        assert.deepEqual(config.cacheLife.hours, BUILT_IN_PROFILES.hours);
      },
    );
  });

  it('a redefined default fills its omitted values from the built-in default', () => {
    const profiles = resolveCacheLifeProfiles({ default: { revalidate: 3600 } });
    assert.deepEqual(profiles.default, { stale: 300, revalidate: 3600, expire: INFINITE_CACHE });
  });

  it('refuses false, a non-number and revalidate above expire, naming the profile', () => {
    assert.throws(() => resolveCacheLifeProfiles({ a: { expire: false } }), /cacheLife\.a: pass Infinity instead of false/);
    assert.throws(() => resolveCacheLifeProfiles({ a: { stale: '5' } }), /cacheLife\.a: the stale option must be a number of seconds/);
    assert.throws(
      () => resolveCacheLifeProfiles({ a: { revalidate: 10, expire: 5 } }),
      /the expire option must be greater than the revalidate option/,
    );
  });
});
