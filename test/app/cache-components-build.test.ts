/**
 * What `isr build` refuses around Next.js 16's caching model, each with Next.js's message and the
 * file named: the `'use cache'` directive without `cacheComponents`, a non-async cached function,
 * the route segment config Cache Components replaces, an empty `generateStaticParams`, an unknown
 * `cacheLife` profile, `cacheLife`/`cacheTag` outside a cached function, `revalidateTag` inside
 * one, a malformed next.config `cacheLife`, and a cache made short-lived by a nested one without
 * its own `cacheLife()` (checked against `next build` 16.4.6, which fails the same way).
 * @see https://nextjs.org/docs/app/guides/migrating-to-cache-components
 */

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { fileTrees } from '../helpers/file-tree.ts';

const trees = fileTrees('isr-cache-components');
after(() => trees.cleanup());

const LAYOUT = 'export default function Layout({ children }) { return <html><body>{children}</body></html>; }\n';
const ON = 'export default { cacheComponents: true };\n';

function buildSite(files: Record<string, string>) {
  return build({ siteDir: trees.site({ 'app/layout.jsx': LAYOUT, ...files }), logger: createMemoryLogger() });
}

describe('Cache Components: what the build refuses, with Next.js’s messages', () => {
  it("'use cache' without cacheComponents fails the build, naming the file", async () => {
    await assert.rejects(
      buildSite({ 'app/page.jsx': "export default async function Page() {\n  'use cache';\n  return <p>x</p>;\n}\n" }),
      /app\/page\.jsx: To use "use cache", please enable the feature flag `cacheComponents` in your Next\.js config/,
    );
  });

  it("experimental.useCache (Next 15's flag) turns the directive on", async () => {
    const result = await buildSite({
      'next.config.mjs': 'export default { experimental: { useCache: true } };\n',
      'app/page.jsx': "export default async function Page() {\n  'use cache';\n  return <p>x</p>;\n}\n",
    });
    assert.equal(result.prerendered, 1);
  });

  it('a "use cache" function that is not async fails the build', async () => {
    await assert.rejects(
      buildSite({
        'next.config.mjs': ON,
        'app/page.jsx': "function get() {\n  'use cache';\n  return 1;\n}\nexport default function Page() { return <p>{get()}</p>; }\n",
      }),
      /app\/page\.jsx: "use cache" functions must be async functions/,
    );
  });

  for (const [name, value] of [
    ['revalidate', '60'],
    ['dynamic', "'force-dynamic'"],
    ['dynamicParams', 'false'],
    ['fetchCache', "'force-cache'"],
  ] as const) {
    it(`export const ${name} is refused with cacheComponents`, async () => {
      await assert.rejects(
        buildSite({
          'next.config.mjs': ON,
          'app/page.jsx': `export const ${name} = ${value};\nexport default function Page() { return <p>x</p>; }\n`,
        }),
        new RegExp(
          `app/page\\.jsx: Route segment config "${name}" is not compatible with \`nextConfig\\.cacheComponents\`\\. Please remove it`,
        ),
      );
    });
  }

  it('generateStaticParams returning no params fails the build with cacheComponents', async () => {
    await assert.rejects(
      buildSite({
        'next.config.mjs': ON,
        'app/[id]/page.jsx':
          'export function generateStaticParams() { return []; }\nexport default async function Page({ params }) { return <p>{(await params).id}</p>; }\n',
      }),
      /app\/\[id\]\/page\.jsx: When using Cache Components, all `generateStaticParams` functions must return at least one result/,
    );
  });

  it('an unknown cacheLife profile fails the render with Next.js’s message', async () => {
    await assert.rejects(
      buildSite({
        'next.config.mjs': ON,
        'app/page.jsx':
          "import { cacheLife } from 'next/cache';\nexport default async function Page() {\n  'use cache';\n  cacheLife('hourly');\n  return <p>x</p>;\n}\n",
      }),
      /Unknown `cacheLife\(\)` profile "hourly" is not configured in next\.config\.js/,
    );
  });

  it('cacheLife and cacheTag outside a cached function, revalidateTag inside one: Next.js’s errors', async () => {
    await assert.rejects(
      buildSite({
        'next.config.mjs': ON,
        'app/page.jsx':
          "import { cacheLife } from 'next/cache';\nexport default function Page() {\n  cacheLife('hours');\n  return <p>x</p>;\n}\n",
      }),
      /Route "\/": `cacheLife\(\)` can only be called inside a `"use cache"` or `"use cache: private"` function/,
    );
    await assert.rejects(
      buildSite({
        'next.config.mjs': ON,
        'app/page.jsx':
          "import { cacheTag } from 'next/cache';\nexport default function Page() {\n  cacheTag('a');\n  return <p>x</p>;\n}\n",
      }),
      /`cacheTag\(\)` can only be called inside a `"use cache"`/,
    );
    await assert.rejects(
      buildSite({
        'next.config.mjs': ON,
        'app/page.jsx':
          "import { revalidateTag } from 'next/cache';\nexport default async function Page() {\n  'use cache';\n  revalidateTag('a', 'max');\n  return <p>x</p>;\n}\n",
      }),
      /`revalidateTag\("a"\)` can't be called inside a cached function/,
    );
  });

  it('a next.config cacheLife profile whose revalidate exceeds its expire is refused', async () => {
    await assert.rejects(
      buildSite({
        'next.config.mjs': 'export default { cacheComponents: true, cacheLife: { odd: { revalidate: 100, expire: 10 } } };\n',
        'app/page.jsx': 'export default function Page() { return <p>x</p>; }\n',
      }),
      /next\.config\.mjs: cacheLife\.odd: if providing both the revalidate and expire options, the expire option must be greater/,
    );
  });

  /** A page reading `outer` inside `<Suspense>`, `outer` nesting `inner`; each body's `cacheLife()` call as given. */
  const nesting = (outerLife: string, innerLife: string) =>
    "import { Suspense } from 'react';\nimport { cacheLife } from 'next/cache';\n" +
    `async function inner() {\n  'use cache';\n  ${innerLife}\n  return 'inner';\n}\n` +
    `async function outer() {\n  'use cache';\n  ${outerLife}\n  return (await inner()) + ' outer';\n}\n` +
    'async function Text() { return <p>{await outer()}</p>; }\n' +
    'export default function Page() { return <Suspense fallback={<p>…</p>}><Text /></Suspense>; }\n';

  it('a short-lived cache nested in one without cacheLife() fails the build with Next.js’s message, naming both functions', async () => {
    await assert.rejects(buildSite({ 'next.config.mjs': ON, 'app/page.jsx': nesting('', "cacheLife('seconds');") }), (error: Error) => {
      assert.match(
        error.message,
        /Route "\/": A nested `"use cache"` with a short `expire` \(under 5 minutes\) is inside an outer `"use cache"` that has no `cacheLife\(\)`\. Add `cacheLife\(\)` to the outer one/,
      );
      assert.match(error.message, /nested-use-cache-no-explicit-cachelife/);
      assert.match(error.message, /the outer cache: app\/page\.jsx#outer; the nested one: app\/page\.jsx#inner/);
      return true;
    });
  });

  it('an outer cacheLife() that sets revalidate but not expire does not choose: the same error (as next build)', async () => {
    await assert.rejects(
      buildSite({ 'next.config.mjs': ON, 'app/page.jsx': nesting('cacheLife({ revalidate: 900 });', "cacheLife('seconds');") }),
      /A nested `"use cache"` with a short `expire` \(under 5 minutes\)/,
    );
  });

  it('a nested revalidate: 0 without an outer cacheLife() fails with Next.js’s revalidate message', async () => {
    await assert.rejects(
      buildSite({ 'next.config.mjs': ON, 'app/page.jsx': nesting('', 'cacheLife({ revalidate: 0, expire: 3600 });') }),
      /Route "\/": A nested `"use cache"` with `revalidate: 0` is inside an outer `"use cache"` that has no `cacheLife\(\)`/,
    );
  });

  it('an outer cacheLife() chooses: a long one is prerendered, a short one is left to each request', async () => {
    const long = await buildSite({ 'next.config.mjs': ON, 'app/page.jsx': nesting("cacheLife('hours');", "cacheLife('seconds');") });
    assert.equal(long.prerendered, 1);
    const short = await buildSite({ 'next.config.mjs': ON, 'app/page.jsx': nesting("cacheLife('seconds');", "cacheLife('seconds');") });
    assert.equal(short.prerendered, 0);
  });
});
