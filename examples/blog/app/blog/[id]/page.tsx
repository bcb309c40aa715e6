import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { PostArticle } from '../../../lib/post-views.tsx';
import { contentApi, type Post } from '../../../lib/posts.ts';

// A post is regenerated in the background at most once a minute after it goes stale.
export const revalidate = 60;

// Only the params from `generateStaticParams` are prerendered at build time; any other post is
// rendered on its first request, then cached.
export const dynamicParams = true;

/** How many of the newest posts the build prerenders: BLOG_PRERENDER_COUNT (a number or `all`), default 100. */
function prerenderLimit(): string {
  const value = process.env.BLOG_PRERENDER_COUNT ?? '100';
  if (value !== 'all' && !/^\d+$/.test(value)) throw new Error(`BLOG_PRERENDER_COUNT must be a number or "all", got "${value}"`);
  return value === 'all' ? '' : `?limit=${value}`;
}

export async function generateStaticParams() {
  const res = await fetch(`${contentApi()}/posts${prerenderLimit()}`);
  if (!res.ok) throw new Error(`Failed to fetch posts, received status ${res.status}`);
  const posts: Array<{ id: string }> = await res.json();
  return posts.map((post) => ({ id: post.id }));
}

/** One post from the content API, or `undefined` for an unknown id (tagged for on-demand revalidation). */
async function getPost(id: string): Promise<Post | undefined> {
  // The page and generateMetadata both call this: one render fetches the post once (request memoization).
  const res = await fetch(`${contentApi()}/posts/${encodeURIComponent(id)}`, {
    next: { tags: ['posts', `post-${id}`] },
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`Failed to fetch post ${id}, received status ${res.status}`);
  return res.json();
}

// Each post's own <title> and Open Graph tags, regenerated with the page.
export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const { id } = await params;
  const post = await getPost(id);
  if (post === undefined) return {};
  return {
    title: post.title,
    description: `${post.title}, by ${post.author} (${post.category})`,
    authors: [{ name: post.author }],
    openGraph: { title: post.title, type: 'article', publishedTime: post.date, authors: [post.author], section: post.category },
  };
}

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const post = await getPost(id);
  if (post === undefined) notFound();

  return (
    <main>
      <PostArticle post={post} />
    </main>
  );
}
