/**
 * Route segment config (`resolveSegmentConfig`, `configForcesDynamic`, `isCacheableRouteHandler`): how `revalidate`,
 * `dynamic` and `dynamicParams` exported by layouts and the page merge into one route's config,
 * and the SiteErrors (naming the file) for values of the wrong type.
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/route-segment-config
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isCacheableRouteHandler } from '../../src/app/render.ts';
import { configForcesDynamic, type RouteModule, resolveSegmentConfig, type SegmentConfig } from '../../src/app/segment-config.ts';

const FILES = ['app/layout.tsx', 'app/blog/layout.tsx', 'app/blog/[id]/page.tsx'];

/** Resolves the config of a root layout, a blog layout and a page, in that order. */
function resolve(root: SegmentConfig, blog: SegmentConfig, page: SegmentConfig) {
  return resolveSegmentConfig([root, blog, page], FILES);
}

describe('resolveSegmentConfig: merging layouts and page', () => {
  test('with nothing exported: cache until revalidated, auto, dynamic params allowed', () => {
    assert.deepEqual(resolveSegmentConfig([], []), { revalidate: false, dynamic: 'auto', dynamicParams: true });
    assert.deepEqual(resolve({}, {}, {}), { revalidate: false, dynamic: 'auto', dynamicParams: true });
  });

  test('revalidate is the lowest number given anywhere, layout or page', () => {
    assert.equal(resolve({ revalidate: 60 }, {}, { revalidate: 3600 }).revalidate, 60);
    assert.equal(resolve({ revalidate: 3600 }, { revalidate: 10 }, { revalidate: 60 }).revalidate, 10);
    assert.equal(resolve({}, {}, { revalidate: 30 }).revalidate, 30);
    assert.equal(resolve({ revalidate: 0 }, {}, { revalidate: 30 }).revalidate, 0);
    assert.equal(resolve({}, {}, { revalidate: 2.5 }).revalidate, 2.5);
  });

  test('revalidate false never raises a number set elsewhere', () => {
    assert.equal(resolve({ revalidate: 60 }, { revalidate: false }, {}).revalidate, 60);
    assert.equal(resolve({ revalidate: false }, {}, { revalidate: 60 }).revalidate, 60);
    assert.equal(resolve({ revalidate: false }, {}, {}).revalidate, false);
  });

  test('dynamic and dynamicParams come from the innermost module that sets them', () => {
    assert.deepEqual(resolve({ dynamic: 'force-static', dynamicParams: false }, {}, {}), {
      revalidate: false,
      dynamic: 'force-static',
      dynamicParams: false,
    });
    assert.deepEqual(resolve({ dynamic: 'force-dynamic', dynamicParams: false }, { dynamic: 'error' }, { dynamicParams: true }), {
      revalidate: false,
      dynamic: 'error',
      dynamicParams: true,
    });
    assert.equal(resolve({ dynamic: 'force-dynamic' }, {}, { dynamic: 'auto' }).dynamic, 'auto');
  });

  test('other exports (the component, generateStaticParams) are not part of the result', () => {
    const page = { default: () => null, generateStaticParams: () => [], revalidate: 5 } as SegmentConfig;
    assert.deepEqual(resolveSegmentConfig([page], ['app/page.tsx']), { revalidate: 5, dynamic: 'auto', dynamicParams: true });
  });
});

describe('resolveSegmentConfig: invalid values are SiteErrors naming the file', () => {
  const invalid = (config: Record<string, unknown>, index = 2) => {
    const modules: SegmentConfig[] = [{}, {}, {}];
    modules[index] = config as SegmentConfig;
    return () => resolveSegmentConfig(modules, FILES);
  };

  test('revalidate: a negative, non-finite or non-number value', () => {
    assert.throws(invalid({ revalidate: -1 }), {
      name: 'SiteError',
      message: 'app/blog/[id]/page.tsx: export const revalidate must be a non-negative number of seconds or false, got -1',
    });
    assert.throws(invalid({ revalidate: '60' }, 0), {
      name: 'SiteError',
      message: 'app/layout.tsx: export const revalidate must be a non-negative number of seconds or false, got "60"',
    });
    assert.throws(invalid({ revalidate: true }, 1), {
      name: 'SiteError',
      message: 'app/blog/layout.tsx: export const revalidate must be a non-negative number of seconds or false, got true',
    });
    // JSON.stringify shows NaN and Infinity as null.
    assert.throws(invalid({ revalidate: Number.POSITIVE_INFINITY }), {
      message: /revalidate must be a non-negative number of seconds or false, got null$/,
    });
    assert.throws(invalid({ revalidate: Number.NaN }), { message: /got null$/ });
  });

  test('dynamic: a value outside auto, force-static, force-dynamic, error', () => {
    assert.throws(invalid({ dynamic: 'static' }), {
      name: 'SiteError',
      message: 'app/blog/[id]/page.tsx: export const dynamic must be one of auto, force-static, force-dynamic, error, got "static"',
    });
  });

  test('dynamicParams: anything but true or false', () => {
    assert.throws(invalid({ dynamicParams: 'false' }, 1), {
      name: 'SiteError',
      message: 'app/blog/layout.tsx: export const dynamicParams must be true or false, got "false"',
    });
  });

  test('without a file name for a module, the message says "module"', () => {
    assert.throws(() => resolveSegmentConfig([{ revalidate: -5 }], []), {
      message: 'module: export const revalidate must be a non-negative number of seconds or false, got -5',
    });
  });

  test('an invalid value throws even when a valid one elsewhere would win', () => {
    assert.throws(invalid({ revalidate: -1 }, 0), /app\/layout\.tsx: export const revalidate/);
  });
});

describe('configForcesDynamic', () => {
  test('force-dynamic or revalidate 0 renders per request; everything else may be stored', () => {
    assert.equal(configForcesDynamic({ revalidate: false, dynamic: 'force-dynamic', dynamicParams: true }), true);
    assert.equal(configForcesDynamic({ revalidate: 0, dynamic: 'auto', dynamicParams: true }), true);
    assert.equal(configForcesDynamic({ revalidate: 0, dynamic: 'force-static', dynamicParams: true }), true);
    assert.equal(configForcesDynamic({ revalidate: 60, dynamic: 'auto', dynamicParams: true }), false);
    assert.equal(configForcesDynamic({ revalidate: false, dynamic: 'error', dynamicParams: false }), false);
    assert.equal(configForcesDynamic({ revalidate: 60, dynamic: 'force-static', dynamicParams: true }), false);
  });

  test('a layout’s revalidate 0 makes every page below it dynamic', () => {
    assert.equal(configForcesDynamic(resolve({ revalidate: 0 }, {}, { revalidate: 3600 })), true);
  });
});

describe('isCacheableRouteHandler: which GET route handlers are prerendered and cached (Next.js’ isStaticGenEnabled)', () => {
  const handler = () => new Response('ok');
  const GET = handler;
  const POST = handler;
  const config = (module: RouteModule) => resolveSegmentConfig([module], ['app/feed/route.ts']);
  const cacheable = (module: RouteModule) => isCacheableRouteHandler(module, config(module));

  test('per request by default, without an opt-in', () => {
    assert.equal(cacheable({ GET }), false);
    assert.equal(cacheable({ GET, dynamic: 'auto' }), false);
  });

  test("opted in by dynamic 'force-static' or 'error', a revalidate, or generateStaticParams", () => {
    assert.equal(cacheable({ GET, dynamic: 'force-static' }), true);
    assert.equal(cacheable({ GET, dynamic: 'error' }), true);
    assert.equal(cacheable({ GET, revalidate: 60 }), true);
    assert.equal(cacheable({ GET, revalidate: false }), true);
    assert.equal(cacheable({ GET, generateStaticParams: () => [{ slug: ['a'] }] }), true);
  });

  test('never with revalidate 0, force-dynamic, no GET, or another method exported beside GET', () => {
    assert.equal(cacheable({ GET, revalidate: 0 }), false);
    assert.equal(cacheable({ GET, dynamic: 'force-dynamic', generateStaticParams: () => [] }), false);
    assert.equal(cacheable({ POST, dynamic: 'force-static' }), false);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      assert.equal(cacheable({ GET, [method]: POST, dynamic: 'force-static' }), false, method);
    }
  });

  test('a metadata route (sitemap.ts, robots.ts) is static unless force-dynamic', () => {
    assert.equal(isCacheableRouteHandler({}, config({}), true), true);
    assert.equal(isCacheableRouteHandler({ dynamic: 'force-dynamic' }, config({ dynamic: 'force-dynamic' }), true), false);
  });
});
