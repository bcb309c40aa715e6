interface PostSummary {
  id: string;
  title: string;
  date: string;
  category: string;
  author: string;
}

// Regenerate the list at most once an hour; edits revalidate it at once (tag 'posts', path '/blog').
export const revalidate = 3600;

// One formatter for every date (`toLocaleDateString` builds a new one per call).
const dateFormat = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}

export default async function Page() {
  const api = process.env.CONTENT_API_URL ?? 'http://127.0.0.1:4000';
  const res = await fetch(`${api}/posts`, { next: { tags: ['posts'] } });
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
