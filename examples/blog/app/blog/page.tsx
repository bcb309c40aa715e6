import type { Metadata } from 'next';
import { PostList } from '../../lib/post-views.tsx';
import { contentApi, type PostSummary } from '../../lib/posts.ts';

// Regenerate the list at most once an hour; edits revalidate it at once (tag 'posts', path '/blog').
export const revalidate = 3600;

export const metadata: Metadata = { title: 'Blog' };

export default async function Page() {
  const res = await fetch(`${contentApi()}/posts`, { next: { tags: ['posts'] } });
  if (!res.ok) throw new Error(`Failed to fetch posts, received status ${res.status}`);
  const posts: PostSummary[] = await res.json();

  return (
    <main>
      <h1>Blog</h1>
      <p className="meta">{posts.length} posts, newest first</p>
      <PostList posts={posts} basePath="/blog" />
    </main>
  );
}
