/**
 * App Router route discovery (`discoverAppRoutes`) on small real `app/` folders: which files become
 * routes, their patterns, segments and layouts, what is ignored, and the errors that name the file.
 * @see https://nextjs.org/docs/app/getting-started/project-structure
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { discoverAppRoutes } from '../../src/app/routes.ts';
import { fileTrees } from '../helpers/file-tree.ts';

const trees = fileTrees('isr-app-routes');
after(() => trees.cleanup());

/** The routes of an `app/` tree as `pattern kind file`, in discovery order. */
function summary(paths: readonly string[]): string[] {
  const found = discoverAppRoutes(trees.tree(paths));
  assert.ok(found, 'an app/ folder was found');
  return found.routes.map((route) => `${route.pattern} ${route.kind} ${route.file}`);
}

describe('discoverAppRoutes: the file conventions', () => {
  test('a site without an app/ folder has no App Router routes', () => {
    assert.equal(discoverAppRoutes(trees.tree(['pages/index.tsx'])), undefined);
  });

  test('page, route, layout and not-found files become routes with their layouts, root first', () => {
    const found = discoverAppRoutes(
      trees.tree([
        'app/layout.tsx',
        'app/page.tsx',
        'app/not-found.tsx',
        'app/blog/layout.tsx',
        'app/blog/page.tsx',
        'app/blog/[id]/page.tsx',
        'app/api/feed/route.ts',
      ]),
    );
    assert.deepEqual(found, {
      routes: [
        {
          pattern: '/',
          segments: [],
          router: 'app',
          kind: 'page',
          file: 'app/page.tsx',
          layouts: ['app/layout.tsx'],
          wrappers: [{ kind: 'layout', file: 'app/layout.tsx' }],
        },
        {
          pattern: '/api/feed',
          segments: [
            { type: 'static', value: 'api' },
            { type: 'static', value: 'feed' },
          ],
          router: 'app',
          kind: 'route',
          file: 'app/api/feed/route.ts',
          layouts: [],
        },
        {
          pattern: '/blog',
          segments: [{ type: 'static', value: 'blog' }],
          router: 'app',
          kind: 'page',
          file: 'app/blog/page.tsx',
          layouts: ['app/layout.tsx', 'app/blog/layout.tsx'],
          wrappers: [
            { kind: 'layout', file: 'app/layout.tsx' },
            { kind: 'layout', file: 'app/blog/layout.tsx' },
          ],
        },
        {
          pattern: '/blog/[id]',
          segments: [
            { type: 'static', value: 'blog' },
            { type: 'dynamic', name: 'id' },
          ],
          router: 'app',
          kind: 'page',
          file: 'app/blog/[id]/page.tsx',
          layouts: ['app/layout.tsx', 'app/blog/layout.tsx'],
          wrappers: [
            { kind: 'layout', file: 'app/layout.tsx' },
            { kind: 'layout', file: 'app/blog/layout.tsx' },
          ],
        },
      ],
      notFound: 'app/not-found.tsx',
      metadataFiles: [],
      metadataImages: [],
    });
  });

  test('error, loading and global-error files wrap the pages below them in Next.js’s order', () => {
    const found = discoverAppRoutes(
      trees.tree([
        'app/layout.tsx',
        'app/global-error.tsx',
        'app/error.tsx',
        'app/loading.tsx',
        'app/page.tsx',
        'app/blog/loading.tsx',
        'app/blog/layout.tsx',
        'app/blog/[id]/error.tsx',
        'app/blog/[id]/page.tsx',
      ]),
    );
    assert.deepEqual(
      found?.routes.map((route) => [route.pattern, route.wrappers?.map((w) => `${w.kind} ${w.file}`)]),
      [
        ['/', ['global-error app/global-error.tsx', 'layout app/layout.tsx', 'error app/error.tsx', 'loading app/loading.tsx']],
        [
          '/blog/[id]',
          [
            'global-error app/global-error.tsx',
            'layout app/layout.tsx',
            'error app/error.tsx',
            'loading app/loading.tsx',
            'layout app/blog/layout.tsx',
            'loading app/blog/loading.tsx',
            'error app/blog/[id]/error.tsx',
          ],
        ],
      ],
    );
  });

  test('[...slug] and [[...slug]] folders are catch-all and optional catch-all segments', () => {
    const found = discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/docs/[...slug]/page.tsx', 'app/shop/[[...slug]]/page.tsx']));
    assert.deepEqual(
      found?.routes.map((route) => [route.pattern, route.segments[1]]),
      [
        ['/docs/[...slug]', { type: 'catchAll', name: 'slug' }],
        ['/shop/[[...slug]]', { type: 'optionalCatchAll', name: 'slug' }],
      ],
    );
  });

  test('a (group) folder is left out of the URL, and its layout wraps the pages inside it', () => {
    const found = discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/(marketing)/layout.tsx', 'app/(marketing)/about/page.tsx']));
    assert.deepEqual(found?.routes, [
      {
        pattern: '/about',
        segments: [{ type: 'static', value: 'about' }],
        router: 'app',
        kind: 'page',
        file: 'app/(marketing)/about/page.tsx',
        layouts: ['app/layout.tsx', 'app/(marketing)/layout.tsx'],
        wrappers: [
          { kind: 'layout', file: 'app/layout.tsx' },
          { kind: 'layout', file: 'app/(marketing)/layout.tsx' },
        ],
      },
    ]);
  });

  test('_private, dot and node_modules folders, other files and folders without a page are not routes', () => {
    assert.deepEqual(
      summary([
        'app/layout.tsx',
        'app/page.tsx',
        'app/_private/page.tsx',
        'app/.hidden/page.tsx',
        'app/node_modules/pkg/page.tsx',
        'app/components/Button.tsx',
        'app/helpers.ts',
        'app/empty/',
      ]),
      ['/ page app/page.tsx'],
    );
  });

  test('folders are walked in sorted order: a folder’s page and route come before its subfolders', () => {
    assert.deepEqual(summary(['app/layout.tsx', 'app/b/page.tsx', 'app/a/z/page.tsx', 'app/a/page.tsx', 'app/page.tsx']), [
      '/ page app/page.tsx',
      '/a page app/a/page.tsx',
      '/a/z page app/a/z/page.tsx',
      '/b page app/b/page.tsx',
    ]);
  });

  test('of page.tsx, page.ts, page.jsx, page.js and page.mjs in one folder, the first in that order is the page', () => {
    assert.deepEqual(summary(['app/layout.js', 'app/page.mjs', 'app/page.js', 'app/page.tsx']), ['/ page app/page.tsx']);
    assert.deepEqual(summary(['app/layout.js', 'app/page.mjs', 'app/page.jsx']), ['/ page app/page.jsx']);
  });

  test('only the root not-found file is the site’s not-found page; a nested one is ignored', () => {
    assert.equal(discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/blog/not-found.tsx', 'app/blog/page.tsx']))?.notFound, undefined);
    assert.equal(discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/not-found.js']))?.notFound, 'app/not-found.js');
  });

  test('a route handler needs no layout', () => {
    assert.deepEqual(summary(['app/feed/route.ts']), ['/feed route app/feed/route.ts']);
  });
});

describe('discoverAppRoutes: errors name the folder or file', () => {
  test('page and route files in one folder', () => {
    assert.throws(() => discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/feed/page.tsx', 'app/feed/route.ts'])), {
      message: 'app/feed: a folder cannot have both page and route files',
    });
  });

  test('an invalid dynamic segment folder name', () => {
    assert.throws(() => discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/[id/page.tsx'])), {
      message: 'app/[id: invalid dynamic segment folder name "[id"',
    });
    assert.throws(() => discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/blog/[post-id]/page.tsx'])), {
      message: 'app/blog/[post-id]: invalid dynamic segment folder name "[post-id]"',
    });
  });

  test('a folder below a catch-all segment, even one without a page', () => {
    assert.throws(() => discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/docs/[...slug]/edit/page.tsx'])), {
      message: 'app/docs/[...slug]/edit: a catch-all segment must be the last segment',
    });
    assert.throws(() => discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/[[...slug]]/empty/'])), {
      message: 'app/[[...slug]]/empty: a catch-all segment must be the last segment',
    });
  });

  test('conventions isr does not implement (template files, parallel and intercepting routes) fail the build, never serve plain paths', () => {
    assert.throws(() => discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/template.tsx', 'app/page.tsx'])), {
      message: 'app/template.tsx: template files are not supported by isr; use a layout (layout.tsx) instead',
    });
    assert.throws(() => discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/@modal/page.tsx'])), {
      message: 'app/@modal: parallel routes (@slot folders) are not supported by isr (the folder would be served as a plain path)',
    });
    assert.throws(() => discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/feed/(..)photo/[id]/page.tsx'])), {
      message:
        'app/feed/(..)photo: intercepting routes ((.), (..), (...) folders) are not supported by isr (the folder would be served as a plain path)',
    });
  });

  test('a route group or private folder below a catch-all is allowed', () => {
    assert.deepEqual(summary(['app/layout.tsx', 'app/docs/[...slug]/(g)/page.tsx', 'app/docs/[...slug]/_parts/x.tsx']), [
      '/docs/[...slug] page app/docs/[...slug]/(g)/page.tsx',
    ]);
  });

  test('a page without a root layout', () => {
    assert.throws(() => discoverAppRoutes(trees.tree(['app/blog/layout.tsx', 'app/page.tsx'])), {
      message: 'app/page.tsx: no root layout (app/layout.tsx) wraps this page',
    });
  });

  test('the outermost layout above a page is its root layout, wherever it is (a group, a subfolder)', () => {
    assert.deepEqual(summary(['app/(shop)/layout.tsx', 'app/(shop)/cart/page.tsx', 'app/blog/layout.tsx', 'app/blog/page.tsx']), [
      '/cart page app/(shop)/cart/page.tsx',
      '/blog page app/blog/page.tsx',
    ]);
  });
});

describe('discoverAppRoutes: metadata files', () => {
  test('sitemap.ts, robots.ts and manifest.ts become routes at their URLs; static files are listed; image metadata in every folder, generated ones as routes', () => {
    const found = discoverAppRoutes(
      trees.tree([
        'app/layout.tsx',
        'app/page.tsx',
        'app/sitemap.ts',
        'app/robots.ts',
        'app/favicon.ico',
        'app/opengraph-image.png',
        'app/(site)/blog/[slug]/page.tsx',
        'app/(site)/blog/[slug]/opengraph-image.tsx',
        'app/(site)/blog/[slug]/icon1.png',
      ]),
    )!;
    assert.deepEqual(
      found.routes
        .filter((route) => route.metadataRoute !== undefined)
        .map((route) => [route.pattern, route.kind, route.metadataRoute, route.file]),
      [
        ['/blog/[slug]/opengraph-image', 'route', 'image', 'app/(site)/blog/[slug]/opengraph-image.tsx'],
        ['/sitemap.xml', 'route', 'sitemap', 'app/sitemap.ts'],
        ['/robots.txt', 'route', 'robots', 'app/robots.ts'],
      ],
    );
    assert.deepEqual(found.metadataFiles, ['favicon.ico']);
    assert.deepEqual(
      found.metadataImages.map(({ kind, folder, urlPath, generated }) => [kind, folder, urlPath, generated]),
      [
        ['favicon', 'app', 'favicon.ico', false],
        ['opengraph-image', 'app', 'opengraph-image.png', false],
        ['icon', 'app/(site)/blog/[slug]', 'blog/-/icon1.png', false],
        ['opengraph-image', 'app/(site)/blog/[slug]', '/blog/[slug]/opengraph-image', true],
      ],
    );
    assert.throws(
      () => discoverAppRoutes(trees.tree(['app/layout.tsx', 'app/robots.ts', 'app/robots.txt'])),
      /app\/robots\.ts: app\/ also has a static robots\.txt; keep one of them/,
    );
  });
});
