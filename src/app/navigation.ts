/**
 * `next/navigation`'s server-side control flow for pages: `notFound()` and `redirect()`.
 * They throw marker errors that the renderer turns into a 404 page or a redirect response.
 * Markers are recognised by their `digest`, so a copy bundled into a site works too.
 */

import { addBasePath, inlinedBasePath } from '../http/paths.ts';

export const NOT_FOUND_DIGEST = 'ISR_NOT_FOUND';
export const REDIRECT_DIGEST_PREFIX = 'ISR_REDIRECT;';

/** Renders the route's `not-found` page with status 404. Never returns. */
export function notFound(): never {
  const error = new Error('NEXT_NOT_FOUND') as Error & { digest: string };
  error.digest = NOT_FOUND_DIGEST;
  throw error;
}

/** Answers with a 307 redirect to `url` (a path or absolute URL). Never returns. */
export function redirect(url: string, _type?: 'replace' | 'push'): never {
  throw redirectError(url, 307);
}

/** Answers with a 308 permanent redirect to `url`. Never returns. */
export function permanentRedirect(url: string, _type?: 'replace' | 'push'): never {
  throw redirectError(url, 308);
}

function redirectError(url: string, status: 307 | 308): Error {
  if (typeof url !== 'string' || url.length === 0) throw new TypeError('redirect: url must be a non-empty string');
  const error = new Error(`NEXT_REDIRECT ${url}`) as Error & { digest: string };
  error.digest = `${REDIRECT_DIGEST_PREFIX}${status};${url}`;
  return error;
}

/** Whether `error` is the `notFound()` marker. */
export function isNotFoundError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { digest?: unknown }).digest === NOT_FOUND_DIGEST;
}

/** The redirect carried by a `redirect()` marker, or undefined; a path of the site goes under next.config's `basePath`, as Next.js's render puts it. */
export function redirectTarget(error: unknown): { status: 307 | 308; location: string } | undefined {
  const digest = typeof error === 'object' && error !== null ? (error as { digest?: unknown }).digest : undefined;
  if (typeof digest !== 'string' || !digest.startsWith(REDIRECT_DIGEST_PREFIX)) return undefined;
  const rest = digest.slice(REDIRECT_DIGEST_PREFIX.length);
  const separator = rest.indexOf(';');
  const status = rest.slice(0, separator) === '308' ? 308 : 307;
  return { status, location: addBasePath(rest.slice(separator + 1), inlinedBasePath()) };
}
