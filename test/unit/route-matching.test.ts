/**
 * The route model both routers share (`render/routes.ts`): the segment grammar of folder and file
 * names, ordering most specific first with its conflict error, matching decoded path segments, and
 * building a route's path from params.
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/dynamic-routes
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SiteError } from '../../src/config/errors.ts';
import {
  isDynamicRoute,
  matchSegments,
  orderRoutes,
  parseSegment,
  pathForParams,
  patternOf,
  type RouteDefinition,
  type Segment,
} from '../../src/render/routes.ts';

/** A route definition for `pattern` (segments parsed from it), declared in `file`. */
function route(pattern: string, file = `app${pattern === '/' ? '' : pattern}/page.tsx`): RouteDefinition {
  const segments = pattern
    .split('/')
    .filter(Boolean)
    .map((name) => parseSegment(name))
    .filter((segment): segment is Segment => segment !== null);
  return { pattern, segments, router: 'app', kind: 'page', file, layouts: [] };
}

describe('parseSegment: the segment grammar', () => {
  test('plain names are static; [id], [...slug] and [[...slug]] are dynamic, catch-all and optional catch-all', () => {
    assert.deepEqual(parseSegment('blog'), { type: 'static', value: 'blog' });
    assert.deepEqual(parseSegment('[id]'), { type: 'dynamic', name: 'id' });
    assert.deepEqual(parseSegment('[...slug]'), { type: 'catchAll', name: 'slug' });
    assert.deepEqual(parseSegment('[[...slug]]'), { type: 'optionalCatchAll', name: 'slug' });
  });

  test('param names are JavaScript identifiers', () => {
    assert.deepEqual(parseSegment('[$post_1]'), { type: 'dynamic', name: '$post_1' });
    for (const name of ['[post-id]', '[1id]', '[]', '[...]', '[[id]]', '[[...slug]', 'a[b]', '[id', 'id]']) {
      assert.throws(() => parseSegment(name), { message: `invalid dynamic segment folder name "${name}"` }, name);
    }
  });

  test('(name) is a route group (null); an empty () is a static name', () => {
    assert.equal(parseSegment('(marketing)'), null);
    assert.equal(parseSegment('(a)(b)'), null);
    assert.deepEqual(parseSegment('()'), { type: 'static', value: '()' });
  });

  test('patternOf writes segments back in the same grammar, / for none', () => {
    assert.equal(patternOf([]), '/');
    assert.equal(patternOf(route('/a/[b]/[...c]').segments), '/a/[b]/[...c]');
    assert.equal(patternOf(route('/[[...d]]').segments), '/[[...d]]');
  });
});

describe('isDynamicRoute', () => {
  test('a route is dynamic when any segment is [id], [...slug] or [[...slug]]', () => {
    assert.equal(isDynamicRoute(route('/')), false);
    assert.equal(isDynamicRoute(route('/blog/archive')), false);
    assert.equal(isDynamicRoute(route('/blog/[id]')), true);
    assert.equal(isDynamicRoute(route('/docs/[...slug]')), true);
    assert.equal(isDynamicRoute(route('/[[...slug]]')), true);
  });
});

describe('orderRoutes: most specific first', () => {
  const patterns = (routes: readonly RouteDefinition[]) => orderRoutes(routes).map((r) => r.pattern);

  test('at the first differing position: static, then [id], then [...slug], then [[...slug]]', () => {
    assert.deepEqual(patterns([route('/[[...all]]'), route('/[...rest]'), route('/[id]'), route('/about')]), [
      '/about',
      '/[id]',
      '/[...rest]',
      '/[[...all]]',
    ]);
    assert.deepEqual(patterns([route('/[lang]/about'), route('/blog/[id]')]), ['/blog/[id]', '/[lang]/about']);
  });

  test('when the ranks agree as far as the shorter goes, the shorter comes first; then by pattern', () => {
    assert.deepEqual(patterns([route('/blog/[id]'), route('/blog'), route('/')]), ['/', '/blog', '/blog/[id]']);
    assert.deepEqual(patterns([route('/[[...slug]]'), route('/')]), ['/', '/[[...slug]]']);
    // Ranks, not names, come first: /b (one static segment) before /a/x (two).
    assert.deepEqual(patterns([route('/b'), route('/a/x'), route('/a')]), ['/a', '/b', '/a/x']);
    assert.deepEqual(patterns([route('/[b]'), route('/[a]/x'), route('/c/[d]')]), ['/c/[d]', '/[b]', '/[a]/x']);
  });

  test('returns a new array and leaves its input as it was', () => {
    const input = [route('/[id]'), route('/a')];
    const ordered = orderRoutes(input);
    assert.notEqual(ordered, input);
    assert.deepEqual(
      input.map((r) => r.pattern),
      ['/[id]', '/a'],
    );
  });

  test('two routes of one URL shape are an error naming both files, the later one first', () => {
    assert.throws(() => orderRoutes([route('/blog/[id]'), route('/blog/[slug]')]), {
      message: 'app/blog/[slug]/page.tsx and app/blog/[id]/page.tsx match the same URLs (/blog/[slug] vs /blog/[id]): rename one',
    });
    const pagesBlog: RouteDefinition = { ...route('/blog', 'pages/blog.tsx'), router: 'pages' };
    assert.throws(() => orderRoutes([route('/blog'), pagesBlog]), {
      message: 'pages/blog.tsx and app/blog/page.tsx match the same URLs (/blog vs /blog): rename one',
    });
    // A route group does not change the shape.
    assert.throws(() => orderRoutes([route('/about'), route('/about', 'app/(marketing)/about/page.tsx')]), /match the same URLs/);
  });

  test('[...slug] beside [[...slug]], and / beside /[[...slug]], are not a conflict: order decides', () => {
    assert.deepEqual(patterns([route('/docs/[[...b]]'), route('/docs/[...a]')]), ['/docs/[...a]', '/docs/[[...b]]']);
  });
});

describe('matchSegments: decoded path segments against one route', () => {
  test('static segments must be equal; the root route matches only no segments', () => {
    assert.deepEqual(matchSegments(route('/'), []), {});
    assert.equal(matchSegments(route('/'), ['a']), undefined);
    assert.deepEqual(matchSegments(route('/blog/archive'), ['blog', 'archive']), {});
    assert.equal(matchSegments(route('/blog/archive'), ['blog', 'Archive']), undefined);
    assert.equal(matchSegments(route('/blog/archive'), ['blog']), undefined);
    assert.equal(matchSegments(route('/blog/archive'), ['blog', 'archive', 'x']), undefined);
  });

  test('[id] takes exactly one segment, as given (already decoded)', () => {
    assert.deepEqual(matchSegments(route('/blog/[id]'), ['blog', 'a b/c']), { id: 'a b/c' });
    assert.equal(matchSegments(route('/blog/[id]'), ['blog']), undefined);
    assert.equal(matchSegments(route('/blog/[id]'), ['blog', '1', 'x']), undefined);
    assert.deepEqual(matchSegments(route('/[a]/[b]'), ['1', '2']), { a: '1', b: '2' });
  });

  test('[...slug] takes one or more segments as an array', () => {
    assert.deepEqual(matchSegments(route('/docs/[...slug]'), ['docs', 'a']), { slug: ['a'] });
    assert.deepEqual(matchSegments(route('/docs/[...slug]'), ['docs', 'a', 'b']), { slug: ['a', 'b'] });
    assert.equal(matchSegments(route('/docs/[...slug]'), ['docs']), undefined);
  });

  test('[[...slug]] takes zero or more: with none, the param is present and undefined', () => {
    assert.deepEqual(matchSegments(route('/shop/[[...slug]]'), ['shop', 'a', 'b']), { slug: ['a', 'b'] });
    const none = matchSegments(route('/shop/[[...slug]]'), ['shop']);
    assert.deepEqual(none, { slug: undefined });
    assert.ok(none !== undefined && 'slug' in none);
    assert.equal(matchSegments(route('/shop/[[...slug]]'), ['other']), undefined);
  });
});

describe('pathForParams: the path of a route for generateStaticParams params', () => {
  test('fills [id] and catch-alls, percent-encoding every segment (static ones too)', () => {
    assert.equal(pathForParams(route('/'), {}), '/');
    assert.equal(pathForParams(route('/blog/[id]'), { id: '1' }), '/blog/1');
    assert.equal(pathForParams(route('/blog/[id]'), { id: 'a b/c?d#e%' }), '/blog/a%20b%2Fc%3Fd%23e%25');
    assert.equal(pathForParams(route('/blog/[id]'), { id: 'café' }), '/blog/caf%C3%A9');
    assert.equal(pathForParams(route('/a b/[id]'), { id: 'x' }), '/a%20b/x');
    assert.equal(pathForParams(route('/docs/[...slug]'), { slug: ['a', 'b c'] }), '/docs/a/b%20c');
    assert.equal(pathForParams(route('/shop/[[...slug]]'), { slug: ['a'] }), '/shop/a');
  });

  test('an optional catch-all may be undefined or empty: the path stops before it', () => {
    assert.equal(pathForParams(route('/shop/[[...slug]]'), {}), '/shop');
    assert.equal(pathForParams(route('/shop/[[...slug]]'), { slug: [] }), '/shop');
  });

  test('the path it builds, split and decoded, matches the route with the same params', () => {
    const r = route('/[lang]/docs/[...slug]');
    const params = { lang: 'pt br', slug: ['a/b', 'ç'] };
    const path = pathForParams(r, params);
    assert.deepEqual(matchSegments(r, path.split('/').filter(Boolean).map(decodeURIComponent)), params);
  });

  test('a missing, empty or non-string [id] is a SiteError naming the route and param', () => {
    for (const [value, shown] of [
      [undefined, 'undefined'],
      ['', '""'],
      [['1'], '["1"]'],
    ] as const) {
      assert.throws(
        () => pathForParams(route('/blog/[id]'), { id: value as string | string[] | undefined }),
        (error: unknown) =>
          error instanceof SiteError && error.message === `/blog/[id]: param "id" must be a non-empty string, got ${shown}`,
      );
    }
    assert.throws(() => pathForParams(route('/blog/[id]'), { id: 1 as unknown as string }), {
      name: 'SiteError',
      message: '/blog/[id]: param "id" must be a non-empty string, got 1',
    });
  });

  test('a catch-all that is not an array of non-empty strings is a SiteError naming the route and param', () => {
    assert.throws(() => pathForParams(route('/docs/[...slug]'), {}), {
      name: 'SiteError',
      message: '/docs/[...slug]: param "slug" must be an array of non-empty strings, got undefined',
    });
    assert.throws(() => pathForParams(route('/docs/[...slug]'), { slug: 'a/b' }), {
      name: 'SiteError',
      message: '/docs/[...slug]: param "slug" must be an array of non-empty strings, got "a/b"',
    });
    assert.throws(() => pathForParams(route('/shop/[[...slug]]'), { slug: ['a', ''] }), {
      name: 'SiteError',
      message: '/shop/[[...slug]]: param "slug" must be an array of non-empty strings, got ["a",""]',
    });
  });

  test('a required catch-all given an empty array is a TypeError (it would name /docs, a path the route does not match)', () => {
    assert.throws(() => pathForParams(route('/docs/[...slug]'), { slug: [] }), {
      name: 'SiteError',
      message: '/docs/[...slug]: param "slug" of a catch-all must hold at least one segment, got []',
    });
    // The optional catch-all takes [] as its root path.
    assert.equal(pathForParams(route('/shop/[[...slug]]'), { slug: [] }), '/shop');
  });
});
