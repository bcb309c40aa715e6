/**
 * The image optimisation endpoint `next/image` points at (render/image.ts), at Next.js's path:
 *
 *     GET /_next/image?url=<local path or allowed remote URL>&w=<width>&q=<quality>
 *
 * as Next.js serves it (https://nextjs.org/docs/app/api-reference/components/image#how-images-are-optimized):
 * the width must be one of the config's `deviceSizes`/`imageSizes` and the quality one of its
 * `qualities`; a remote URL must match `remotePatterns` (or `domains`), else the answer is a 400
 * and nothing is fetched. The image is resized with sharp (never enlarged) and re-encoded in the
 * first of the config's `formats` the request's `Accept` takes (AVIF, WebP), else in its own
 * format; SVG (unless `dangerouslyAllowSVG`) and animated images are refused or passed through as
 * Next.js does, and ICO, ICNS, BMP, JPEG XL and HEIC are sent as they are (Next.js's bypassed
 * types). Each variant is an entry of the ISR cache (key `isr:image:<format>:<w>:<q>:<url>`), with
 * the stores' durability and bounds, fresh for the longer of `minimumCacheTTL` and the upstream's
 * `max-age`, then regenerated in the background like a page.
 */

import type sharp from 'sharp';
import type { ImagesConfig, RemotePattern } from '../config/next-config.ts';
import type { Generated, IsrEngine } from '../engine/engine.ts';
import { fetchRemoteImage } from './image-fetch.ts';

/** A refusal of a query or an upstream: status and message. */
interface Refusal {
  status: number;
  message: string;
}

/** Refusals of generations in flight, by cache key, for every request waiting on one. */
const refusals = new Map<string, Refusal>();
/** How long a refusal is kept for requests that joined its generation, in milliseconds. */
const REFUSAL_MEMORY_MS = 1_000;

/** Where the build serves statically imported images (build/static-images.ts). */
const STATIC_MEDIA = '/_isr/static/media/';
/** What Next.js sends an optimised static import with: cached for ten years, never revalidated. */
const IMMUTABLE_IMAGE = 'public, max-age=315360000, immutable';
/** The file extension Next.js names a download of each type with (the `mime` table of its `send`). */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/gif': 'gif',
  'image/svg+xml': 'svg',
  'image/x-icon': 'ico',
  'image/x-icns': 'icns',
  'image/bmp': 'bmp',
  'image/tiff': 'tiff',
  'image/jxl': 'jxl',
  'image/heic': 'heic',
};

/** Whether `bytes` start with an ISO BMFF `ftyp` box of `brand` (AVIF, HEIC), its size checked as Next.js checks it. */
function hasFtypBox(bytes: Uint8Array, brand: string): boolean {
  if (bytes.byteLength < 12) return false;
  const size = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  return size >= 16 && size <= bytes.byteLength && latin1(bytes, 4, 8) === 'ftyp' && latin1(bytes, 8, 12) === brand;
}

/** `bytes[start, end)` as latin1 text. */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/**
 * The type of an image Next.js's optimizer sends as it is (its `BYPASS_TYPES`: ICO, ICNS, BMP,
 * JPEG XL, HEIC), told from its first bytes in the order Next.js's `detectContentType` looks;
 * undefined for every other (sharp reads those, or refuses them).
 */
function passedThroughType(bytes: Uint8Array): string | undefined {
  const startsWith = (...signature: number[]) => signature.every((byte, i) => bytes[i] === byte);
  if (hasFtypBox(bytes, 'avif')) return undefined;
  if (startsWith(0x00, 0x00, 0x01, 0x00)) return 'image/x-icon';
  if (startsWith(0x69, 0x63, 0x6e, 0x73)) return 'image/x-icns';
  // TIFF (II*\0) comes before BMP in Next.js's order and is resized.
  if (startsWith(0x49, 0x49, 0x2a, 0x00)) return undefined;
  if (startsWith(0x42, 0x4d)) return 'image/bmp';
  if (startsWith(0xff, 0x0a) || startsWith(0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a)) return 'image/jxl';
  if (hasFtypBox(bytes, 'heic')) return 'image/heic';
  return undefined;
}

/**
 * The file name a saved image gets, as Next.js names it: the last segment of the source's path up
 * to its first dot (so a static import's content hash is left out: `logo.0e27426a.jpg` served as
 * WebP is `logo.webp`), then the extension of the type sent.
 */
function downloadName(source: string, contentType: string | undefined): string {
  const file = source.split('?', 1)[0]!.split('/').pop();
  if (!file || contentType === undefined) return 'image.bin';
  return `${file.split('.', 1)[0]}.${EXTENSIONS[contentType] ?? contentType.split('/')[1]?.replace(/\+.*/, '') ?? 'bin'}`;
}

/** `Content-Disposition` with an ASCII `filename` and, for other names, `filename*` (RFC 6266 §4.3). */
function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return ascii === name ? `${type}; filename="${name}"` : `${type}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** The endpoint's path. */
export const IMAGE_ENDPOINT = '/_next/image';

/** How long a remote image may take to arrive, in milliseconds. */
const FETCH_TIMEOUT_MS = 7_000;
/** The largest upstream image read, in bytes. */
const MAX_UPSTREAM_BYTES = 50 * 1024 * 1024;

const FORMAT_OF_TYPE: Readonly<Record<string, keyof sharp.FormatEnum>> = {
  'image/avif': 'avif',
  'image/webp': 'webp',
  'image/png': 'png',
  'image/jpeg': 'jpeg',
};

export interface ImageSource {
  body: Uint8Array;
  /** The upstream's media type. */
  type: string;
  /** The upstream's `max-age` (seconds), when it sent one. */
  maxAge?: number;
}

export interface ImageEndpointContext {
  images: ImagesConfig;
  engine: IsrEngine;
  /** The site's own file at a path (`/photo.jpg`, `/_isr/static/media/…`), or undefined when there is none. */
  readLocal(pathname: string): Promise<ImageSource | undefined>;
}

function text(status: number, message: string): Response {
  return new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
}

/** Whether `url` matches a `remotePatterns` entry (wildcards `*` for one label or segment, `**` for any). */
export function matchesRemotePattern(pattern: RemotePattern, url: URL): boolean {
  if (pattern.protocol !== undefined && `${pattern.protocol}:` !== url.protocol) return false;
  // '' is the default port only, as in Next.js.
  if (pattern.port !== undefined && pattern.port !== url.port) return false;
  const glob = (value: string, separator: string) =>
    new RegExp(
      `^${value
        .split(separator)
        .map((part) => (part === '**' ? '.*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, `[^${separator}]*`)))
        .join(`\\${separator}`)}$`,
    );
  if (!glob(pattern.hostname, '.').test(url.hostname)) return false;
  if (pattern.pathname !== undefined && !glob(pattern.pathname, '/').test(url.pathname)) return false;
  if (pattern.search !== undefined && pattern.search !== url.search) return false;
  return true;
}

/** The output format for a request's `Accept` (`formats` in order), or undefined for the source's own. */
function negotiatedFormat(images: ImagesConfig, accept: string): string | undefined {
  return images.formats.find((format) => accept.includes(format));
}

/** Whether a local `source` (`/photo.jpg?v=2`) is allowed: any path without a query when `localPatterns` is unset, as in Next.js 16. */
export function matchesLocalPatterns(patterns: ImagesConfig['localPatterns'], source: URL): boolean {
  if (patterns === undefined) return source.search === '';
  return patterns.some((pattern) =>
    matchesRemotePattern({ hostname: '**', ...pattern }, new URL(source.pathname + source.search, 'http://local')),
  );
}

/**
 * Answers a request to {@link IMAGE_ENDPOINT}: 400 for a bad or disallowed query (never fetching),
 * the optimised image (from the cache when it holds it) otherwise.
 */
export async function handleImageRequest(request: Request, url: URL, context: ImageEndpointContext): Promise<Response> {
  const { images, engine } = context;
  if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  if (images.unoptimized) return text(400, 'image optimization is off (images.unoptimized)');
  const sources = url.searchParams.getAll('url');
  const widths = url.searchParams.getAll('w');
  const qualities = url.searchParams.getAll('q');
  if (sources.length !== 1 || sources[0] === '') return text(400, '"url" parameter is required');
  if (widths.length !== 1) return text(400, '"w" parameter (width) is required');
  if (qualities.length !== 1) return text(400, '"q" parameter (quality) is required');
  const source = sources[0]!;
  const width = Number(widths[0]);
  const quality = Number(qualities[0]);
  if (!Number.isInteger(width) || ![...images.deviceSizes, ...images.imageSizes].includes(width)) {
    return text(400, `"w" parameter (width) of ${widths[0]} is not allowed`);
  }
  if (!Number.isInteger(quality) || !images.qualities.includes(quality))
    return text(400, `"q" parameter (quality) of ${qualities[0]} is not allowed`);

  let remote: URL | undefined;
  if (source.startsWith('/')) {
    if (source.startsWith('//')) return text(400, '"url" parameter cannot be a protocol-relative URL (//)');
    if (source.startsWith(IMAGE_ENDPOINT)) return text(400, '"url" parameter cannot be recursive');
    if (!matchesLocalPatterns(images.localPatterns, new URL(source, 'http://local'))) return text(400, '"url" parameter is not allowed');
  } else {
    try {
      remote = new URL(source);
    } catch {
      return text(400, '"url" parameter is invalid');
    }
    if (
      (remote.protocol !== 'http:' && remote.protocol !== 'https:') ||
      !images.remotePatterns.some((pattern) => matchesRemotePattern(pattern, remote!))
    ) {
      return text(400, '"url" parameter is not allowed');
    }
  }
  // A local file is looked up first (the build's files are in memory): a path naming none is a
  // 404 without a failed generation.
  const local = remote === undefined ? await context.readLocal(source.split('?', 1)[0]!) : undefined;
  if (remote === undefined && local === undefined) return text(404, `"url" parameter ${source} names no file of the site`);
  const format = negotiatedFormat(images, request.headers.get('accept') ?? '');
  const key = `isr:image:${format ?? 'source'}:${width}:${quality}:${source}`;
  const generate = async (): Promise<Generated> => {
    const upstream =
      local ??
      (await fetchRemoteImage(remote!, images, (url) => images.remotePatterns.some((pattern) => matchesRemotePattern(pattern, url)), {
        timeoutMs: FETCH_TIMEOUT_MS,
        maxBytes: MAX_UPSTREAM_BYTES,
      }));
    if ('status' in upstream) throw Object.assign(new Error(`fetching ${source} failed: ${upstream.message}`), { refusal: upstream });
    const { body, contentType } = await optimise(upstream, width, quality, format, images);
    const revalidate = Math.max(images.minimumCacheTTL, upstream.maxAge ?? 0);
    return {
      value: { kind: 'route', status: 200, headers: { 'content-type': contentType }, body },
      tags: ['_N_T_/_next/image'],
      revalidate,
    };
  };
  let served;
  try {
    served = await engine.serve(
      key,
      async () => {
        try {
          return await generate();
        } catch (error) {
          // Every request waiting on this generation gets the same refusal.
          const refusal = (error as { refusal?: Refusal }).refusal;
          if (refusal !== undefined) refusals.set(key, refusal);
          throw error;
        }
      },
      { label: `the image ${source} at ${width}w` },
    );
  } catch (error) {
    const refusal = refusals.get(key);
    if (refusal !== undefined) {
      setTimeout(() => refusals.delete(key), REFUSAL_MEMORY_MS).unref();
      return text(refusal.status, refusal.message);
    }
    return text(500, `the image could not be optimised: ${(error as Error).message}`);
  }

  const { value, revalidate, lastModified } = served.entry;
  const ttl = revalidate === false ? images.minimumCacheTTL : Math.max(0, Math.round(revalidate - (engine.now() - lastModified) / 1000));
  return new Response(request.method === 'HEAD' ? null : (value.body as Uint8Array<ArrayBuffer>), {
    status: 200,
    headers: {
      'content-type': value.headers['content-type'] ?? 'application/octet-stream',
      // A statically imported image's URL names its content (a hash): it never changes, as Next.js
      // says of its own /_next/static/media/.
      'cache-control': source.startsWith(STATIC_MEDIA) ? IMMUTABLE_IMAGE : `public, max-age=${ttl}, must-revalidate`,
      vary: 'Accept',
      'content-disposition': contentDisposition(images.contentDispositionType, downloadName(source, value.headers['content-type'])),
      'content-security-policy': images.contentSecurityPolicy,

      'x-isr-cache': served.state,
    },
  });
}

/**
 * Resizes and re-encodes `upstream`: to `width` pixels at most, in `format` (or its own format).
 * SVG is passed through when allowed (else refused); animated images are passed through.
 * @throws Error with a refusal (400) when the bytes are not an image isr may serve.
 */
async function optimise(
  upstream: ImageSource,
  width: number,
  quality: number,
  format: string | undefined,
  images: ImagesConfig,
): Promise<{ body: Uint8Array; contentType: string }> {
  const refuse = (message: string) => Object.assign(new Error(message), { refusal: { status: 400, message } });
  // Icons, BMP, JPEG XL and HEIC go out as they came, as Next.js sends them (sharp reads none of
  // the first three).
  const asItIs = passedThroughType(upstream.body);
  if (asItIs !== undefined) return { body: upstream.body, contentType: asItIs };
  // Loaded on first use: a server whose site shows no optimised image never maps sharp's native library.
  const { default: sharp } = await import('sharp');
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(upstream.body).metadata();
  } catch {
    throw refuse('"url" parameter is valid but the response is not an image');
  }
  if (metadata.format === 'svg') {
    if (!images.dangerouslyAllowSVG) throw refuse('"url" parameter is valid but image type image/svg+xml is not allowed');
    return { body: upstream.body, contentType: 'image/svg+xml' };
  }
  // An animated image is passed through, with the type its bytes have (never the upstream's word for it).
  if ((metadata.pages ?? 1) > 1) return { body: upstream.body, contentType: `image/${metadata.format}` };
  const target =
    format !== undefined
      ? FORMAT_OF_TYPE[format]
      : metadata.format === 'jpeg' || metadata.format === 'png' || metadata.format === 'webp' || metadata.format === 'avif'
        ? metadata.format
        : 'png';
  const pipeline = sharp(upstream.body).rotate().resize({ width, withoutEnlargement: true });
  const body = await pipeline.toFormat(target!, { quality }).toBuffer();
  const contentType = `image/${target === 'jpeg' ? 'jpeg' : target}`;
  return { body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), contentType };
}
