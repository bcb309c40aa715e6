/**
 * The App Router's Metadata API (https://nextjs.org/docs/app/getting-started/metadata-and-og-images,
 * reference https://nextjs.org/docs/app/api-reference/functions/generate-metadata): each layout and
 * the page may export `metadata` (an object) or `generateMetadata(props, parent)`, and `viewport`
 * or `generateViewport(props)`. They are resolved root first, a segment's fields replacing its
 * parent's (a `title.template` applying to the segments below it), and rendered as `<title>`,
 * `<meta>` and `<link>` elements inside the page's tree; React 19 hoists them into `<head>`. They
 * are part of the render, so they are stored in the page's ISR entry and regenerated with it, and
 * client navigation's RSC payload carries them too.
 *
 * Rendered: `title` (string, or `{ default, template, absolute }`), `description`,
 * `applicationName`, `authors`, `generator`, `keywords`, `referrer`, `creator`, `publisher`,
 * `robots` (string or object, with `googleBot`), `alternates` (`canonical`, `languages`, `media`,
 * `types`), `openGraph` (title, description, url, siteName, locale, type, images, videos, audio,
 * article times and authors), `twitter` (card, site, creator, title, description, images),
 * `icons` (`icon`, `shortcut`, `apple`, `other`), `manifest`, `verification`, `category`,
 * `other`, with relative URLs resolved against `metadataBase`; and the viewport (`width`,
 * `initialScale`, `maximumScale`, `userScalable`, `themeColor`, `colorScheme`), by default
 * `width=device-width, initial-scale=1` as in Next.js.
 */

import { createElement, type ReactNode } from 'react';
import type { Params } from '../render/routes.ts';
import type { FileMetadata } from './metadata-routes.ts';

// biome-ignore lint/suspicious/noExplicitAny: metadata is the site's own object, read field by field.
type Metadata = Record<string, any>;

/** What a layout or page module may export for metadata. */
export interface MetadataModule {
  metadata?: Metadata;
  generateMetadata?: (
    props: { params: Promise<Params>; searchParams: Promise<Record<string, string | string[]>> },
    parent: Promise<Metadata>,
  ) => unknown;
  viewport?: Metadata;
  generateViewport?: (props: { params: Promise<Params>; searchParams: Promise<Record<string, string | string[]>> }) => unknown;
}

interface Title {
  absolute: string | undefined;
  /** The template this segment gives the segments below it (null: none). */
  template: string | null;
}

/**
 * Resolves the metadata and viewport of `items`: for each route segment from the root its layout
 * (undefined where the segment has none), then the page. A `title.template` applies to the
 * segments below the one that sets it, never to the page of its own segment; a segment setting a
 * plain title ends its parent's template (Next.js's rules, `resolve-metadata`).
 * @throws what a `generateMetadata`/`generateViewport` threw (the generation fails, the last good page stays).
 */
export async function resolveMetadata(
  items: readonly (MetadataModule | undefined)[],
  props: { params: Promise<Params>; searchParams: Promise<Record<string, string | string[]>> },
): Promise<{ metadata: Metadata; viewport: Metadata }> {
  let metadata: Metadata = {};
  let viewport: Metadata = {};
  let title: Title = { absolute: undefined, template: null };
  let stashed: string | null = null;
  for (const [index, module] of items.entries()) {
    if (module !== undefined) {
      const parent = Promise.resolve({ ...metadata, title: title.absolute });
      const own = (typeof module.generateMetadata === 'function' ? await module.generateMetadata(props, parent) : module.metadata) as
        | Metadata
        | undefined;
      if (own !== undefined && own !== null && typeof own === 'object') {
        const { title: ownTitle, ...rest } = own;
        metadata = { ...metadata, ...rest };
        if (ownTitle !== undefined && ownTitle !== null) title = resolveTitle(ownTitle, stashed);
      }
      const ownViewport = (typeof module.generateViewport === 'function' ? await module.generateViewport(props) : module.viewport) as
        | Metadata
        | undefined;
      if (ownViewport !== undefined && ownViewport !== null && typeof ownViewport === 'object') viewport = { ...viewport, ...ownViewport };
    }
    // The last two items are the page's own segment (its layout, if any, and the page).
    if (index < items.length - 2) stashed = title.template;
  }
  return { metadata: { ...metadata, title: title.absolute }, viewport };
}

/** A segment's `title` under the template its parents left. */
function resolveTitle(own: unknown, template: string | null): Title {
  if (typeof own === 'string') return { absolute: applyTemplate(template, own), template: null };
  const title = own as { default?: string; template?: string; absolute?: string };
  let absolute = title.default !== undefined ? applyTemplate(template, title.default) : undefined;
  if (title.absolute) absolute = title.absolute;
  return { absolute: absolute ?? '', template: title.template ?? null };
}

function applyTemplate(template: string | null, title: string): string {
  return template === null ? title : template.replace('%s', title);
}

/** The `formatDetection` keys, in the order Next.js writes `format-detection`. */
const FORMAT_DETECTION = ['telephone', 'date', 'address', 'email', 'url'] as const;

/** `appLinks` platforms and their fields (metadata name → `al:` tag name), in Next.js's order. */
const APPLE_LINK: readonly (readonly [string, string])[] = [
  ['url', 'url'],
  ['appStoreId', 'app_store_id'],
  ['appName', 'app_name'],
];
const WINDOWS_LINK: readonly (readonly [string, string])[] = [
  ['url', 'url'],
  ['appId', 'app_id'],
  ['appName', 'app_name'],
];
const APP_LINKS: readonly (readonly [string, readonly (readonly [string, string])[]])[] = [
  ['ios', APPLE_LINK],
  ['iphone', APPLE_LINK],
  ['ipad', APPLE_LINK],
  [
    'android',
    [
      ['package', 'package'],
      ['url', 'url'],
      ['class', 'class'],
      ['appName', 'app_name'],
    ],
  ],
  ['windowsPhone', WINDOWS_LINK],
  ['windows', WINDOWS_LINK],
  ['windowsUniversal', WINDOWS_LINK],
  [
    'web',
    [
      ['url', 'url'],
      ['shouldFallback', 'should_fallback'],
    ],
  ],
];

const list = <T>(value: T | readonly T[] | undefined | null): T[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? [...value] : [value as T];

/**
 * Puts the metadata of `app/`'s static files over the exports' (file metadata wins, as in
 * Next.js): the icons replace `icons`, the Open Graph and Twitter images replace theirs.
 */
export function withFileMetadata(
  resolved: { metadata: Metadata; viewport: Metadata },
  files: FileMetadata | undefined,
): { metadata: Metadata; viewport: Metadata } {
  if (files === undefined) return resolved;
  const metadata = { ...resolved.metadata };
  if (files.icons.length > 0) {
    metadata.icons = {
      icon: files.icons.filter((icon) => icon.rel === 'icon').map(({ href, type, sizes }) => ({ url: href, type, sizes })),
      apple: files.icons.filter((icon) => icon.rel === 'apple-touch-icon').map(({ href, type, sizes }) => ({ url: href, type, sizes })),
    };
  }
  if (files.openGraph.length > 0) metadata.openGraph = { ...metadata.openGraph, images: files.openGraph };
  if (files.twitter.length > 0) metadata.twitter = { ...metadata.twitter, images: files.twitter };
  return { metadata, viewport: resolved.viewport };
}

/**
 * The elements of resolved metadata, in the order Next.js writes them (React hoists them into the
 * head wherever they are rendered).
 */
export function metadataElements({ metadata, viewport }: { metadata: Metadata; viewport: Metadata }): ReactNode[] {
  const out: ReactNode[] = [];
  let key = 0;
  const base =
    metadata.metadataBase instanceof URL
      ? metadata.metadataBase
      : typeof metadata.metadataBase === 'string'
        ? new URL(metadata.metadataBase)
        : undefined;
  const url = (value: unknown): string => {
    const text = value instanceof URL ? value.href : String(value);
    if (base === undefined || /^[a-z][a-z0-9+.-]*:/i.test(text)) return text;
    return new URL(text, base).href;
  };
  const meta = (props: Record<string, string>) => out.push(createElement('meta', { key: key++, ...props }));
  const named = (name: string, content: unknown) => {
    if (content !== undefined && content !== null && content !== '') meta({ name, content: String(content) });
  };
  const property = (name: string, content: unknown) => {
    if (content !== undefined && content !== null && content !== '') meta({ property: name, content: String(content) });
  };
  const link = (props: Record<string, string>) => out.push(createElement('link', { key: key++, ...props }));

  meta({ charSet: 'utf-8' });
  meta({ name: 'viewport', content: viewportContent(viewport) });
  if (typeof metadata.title === 'string') out.push(createElement('title', { key: key++ }, metadata.title));
  named('description', metadata.description);
  named('application-name', metadata.applicationName);
  for (const author of list<{ name?: string; url?: string | URL }>(metadata.authors)) {
    if (author.url !== undefined) link({ rel: 'author', href: url(author.url) });
    named('author', author.name);
  }
  if (metadata.manifest) link({ rel: 'manifest', href: url(metadata.manifest) });
  named('generator', metadata.generator);
  named('keywords', Array.isArray(metadata.keywords) ? metadata.keywords.join(',') : metadata.keywords);
  named('referrer', metadata.referrer);
  for (const color of list<string | { color: string; media?: string }>(viewport.themeColor ?? metadata.themeColor)) {
    if (typeof color === 'string') named('theme-color', color);
    else meta({ name: 'theme-color', content: color.color, ...(color.media ? { media: color.media } : {}) });
  }
  named('color-scheme', viewport.colorScheme ?? metadata.colorScheme);
  named('creator', metadata.creator);
  named('publisher', metadata.publisher);
  named('robots', robotsContent(metadata.robots));
  if (metadata.robots && typeof metadata.robots === 'object') named('googlebot', robotsContent(metadata.robots.googleBot));
  named('abstract', metadata.abstract);
  for (const href of list(metadata.archives)) link({ rel: 'archives', href: url(href) });
  for (const href of list(metadata.assets)) link({ rel: 'assets', href: url(href) });
  for (const href of list(metadata.bookmarks)) link({ rel: 'bookmarks', href: url(href) });
  if (metadata.pagination?.previous) link({ rel: 'prev', href: url(metadata.pagination.previous) });
  if (metadata.pagination?.next) link({ rel: 'next', href: url(metadata.pagination.next) });
  named('category', metadata.category);
  named('classification', metadata.classification);
  for (const [name, value] of Object.entries((metadata.other ?? {}) as Record<string, unknown>))
    for (const item of list(value)) named(name, item);

  const alternates = metadata.alternates ?? {};
  if (alternates.canonical)
    link({
      rel: 'canonical',
      href: url(
        typeof alternates.canonical === 'object' && !(alternates.canonical instanceof URL)
          ? alternates.canonical.url
          : alternates.canonical,
      ),
    });
  for (const [hrefLang, href] of Object.entries((alternates.languages ?? {}) as Record<string, unknown>))
    link({ rel: 'alternate', hrefLang, href: url(href) });
  for (const [media, href] of Object.entries((alternates.media ?? {}) as Record<string, unknown>))
    link({ rel: 'alternate', media, href: url(href) });
  for (const [type, href] of Object.entries((alternates.types ?? {}) as Record<string, unknown>))
    link({ rel: 'alternate', type, href: url(href) });

  if (metadata.itunes?.appId) {
    const { appId, appArgument } = metadata.itunes;
    named('apple-itunes-app', `app-id=${appId}${appArgument ? `, app-argument=${appArgument}` : ''}`);
  }
  if (metadata.facebook) {
    property('fb:app_id', metadata.facebook.appId);
    for (const admin of list(metadata.facebook.admins)) property('fb:admins', admin);
  }
  if (metadata.pinterest?.richPin !== undefined) property('pinterest-rich-pin', String(metadata.pinterest.richPin));
  if (metadata.formatDetection) {
    const off = FORMAT_DETECTION.filter((name) => metadata.formatDetection?.[name] === false);
    if (off.length > 0) named('format-detection', off.map((name) => `${name}=no`).join(', '));
  }

  const verification = metadata.verification ?? {};
  for (const value of list(verification.google)) named('google-site-verification', value);
  for (const value of list(verification.yahoo)) named('y_key', value);
  for (const value of list(verification.yandex)) named('yandex-verification', value);
  for (const value of list(verification.me)) named('me', value);
  for (const [name, value] of Object.entries((verification.other ?? {}) as Record<string, unknown>))
    for (const item of list(value)) named(name, item);

  const appleWebApp = metadata.appleWebApp === true ? { capable: true } : metadata.appleWebApp;
  if (appleWebApp) {
    if (appleWebApp.capable !== false) named('mobile-web-app-capable', 'yes');
    named('apple-mobile-web-app-title', appleWebApp.title);
    for (const image of list<string | { url: string; media?: string }>(appleWebApp.startupImage)) {
      const item = typeof image === 'string' ? { url: image } : image;
      link({ href: item.url, ...(item.media ? { media: item.media } : {}), rel: 'apple-touch-startup-image' });
    }
    named('apple-mobile-web-app-status-bar-style', appleWebApp.statusBarStyle);
  }

  const og = metadata.openGraph;
  if (og) {
    property('og:title', typeof og.title === 'object' ? (og.title?.absolute ?? og.title?.default) : og.title);
    property('og:description', og.description);
    if (og.url) property('og:url', url(og.url));
    property('og:site_name', og.siteName);
    property('og:locale', og.locale);
    for (const image of list<
      string | URL | { url: string | URL; secureUrl?: string; alt?: string; type?: string; width?: number; height?: number }
    >(og.images)) {
      const item = typeof image === 'string' || image instanceof URL ? { url: image } : image;
      property('og:image', url(item.url));
      if ('secureUrl' in item) property('og:image:secure_url', item.secureUrl);
      if ('type' in item) property('og:image:type', item.type);
      if ('width' in item) property('og:image:width', item.width);
      if ('height' in item) property('og:image:height', item.height);
      if ('alt' in item) property('og:image:alt', item.alt);
    }
    for (const video of list<string | { url: string }>(og.videos)) property('og:video', url(typeof video === 'string' ? video : video.url));
    for (const audio of list<string | { url: string }>(og.audio)) property('og:audio', url(typeof audio === 'string' ? audio : audio.url));
    property('og:type', og.type);
    property('article:published_time', og.publishedTime);
    property('article:modified_time', og.modifiedTime);
    for (const author of list(og.authors)) property('article:author', author);
    for (const tag of list(og.tags)) property('article:tag', tag);
  }
  const twitter = metadata.twitter;
  if (twitter) {
    const images = list<string | URL | { url: string | URL; alt?: string }>(twitter.images);
    named('twitter:card', twitter.card ?? (images.length > 0 ? 'summary_large_image' : 'summary'));
    named('twitter:site', twitter.site);
    named('twitter:site:id', twitter.siteId);
    named('twitter:creator', twitter.creator);
    named('twitter:creator:id', twitter.creatorId);
    named('twitter:title', typeof twitter.title === 'object' ? (twitter.title?.absolute ?? twitter.title?.default) : twitter.title);
    named('twitter:description', twitter.description);
    for (const image of images) {
      const item = typeof image === 'string' || image instanceof URL ? { url: image } : image;
      named('twitter:image', url(item.url));
      if ('alt' in item) named('twitter:image:alt', item.alt);
    }
  }
  const appLinks = (metadata.appLinks ?? {}) as Record<string, unknown>;
  for (const [platform, fields] of APP_LINKS) {
    for (const item of list<Record<string, unknown>>(appLinks[platform] as never)) {
      const name = platform.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
      for (const [field, tag] of fields) if (item[field] !== undefined) property(`al:${name}:${tag}`, item[field]);
    }
  }
  const icons = metadata.icons;
  if (icons) {
    const normalized = typeof icons === 'string' || icons instanceof URL || Array.isArray(icons) ? { icon: icons } : icons;
    const each = (rel: string, value: unknown) => {
      for (const icon of list<string | URL | { url: string | URL; type?: string; sizes?: string; media?: string; rel?: string }>(
        value as never,
      )) {
        const item = typeof icon === 'string' || icon instanceof URL ? { url: icon } : icon;
        const extra: Record<string, string> = {};
        for (const field of ['type', 'sizes', 'media'] as const)
          if (item[field as keyof typeof item]) extra[field] = String(item[field as keyof typeof item]);
        // Icons are fetched by the browser from the page: a path stays a path.
        link({
          rel: 'rel' in item && item.rel ? item.rel : rel,
          href: item.url instanceof URL ? item.url.href : String(item.url),
          ...extra,
        });
      }
    };
    each('shortcut icon', normalized.shortcut);
    each('icon', normalized.icon);
    each('apple-touch-icon', normalized.apple);
    each('icon', normalized.other);
  }
  return out;
}

/** `<meta name="viewport">`'s content: Next.js's default, `width=device-width, initial-scale=1`, with the page's fields. */
function viewportContent(viewport: Metadata): string {
  const fields: [string, unknown][] = [
    ['width', viewport.width ?? 'device-width'],
    ['height', viewport.height],
    ['initial-scale', viewport.initialScale ?? 1],
    ['minimum-scale', viewport.minimumScale],
    ['maximum-scale', viewport.maximumScale],
    ['user-scalable', viewport.userScalable === undefined ? undefined : viewport.userScalable ? 'yes' : 'no'],
    ['viewport-fit', viewport.viewportFit],
    ['interactive-widget', viewport.interactiveWidget],
  ];
  return fields
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
}

/** `robots` as a meta content: a string as is; an object as Next.js writes it (`index, follow, max-image-preview:large`). */
function robotsContent(robots: unknown): string | undefined {
  if (robots === undefined || robots === null) return undefined;
  if (typeof robots === 'string') return robots;
  const value = robots as Record<string, unknown>;
  const parts: string[] = [];
  if (value.index !== undefined) parts.push(value.index ? 'index' : 'noindex');
  if (value.follow !== undefined) parts.push(value.follow ? 'follow' : 'nofollow');
  for (const flag of [
    'noarchive',
    'nosnippet',
    'noimageindex',
    'nocache',
    'notranslate',
    'indexifembedded',
    'nositelinkssearchbox',
    'unavailable_after',
  ]) {
    const item = value[flag];
    if (item === true) parts.push(flag);
    else if (typeof item === 'string') parts.push(`${flag}:${item}`);
  }
  // Next.js's Robots type names these with hyphens ('max-image-preview').
  for (const field of ['max-video-preview', 'max-image-preview', 'max-snippet']) {
    const item = value[field];
    if (item !== undefined && item !== false) parts.push(`${field}:${item}`);
  }
  return parts.length > 0 ? parts.join(', ') : undefined;
}
