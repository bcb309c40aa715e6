/**
 * PostCSS in the Pages Router's build (src/build/postcss.ts), as `next build` runs it
 * (https://nextjs.org/docs/pages/guides/post-css): with a config, the site's global CSS, its CSS
 * Modules and a package's CSS all go through the config's plugins; without one, CSS is bundled as
 * written; a failing plugin fails the build, naming the file.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { fileTrees } from '../helpers/file-tree.ts';

const trees = fileTrees('isr-postcss');
after(() => trees.cleanup());

/** A PostCSS plugin, in the site's folder: `brand` becomes a colour (minified by the bundler to #010203), `broken` throws. */
const PLUGIN = `module.exports = () => ({
  postcssPlugin: 'brand',
  Declaration(decl) {
    if (decl.value === 'brand') decl.value = 'rgb(1, 2, 3)';
    if (decl.value === 'broken') throw decl.error('no such colour');
  },
});
module.exports.postcss = true;
`;

const SITE = {
  'pages/_app.jsx':
    "import './global.css';\nimport 'brand-kit/kit.css';\nexport default function App({ Component, pageProps }) { return <Component {...pageProps} />; }\n",
  'pages/global.css': 'body { color: brand; }\n',
  'pages/index.jsx':
    "import styles from './box.module.css';\nexport default function Home() { return <p className={styles.box}>hi</p>; }\n",
  'pages/box.module.css': '.box { border-color: brand; }\n',
  'node_modules/brand-kit/package.json': '{ "name": "brand-kit", "version": "1.0.0" }\n',
  'node_modules/brand-kit/kit.css': '.kit { background-color: brand; }\n',
  'brand-plugin.cjs': PLUGIN,
};

/** The stylesheets the build wrote for the browser, joined. */
function clientCss(buildDir: string): string {
  const dir = path.join(buildDir, 'client', 'static', 'pages');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.css'))
    .map((name) => readFileSync(path.join(dir, name), 'utf8'))
    .join('\n');
}

describe('PostCSS in the Pages Router build', () => {
  it("runs the site's config on its global CSS, its CSS Modules and a package's CSS", async () => {
    const dir = trees.site({ ...SITE, 'postcss.config.js': "module.exports = { plugins: { './brand-plugin.cjs': {} } };\n" });
    const result = await build({ siteDir: dir, logger: createMemoryLogger() });
    const css = clientCss(result.buildDir);
    assert.match(css, /body\s*\{\s*color:\s*#010203/);
    assert.match(css, /\.kit\s*\{\s*background-color:\s*#010203/);
    assert.match(css, /\.box_[\w-]+\s*\{\s*border-color:\s*#010203/, 'still a CSS Module, its class scoped');
    assert.doesNotMatch(css, /brand/);
  });

  it('leaves CSS as written without a config (and bundles the stylesheet of a package with no React in it)', async () => {
    const dir = trees.site(SITE);
    const result = await build({ siteDir: dir, logger: createMemoryLogger() });
    const css = clientCss(result.buildDir);
    assert.match(css, /body\s*\{\s*color:\s*brand/);
    assert.match(css, /\.kit\s*\{\s*background-color:\s*brand/);
  });

  it('fails the build naming the file when a plugin throws', async () => {
    const dir = trees.site({
      ...SITE,
      'pages/global.css': 'body { color: broken; }\n',
      'postcss.config.js': "module.exports = { plugins: { './brand-plugin.cjs': {} } };\n",
    });
    await assert.rejects(build({ siteDir: dir, logger: createMemoryLogger() }), /pages\/global\.css: PostCSS failed: .*no such colour/);
  });
});

describe('PostCSS config shapes, read as Next.js reads them', () => {
  /** The stylesheets the App Router build wrote for the browser, joined. */
  const appCss = (buildDir: string) => {
    const dir = path.join(buildDir, 'client', 'static');
    return readdirSync(dir)
      .filter((name) => name.endsWith('.css'))
      .map((name) => readFileSync(path.join(dir, name), 'utf8'))
      .join('\n');
  };
  const APP = {
    'brand-plugin.cjs': PLUGIN,
    'app/global.css': 'body { color: brand; }\n',
    'app/layout.jsx':
      "import './global.css';\nexport default function Layout({ children }) { return <html><body>{children}</body></html>; }\n",
    'app/page.jsx': 'export default function Page() { return <p>hi</p>; }\n',
  };

  it('an array of names (create-next-app’s Tailwind 4 `postcss.config.mjs`) runs in app/ and in pages/', async () => {
    const config = "export default { plugins: ['./brand-plugin.cjs'] };\n";
    const pages = await build({ siteDir: trees.site({ ...SITE, 'postcss.config.mjs': config }), logger: createMemoryLogger() });
    assert.match(clientCss(pages.buildDir), /body\s*\{\s*color:\s*#010203/);
    const app = await build({ siteDir: trees.site({ ...APP, 'postcss.config.mjs': config }), logger: createMemoryLogger() });
    assert.match(appCss(app.buildDir), /body\s*\{\s*color:\s*#010203/);
    assert.doesNotMatch(appCss(app.buildDir), /brand/);
  });

  it('[name, options] pairs pass the options; options false leaves the plugin out', async () => {
    const options = `module.exports = (options) => ({
  postcssPlugin: 'paint',
  Declaration(decl) { if (decl.value === 'paint') decl.value = options.colour; },
});
module.exports.postcss = true;
`;
    const dir = trees.site({
      ...APP,
      'paint-plugin.cjs': options,
      'app/global.css': 'body { color: paint; background-color: brand; }\n',
      'postcss.config.js':
        "module.exports = { plugins: [['./paint-plugin.cjs', { colour: 'rgb(4, 5, 6)' }], ['./brand-plugin.cjs', false]] };\n",
    });
    const css = appCss((await build({ siteDir: dir, logger: createMemoryLogger() })).buildDir);
    assert.match(css, /color:\s*#040506/);
    assert.match(css, /background-color:\s*brand/, 'the plugin given false did not run');
  });

  it('fails the build naming the config for the shapes Next.js refuses', async () => {
    const refused: [string, RegExp][] = [
      ["module.exports = { plugins: [require('./brand-plugin.cjs')] };\n", /postcss\.config\.js: a PostCSS plugin is given as a function/],
      ['module.exports = () => ({ plugins: [] });\n', /postcss\.config\.js: the PostCSS config exports a function/],
      ['module.exports = { map: false };\n', /postcss\.config\.js: the PostCSS config must export a `plugins` key/],
      ["module.exports = { plugins: ['no-such-plugin'] };\n", /postcss\.config\.js: the PostCSS plugin 'no-such-plugin' cannot be loaded/],
    ];
    for (const [config, message] of refused) {
      const dir = trees.site({ ...APP, 'postcss.config.js': config });
      await assert.rejects(build({ siteDir: dir, logger: createMemoryLogger() }), message, config);
    }
  });
});
