/**
 * `server-only` and `client-only` (Next.js provides both, installed or not): an empty module where
 * they may be imported, a build error naming the file where they may not, in the App Router; in
 * the Pages Router's browser bundle, a module importing `server-only` that only getStaticProps
 * uses is dropped with it.
 * @see https://nextjs.org/docs/app/getting-started/server-and-client-components#preventing-environment-poisoning
 */

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { fileTrees } from '../helpers/file-tree.ts';

const trees = fileTrees('isr-markers');
after(() => trees.cleanup());

async function buildSite(files: Record<string, string>) {
  const dir = trees.site(files);
  return { dir, result: await build({ siteDir: dir, logger: createMemoryLogger() }) };
}

const LAYOUT = 'export default function Layout({ children }) { return <html><body>{children}</body></html>; }\n';
const SECRET = "import 'server-only';\nexport function secret() { return 'server-marker-5e1'; }\n";

describe('server-only and client-only', () => {
  it('App Router: server-only in a Server Component and client-only in a client component build', async () => {
    const { result } = await buildSite({
      'app/layout.jsx': LAYOUT,
      'app/secret.js': SECRET,
      'app/widget.jsx': "'use client';\nimport 'client-only';\nexport function Widget() { return <b>w</b>; }\n",
      'app/page.jsx':
        "import { secret } from './secret';\nimport { Widget } from './widget';\nexport default function Page() { return <p>{secret()}<Widget /></p>; }\n",
    });
    assert.equal(result.prerendered, 1);
  });

  it('App Router: server-only reached from a client component fails the build, naming the file', async () => {
    await assert.rejects(
      buildSite({
        'app/layout.jsx': LAYOUT,
        'app/secret.js': SECRET,
        'app/widget.jsx': "'use client';\nimport { secret } from './secret';\nexport function Widget() { return <b>{secret()}</b>; }\n",
        'app/page.jsx': "import { Widget } from './widget';\nexport default function Page() { return <Widget />; }\n",
      }),
      /app\/secret\.js.*'server-only' cannot be imported in client build/s,
    );
  });

  it('App Router: client-only in a Server Component fails the build, naming the file', async () => {
    await assert.rejects(
      buildSite({
        'app/layout.jsx': LAYOUT,
        'app/page.jsx': "import 'client-only';\nexport default function Page() { return <p>x</p>; }\n",
      }),
      /app\/page\.jsx.*'client-only' cannot be imported in server build/s,
    );
  });

  it('Pages Router: a server-only module getStaticProps uses stays out of the browser bundle', async () => {
    const { dir } = await buildSite({
      'lib/secret.js': SECRET,
      'pages/index.jsx':
        "import { secret } from '../lib/secret';\nexport async function getStaticProps() { return { props: { s: secret() } }; }\nexport default function Page({ s }) { return <p>{s}</p>; }\n",
    });
    const folder = path.join(dir, '.isr', 'build', 'client', 'static', 'pages');
    for (const file of (await readdir(folder, { recursive: true })).filter((name) => name.endsWith('.js'))) {
      assert.doesNotMatch(await readFile(path.join(folder, file), 'utf8'), /server-marker-5e1|server-only/, file);
    }
  });
});
