/**
 * The one site both systems build: the example blog's `app/` and the `lib/` and `styles/` it imports
 * (examples/blog, unmodified; its Pages Router section is left out) plus two bench-only routes
 * from bench/site-extra/app:
 *   - `/herd/[id]`: the blog post page re-exported with `revalidate = 2`, rendered on first
 *     request, so the stale-herd scenario does not wait a minute for a window to pass;
 *   - `/synthetic/[n]`: a small page without data, for pushing 100,000 entries through the cache.
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
export const benchRoot = join(repoRoot, 'bench');

/** Copies the site into `dest/app`, `dest/lib` and `dest/styles` (`dest` emptied first). */
export async function prepareSiteTree(dest: string): Promise<void> {
  await rm(dest, { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  await cp(join(repoRoot, 'examples/blog/app'), join(dest, 'app'), { recursive: true });
  await cp(join(repoRoot, 'examples/blog/lib'), join(dest, 'lib'), { recursive: true });
  await cp(join(repoRoot, 'examples/blog/styles'), join(dest, 'styles'), { recursive: true });
  await cp(join(benchRoot, 'site-extra/app'), join(dest, 'app'), { recursive: true });
}
