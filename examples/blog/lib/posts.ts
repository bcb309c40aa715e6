/** What the pages of both routers share about the content API's posts (see content-api/server.ts). */
import type { PostSummary } from '../content-api/posts.ts';

// The API's own type (erased at build: the site bundles nothing of the content API).
export type { PostSummary };

/** A post from `GET /posts/:id`, its Markdown rendered to HTML. */
export interface Post extends PostSummary {
  html: string;
}

/** The content API's base URL: CONTENT_API_URL, default `http://127.0.0.1:4000`. */
export function contentApi(): string {
  return process.env.CONTENT_API_URL ?? 'http://127.0.0.1:4000';
}

// One formatter for every date (`toLocaleDateString` builds a new one per call).
const dateFormat = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

/** A post's ISO 8601 date as the pages show it, e.g. "May 30, 2017". */
export function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}
