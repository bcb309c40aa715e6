/**
 * Loading the vendored Node.js blog posts: front matter, ids, ordering, Markdown rendering.
 *
 * Layout on disk: `<postsDir>/<category>/<id>.md` (or `.mdx`; one level, no deeper folders), each file starting with a YAML
 * front matter block between two `---` lines (`date`, `category`, `title`, `author`, `layout`).
 * Files directly in `postsDir` (LICENSE, SOURCE.md) are not posts.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Marked } from 'marked';
import { parse as parseYaml } from 'yaml';

/** What `GET /posts` lists for each post. `date` is an ISO 8601 timestamp in UTC. */
export interface PostSummary {
  id: string;
  title: string;
  date: string;
  category: string;
  author: string;
}

/** A loaded post: its summary, its Markdown body and where it came from. */
export interface Post extends PostSummary {
  /** The Markdown body, front matter removed. */
  markdown: string;
  /** Path of the source file relative to `postsDir`, with `/` separators (for messages). */
  file: string;
}

const POST_EXTENSIONS = new Set(['.md', '.mdx']);

/**
 * Splits a file into its YAML front matter and its body, and parses the YAML.
 *
 * @param source whole file text.
 * @param file name used in error messages.
 * @returns `data`: the parsed front matter object; `body`: the text after the closing `---` line.
 * @throws Error naming `file` if the file does not start with a `---` block, the block is not
 *   closed, or its YAML is invalid or not a mapping.
 */
export function parseFrontMatter(source: string, file: string): { data: Record<string, unknown>; body: string } {
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source;
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '---') throw new Error(`${file}: no front matter (the file must start with a "---" line)`);
  const end = lines.findIndex((line, i) => i > 0 && line.trim() === '---');
  if (end === -1) throw new Error(`${file}: front matter is not closed by a "---" line`);
  let data: unknown;
  try {
    data = parseYaml(lines.slice(1, end).join('\n'));
  } catch (err) {
    throw new Error(`${file}: invalid YAML front matter: ${(err as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new Error(`${file}: front matter must be a YAML mapping`);
  }
  return { data: data as Record<string, unknown>, body: lines.slice(end + 1).join('\n').replace(/^\n+/, '') };
}

/** A front matter scalar as a string ('' when absent); Dates become ISO strings. */
function field(data: Record<string, unknown>, key: string): string {
  const value = data[key];
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  return String(value).trim();
}

/**
 * Reads every post under `postsDir` and returns them newest first (ties: id ascending).
 *
 * A post's id is its file name without extension; ids must be unique across category folders.
 * `category` falls back to the folder name when the front matter has none; `author` to ''.
 *
 * @param postsDir folder holding one subfolder per category.
 * @throws Error if two files share an id, a file has no `title` or a `date` that does not parse,
 *   or its front matter is malformed (the message names the file).
 */
export async function loadPosts(postsDir: string): Promise<Post[]> {
  const posts: Post[] = [];
  const seen = new Map<string, string>();
  const folders = (await readdir(postsDir, { withFileTypes: true })).filter((e) => e.isDirectory());
  for (const folder of folders) {
    const files = await readdir(join(postsDir, folder.name), { withFileTypes: true });
    for (const entry of files) {
      if (!entry.isFile() || !POST_EXTENSIONS.has(extname(entry.name))) continue;
      const path = join(postsDir, folder.name, entry.name);
      const file = `${folder.name}/${entry.name}`;
      const id = entry.name.slice(0, -extname(entry.name).length);
      const previous = seen.get(id);
      if (previous !== undefined) throw new Error(`Duplicate post id "${id}": ${previous} and ${file}`);
      seen.set(id, file);

      const { data, body } = parseFrontMatter(await readFile(path, 'utf8'), file);
      const title = field(data, 'title');
      if (title === '') throw new Error(`${file}: front matter has no "title"`);
      const time = Date.parse(field(data, 'date'));
      if (Number.isNaN(time)) throw new Error(`${file}: front matter "date" is missing or not a date`);
      posts.push({
        id,
        title,
        date: new Date(time).toISOString(),
        category: field(data, 'category') || folder.name,
        author: field(data, 'author'),
        markdown: body,
        file,
      });
    }
  }
  return posts.sort(comparePosts);
}

/** Newest first; equal dates ordered by id so the order is stable across runs. */
function comparePosts(a: PostSummary, b: PostSummary): number {
  return b.date.localeCompare(a.date) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const markdown = new Marked({ gfm: true });

/**
 * Renders a post body to HTML with `marked` (GitHub-flavoured Markdown). MDX bodies are rendered as
 * Markdown: their few JSX tags pass through as raw HTML. The output is not sanitised — the content
 * is trusted (it is the vendored corpus or an edit authorised by whoever can reach the API).
 */
export function renderMarkdown(source: string): string {
  return markdown.parse(source, { async: false });
}

/** The summary fields of a post (what `GET /posts` lists). */
export function summary(post: PostSummary): PostSummary {
  return { id: post.id, title: post.title, date: post.date, category: post.category, author: post.author };
}
