/**
 * The static metadata files at the root of `app/` (app/metadata-routes.ts): copied into the build
 * (`<build>/metadata/`, served at their names) and, for the images, turned into the metadata every
 * page's head carries — `favicon.ico`, `icon.*` and `apple-icon.*` as `<link rel="icon">` /
 * `<link rel="apple-touch-icon">` with their type and pixel size, `opengraph-image.*` and
 * `twitter-image.*` as `og:image` / `twitter:image` — as Next.js does
 * (https://nextjs.org/docs/app/api-reference/file-conventions/metadata/app-icons).
 */

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { lookup } from 'mime-types';
import sharp from 'sharp';
import type { FileMetadata } from '../app/metadata-routes.ts';
import { SiteError } from '../config/errors.ts';
import { METADATA_DIR } from '../site/manifest.ts';

/** Width and height of an ICO file's first image (a 0 byte means 256). */
function icoSize(body: Buffer): { width: number; height: number } | undefined {
  if (body.length < 8 || body.readUInt16LE(0) !== 0 || body.readUInt16LE(2) !== 1 || body.readUInt16LE(4) < 1) return undefined;
  return { width: body[6] || 256, height: body[7] || 256 };
}

/**
 * Copies `names` from `<siteDir>/app` into `<buildDir>/metadata` and describes the images.
 * @throws Error naming the file when an image's size cannot be read.
 */
export async function buildMetadataFiles(siteDir: string, names: readonly string[], buildDir: string): Promise<FileMetadata> {
  const out: FileMetadata = { icons: [], openGraph: [], twitter: [] };
  if (names.length === 0) return out;
  await mkdir(path.join(buildDir, METADATA_DIR), { recursive: true });
  for (const name of names) {
    const file = path.join(siteDir, 'app', name);
    await copyFile(file, path.join(buildDir, METADATA_DIR, name));
    const base = name.slice(0, name.lastIndexOf('.'));
    if (!['favicon', 'icon', 'apple-icon', 'opengraph-image', 'twitter-image'].includes(base)) continue;
    const body = await readFile(file);
    const type = name.endsWith('.ico') ? 'image/x-icon' : lookup(name) || 'application/octet-stream';
    let size: { width: number; height: number } | undefined;
    try {
      if (name.endsWith('.ico')) size = icoSize(body);
      else if (!name.endsWith('.svg')) {
        const meta = await sharp(body).metadata();
        size = { width: meta.width ?? 0, height: meta.height ?? 0 };
      }
    } catch (error) {
      throw new SiteError(`app/${name}: cannot read the image's size (${(error as Error).message})`);
    }
    // Next.js adds a content hash to every image but the favicon, so a new image is fetched anew.
    const href = base === 'favicon' ? `/${name}` : `/${name}?${createHash('sha256').update(body).digest('hex').slice(0, 16)}`;
    const sizes = name.endsWith('.svg') ? 'any' : size ? `${size.width}x${size.height}` : undefined;
    if (base === 'favicon' || base === 'icon' || base === 'apple-icon') {
      out.icons.push({ rel: base === 'apple-icon' ? 'apple-touch-icon' : 'icon', href, type, ...(sizes ? { sizes } : {}) });
    } else {
      out[base === 'opengraph-image' ? 'openGraph' : 'twitter'].push({ url: href, type, ...(size ?? {}) });
    }
  }
  // The favicon first, as Next.js writes it.
  out.icons.sort((a, b) => Number(b.href.startsWith('/favicon.')) - Number(a.href.startsWith('/favicon.')));
  return out;
}
