'use server';

import { updateTag } from 'next/cache';
import { POSTS_TAG } from '../lib/content';

/** Server Action: expires the `posts` tag now (the next request renders with fresh content). */
export async function refreshPosts(): Promise<void> {
  updateTag(POSTS_TAG);
}
