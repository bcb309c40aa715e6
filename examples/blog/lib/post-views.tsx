import Link from 'next/link';
import type { Post, PostSummary } from './posts.ts';

/** The markup the pages of both routers share: a list of posts and one post. */

// One formatter for every date (`toLocaleDateString` builds a new one per call).
const dateFormat = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}

/** Posts in the given order, each linking to `<basePath>/<id>` (`/blog` or `/archive`). */
export function PostList({ posts, basePath }: { posts: PostSummary[]; basePath: string }) {
  return (
    <ul className="posts">
      {posts.map((post) => (
        <li key={post.id}>
          <Link href={`${basePath}/${post.id}`}>{post.title}</Link>
          <span className="meta">
            <time dateTime={post.date}>{formatDate(post.date)}</time>
            {post.author ? ` · ${post.author}` : null}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** One post: title, date, author, category and its HTML body (rendered by the content API). */
export function PostArticle({ post }: { post: Post }) {
  return (
    <article>
      <h1>{post.title}</h1>
      <p className="meta">
        <time dateTime={post.date}>{formatDate(post.date)}</time>
        {post.author ? ` · ${post.author}` : null} · {post.category}
      </p>
      <div dangerouslySetInnerHTML={{ __html: post.html }} />
    </article>
  );
}
