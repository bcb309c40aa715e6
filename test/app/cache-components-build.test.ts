/**
 * What `isr build` refuses around Next.js 16's caching model, each with Next.js's message and the
 * file named: the `'use cache'` directive without `cacheComponents`, a non-async cached function,
 * the route segment config Cache Components replaces, an empty `generateStaticParams`, an unknown
 * `cacheLife` profile, `cacheLife`/`cacheTag` outside a cached function, `revalidateTag` inside
 * one, and a malformed next.config `cacheLife`.
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
});
