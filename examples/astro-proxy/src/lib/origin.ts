import { existsSync, readFileSync } from 'node:fs';

/**
 * What this origin tells a shared cache, and the knobs a test or a demo turns.
 *
 * Environment (read on every request, so a running server follows changes to the flag file):
 * - POST_S_MAXAGE: seconds a shared cache may serve a post as fresh (default 10).
 * - POST_STALE_WHILE_REVALIDATE: seconds after that during which it may serve it stale while it
 *   regenerates it in the background (default 60).
 * - FAIL_FLAG_FILE: a path; while a file exists there, every page throws (500), to show a shared
 *   cache keeping the last good copy (`stale-if-error`, RFC 5861 section 4).
 * - SLOW_FLAG_FILE: a path; while a file exists there, every page waits the milliseconds written in
 *   it (default 1000) before rendering, to show a shared cache answering from its copy while one
 *   slow regeneration runs (`stale-while-revalidate`, RFC 5861 section 3).
 */

/** Seconds a post stays fresh in a shared cache (`s-maxage`, RFC 9111 section 5.2.2.10). */
export function postSharedMaxAge(): number {
  return seconds(process.env.POST_S_MAXAGE, 10);
}

/** Seconds a post may be served stale while regenerated (`stale-while-revalidate`, RFC 5861 section 3). */
export function postStaleWhileRevalidate(): number {
  return seconds(process.env.POST_STALE_WHILE_REVALIDATE, 60);
}

/** `value` as a whole number of seconds ≥ 0, or `fallback` when unset or not one. */
function seconds(value: string | undefined, fallback: number): number {
  const parsed = Number(value ?? fallback);
  return value !== '' && Number.isInteger(parsed) && parsed >= 0 ? parsed : fallback;
}

/** True while the file named by FAIL_FLAG_FILE exists: pages then fail with a 500. */
export function originFailing(): boolean {
  const flag = process.env.FAIL_FLAG_FILE;
  return flag !== undefined && flag !== '' && existsSync(flag);
}

/** Milliseconds to wait before rendering: the number in the SLOW_FLAG_FILE while it exists (1000 if it holds none), else 0. */
export function renderDelay(): number {
  const flag = process.env.SLOW_FLAG_FILE;
  if (flag === undefined || flag === '' || !existsSync(flag)) return 0;
  let text = '';
  try {
    text = readFileSync(flag, 'utf8').trim();
  } catch {
    // Removed between the two calls: no delay from now on, but this request still waits the default.
  }
  const ms = Number(text);
  return text !== '' && Number.isInteger(ms) && ms >= 0 ? ms : 1000;
}

/** Requests that reached this origin, by path (the counter behind /origin/stats.json). */
const requests = new Map<string, number>();
let renders = 0;

/** Counts one request to `pathname` and returns the origin-wide render number (1, 2, ...). */
export function countRequest(pathname: string): number {
  requests.set(pathname, (requests.get(pathname) ?? 0) + 1);
  renders += 1;
  return renders;
}

/** The counts so far: `{ [pathname]: requests }`. */
export function requestCounts(): Record<string, number> {
  return Object.fromEntries(requests);
}

/** `Cache-Tag` (comma list, as Cloudflare and `isr proxy` read it) and `Surrogate-Key` (space list, Fastly's) for `tags`. */
export function tagHeaders(headers: Headers, tags: string[]): void {
  headers.set('Cache-Tag', tags.join(', '));
  headers.set('Surrogate-Key', tags.join(' '));
}
