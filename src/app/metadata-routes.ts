/**
 * The App Router's metadata files (https://nextjs.org/docs/app/api-reference/file-conventions/metadata):
 *
 * - generated, at the root of `app/`: `sitemap.ts` → `/sitemap.xml`, `robots.ts` → `/robots.txt`,
 *   `manifest.ts` → `/manifest.webmanifest`. Each default-exports a function returning the data;
 *   isr serialises it as Next.js does and serves it as a cached route handler (static unless it
 *   opts into `revalidate` or dynamic APIs), so it is prerendered, revalidated and purged by path.
 * - static, at the root of `app/`: `favicon.ico`, `robots.txt`, `sitemap.xml`,
 *   `manifest.json`/`manifest.webmanifest`, served at their names.
 * - image metadata in any folder of `app/` (https://nextjs.org/docs/app/api-reference/file-conventions/metadata/opengraph-image):
 *   `icon`, `apple-icon`, `opengraph-image` and `twitter-image`, either an image file (`.png`,
 *   `.jpg`, `.gif`, `.svg`, `.ico`), served at the folder's path (a dynamic segment written `-`,
 *   as Next.js does), or code (`.tsx`, `.ts`, `.jsx`, `.js`) whose default export returns the image
 *   (`next/og`'s `ImageResponse`), a cached route at the folder's path, called with its `params`.
 *   Each becomes `<link rel="icon">` / `og:image` / `twitter:image` tags on the pages of its folder
 *   and below: the deepest folder with images of a kind gives that kind, and file metadata wins
 *   over a `metadata` export's, as in Next.js.
 */

import { SiteError } from '../config/errors.ts';
import { addBasePath } from '../http/paths.ts';
import { type Params, pathForParams, type Segment } from '../render/routes.ts';

/** What the image metadata files add to a page's head (build/metadata-files.ts, {@link pageFileMetadata}). */
export interface FileMetadata {
  icons: { rel: 'icon' | 'apple-touch-icon'; href: string; type: string; sizes?: string }[];
  openGraph: { url: string; type: string; width?: number; height?: number; alt?: string }[];
  twitter: { url: string; type: string; width?: number; height?: number; alt?: string }[];
}

/** The kinds of image metadata file; `favicon` is `favicon.ico` at the root, listed with the icons. */
export type MetadataImageKind = 'favicon' | 'icon' | 'apple-icon' | 'opengraph-image' | 'twitter-image';

/** An image metadata file of `app/` (a static image or the code generating one), as discovered. */
export interface DiscoveredMetadataImage {
  kind: MetadataImageKind;
  /** The file, relative to the site (`app/blog/opengraph-image.png`). */
  file: string;
  /** Its folder, relative to the site (`app/blog`): it applies to the pages of this folder and below. */
  folder: string;
  /** Where a static image is served (`blog/opengraph-image.png`, no leading slash); the route of a generated one. */
  urlPath: string;
  generated: boolean;
}

/**
 * One image a folder's metadata files give, in the build manifest: a static image described at
 * build time, or a generated one described when a page is rendered (its module's `size`,
 * `contentType` and `alt`, its URL from the page's params).
 */
export type MetadataImage =
  | { kind: MetadataImageKind; image: { href: string; type: string; width?: number; height?: number; sizes?: string } }
  | { kind: MetadataImageKind; generated: { pattern: string; segments: Segment[]; module: string; hash: string } };

/** An image metadata file: the kind, its optional number (`icon1.png`) and its extension. */
export const METADATA_IMAGE_FILE = /^(icon|apple-icon|opengraph-image|twitter-image)(\d*)\.(ico|jpe?g|png|gif|svg|tsx|ts|jsx|js)$/;

/** Extensions of the image metadata files that generate their image with code. */
export const GENERATED_IMAGE = /\.(tsx|ts|jsx|js)$/;

/** What a generated image module exports (besides its default function). */
interface ImageModule {
  size?: { width?: number; height?: number };
  contentType?: string;
  alt?: string;
}

/**
 * The image metadata of a page whose folders, from `app` down to its own, have `folders` images:
 * for each kind (icons with the favicon, Apple icons, Open Graph and Twitter images) the images
 * of the deepest folder that has that kind. A generated image's URL is its route filled with the
 * page's `params` and the module's content hash as query; its type, size and alt come from the
 * module (`load`), as Next.js's metadata image loader writes them. Every URL is under `basePath`
 * (next.config's, `''` for none).
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/metadata/opengraph-image#generate-images-using-code-js-ts-tsx
 */
export async function pageFileMetadata(
  folders: readonly (readonly MetadataImage[] | undefined)[],
  params: Params,
  load: (module: string) => Promise<ImageModule>,
  basePath = '',
): Promise<FileMetadata | undefined> {
  const groups = [['favicon', 'icon'], ['apple-icon'], ['opengraph-image'], ['twitter-image']] as const;
  const out: FileMetadata = { icons: [], openGraph: [], twitter: [] };
  let any = false;
  for (const group of groups) {
    const deepest = folders.findLast((images) => images?.some((image) => (group as readonly string[]).includes(image.kind)));
    for (const item of deepest?.filter((image) => (group as readonly string[]).includes(image.kind)) ?? []) {
      any = true;
      let url: string;
      let type: string;
      let size: { width?: number; height?: number; sizes?: string } = {};
      let alt: string | undefined;
      if ('image' in item) {
        ({ href: url, type } = item.image);
        size = item.image;
      } else {
        const module = await load(item.generated.module);
        url = `${pathForParams(item.generated, params)}?${item.generated.hash}`;
        type = module.contentType ?? 'image/png';
        if (module.size?.width !== undefined && module.size.height !== undefined) {
          size = { width: module.size.width, height: module.size.height, sizes: `${module.size.width}x${module.size.height}` };
        }
        alt = module.alt;
      }
      // Under next.config's basePath, as Next.js links its metadata files.
      url = addBasePath(url, basePath);
      if (item.kind === 'opengraph-image' || item.kind === 'twitter-image') {
        out[item.kind === 'opengraph-image' ? 'openGraph' : 'twitter'].push({
          url,
          type,
          ...(size.width !== undefined ? { width: size.width, height: size.height } : {}),
          ...(alt !== undefined ? { alt } : {}),
        });
      } else {
        out.icons.push({
          rel: item.kind === 'apple-icon' ? 'apple-touch-icon' : 'icon',
          href: url,
          type,
          ...(size.sizes ? { sizes: size.sizes } : {}),
        });
      }
    }
  }
  return any ? out : undefined;
}

/**
 * The response of a generated image route (`opengraph-image.tsx`, ...): the module's default
 * export called with the route's `params` (a promise, as in Next.js 15+).
 * @throws SiteError naming the file when there is no default function, it returns something other
 *   than a `Response`, or the module uses `generateImageMetadata` (not supported by isr).
 */
export async function imageRouteResponse(
  module: { default?: unknown; generateImageMetadata?: unknown },
  file: string,
  params: Params,
): Promise<Response> {
  if (typeof module.generateImageMetadata === 'function') {
    throw new SiteError(`${file}: generateImageMetadata (several images from one file) is not supported by isr; use one file per image`);
  }
  if (typeof module.default !== 'function')
    throw new SiteError(`${file}: an image metadata file must export a function as its default export`);
  const response = (await (module.default as (props: { params: Promise<Params> }) => unknown)({
    params: Promise.resolve(params),
  })) as unknown;
  if (!(response instanceof Response)) {
    throw new SiteError(
      `${file}: the default export must return a Response, such as next/og's ImageResponse (it returned ${response === null ? 'null' : typeof response})`,
    );
  }
  return response;
}

/** Generated metadata routes, by file base name: their URL path and media type. */
export const METADATA_ROUTES = {
  sitemap: { path: '/sitemap.xml', type: 'application/xml' },
  robots: { path: '/robots.txt', type: 'text/plain' },
  manifest: { path: '/manifest.webmanifest', type: 'application/manifest+json' },
} as const;

export type MetadataRouteKind = keyof typeof METADATA_ROUTES;

/** Static metadata files at the root of `app/` (besides the images), served at their names. */
export const STATIC_METADATA_FILE = /^(favicon\.ico|robots\.txt|sitemap\.xml|manifest\.(json|webmanifest))$/;

/** Values go into the XML as the site gives them, as Next.js writes them (a site escapes its own `&`). */
const xmlValue = (text: string | number) => String(text);

/** A sitemap video (https://developers.google.com/search/docs/crawling-indexing/sitemaps/video-sitemaps), Next.js's fields. */
interface SitemapVideo {
  title: string;
  thumbnail_loc: string;
  description: string;
  content_loc?: string;
  player_loc?: string;
  duration?: number;
  expiration_date?: Date | string;
  rating?: number;
  view_count?: number;
  publication_date?: Date | string;
  family_friendly?: 'yes' | 'no';
  restriction?: { relationship: 'allow' | 'deny'; content: string };
  platform?: { relationship: 'allow' | 'deny'; content: string };
  requires_subscription?: 'yes' | 'no';
  uploader?: { info?: string; content?: string };
  live?: 'yes' | 'no';
  tag?: string;
}

/** One `<video:video>` with the fields the entry has. */
function videoXml(video: SitemapVideo): string {
  const date = (value: Date | string) => (value instanceof Date ? value.toISOString() : value);
  const fields = [
    '<video:video>',
    `<video:title>${video.title}</video:title>`,
    `<video:thumbnail_loc>${video.thumbnail_loc}</video:thumbnail_loc>`,
    `<video:description>${video.description}</video:description>`,
    video.content_loc && `<video:content_loc>${video.content_loc}</video:content_loc>`,
    video.player_loc && `<video:player_loc>${video.player_loc}</video:player_loc>`,
    video.duration && `<video:duration>${video.duration}</video:duration>`,
    video.view_count && `<video:view_count>${video.view_count}</video:view_count>`,
    video.tag && `<video:tag>${video.tag}</video:tag>`,
    video.rating && `<video:rating>${video.rating}</video:rating>`,
    video.expiration_date && `<video:expiration_date>${date(video.expiration_date)}</video:expiration_date>`,
    video.publication_date && `<video:publication_date>${date(video.publication_date)}</video:publication_date>`,
    video.family_friendly && `<video:family_friendly>${video.family_friendly}</video:family_friendly>`,
    video.requires_subscription && `<video:requires_subscription>${video.requires_subscription}</video:requires_subscription>`,
    video.live && `<video:live>${video.live}</video:live>`,
    video.restriction &&
      `<video:restriction relationship="${video.restriction.relationship}">${video.restriction.content}</video:restriction>`,
    video.platform && `<video:platform relationship="${video.platform.relationship}">${video.platform.content}</video:platform>`,
    video.uploader &&
      `<video:uploader${video.uploader.info ? ` info="${video.uploader.info}"` : ''}>${video.uploader.content ?? ''}</video:uploader>`,
    '</video:video>',
  ];
  return `${fields.filter(Boolean).join('\n')}\n`;
}

interface SitemapEntry {
  url: string;
  lastModified?: string | Date;
  changeFrequency?: string;
  priority?: number;
  alternates?: { languages?: Record<string, string> };
  images?: string[];
  videos?: SitemapVideo[];
}

/** A sitemap as Next.js writes it (https://nextjs.org/docs/app/api-reference/file-conventions/metadata/sitemap). */
export function sitemapXml(entries: readonly SitemapEntry[]): string {
  const languages = entries.some((entry) => Object.keys(entry.alternates?.languages ?? {}).length > 0);
  const images = entries.some((entry) => (entry.images?.length ?? 0) > 0);
  const videos = entries.some((entry) => (entry.videos?.length ?? 0) > 0);
  let xml = '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"';
  if (images) xml += ' xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"';
  if (videos) xml += ' xmlns:video="http://www.google.com/schemas/sitemap-video/1.1"';
  if (languages) xml += ' xmlns:xhtml="http://www.w3.org/1999/xhtml">\n';
  else xml += '>\n';
  for (const entry of entries) {
    xml += '<url>\n';
    xml += `<loc>${xmlValue(entry.url)}</loc>\n`;
    for (const [language, href] of Object.entries(entry.alternates?.languages ?? {})) {
      xml += `<xhtml:link rel="alternate" hreflang="${xmlValue(language)}" href="${xmlValue(href)}" />\n`;
    }
    for (const image of entry.images ?? []) xml += `<image:image>\n<image:loc>${xmlValue(image)}</image:loc>\n</image:image>\n`;
    for (const video of entry.videos ?? []) xml += videoXml(video);
    if (entry.lastModified !== undefined) {
      const date = entry.lastModified instanceof Date ? entry.lastModified.toISOString() : entry.lastModified;
      xml += `<lastmod>${xmlValue(date)}</lastmod>\n`;
    }
    if (entry.changeFrequency !== undefined) xml += `<changefreq>${xmlValue(entry.changeFrequency)}</changefreq>\n`;
    if (typeof entry.priority === 'number') xml += `<priority>${entry.priority}</priority>\n`;
    xml += '</url>\n';
  }
  return `${xml}</urlset>\n`;
}

interface RobotsRule {
  userAgent?: string | string[];
  allow?: string | string[];
  disallow?: string | string[];
  crawlDelay?: number;
}

const each = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** robots.txt as Next.js writes it (https://nextjs.org/docs/app/api-reference/file-conventions/metadata/robots). */
export function robotsTxt(robots: { rules?: RobotsRule | RobotsRule[]; sitemap?: string | string[]; host?: string }): string {
  let text = '';
  for (const rule of each(robots.rules)) {
    for (const agent of rule.userAgent === undefined ? ['*'] : each(rule.userAgent)) text += `User-Agent: ${agent}\n`;
    for (const path of each(rule.allow)) text += `Allow: ${path}\n`;
    for (const path of each(rule.disallow)) text += `Disallow: ${path}\n`;
    if (rule.crawlDelay !== undefined) text += `Crawl-delay: ${rule.crawlDelay}\n`;
    text += '\n';
  }
  if (robots.host !== undefined) text += `Host: ${robots.host}\n`;
  for (const sitemap of each(robots.sitemap)) text += `Sitemap: ${sitemap}\n`;
  return text;
}

/**
 * The response of a generated metadata route: the module's default export called, its result
 * serialised.
 * @throws TypeError naming the file when the module has no default function, or it returns
 *   something that is not the data the convention expects.
 */
export async function metadataRouteResponse(kind: MetadataRouteKind, module: { default?: unknown }, file: string): Promise<Response> {
  if (typeof module.default !== 'function') throw new SiteError(`${file}: a ${kind} file must export a function as its default export`);
  const data = (await (module.default as () => unknown)()) as unknown;
  let body: string;
  if (kind === 'sitemap') {
    if (!Array.isArray(data)) throw new SiteError(`${file}: the sitemap function must return an array of { url, lastModified, ... }`);
    body = sitemapXml(data as SitemapEntry[]);
  } else if (kind === 'robots') {
    if (typeof data !== 'object' || data === null) throw new SiteError(`${file}: the robots function must return { rules, sitemap, host }`);
    body = robotsTxt(data as Parameters<typeof robotsTxt>[0]);
  } else {
    if (typeof data !== 'object' || data === null) throw new SiteError(`${file}: the manifest function must return the manifest's object`);
    body = JSON.stringify(data);
  }
  return new Response(body, { headers: { 'content-type': METADATA_ROUTES[kind].type } });
}
