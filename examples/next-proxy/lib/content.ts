import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { unstable_cache } from 'next/cache';

/** One post of the example's content. */
export interface Post {
  id: string;
  title: string;
}

/** The whole content file: an edition number (bumped on every edit) and the posts. */
export interface Content {
  edition: number;
  posts: Post[];
}

/** The tag of the content's data-cache entry: `revalidateTag('posts')` refreshes it. */
export const POSTS_TAG = 'posts';

/**
 * The JSON file the content comes from: `EXAMPLE_CONTENT_FILE` when set (the test points it at a
 * copy it edits), else `content/posts.json` of the project folder.
 */
function contentFile(): string {
  return process.env.EXAMPLE_CONTENT_FILE ?? path.join(process.cwd(), 'content', 'posts.json');
}

/**
 * The content, through Next's data cache (`unstable_cache`) tagged `posts`: read from the file at
 * most once an hour unless the tag, or the path of a page that read it, is revalidated.
 */
export const getContent = unstable_cache(
  async (): Promise<Content> => JSON.parse(await readFile(/* turbopackIgnore: true */ contentFile(), 'utf8')) as Content,
  ['content'],
  { tags: [POSTS_TAG], revalidate: 3600 },
);

let renders = 0;

/** Counts the renders of this server process (1 for the first): shows when Next regenerated. */
export function nextRender(): number {
  renders += 1;
  return renders;
}
