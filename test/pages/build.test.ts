/**
 * What `isr build` refuses in pages/, with a message that names the file, and the checks on what
 * getStaticProps and getStaticPaths return (Next.js's rules).
 */

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { checkSerializable, checkStaticPathsResult, checkStaticPropsResult } from '../../src/pages/static-props.ts';

const sites: string[] = [];
after(() => Promise.all(sites.map((dir) => rm(dir, { recursive: true, force: true }))));

/** Writes a site from `{ relative path: source }` into a temp folder and builds it. */
async function buildSite(files: Record<string, string>) {
  const dir = await mkdtemp(path.join(tmpdir(), 'isr-pages-build-'));
  sites.push(dir);
  for (const [file, source] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), source);
  }
  return build({ siteDir: dir, logger: createMemoryLogger() });
}

const PAGE = 'export default function Page() { return <p>hi</p>; }\n';

describe('isr build: pages/', () => {
  it('builds a pages-only site, and one with app/ and pages/ side by side', async () => {
    const pagesOnly = await buildSite({ 'pages/index.tsx': PAGE, 'pages/about.tsx': PAGE });
    assert.deepEqual(
      pagesOnly.manifest.routes.map((r) => [r.pattern, r.router]),
      [
        ['/', 'pages'],
        ['/about', 'pages'],
      ],
    );
    const both = await buildSite({
      'app/layout.tsx': 'export default function L({ children }) { return <html><body>{children}</body></html>; }\n',
      'app/page.tsx': PAGE,
      'pages/about.tsx': PAGE,
    });
    assert.deepEqual(
      both.manifest.routes.map((r) => [r.pattern, r.router]),
      [
        ['/', 'app'],
        ['/about', 'pages'],
      ],
    );
  });

  it('refuses a URL served by both app/ and pages/, naming both files', async () => {
    await assert.rejects(
      buildSite({
        'app/layout.tsx': 'export default function L({ children }) { return <html><body>{children}</body></html>; }\n',
        'app/blog/[id]/page.tsx': PAGE,
        'pages/blog/[slug].tsx': PAGE,
      }),
      /pages\/blog\/\[slug\]\.tsx and app\/blog\/\[id\]\/page\.tsx match the same URLs|app\/blog\/\[id\]\/page\.tsx and pages\/blog\/\[slug\]\.tsx match the same URLs/,
    );
  });

  it('refuses two files for one page (blog.tsx beside blog/index.tsx)', async () => {
    await assert.rejects(buildSite({ 'pages/blog.tsx': PAGE, 'pages/blog/index.tsx': PAGE }), /pages\/blog.* are both the page \/blog/);
  });

  it('refuses what isr does not support, naming the file', async () => {
    await assert.rejects(
      buildSite({ 'pages/index.tsx': PAGE, 'pages/_document.tsx': PAGE }),
      /pages\/_document\.tsx: pages\/_document is not supported/,
    );
    await assert.rejects(
      buildSite({ 'pages/ssr.tsx': `${PAGE}export async function getServerSideProps() { return { props: {} }; }\n` }),
      /pages\/ssr\.tsx: getServerSideProps is not supported/,
    );
    await assert.rejects(
      buildSite({ 'pages/[id].tsx': `${PAGE}export async function getStaticProps() { return { props: {} }; }\n` }),
      /pages\/\[id\]\.tsx: a dynamic page with getStaticProps needs getStaticPaths/,
    );
    await assert.rejects(
      buildSite({ 'pages/[id].tsx': `${PAGE}export async function getStaticPaths() { return { paths: [], fallback: false }; }\n` }),
      /getStaticPaths needs getStaticProps/,
    );
  });

  it('fails the build on a bad getStaticPaths result or a failing getStaticProps, naming the page', async () => {
    const paths = (result: string) =>
      `${PAGE}export async function getStaticProps() { return { props: {} }; }\nexport async function getStaticPaths() { return ${result}; }\n`;
    await assert.rejects(
      buildSite({ 'pages/[id].tsx': paths("{ paths: ['/1'], fallback: 'sometimes' }") }),
      /fallback "sometimes"; use false, true or 'blocking'/,
    );
    await assert.rejects(
      buildSite({ 'pages/[id].tsx': paths("{ paths: ['/a/b'], fallback: false }") }),
      /listed "\/a\/b", which does not match \/\[id\]/,
    );
    await assert.rejects(
      buildSite({
        'pages/[id].tsx': `${PAGE}export async function getStaticPaths() { return { paths: ['/1'], fallback: false }; }\nexport async function getStaticProps() { throw new Error('CMS down'); }\n`,
      }),
      /prerendering \/1 \(pages\/\[id\]\.tsx\) failed: CMS down/,
    );
  });
});

describe('getStaticProps and getStaticPaths results', () => {
  it('accepts props, notFound and redirect, each with revalidate', () => {
    assert.deepEqual(checkStaticPropsResult({ props: { a: 1 }, revalidate: 60 }, '/p'), { type: 'props', props: { a: 1 }, revalidate: 60 });
    assert.deepEqual(checkStaticPropsResult({ notFound: true, revalidate: 5 }, '/p'), { type: 'notFound', revalidate: 5 });
    assert.deepEqual(checkStaticPropsResult({ redirect: { destination: '/x', permanent: true } }, '/p'), {
      type: 'redirect',
      destination: '/x',
      status: 308,
      revalidate: false,
    });
    assert.equal((checkStaticPropsResult({ redirect: { destination: '/x', statusCode: 301 } }, '/p') as { status: number }).status, 301);
    assert.deepEqual(checkStaticPropsResult({ props: {}, revalidate: true }, '/p'), { type: 'props', props: {}, revalidate: 1 });
  });

  it('refuses shapes Next.js refuses, naming the page', () => {
    const bad: Array<[unknown, RegExp]> = [
      [null, /\/p: getStaticProps must return an object/],
      [{ props: {}, extra: 1 }, /additional keys \(extra\)/],
      [{ props: {}, redirect: { destination: '/x', permanent: false } }, /only one of props, notFound and redirect/],
      [{ props: {}, revalidate: 0 }, /at least 1 second/],
      [{ props: {}, revalidate: 1.5 }, /whole number of seconds/],
      [{ props: {}, revalidate: '60' }, /revalidate "60"/],
      [{ redirect: { destination: '/x' } }, /without `permanent`/],
      [{ redirect: { destination: '/x', statusCode: 200 } }, /statusCode must be one of/],
      [{ redirect: { permanent: true } }, /without a destination/],
      [{ props: [] }, /props as a plain object/],
    ];
    for (const [result, message] of bad) assert.throws(() => checkStaticPropsResult(result, '/p'), message, JSON.stringify(result));
  });

  it('refuses props that do not survive JSON, with the path of the value', () => {
    assert.throws(
      () => checkSerializable({ post: { date: new Date(0) } }, '/blog/[id]'),
      /\/blog\/\[id\]: error serializing `\.post\.date`.*Date object/,
    );
    assert.throws(() => checkSerializable({ list: [1, undefined] }, '/p'), /`\.list\[1\]`.*`undefined` cannot be serialized/);
    assert.throws(() => checkSerializable({ f: () => 1 }, '/p'), /a function cannot be serialized/);
    assert.throws(() => checkSerializable({ n: Number.NaN }, '/p'), /NaN cannot be serialized/);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    assert.throws(() => checkSerializable(loop, '/p'), /circular/);
    const shared = { x: 1 };
    checkSerializable({ a: shared, b: shared, c: null, d: [true, 'x', 0], e: Object.create(null) }, '/p');
  });

  it('reads getStaticPaths results: path strings and { params }, and the fallback mode', () => {
    assert.deepEqual(checkStaticPathsResult({ paths: ['/a', { params: { id: 'b' } }], fallback: 'blocking' }, '/p'), {
      paths: ['/a', { id: 'b' }],
      fallback: 'blocking',
    });
    assert.throws(() => checkStaticPathsResult({ paths: [7], fallback: false }, '/p'), /paths\[0\] must be a path string or \{ params/);
    assert.throws(() => checkStaticPathsResult({ fallback: false }, '/p'), /must return \{ paths/);
  });
});
