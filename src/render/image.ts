'use client';
/**
 * `next/image` for both routers, as the build maps it (build/shims.ts): an `<img>` with the markup
 * Next.js renders (https://nextjs.org/docs/app/api-reference/components/image) — lazy loading,
 * `decoding="async"`, a `srcset` of widths from the site's `images` config served by isr's
 * optimisation endpoint (`/_next/image?url=…&w=…&q=…`, server/image.ts), `fill`, `sizes`,
 * `priority`/`preload` (eager and preloaded; `fetchPriority` only when given, as in Next.js 16),
 * `placeholder="blur"`, `onLoad` and the legacy `onLoadingComplete` (also for an image that loaded
 * before hydration), `loader`,
 * `unoptimized`, statically imported images (`{ src, width, height, blurDataURL }`) and the legacy
 * `layout`/`objectFit`/`objectPosition` props.
 *
 * The build inlines the `images` config as `process.env.__ISR_IMAGES` (JSON) into every bundle,
 * as Next.js does with its own image options.
 */

import {
  type CSSProperties,
  createElement,
  type ImgHTMLAttributes,
  type ReactNode,
  type SyntheticEvent,
  useEffect,
  useRef,
  useState,
} from 'react';
import { preload } from 'react-dom';
import { inlinedBasePath } from '../http/paths.ts';

/** A statically imported image (`import photo from './photo.jpg'`), as the build produces it. */
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
  src: string | StaticImageData | { default: StaticImageData };
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
  /** Legacy (Next.js 12): `intrinsic`, `fixed`, `responsive` or `fill`. */
  layout?: 'intrinsic' | 'fixed' | 'responsive' | 'fill';
  objectFit?: CSSProperties['objectFit'];
  objectPosition?: CSSProperties['objectPosition'];
  lazyBoundary?: string;
  lazyRoot?: string;
  /** Legacy (Next.js 12, deprecated): called with the `<img>` once it has loaded and decoded. */
  onLoadingComplete?: (image: HTMLImageElement) => void;
}

interface ImageOptions {
  deviceSizes: number[];
  imageSizes: number[];
  qualities: number[];
  unoptimized: boolean;
  dangerouslyAllowSVG: boolean;
}

const DEFAULTS: ImageOptions = {
  deviceSizes: [640, 750, 828, 1080, 1200, 1920, 2048, 3840],
  imageSizes: [32, 48, 64, 96, 128, 256, 384],
  qualities: [75],
  unoptimized: false,
  dangerouslyAllowSVG: false,
};

function options(): ImageOptions {
  // Replaced by the build with the site's config; absent when the module runs unbundled.
  const raw = process.env.__ISR_IMAGES;
  return raw ? { ...DEFAULTS, ...(JSON.parse(raw) as Partial<ImageOptions>) } : DEFAULTS;
}

function toInt(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN;
  return /^[0-9]+$/.test(value) ? Number.parseInt(value, 10) : Number.NaN;
}

/** The widths a srcset lists, and whether they are width (`w`) or density (`x`) descriptors (Next.js's rule). */
function widthsFor(config: ImageOptions, width: number | undefined, sizes: string | undefined): { widths: number[]; kind: 'w' | 'x' } {
  const all = [...config.deviceSizes, ...config.imageSizes].sort((a, b) => a - b);
  if (sizes) {
    const percents = [...sizes.matchAll(/(^|\s)(1?\d?\d)vw/g)].map((match) => Number.parseInt(match[2]!, 10));
    if (percents.length > 0) {
      const smallest = Math.min(...percents) * 0.01;
      return { widths: all.filter((size) => size >= config.deviceSizes[0]! * smallest), kind: 'w' };
    }
    return { widths: all, kind: 'w' };
  }
  if (width === undefined) return { widths: config.deviceSizes, kind: 'w' };
  const widths = [...new Set([width, width * 2].map((w) => all.find((size) => size >= w) ?? all[all.length - 1]!))];
  return { widths, kind: 'x' };
}

/**
 * isr's optimisation endpoint (server/image.ts), at the path Next.js uses, under next.config's
 * `basePath` (Next.js's `images.path` default is `${basePath}/_next/image`). `src` is as given:
 * a static import's already carries the prefix; a `public/` file's is written with it by the site,
 * as Next.js's basePath docs ask.
 */
function defaultLoader(config: ImageOptions, { src, width, quality }: ImageLoaderProps): string {
  const wanted = quality ?? 75;
  const q = config.qualities.reduce(
    (best, item) => (Math.abs(item - wanted) < Math.abs(best - wanted) ? item : best),
    config.qualities[0]!,
  );
  return `${inlinedBasePath()}/_next/image?url=${encodeURIComponent(src)}&w=${width}&q=${q}`;
}

/** The blur placeholder Next.js draws: the small image blurred by an SVG filter. */
function blurBackground(
  url: string,
  width: number | undefined,
  height: number | undefined,
  blurWidth?: number,
  blurHeight?: number,
): string {
  const w = blurWidth ? blurWidth * 40 : width;
  const h = blurHeight ? blurHeight * 40 : height;
  const viewBox = w && h ? `viewBox='0 0 ${w} ${h}'` : '';
  const aspect = viewBox ? 'none' : 'xMidYMid slice';
  // Percent-encoded as Next.js writes it (`<` `>` `%`), the image's own URL as given.
  const svg = `%3Csvg xmlns='http://www.w3.org/2000/svg' ${viewBox}%3E%3Cfilter id='b' color-interpolation-filters='sRGB'%3E%3CfeGaussianBlur stdDeviation='20'/%3E%3CfeColorMatrix values='1 0 0 0 0 0 1 0 0 0 0 0 1 0 0 0 0 0 100 -1' result='s'/%3E%3CfeFlood x='0' y='0' width='100%25' height='100%25'/%3E%3CfeComposite operator='out' in='s'/%3E%3CfeComposite in2='SourceGraphic'/%3E%3CfeGaussianBlur stdDeviation='20'/%3E%3C/filter%3E%3Cimage width='100%25' height='100%25' x='0' y='0' preserveAspectRatio='${aspect}' style='filter: url(%23b);' href='${url}'/%3E%3C/svg%3E`;
  return `url("data:image/svg+xml;charset=utf-8,${svg}")`;
}

/**
 * `next/image`.
 * @throws Error naming the image when `width`/`height` are missing without `fill` (Next.js's rule:
 *   without them the browser cannot reserve the space).
 */
export default function Image(props: ImageProps): ReactNode {
  const {
    src: given,
    width: widthProp,
    height: heightProp,
    fill: fillProp = false,
    loader,
    quality,
    priority = false,
    preload: preloadProp = false,
    loading,
    placeholder = 'empty',
    blurDataURL: blurProp,
    unoptimized: unoptimizedProp = false,
    overrideSrc,
    layout,
    objectFit,
    objectPosition,
    lazyBoundary: _lazyBoundary,
    lazyRoot: _lazyRoot,
    sizes: sizesProp,
    style: styleProp,
    className,
    onLoad,
    onLoadingComplete,
    onError,
    ...rest
  } = props;
  const config = options();
  const [loaded, setLoaded] = useState(false);
  const element = useRef<HTMLImageElement>(null);
  const handlers = useRef({ onLoad, onLoadingComplete });
  handlers.current = { onLoad, onLoadingComplete };
  let fill = fillProp;
  let sizes = sizesProp;
  let style: CSSProperties = { ...styleProp };
  if (layout !== undefined) {
    if (layout === 'fill') fill = true;
    if (layout === 'intrinsic') style = { maxWidth: '100%', height: 'auto', ...style };
    if (layout === 'responsive') style = { width: '100%', height: 'auto', ...style };
    if ((layout === 'responsive' || layout === 'fill') && !sizes) sizes = '100vw';
  }
  let source = given;
  if (typeof source === 'object' && 'default' in source) source = source.default;
  let staticData: StaticImageData | undefined;
  if (typeof source === 'object') staticData = source;
  const src = staticData?.src ?? (source as string);
  let width = toInt(widthProp);
  let height = toInt(heightProp);
  if (staticData !== undefined && !fill) {
    if (width === undefined && height === undefined) {
      width = staticData.width;
      height = staticData.height;
    } else if (width === undefined) width = Math.round((height! * staticData.width) / staticData.height);
    else if (height === undefined) height = Math.round((width * staticData.height) / staticData.width);
  }
  if (!fill && (width === undefined || height === undefined || Number.isNaN(width) || Number.isNaN(height)) && !src.startsWith('data:')) {
    throw new Error(`Image with src "${src}" is missing required "width" and "height" properties (or use "fill")`);
  }
  let unoptimized = unoptimizedProp || config.unoptimized || src.startsWith('data:') || src.startsWith('blob:');
  if (!config.dangerouslyAllowSVG && src.split('?', 1)[0]!.endsWith('.svg') && loader === undefined) unoptimized = true;
  const blurDataURL = blurProp ?? staticData?.blurDataURL;
  const imageStyle: CSSProperties = {
    ...(fill
      ? { position: 'absolute', height: '100%', width: '100%', left: 0, top: 0, right: 0, bottom: 0, objectFit, objectPosition }
      : {}),
    color: 'transparent',
    ...style,
  };
  const blurUrl = placeholder === 'blur' ? blurDataURL : placeholder.startsWith('data:image/') ? placeholder : undefined;
  if (blurUrl !== undefined && !loaded) {
    Object.assign(imageStyle, {
      backgroundSize: imageStyle.objectFit ?? 'cover',
      backgroundPosition: imageStyle.objectPosition ?? '50% 50%',
      backgroundRepeat: 'no-repeat',
      backgroundImage:
        placeholder === 'blur'
          ? blurBackground(blurUrl, width, height, staticData?.blurWidth, staticData?.blurHeight)
          : `url("${blurUrl}")`,
    });
  }
  const q = toInt(quality);
  let srcSet: string | undefined;
  let url = src;
  let sizesAttribute: string | undefined;
  if (!unoptimized) {
    const load = loader ?? ((input: ImageLoaderProps) => defaultLoader(config, input));
    const { widths, kind } = widthsFor(config, width, sizes);
    srcSet = widths.map((w, index) => `${load({ src, quality: q, width: w })} ${kind === 'w' ? w : index + 1}${kind}`).join(', ');
    url = load({ src, quality: q, width: widths[widths.length - 1]! });
    sizesAttribute = !sizes && kind === 'w' ? '100vw' : sizes;
  }
  const lazy =
    !priority && !preloadProp && !src.startsWith('data:') && !src.startsWith('blob:') && (loading === undefined || loading === 'lazy');
  // Only priority/preload images are preloaded (loading="eager" alone is not).
  if ((priority || preloadProp) && !unoptimized) {
    preload(url, { as: 'image', imageSrcSet: srcSet, imageSizes: sizesAttribute, fetchPriority: rest.fetchPriority });
  }
  // An image the browser loaded before hydration fired its load event before React listened.
  useEffect(() => {
    if (element.current?.complete) loadedImage(element.current, handlers.current, setLoaded);
  }, []);
  return createElement('img', {
    ...rest,
    ref: element,
    loading: lazy ? 'lazy' : loading,
    width: fill ? undefined : width,
    height: fill ? undefined : height,
    decoding: 'async',
    'data-nimg': fill ? 'fill' : '1',
    className,
    style: imageStyle,
    sizes: sizesAttribute,
    srcSet,
    src: overrideSrc ?? url,
    onLoad: (event: SyntheticEvent<HTMLImageElement, Event>) => loadedImage(event.currentTarget, handlers.current, setLoaded),
    onError,
  });
}

/** The image's `src` each element last reported as loaded, so that a load is reported once. */
const reported = new WeakMap<HTMLImageElement, string>();

/**
 * After `image` loaded and decoded (as Next.js waits for `decode()`): ends the blur placeholder,
 * then calls `onLoad` (with an event shaped as React's whose target is the element: React's own
 * is spent by then) and `onLoadingComplete` (with the element), once per `src`.
 */
function loadedImage(
  image: HTMLImageElement,
  handlers: Pick<ImageProps, 'onLoad' | 'onLoadingComplete'>,
  setLoaded: (loaded: boolean) => void,
): void {
  if (reported.get(image) === image.src) return;
  reported.set(image, image.src);
  const decoded = 'decode' in image ? image.decode().catch(() => undefined) : Promise.resolve();
  void decoded.then(() => {
    if (!image.isConnected) return;
    setLoaded(true);
    handlers.onLoad?.(syntheticLoad(image));
    handlers.onLoadingComplete?.(image);
  });
}

/** A load event shaped as React's, for `onLoad` after `decode()` (and for an image that loaded before hydration). */
function syntheticLoad(image: HTMLImageElement): SyntheticEvent<HTMLImageElement, Event> {
  const native = new Event('load');
  let prevented = false;
  let stopped = false;
  return {
    nativeEvent: native,
    currentTarget: image,
    target: image,
    bubbles: false,
    cancelable: false,
    defaultPrevented: false,
    eventPhase: 2,
    isTrusted: false,
    timeStamp: native.timeStamp,
    type: 'load',
    isDefaultPrevented: () => prevented,
    isPropagationStopped: () => stopped,
    persist: () => {},
    preventDefault: () => {
      prevented = true;
    },
    stopPropagation: () => {
      stopped = true;
    },
  };
}

/** `getImageProps()`: the props `<Image>` would give its `<img>`, for `<picture>` art direction. Not supported: it throws. */
export function getImageProps(): never {
  throw new Error('getImageProps() from next/image is not supported by isr');
}
