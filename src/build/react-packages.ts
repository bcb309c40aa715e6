/**
 * The site's React packages: those in its dependency tree (from its own package.json) with a
 * `react` peer dependency. Both compilers bundle them rather than load them from `node_modules`
 * at run time, so they use this package's one React (two copies break every hook: "Invalid hook
 * call"), and a `'use client'` module in one is seen by the RSC bundler.
 */

import { crawlFrameworkPkgs } from 'vitefu';

/** The names of the site's React packages (`react-dom` excluded: isr provides it). */
export async function siteReactPackages(siteDir: string): Promise<string[]> {
  const found = await crawlFrameworkPkgs({
    root: siteDir,
    isBuild: true,
    isFrameworkPkgByJson: (pkg) => pkg.name !== 'react-dom' && pkg.peerDependencies !== undefined && 'react' in pkg.peerDependencies,
  });
  return found.ssr.noExternal.filter((name): name is string => typeof name === 'string');
}
