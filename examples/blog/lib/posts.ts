/** The content API as the pages of both routers read it (see content-api/server.ts): its address and its posts' types. */
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
