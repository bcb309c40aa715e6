/**
 * `next/font/local` in both routers (src/build/fonts.ts), on the font-site fixture: an App Router
 * layout sets Inter (two files, a CSS variable) on `<html>` and `<body>`, the page a second font
 * (not preloaded, its own fallbacks), and a Pages Router page a third call with `declarations`.
 * Checked: the object each call gives, the classes on the elements, the `@font-face` rules and
 * classes of the served stylesheet (the fallback faces' overrides are the values `next build` of
 * Next.js 16.4 writes for the same files), the font files served immutable, the preload links,
 * and in Chromium that the fonts load and the elements' computed font-family is the font's. And
 * the failures: next/font/google, a call isr cannot compile, a missing file, each refused by
 * `isr build` with the file named and no stack trace.
 * @see https://nextjs.org/docs/app/api-reference/components/font
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { build } from '../../src/build/build.ts';
import { launchChromium, recordPageErrors } from '../helpers/browser.ts';
import { fileTrees } from '../helpers/file-tree.ts';
import { ROOT } from '../helpers/instances.ts';
import { type FixtureServer, request, startFixtureServer } from '../helpers/server.ts';

let f: FixtureServer;
let browser: Browser;
let home: string;
let legacy: string;

before(async () => {
  f = await startFixtureServer({}, { name: 'font-site' });
  home = (await request(f, '/')).text;
  legacy = (await request(f, '/legacy')).text;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await f?.close();
});

const decode = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, '&');

/** The JSON an element with `id` holds. */
function json(html: string, id: string): Record<string, unknown> {
  const text = new RegExp(`<pre id="${id}">([^<]*)</pre>`).exec(html)?.[1];
  assert.ok(text, `no <pre id="${id}">`);
  return JSON.parse(decode(text));
}

/** The `<link>` tags of `html` with `rel`, as attribute maps. */
function links(html: string, rel: string): Record<string, string>[] {
  return [...html.matchAll(/<link [^>]*>/g)]
    .map((match) => Object.fromEntries([...match[0].matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])))
    .filter((attributes) => attributes.rel === rel);
}

const FILE = (name: string) => new RegExp(`^/_isr/static/media/${name}\\.[0-9a-f]{8}\\.woff2$`);

describe('next/font/local: the build', () => {
  it("gives each call Next.js's object: classes, the font-family with its fallbacks, weight and style of a single file", () => {
    const { inter, heading } = json(home, 'objects') as Record<string, { className: string; variable?: string }>;
    assert.match(inter!.className, /^__className_[0-9a-f]{6}$/);
    assert.match(inter!.variable!, /^__variable_[0-9a-f]{6}$/);
    assert.deepEqual(inter, {
      className: inter!.className,
      style: { fontFamily: "'inter', 'inter Fallback'" },
      variable: inter!.variable,
    });
    assert.deepEqual(heading, {
      className: heading!.className,
      style: { fontFamily: "'heading', 'heading Fallback', Georgia, serif", fontWeight: 400, fontStyle: 'italic' },
    });
    assert.notEqual(heading!.className, inter!.className);
    assert.deepEqual(json(legacy, 'object'), {
      className: (json(legacy, 'object') as { className: string }).className,
      style: { fontFamily: "'body', 'body Fallback'" },
    });
  });

  it('puts the classes on the elements, and the style object inline', () => {
    const { inter, heading } = json(home, 'objects') as Record<string, { className: string; variable: string }>;
    assert.match(home, new RegExp(`<html lang="en" class="${inter!.variable}">`));
    assert.match(home, new RegExp(`<body class="${inter!.className}">`));
    assert.match(home, new RegExp(`<h1 id="heading" class="${heading!.className}">`));
    assert.match(home, /<p id="by-style" style="font-family:&#x27;inter&#x27;, &#x27;inter Fallback&#x27;">/);
    const { className } = json(legacy, 'object') as { className: string };
    assert.match(legacy, new RegExp(`<main id="legacy" class="${className}">`));
  });

  it('preloads the files of the fonts a page uses, as Next.js writes the links; not those with preload: false', () => {
    const preloads = links(home, 'preload').filter((link) => link.as === 'font');
    assert.equal(preloads.length, 2);
    assert.match(preloads[0]!.href!, FILE('inter-latin-400-normal'));
    assert.match(preloads[1]!.href!, FILE('inter-latin-700-normal'));
    for (const link of preloads)
      assert.deepEqual({ ...link, href: '' }, { rel: 'preload', href: '', as: 'font', crossorigin: '', type: 'font/woff2' });
    assert.doesNotMatch(home, /inter-latin-400-italic[^"]*" as="font"/);
    // The Pages Router page: its own font, in the head before the stylesheet.
    const [legacyPreload, ...others] = links(legacy, 'preload').filter((link) => link.as === 'font');
    assert.equal(others.length, 0);
    assert.match(legacyPreload!.href!, FILE('inter-latin-400-normal'));
    assert.ok(legacy.indexOf('as="font"') < legacy.indexOf('rel="stylesheet"'));
  });

  it('serves the @font-face rules, the fallback faces sized as next build sizes them, and the classes', async () => {
    const { inter, heading } = json(home, 'objects') as Record<string, { className: string; variable: string }>;
    const sheets = links(home, 'stylesheet');
    assert.ok(sheets.length > 0, 'no stylesheet linked from /');
    const css = (await Promise.all(sheets.map(async (sheet) => (await fetch(f.url + sheet.href)).text()))).join('\n');
    const faces = [...css.matchAll(/@font-face\s*\{([^}]*)\}/g)].map((match) => match[1]!);
    const face = (family: string, needle: string) => faces.find((body) => body.includes(family) && body.includes(needle));
    const regular = face('inter', 'inter-latin-400-normal');
    assert.ok(regular, css);
    assert.match(regular, /font-display:\s*swap/);
    assert.match(regular, /font-weight:\s*400/);
    assert.match(regular, /format\(["']woff2["']\)/);
    assert.match(face('inter', 'inter-latin-700-normal') ?? '', /font-weight:\s*700/);
    assert.match(face('heading', 'inter-latin-400-italic') ?? '', /font-display:\s*optional/);
    // Next.js 16.4's next build writes these overrides for the same files.
    const fallback = face('inter Fallback', 'local(') ?? '';
    assert.match(fallback, /local\("?Arial"?\)/);
    for (const value of [
      'ascent-override:\\s*89.79%',
      'descent-override:\\s*22.36%',
      'line-gap-override:\\s*0(\\.0+)?%',
      'size-adjust:\\s*107.89%',
    ])
      assert.match(fallback, new RegExp(value));
    const serif = face('heading Fallback', 'local(') ?? '';
    assert.match(serif, /local\("?Times New Roman"?\)/);
    for (const value of ['ascent-override:\\s*81.56%', 'descent-override:\\s*20.31%', 'size-adjust:\\s*118.78%'])
      assert.match(serif, new RegExp(value));
    assert.match(
      css,
      new RegExp(`\\.${inter!.className}\\s*\\{\\s*font-family:\\s*["']?inter["']?,\\s*["']?inter Fallback["']?\\s*;?\\s*\\}`),
    );
    assert.match(css, new RegExp(`\\.${inter!.variable}\\s*\\{\\s*--font-inter:\\s*["']inter["'],\\s*["']inter Fallback["']`));
    assert.match(css, new RegExp(`\\.${heading!.className}\\s*\\{[^}]*font-style:\\s*italic`));
  });

  it('serves the font files content-hashed and immutable', async () => {
    const href = links(home, 'preload').find((link) => link.as === 'font')!.href!;
    const response = await fetch(f.url + href);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(response.headers.get('content-type'), 'font/woff2');
    assert.equal(Buffer.from(await response.arrayBuffer()).toString('latin1', 0, 4), 'wOF2');
  });
});

describe('next/font/local in Chromium', () => {
  /** What Chromium shows of `route`: the loaded faces and the computed style of elements. */
  async function observe(route: string, selectors: string[]) {
    const page = await browser.newPage();
    const errors = recordPageErrors(page);
    await page.goto(f.url + route);
    await page.waitForLoadState('networkidle');
    const seen = await page.evaluate(async (selectors) => {
      await document.fonts.ready;
      const faces = [...document.fonts]
        .filter((face) => face.status === 'loaded')
        .map((face) => `${face.family} ${face.weight} ${face.style}`)
        .sort();
      const styles = Object.fromEntries(
        selectors.map((selector) => {
          const style = getComputedStyle(document.querySelector(selector)!);
          return [selector, { fontFamily: style.fontFamily, fontWeight: style.fontWeight, fontStyle: style.fontStyle }];
        }),
      );
      return { faces, styles, rendered: document.fonts.check('16px inter') };
    }, selectors);
    await page.close();
    return { ...seen, errors };
  }

  it('the App Router page loads Inter and sets it by class, by variable and by style object', async () => {
    const seen = await observe('/', ['body', '#by-variable', '#by-style', '#heading']);
    assert.deepEqual(seen.errors, []);
    assert.ok(seen.faces.includes('inter 400 normal'), `loaded: ${seen.faces.join(', ')}`);
    assert.ok(seen.rendered);
    const interStack = 'inter, "inter Fallback"';
    assert.deepEqual(seen.styles.body, { fontFamily: interStack, fontWeight: '400', fontStyle: 'normal' });
    assert.equal(seen.styles['#by-variable']!.fontFamily, interStack);
    assert.equal(seen.styles['#by-style']!.fontFamily, interStack);
    assert.deepEqual(seen.styles['#heading'], {
      fontFamily: 'heading, "heading Fallback", Georgia, serif',
      fontWeight: '400',
      fontStyle: 'italic',
    });
  });

  it('the Pages Router page loads its font and sets it by class', async () => {
    const seen = await observe('/legacy', ['#legacy']);
    assert.deepEqual(seen.errors, []);
    // No weight given: the face covers every weight (`normal` is what the FontFace reports).
    assert.ok(seen.faces.includes('body normal normal'), `loaded: ${seen.faces.join(', ')}`);
    assert.equal(seen.styles['#legacy']!.fontFamily, 'body, "body Fallback"');
  });
});

describe('next/font: what isr build refuses', () => {
  const trees = fileTrees('isr-font');
  after(() => trees.cleanup());
  const LAYOUT = 'export default function RootLayout({ children }) { return <html><body>{children}</body></html>; }\n';

  it('next/font/google fails isr build with one message naming the file, the fonts and what to do, no stack trace', async () => {
    const site = trees.site({
      'app/layout.jsx': [
        "import { Inter, Roboto_Mono } from 'next/font/google';",
        "const inter = Inter({ subsets: ['latin'] });",
        "const mono = Roboto_Mono({ subsets: ['latin'] });",
        'export default function RootLayout({ children }) { return <html className={mono.variable}><body className={inter.className}>{children}</body></html>; }',
        '',
      ].join('\n'),
      'app/page.jsx': 'export default function Page() { return <p>hello</p>; }\n',
    });
    const cli = path.join(ROOT, 'src', 'cli', 'main.ts');
    const failure = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, 'build', site], { cwd: ROOT }).then(
      () => assert.fail('isr build succeeded'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failure.code, 1);
    assert.match(failure.stderr, /app\/layout\.jsx: next\/font\/google \(Inter, Roboto_Mono\) is not supported by isr/);
    assert.match(failure.stderr, /load them with next\/font\/local/);
    assert.doesNotMatch(failure.stderr, /^\s+at /m);
  });

  it('refuses it in the Pages Router too', async () => {
    const site = trees.site({
      'pages/index.jsx': [
        "import { Lora } from 'next/font/google';",
        "const lora = Lora({ subsets: ['latin'] });",
        'export default function Home() { return <p className={lora.className}>hello</p>; }',
        '',
      ].join('\n'),
    });
    await assert.rejects(build({ siteDir: site }), /pages\/index\.jsx: next\/font\/google \(Lora\) is not supported by isr/);
  });

  it('a call isr cannot compile, a missing file and a bad option name the file', async () => {
    const inFunction = trees.site({
      'app/layout.jsx': [
        "import localFont from 'next/font/local';",
        "export default function RootLayout({ children }) { const f = localFont({ src: './a.woff2' }); return <html><body className={f.className}>{children}</body></html>; }",
        '',
      ].join('\n'),
      'app/page.jsx': 'export default function Page() { return <p>hello</p>; }\n',
    });
    await assert.rejects(
      build({ siteDir: inFunction }),
      /app\/layout\.jsx: next\/font\/local: font loaders must be called and assigned to a const in the module scope/,
    );
    const missing = trees.site({
      'app/layout.jsx': `import localFont from 'next/font/local';\nconst f = localFont({ src: './missing.woff2' });\n${LAYOUT}`,
      'app/page.jsx': 'export default function Page() { return <p>hello</p>; }\n',
    });
    await assert.rejects(build({ siteDir: missing }), /app\/layout\.jsx: next\/font\/local cannot read the font file \.\/missing\.woff2/);
    const badDisplay = trees.site({
      'pages/index.jsx': `import localFont from 'next/font/local';\nconst f = localFont({ src: './a.woff2', display: 'sometimes' });\nexport default function Home() { return <p className={f.className}>x</p>; }\n`,
    });
    await assert.rejects(build({ siteDir: badDisplay }), /pages\/index\.jsx: next\/font\/local: invalid display value `sometimes`/);
    const computed = trees.site({
      'pages/index.jsx': `import localFont from 'next/font/local';\nconst name = './a.woff2';\nconst f = localFont({ src: name });\nexport default function Home() { return <p className={f.className}>x</p>; }\n`,
    });
    await assert.rejects(
      build({ siteDir: computed }),
      /pages\/index\.jsx: next\/font\/local: font loader values must be explicitly written literals/,
    );
  });
});
