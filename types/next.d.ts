/**
 * Type declarations of the parts of `next` that isr provides, so a site's editor and `tsc`
 * type-check site code, such as the examples of the Next.js ISR guides ("Incremental Static
 * Regeneration (ISR)", https://nextjs.org/docs/app/guides/incremental-static-regeneration),
 * without installing Next.js. Reference it from a site's tsconfig
 * (`"include": ["app", "node_modules/isr/types"]`). The isr build does not read this file: it maps
 * `next/cache`, `next/navigation`, `next/router`, `next/head`, `next/link`, `next/server` and the rest to its own
 * implementations; `next` itself provides only types.
 */
declare module 'next/cache' {
  /** A cache profile, seconds each (`Infinity` for never); omitted values come from `default` (Next.js 16 `CacheLife`). */
  export type CacheLife = {
    /** How long the client may use the content without asking the server. */
    stale?: number;
    /** After it, the next request gets the cached content and a regeneration starts. */
    revalidate?: number;
    /** After it, the next request waits for new content. */
    expire?: number;
  };
  /** The built-in profile names (a site's next.config may add its own). */
  export type CacheLifeProfile = 'default' | 'seconds' | 'minutes' | 'hours' | 'days' | 'weeks' | 'max';
  export function revalidatePath(path: string, type?: 'page' | 'layout'): undefined;
  /**
   * `'max'` or another profile: mark stale (the next visit gets the cached content while it
   * regenerates); `{ expire: 0 }`: expire now.
   */
  export function revalidateTag(tag: string, profile: CacheLifeProfile | (string & {}) | CacheLife): undefined;
  /** @deprecated Next.js 16: pass a second argument (`'max'`), or use `updateTag` in a Server Action. */
  export function revalidateTag(tag: string): undefined;
  /** Expires `tag` now, from a Server Action (read-your-own-writes). */
  export function updateTag(tag: string): undefined;
  /** Refreshes the page a Server Action answers with. */
  export function refresh(): void;
  /** The lifetime of the `'use cache'` function calling it. */
  export function cacheLife(profile: CacheLifeProfile | (string & {}) | CacheLife): void;
  /** Tags the entry of the `'use cache'` function calling it. */
  export function cacheTag(...tags: string[]): void;
  export const unstable_cacheLife: typeof cacheLife;
  export const unstable_cacheTag: typeof cacheTag;
  export function unstable_cache<Args extends unknown[], Result>(
    fn: (...args: Args) => Promise<Result>,
    keyParts?: string[],
    options?: { revalidate?: number | false; tags?: string[] },
  ): (...args: Args) => Promise<Result>;
  export function unstable_noStore(): void;
}

declare module 'next/navigation' {
  export function notFound(): never;
  export function redirect(url: string, type?: 'replace' | 'push'): never;
  export function permanentRedirect(url: string, type?: 'replace' | 'push'): never;
  /** Client components only: client navigation (App Router). */
  export interface AppRouterInstance {
    push(href: string, options?: { scroll?: boolean }): void;
    replace(href: string, options?: { scroll?: boolean }): void;
    refresh(): void;
    prefetch(href: string): void;
    back(): void;
    forward(): void;
  }
  export function useRouter(): AppRouterInstance;
  export function usePathname(): string;
  export function useSearchParams(): URLSearchParams;
  export function useParams<T extends Record<string, string | string[] | undefined> = Record<string, string | string[] | undefined>>(): T;
}

declare module 'next' {
  import type { ComponentType } from 'react';

  /** next.config (the settings isr reads are listed in its README; others are refused or ignored with a message). */
  export interface NextConfig {
    /** Next.js 16 Cache Components: `'use cache'`, `cacheLife`, `cacheTag`. */
    cacheComponents?: boolean;
    /** Cache profiles by name, seconds each (`Infinity` for never). */
    cacheLife?: Record<string, { stale?: number; revalidate?: number; expire?: number }>;
    [setting: string]: unknown;
  }
  import type { IncomingMessage, ServerResponse } from 'node:http';

  type ParsedUrlQuery = Record<string, string | string[] | undefined>;

  export interface GetStaticPropsContext<Q extends ParsedUrlQuery = ParsedUrlQuery> {
    /** Present for dynamic routes. */
    params?: Q;
    revalidateReason: 'build' | 'stale' | 'on-demand';
    preview: false;
    draftMode: false;
  }
  export type Redirect =
    | { statusCode: 301 | 302 | 303 | 307 | 308; destination: string }
    | { permanent: boolean; destination: string };
  /** `revalidate`: seconds (a whole number >= 1), or false (until revalidated on demand). */
  export type GetStaticPropsResult<P> =
    | { props: P; revalidate?: number | boolean }
    | { redirect: Redirect; revalidate?: number | boolean }
    | { notFound: true; revalidate?: number | boolean };
  export type GetStaticProps<P extends { [key: string]: any } = { [key: string]: any }, Q extends ParsedUrlQuery = ParsedUrlQuery> = (
    context: GetStaticPropsContext<Q>,
  ) => Promise<GetStaticPropsResult<P>> | GetStaticPropsResult<P>;
  export interface GetStaticPathsResult<Q extends ParsedUrlQuery = ParsedUrlQuery> {
    paths: Array<string | { params: Q }>;
    fallback: boolean | 'blocking';
  }
  export type GetStaticPaths<Q extends ParsedUrlQuery = ParsedUrlQuery> = () => Promise<GetStaticPathsResult<Q>> | GetStaticPathsResult<Q>;
  export type InferGetStaticPropsType<T extends (...args: never[]) => unknown> = Extract<Awaited<ReturnType<T>>, { props: unknown }>['props'];
  export type NextPage<P = Record<string, unknown>> = ComponentType<P>;

  /** A title: a string, or a layout's template (`%s` replaced by a child's title) with its default. */
  export type TemplateString = string | { default: string; template?: string } | { absolute: string; template?: string };
  type Author = { name?: string; url?: string | URL };
  type OgImage = string | URL | { url: string | URL; width?: number | string; height?: number | string; alt?: string; type?: string };
  /** The App Router's `metadata` export and `generateMetadata` result (https://nextjs.org/docs/app/api-reference/functions/generate-metadata). */
  export interface Metadata {
    metadataBase?: URL | null;
    title?: TemplateString | null;
    description?: string | null;
    applicationName?: string | null;
    authors?: Author | Author[] | null;
    generator?: string | null;
    keywords?: string | string[] | null;
    referrer?: string | null;
    creator?: string | null;
    publisher?: string | null;
    robots?: string | Record<string, unknown> | null;
    alternates?: { canonical?: string | URL | null; languages?: Record<string, string | URL>; media?: Record<string, string>; types?: Record<string, string> } | null;
    icons?: string | URL | Record<string, unknown> | Array<string | URL | Record<string, unknown>> | null;
    manifest?: string | URL | null;
    openGraph?: {
      type?: string;
      title?: TemplateString;
      description?: string;
      url?: string | URL;
      siteName?: string;
      locale?: string;
      images?: OgImage | OgImage[];
      publishedTime?: string;
      modifiedTime?: string;
      authors?: string | URL | Array<string | URL>;
      section?: string;
      tags?: string | string[];
      [key: string]: unknown;
    } | null;
    twitter?: { card?: string; site?: string; creator?: string; title?: TemplateString; description?: string; images?: OgImage | OgImage[]; [key: string]: unknown } | null;
    verification?: Record<string, string | string[] | Record<string, string | string[]>> | null;
    category?: string | null;
    classification?: string | null;
    other?: Record<string, string | number | Array<string | number>>;
  }
  /** The resolved metadata of the parent segments, the second argument of `generateMetadata`. */
  export type ResolvingMetadata = Promise<Metadata>;
  /** The `viewport` export and `generateViewport` result (https://nextjs.org/docs/app/api-reference/functions/generate-viewport). */
  export interface Viewport {
    width?: string | number;
    height?: string | number;
    initialScale?: number;
    minimumScale?: number;
    maximumScale?: number;
    userScalable?: boolean;
    viewportFit?: 'auto' | 'cover' | 'contain';
    interactiveWidget?: 'resizes-visual' | 'resizes-content' | 'overlays-content';
    themeColor?: string | { color: string; media?: string } | Array<{ color: string; media?: string }> | null;
    colorScheme?: string | null;
  }

  export interface NextApiRequest extends IncomingMessage {
    /** The query string's parameters merged with the route's params. */
    query: Partial<Record<string, string | string[]>>;
    cookies: Partial<Record<string, string>>;
    /** Parsed by content type: JSON, a form as an object, otherwise the text. */
    body: any;
  }
  export interface NextApiResponse<Data = any> extends ServerResponse {
    status(code: number): NextApiResponse<Data>;
    json(body: Data): void;
    send(body: Data): void;
    redirect(url: string): NextApiResponse<Data>;
    redirect(status: number, url: string): NextApiResponse<Data>;
    /** Regenerates the page at `urlPath` and resolves once it is stored; rejects if that fails. */
    revalidate(urlPath: string, options?: { unstable_onlyGenerated?: boolean }): Promise<void>;
    /** Next.js 12.1's name of `revalidate`. */
    unstable_revalidate(urlPath: string, options?: { unstable_onlyGenerated?: boolean }): Promise<void>;
  }
  export type NextApiHandler<Data = any> = (req: NextApiRequest, res: NextApiResponse<Data>) => unknown | Promise<unknown>;
}

declare module 'next/router' {
  type Url = string | { pathname?: string; query?: Record<string, string | number | boolean | readonly string[]>; hash?: string };
  export interface TransitionOptions {
    scroll?: boolean;
    shallow?: boolean;
    locale?: string | false;
  }
  export interface RouterEvents {
    on(type: string, handler: (...args: any[]) => void): void;
    off(type: string, handler: (...args: any[]) => void): void;
    emit(type: string, ...args: unknown[]): void;
  }
  export interface NextRouter {
    pathname: string;
    route: string;
    asPath: string;
    query: Record<string, string | string[] | undefined>;
    /** True while the fallback page of `getStaticPaths({ fallback: true })` is rendered. */
    isFallback: boolean;
    isReady: boolean;
    isPreview: boolean;
    basePath: string;
    push(url: Url, as?: Url, options?: TransitionOptions): Promise<boolean>;
    replace(url: Url, as?: Url, options?: TransitionOptions): Promise<boolean>;
    reload(): void;
    back(): void;
    forward(): void;
    prefetch(url: Url, as?: Url): Promise<void>;
    beforePopState(callback: (state: { url: string; as: string; options: TransitionOptions }) => boolean): void;
    events: RouterEvents;
  }
  export function useRouter(): NextRouter;
  export function withRouter<P extends object>(Component: import('react').ComponentType<P & { router: NextRouter }>): import('react').ComponentType<P>;
  /** The browser's current router (`Router.events` works everywhere). */
  const Router: NextRouter;
  export default Router;
}

declare module 'next/head' {
  export default function Head(props: { children?: import('react').ReactNode }): import('react').ReactNode;
}

declare module 'next/link' {
  import type { AnchorHTMLAttributes, ReactNode } from 'react';
  type Href = string | { pathname?: string; query?: Record<string, string | number | boolean | readonly string[]>; hash?: string };
  export interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> {
    href: Href;
    as?: Href;
    replace?: boolean;
    scroll?: boolean;
    shallow?: boolean;
    prefetch?: boolean | null;
    passHref?: boolean;
    legacyBehavior?: boolean;
    locale?: string | false;
    children?: ReactNode;
  }
  export default function Link(props: LinkProps): ReactNode;
}

// Next.js extends fetch's options with `next: { revalidate, tags }`.
interface RequestInit {
  next?: { revalidate?: number | false; tags?: string[] };
}

declare module 'next/image' {
  import type { CSSProperties, ImgHTMLAttributes, ReactNode } from 'react';
  export interface StaticImageData {
    src: string;
    width: number;
    height: number;
    blurDataURL?: string;
    blurWidth?: number;
    blurHeight?: number;
  }
  export interface ImageLoaderProps {
    src: string;
    width: number;
    quality?: number;
  }
  export interface ImageProps extends Omit<ImgHTMLAttributes<HTMLImageElement>, 'src' | 'width' | 'height' | 'loading' | 'srcSet'> {
    src: string | StaticImageData;
    alt: string;
    width?: number | `${number}`;
    height?: number | `${number}`;
    fill?: boolean;
    loader?: (props: ImageLoaderProps) => string;
    quality?: number | `${number}`;
    priority?: boolean;
    preload?: boolean;
    loading?: 'lazy' | 'eager';
    placeholder?: 'empty' | 'blur' | `data:image/${string}`;
    blurDataURL?: string;
    unoptimized?: boolean;
    overrideSrc?: string;
    layout?: 'intrinsic' | 'fixed' | 'responsive' | 'fill';
    objectFit?: CSSProperties['objectFit'];
    objectPosition?: CSSProperties['objectPosition'];
  }
  export default function Image(props: ImageProps): ReactNode;
}

// Style imports (global CSS and Sass: side effects only; CSS Modules: the class names).
declare module '*.css' {}
declare module '*.scss' {}
declare module '*.sass' {}
declare module '*.module.css' {
  const classes: { readonly [name: string]: string };
  export default classes;
}
declare module '*.module.scss' {
  const classes: { readonly [name: string]: string };
  export default classes;
}
declare module '*.module.sass' {
  const classes: { readonly [name: string]: string };
  export default classes;
}

declare module '*.png' {
  const image: import('next/image').StaticImageData;
  export default image;
}
declare module '*.jpg' {
  const image: import('next/image').StaticImageData;
  export default image;
}
declare module '*.jpeg' {
  const image: import('next/image').StaticImageData;
  export default image;
}
declare module '*.webp' {
  const image: import('next/image').StaticImageData;
  export default image;
}
declare module '*.avif' {
  const image: import('next/image').StaticImageData;
  export default image;
}
declare module '*.gif' {
  const image: import('next/image').StaticImageData;
  export default image;
}
declare module '*.svg' {
  const image: import('next/image').StaticImageData;
  export default image;
}

declare module 'next/script' {
  import type { ReactNode, ScriptHTMLAttributes } from 'react';
  export interface ScriptProps extends Omit<ScriptHTMLAttributes<HTMLScriptElement>, 'onLoad' | 'onError'> {
    strategy?: 'beforeInteractive' | 'afterInteractive' | 'lazyOnload' | 'worker';
    id?: string;
    onLoad?: (event: Event) => void;
    onReady?: () => void;
    onError?: (event: Event | string) => void;
    children?: ReactNode;
  }
  export default function Script(props: ScriptProps): ReactNode;
}

declare module 'next/constants' {
  export const PHASE_EXPORT: 'phase-export';
  export const PHASE_PRODUCTION_BUILD: 'phase-production-build';
  export const PHASE_PRODUCTION_SERVER: 'phase-production-server';
  export const PHASE_DEVELOPMENT_SERVER: 'phase-development-server';
  export const PHASE_TEST: 'phase-test';
  export const PHASE_INFO: 'phase-info';
}

declare module 'next/og' {
  /** Renders JSX (Satori's subset of HTML and CSS) to a PNG response: `@vercel/og`'s, as Next.js's. */
  export { ImageResponse } from '@vercel/og';
}

declare module 'next/font/local' {
  /** The object a font loader call returns; its stylesheet sets `className` and `variable`. */
  export interface NextFont {
    className: string;
    style: { fontFamily: string; fontWeight?: number; fontStyle?: string };
    variable?: string;
  }
  export interface LocalFont {
    path: string;
    weight?: string;
    style?: string;
  }
  /** Called as `const name = localFont({ … })` at the top of a module, with literal options. */
  export default function localFont(options: {
    src: string | LocalFont[];
    display?: 'auto' | 'block' | 'swap' | 'fallback' | 'optional';
    weight?: string;
    style?: string;
    adjustFontFallback?: 'Arial' | 'Times New Roman' | false;
    fallback?: string[];
    preload?: boolean;
    variable?: string;
    declarations?: { prop: string; value: string }[];
  }): NextFont;
}

declare module 'next/server' {
  export interface RequestCookie {
    name: string;
    value: string;
  }
  export interface ResponseCookie extends RequestCookie {
    expires?: Date | number;
    maxAge?: number;
    domain?: string;
    path?: string;
    secure?: boolean;
    httpOnly?: boolean;
    sameSite?: 'strict' | 'lax' | 'none' | boolean;
    partitioned?: boolean;
    priority?: 'low' | 'medium' | 'high';
  }
  export class RequestCookies {
    readonly size: number;
    get(name: string | RequestCookie): RequestCookie | undefined;
    getAll(name?: string | RequestCookie): RequestCookie[];
    has(name: string): boolean;
    set(name: string, value: string): this;
    set(cookie: RequestCookie): this;
    delete(names: string | string[]): boolean | boolean[];
    clear(): this;
    [Symbol.iterator](): IterableIterator<[string, RequestCookie]>;
  }
  export class ResponseCookies {
    get(name: string | ResponseCookie): ResponseCookie | undefined;
    getAll(name?: string | ResponseCookie): ResponseCookie[];
    has(name: string): boolean;
    set(name: string, value: string, options?: Partial<ResponseCookie>): this;
    set(cookie: ResponseCookie): this;
    delete(name: string): this;
    delete(options: Omit<ResponseCookie, 'value' | 'expires'>): this;
  }
  export class NextURL extends URL {
    readonly basePath: string;
    buildId: string | undefined;
    clone(): NextURL;
  }
  export class NextRequest extends Request {
    constructor(input: RequestInfo | URL, init?: RequestInit);
    readonly cookies: RequestCookies;
    readonly nextUrl: NextURL;
  }
  export interface MiddlewareResponseInit extends ResponseInit {
    request?: { headers?: Headers };
  }
  export class NextResponse<Body = unknown> extends Response {
    constructor(body?: BodyInit | null, init?: MiddlewareResponseInit);
    readonly cookies: ResponseCookies;
    static json<T>(body: T, init?: ResponseInit): NextResponse<T>;
    static redirect(url: string | URL, init?: number | ResponseInit): NextResponse;
    static rewrite(destination: string | URL, init?: MiddlewareResponseInit): NextResponse;
    static next(init?: MiddlewareResponseInit): NextResponse;
  }
  export class NextFetchEvent {
    readonly sourcePage: string;
    waitUntil(promise: Promise<unknown>): void;
  }
  export type NextMiddleware = (request: NextRequest, event: NextFetchEvent) => Response | undefined | null | Promise<Response | undefined | null>;
  export type NextProxy = NextMiddleware;
}
