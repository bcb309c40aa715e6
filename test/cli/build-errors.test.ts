/**
 * What `isr build` prints when a site does not build (issue: "errors a user can act on"): one
 * message naming the file and what to do, the site's own stack frames (source-mapped to its
 * files) when its code threw, never isr's, React's or the bundler's frames.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fileTrees } from '../helpers/file-tree.ts';

const root = path.resolve(fileURLToPath(import.meta.url), '../../..');
const trees = fileTrees('isr-build-errors');
after(() => trees.cleanup());

const LAYOUT =
  'export default function Layout({ children }: { children: React.ReactNode }) { return <html><body>{children}</body></html>; }\n';

/** Runs `isr build` (the compiled CLI) in a new site of `files`; its exit code and stderr. */
function build(files: Readonly<Record<string, string>>): Promise<{ code: number | null; stderr: string }> {
  const site = trees.site(files);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'isr.js'), 'build', '.'], {
      cwd: site,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The stack frame lines of `stderr`. */
function frames(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^\s+at /.test(line));
}

describe('isr build: failures a user can act on', () => {
  test('a page that throws while prerendering: the route, the file, the message and the frame in the page’s source', async () => {
    const { code, stderr } = await build({
      'app/layout.tsx': LAYOUT,
      'app/a/page.tsx': "export default function Page() {\n  throw new Error('boom in render');\n}\n",
    });
    assert.equal(code, 1);
    assert.match(stderr, /^isr: build failed: prerendering \/a \(app\/a\/page\.tsx\) failed: boom in render$/m);
    assert.deepEqual(frames(stderr), ['    at Page (app/a/page.tsx:2:9)']);
    assert.doesNotMatch(stderr, /the last good version/, 'the engine’s runtime message is not part of a build failure');
  });

  test('generateStaticParams rejecting, and getStaticProps throwing in a helper: frames in the site’s files only', async () => {
    const app = await build({
      'app/layout.tsx': LAYOUT,
      'app/c/[id]/page.tsx':
        "async function load() { const r = await fetch('http://127.0.0.1:9/x'); return r.json(); }\nexport async function generateStaticParams() { return (await load()) as { id: string }[]; }\nexport default function Page() { return <p>c</p>; }\n",
    });
    assert.equal(app.code, 1);
    assert.match(app.stderr, /^isr: build failed: app\/c\/\[id\]\/page\.tsx: generateStaticParams\(\) failed: fetch failed$/m);
    assert.ok(frames(app.stderr).length > 0 && frames(app.stderr).every((line) => line.includes('(app/c/[id]/page.tsx:')), app.stderr);

    const pages = await build({
      'lib/helper.ts': "export function helper(): string {\n  throw new Error('helper broke');\n}\n",
      'pages/p.tsx':
        "import { helper } from '../lib/helper';\nexport async function getStaticProps() { return { props: { x: helper() } }; }\nexport default function P({ x }: { x: string }) { return <p>{x}</p>; }\n",
    });
    assert.equal(pages.code, 1);
    assert.match(pages.stderr, /^isr: build failed: prerendering \/p \(pages\/p\.tsx\) failed: helper broke$/m);
    assert.deepEqual(
      frames(pages.stderr).map((line) => line.replace(/:\d+:\d+\)$/, ')')),
      ['    at helper (lib/helper.ts)', '    at getStaticProps (pages/p.tsx)'],
    );
  });

  test('an import of a package the site does not have: "Module not found" at the importing file, in both routers', async () => {
    const app = await build({
      'app/layout.tsx': LAYOUT,
      'app/page.tsx': "import x from 'no-such-package/sub';\nexport default function Page() { return <p>{String(x)}</p>; }\n",
    });
    assert.equal(app.code, 1);
    assert.match(
      app.stderr,
      /app\/page\.tsx: Module not found: can't resolve "no-such-package\/sub": install it \(npm install no-such-package\)/,
    );
    assert.deepEqual(frames(app.stderr), []);

    const pages = await build({
      'pages/index.tsx': "import x from 'no-such-package';\nexport default function Page() { return <p>{String(x)}</p>; }\n",
    });
    assert.equal(pages.code, 1);
    assert.match(pages.stderr, /Module not found: can't resolve "no-such-package": install it \(npm install no-such-package\)/);
    assert.match(pages.stderr, /pages\/index\.tsx:1:14/);
    assert.deepEqual(frames(pages.stderr), []);
  });

  test('a syntax error and an unsupported file convention: the message alone, no stack trace', async () => {
    const syntax = await build({ 'app/layout.tsx': LAYOUT, 'app/page.tsx': 'export default function Page() { return <p>{</p>; }\n' });
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /isr: build failed: the site's app\/ does not compile:/);
    assert.match(syntax.stderr, /app\/page\.tsx:1:\d+/);
    assert.deepEqual(frames(syntax.stderr), []);

    const template = await build({
      'app/layout.tsx': LAYOUT,
      'app/template.tsx': 'export default function Template({ children }: { children: React.ReactNode }) { return children; }\n',
      'app/page.tsx': 'export default function Page() { return <p>x</p>; }\n',
    });
    assert.equal(template.code, 1);
    assert.equal(
      template.stderr.trim().split('\n').at(-1),
      'isr: build failed: app/template.tsx: template files are not supported by isr; use a layout (layout.tsx) instead',
    );
    assert.deepEqual(frames(template.stderr), []);
  });

  test('the Edge runtime is not refused but named once per file: isr serves it on Node.js', async () => {
    const { code, stderr } = await build({
      'app/layout.tsx': `export const runtime = 'edge';\n${LAYOUT}`,
      'app/page.tsx': 'export default function Page() { return <p>home</p>; }\n',
      'app/b/page.tsx': 'export default function Page() { return <p>b</p>; }\n',
    });
    assert.equal(code, 0, stderr);
    const warnings = stderr.split('\n').filter((line) => line.includes("runtime = 'edge'"));
    assert.deepEqual(warnings, ["[isr] warning: app/layout.tsx: runtime = 'edge' is served by isr on Node.js, not an Edge runtime"]);
  });
});
