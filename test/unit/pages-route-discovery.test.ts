/**
 * Pages Router route discovery (`discoverPagesRoutes`) on small real `pages/` folders: every file is
 * a route, `index` is its folder, `pages/api/**` are API routes, `_app` and `404` are special, and
 * the errors name the file.
 * @see https://nextjs.org/docs/pages/building-your-application/routing/pages-and-layouts
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { discoverAppRoutes } from '../../src/app/routes.ts';
import { discoverPagesRoutes } from '../../src/pages/routes.ts';
import { fileTrees } from '../helpers/file-tree.ts';

const trees = fileTrees('isr-pages-routes');
after(() => trees.cleanup());

/** The routes of a `pages/` tree as `pattern kind file`, in discovery order. */
function summary(paths: readonly string[]): string[] {
  const found = discoverPagesRoutes(trees.tree(paths));
  assert.ok(found, 'a pages/ folder was found');
  return found.routes.map((route) => `${route.pattern} ${route.kind} ${route.file}`);
}

describe('discoverPagesRoutes: the file conventions', () => {
  test('a site without a pages/ folder has no Pages Router routes', () => {
    assert.equal(discoverPagesRoutes(trees.tree(['app/layout.tsx'])), undefined);
  });

  test('each file is a route; index is its folder; [id], [...slug] and [[...slug]] are dynamic', () => {
    const found = discoverPagesRoutes(
      trees.tree([
        'pages/index.tsx',
        'pages/about.tsx',
        'pages/blog/index.tsx',
        'pages/blog/[id].tsx',
        'pages/docs/[...slug].tsx',
        'pages/shop/[[...slug]].jsx',
        'pages/_app.tsx',
        'pages/404.tsx',
      ]),
    );
    assert.deepEqual(found, {
      routes: [
        {
          pattern: '/about',
          segments: [{ type: 'static', value: 'about' }],
          router: 'pages',
          kind: 'page',
          file: 'pages/about.tsx',
          layouts: [],
        },
        {
          pattern: '/blog/[id]',
          segments: [
            { type: 'static', value: 'blog' },
            { type: 'dynamic', name: 'id' },
          ],
          router: 'pages',
          kind: 'page',
          file: 'pages/blog/[id].tsx',
          layouts: [],
        },
        {
          pattern: '/blog',
          segments: [{ type: 'static', value: 'blog' }],
          router: 'pages',
          kind: 'page',
          file: 'pages/blog/index.tsx',
          layouts: [],
        },
        {
          pattern: '/docs/[...slug]',
          segments: [
            { type: 'static', value: 'docs' },
            { type: 'catchAll', name: 'slug' },
          ],
          router: 'pages',
          kind: 'page',
          file: 'pages/docs/[...slug].tsx',
          layouts: [],
        },
        { pattern: '/', segments: [], router: 'pages', kind: 'page', file: 'pages/index.tsx', layouts: [] },
        {
          pattern: '/shop/[[...slug]]',
          segments: [
            { type: 'static', value: 'shop' },
            { type: 'optionalCatchAll', name: 'slug' },
          ],
          router: 'pages',
          kind: 'page',
          file: 'pages/shop/[[...slug]].jsx',
          layouts: [],
        },
      ],
      app: 'pages/_app.tsx',
      notFound: 'pages/404.tsx',
    });
  });

  test('files under pages/api/ and pages/api itself are API routes; an api folder deeper down is not', () => {
    assert.deepEqual(summary(['pages/api/hello.ts', 'pages/api/[id].ts', 'pages/api.ts', 'pages/foo/api/x.ts']), [
      '/api/[id] api pages/api/[id].ts',
      '/api/hello api pages/api/hello.ts',
      '/api api pages/api.ts',
      '/foo/api/x page pages/foo/api/x.ts',
    ]);
  });

  test('_ names, dot names, node_modules, declaration files and other extensions are not routes', () => {
    assert.deepEqual(
      summary([
        'pages/index.tsx',
        'pages/_components/Button.tsx',
        'pages/blog/_helper.ts',
        'pages/blog/_app.tsx',
        'pages/.draft.tsx',
        'pages/node_modules/pkg/index.js',
        'pages/types.d.ts',
        'pages/README.md',
        'pages/style.css',
      ]),
      ['/ page pages/index.tsx'],
    );
  });

  test('_app and 404 are special only at the top: a nested 404 is an ordinary page', () => {
    const found = discoverPagesRoutes(trees.tree(['pages/blog/404.tsx', 'pages/blog/_app.tsx']));
    assert.deepEqual(found, {
      routes: [
        {
          pattern: '/blog/404',
          segments: [
            { type: 'static', value: 'blog' },
            { type: 'static', value: '404' },
          ],
          router: 'pages',
          kind: 'page',
          file: 'pages/blog/404.tsx',
          layouts: [],
        },
      ],
      app: undefined,
      notFound: undefined,
    });
  });

  test('(name) is a plain folder name in pages/, not a route group', () => {
    assert.deepEqual(summary(['pages/(group)/x.tsx']), ['/(group)/x page pages/(group)/x.tsx']);
  });

  test('index.tsx in a catch-all folder is the catch-all route', () => {
    assert.deepEqual(summary(['pages/[...slug]/index.tsx']), ['/[...slug] page pages/[...slug]/index.tsx']);
  });
});

describe('discoverPagesRoutes: errors name the file', () => {
  test('pages/_document is not supported', () => {
    assert.throws(() => discoverPagesRoutes(trees.tree(['pages/_document.tsx'])), {
      message: 'pages/_document.tsx: pages/_document is not supported (isr renders the document itself); use pages/_app and next/head',
    });
  });

  test('two files for one URL name both files', () => {
    assert.throws(() => discoverPagesRoutes(trees.tree(['pages/blog.tsx', 'pages/blog/index.tsx'])), {
      message: 'pages/blog.tsx and pages/blog/index.tsx are both the page /blog: remove one',
    });
    assert.throws(() => discoverPagesRoutes(trees.tree(['pages/a.ts', 'pages/a.tsx'])), {
      message: 'pages/a.tsx and pages/a.ts are both the page /a: remove one',
    });
  });

  test('an invalid dynamic segment, in a folder or a file name', () => {
    assert.throws(() => discoverPagesRoutes(trees.tree(['pages/[id/x.tsx'])), {
      message: 'pages/[id: invalid dynamic segment folder name "[id"',
    });
    // The message says "folder name" for a file too.
    assert.throws(() => discoverPagesRoutes(trees.tree(['pages/blog/[id.tsx'])), {
      message: 'pages/blog/[id.tsx: invalid dynamic segment folder name "[id"',
    });
  });

  test('a file below a catch-all folder', () => {
    assert.throws(() => discoverPagesRoutes(trees.tree(['pages/[...slug]/edit.tsx'])), {
      message: 'pages/[...slug]/edit.tsx: a catch-all segment must be the last segment',
    });
  });
});

describe('discoverPagesRoutes and discoverAppRoutes: next.config pageExtensions', () => {
  test('only files with a listed ending are pages, routes and special files; the ending is not part of the path', () => {
    const site = trees.tree([
      'pages/_app.page.tsx',
      'pages/about.page.tsx',
      'pages/about.test.tsx',
      'pages/util.ts',
      'pages/blog/[id].page.tsx',
      'pages/api/ping.api.ts',
      'app/layout.page.tsx',
      'app/docs/page.page.tsx',
      'app/docs/page.tsx',
      'app/feed/route.api.ts',
    ]);
    const extensions = ['.page.tsx', '.api.ts'];
    const pages = discoverPagesRoutes(site, extensions)!;
    assert.equal(pages.app, 'pages/_app.page.tsx');
    assert.deepEqual(
      pages.routes.map((route) => [route.pattern, route.kind, route.file]),
      [
        ['/about', 'page', 'pages/about.page.tsx'],
        ['/api/ping', 'api', 'pages/api/ping.api.ts'],
        ['/blog/[id]', 'page', 'pages/blog/[id].page.tsx'],
      ],
    );
    const app = discoverAppRoutes(site, extensions)!;
    assert.deepEqual(
      app.routes.map((route) => [route.pattern, route.kind, route.file, route.layouts]),
      [
        ['/docs', 'page', 'app/docs/page.page.tsx', ['app/layout.page.tsx']],
        ['/feed', 'route', 'app/feed/route.api.ts', []],
      ],
    );
  });
});
