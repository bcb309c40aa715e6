import { defineCollection, z } from 'astro:content';
import { glob } from 'astro/loaders';

/**
 * The posts: content/posts/<category>/<slug>.md (not SOURCE.md beside them), read at build time by Astro's content layer and
 * bundled into the server. The id (the URL's slug) is the file name without `.md`, unique across
 * categories in this copy. The front matter's `layout` (the Node.js website's own) is ignored.
 */
const posts = defineCollection({
  loader: glob({
    pattern: '*/*.md',
    base: './content/posts',
    generateId: ({ entry }) => entry.replace(/^.*\//, '').replace(/\.md$/, ''),
  }),
  schema: z.object({
    title: z.string(),
    date: z.coerce.date(),
    category: z.string(),
    author: z.string().optional(),
  }),
});

export const collections = { posts };
