import { contentApi, formatDate, type PostSummary } from '../../lib/posts.ts';

// Regenerate the list at most once an hour; edits revalidate it at once (tag 'posts', path '/blog').
export const revalidate = 3600;

export default async function Page() {
  const res = await fetch(`${contentApi()}/posts`, { next: { tags: ['posts'] } });
  if (!res.ok) throw new Error(`Failed to fetch posts, received status ${res.status}`);
  const posts: PostSummary[] = await res.json();

  return (
    <main>
      <h1>Blog</h1>
      <p className="meta">{posts.length} posts, newest first</p>
      <ul className="posts">
        {posts.map((post) => (
          <li key={post.id}>
            <a href={`/blog/${post.id}`}>{post.title}</a>
            <span className="meta">
              <time dateTime={post.date}>{formatDate(post.date)}</time>
              {post.author ? ` · ${post.author}` : null}
            </span>
          </li>
        ))}
      </ul>
    </main>
  );
}
