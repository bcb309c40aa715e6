/**
 * The metadata files of `app/` (app/metadata-routes.ts) in the build: the static files at the
 * root (`favicon.ico`, `robots.txt`, ...) and the static metadata images of every folder are
 * copied into `<build>/metadata/` (served at their paths); each folder's images, static or
 * generated, are described for the pages below it — `favicon.ico`, `icon.*` and `apple-icon.*` as
 * `<link rel="icon">` / `<link rel="apple-touch-icon">` with their type and pixel size,
 * `opengraph-image.*` and `twitter-image.*` as `og:image` / `twitter:image` — as Next.js does
 * (https://nextjs.org/docs/app/api-reference/file-conventions/metadata/app-icons).
 */

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { lookup } from 'mime-types';
import sharp from 'sharp';
import type { DiscoveredMetadataImage, MetadataImage } from '../app/metadata-routes.ts';
import { SiteError } from '../config/errors.ts';
import type { Segment } from '../render/routes.ts';
import { METADATA_DIR } from '../site/manifest.ts';

/**
 * Width and height of an ICO file's largest image (the first of the largest by area), read from
 * its directory (16-byte entries after the 6-byte header; a 0 byte means 256): the size `next
 * build` (Turbopack, Next.js 16's default) gives an `app/favicon.ico` of several sizes
 * (a 16, 32 and 48 pixel favicon is `sizes="48x48"`).
 */
export function icoSize(body: Buffer): { width: number; height: number } | undefined {
  if (body.length < 6 || body.readUInt16LE(0) !== 0 || body.readUInt16LE(2) !== 1) return undefined;
  let largest: { width: number; height: number } | undefined;
  for (let index = 0; index < body.readUInt16LE(4) && 6 + 16 * (index + 1) <= body.length; index++) {
    const entry = 6 + 16 * index;
    const size = { width: body[entry] || 256, height: body[entry + 1] || 256 };
    if (largest === undefined || size.width * size.height > largest.width * largest.height) largest = size;
  }
  return largest;
}

/** The first 16 hex digits of the SHA-256 of `body`: the query that makes a new image a new URL, as Next.js's content hash. */
function contentHash(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

/** A generated image's route, as the build manifest lists it (for its URL and its module). */
export interface ImageRoute {
  pattern: string;
  segments: Segment[];
  module: string;
}

/**
 * Copies the root's static metadata files (`names`, from `<siteDir>/app`) and the static images
 * of `images` into `<buildDir>/metadata`, and describes every image by folder.
 * @param routes the generated images' routes, by file (relative to the site).
 * @returns the files served from `<buildDir>/metadata` (paths without a leading slash) and the
 *   images of each folder (`app`, `app/blog`, ...), in the order Next.js lists them (the favicon first).
 * @throws SiteError naming the file when an image's size cannot be read.
 */
export async function buildMetadataFiles(
  siteDir: string,
  names: readonly string[],
  images: readonly DiscoveredMetadataImage[],
  routes: ReadonlyMap<string, ImageRoute>,
  buildDir: string,
): Promise<{ files: string[]; images: Record<string, MetadataImage[]> }> {
  const files = [...names];
  const byFolder: Record<string, MetadataImage[]> = {};
  if (names.length === 0 && images.length === 0) return { files, images: byFolder };
  await mkdir(path.join(buildDir, METADATA_DIR), { recursive: true });
  for (const name of names) await copyFile(path.join(siteDir, 'app', name), path.join(buildDir, METADATA_DIR, name));
  for (const image of images) {
    const body = await readFile(path.join(siteDir, image.file));
    const folder = (byFolder[image.folder] ??= []);
    if (image.generated) {
      const route = routes.get(image.file);
      if (route === undefined) throw new Error(`isr build: no route for the generated image ${image.file}`);
      folder.push({
        kind: image.kind,
        generated: { pattern: route.pattern, segments: route.segments, module: route.module, hash: contentHash(body) },
      });
      continue;
    }
    if (image.kind !== 'favicon') {
      await mkdir(path.dirname(path.join(buildDir, METADATA_DIR, image.urlPath)), { recursive: true });
      await copyFile(path.join(siteDir, image.file), path.join(buildDir, METADATA_DIR, image.urlPath));
      files.push(image.urlPath);
    }
    const type = image.file.endsWith('.ico') ? 'image/x-icon' : lookup(image.file) || 'application/octet-stream';
    let size: { width: number; height: number } | undefined;
    try {
      if (image.file.endsWith('.ico')) size = icoSize(body);
      else if (!image.file.endsWith('.svg')) {
        const meta = await sharp(body).metadata();
        size = { width: meta.width ?? 0, height: meta.height ?? 0 };
      }
    } catch (error) {
      throw new SiteError(`${image.file}: cannot read the image's size (${(error as Error).message})`);
    }
    // Next.js adds a content hash to every image (Turbopack's `next build` to the favicon too), so
    // a new image is fetched anew.
    const href = `/${image.urlPath}?${contentHash(body)}`;
    const sizes = image.file.endsWith('.svg') ? 'any' : size ? `${size.width}x${size.height}` : undefined;
    folder.push({ kind: image.kind, image: { href, type, ...(size ?? {}), ...(sizes ? { sizes } : {}) } });
  }
  return { files, images: byFolder };
}
