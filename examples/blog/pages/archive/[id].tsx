import type { GetStaticPaths, GetStaticProps } from 'next';
import Head from 'next/head';
import Link from 'next/link';
import { useRouter } from 'next/router';
import { PostArticle } from '../../lib/post-views.tsx';
import { contentApi, type Post, type PostSummary } from '../../lib/posts.ts';

type Params = { id: string };

interface Props {
  post: Post;
}

/** How many of the newest posts the build prerenders; the others are generated on their first visit. */
const PRERENDERED = 20;

// The 20 newest posts are prerendered. Any other post is generated on its first request: a browser
// gets the fallback (the component below with `isFallback`) at once, and the page replaces it when
// its data route is ready; a crawler waits for the page itself.
export const getStaticPaths: GetStaticPaths<Params> = async () => {
  const res = await fetch(`${contentApi()}/posts?limit=${PRERENDERED}`);
  if (!res.ok) throw new Error(`Failed to fetch posts, received status ${res.status}`);
  const posts: PostSummary[] = await res.json();
  return { paths: posts.map((post) => ({ params: { id: post.id } })), fallback: true };
};

// Regenerated in the background at most once a minute after it goes stale. An unknown id is a 404,
// checked again after a minute (the post may be published by then). Any other failure throws, so the
// last good page keeps being served.
export const getStaticProps: GetStaticProps<Props, Params> = async ({ params }) => {
  const id = params!.id;
  const res = await fetch(`${contentApi()}/posts/${encodeURIComponent(id)}`, {
    next: { tags: ['posts', `post-${id}`] },
  });
  if (res.status === 404) return { notFound: true, revalidate: 60 };
  if (!res.ok) throw new Error(`Failed to fetch post ${id}, received status ${res.status}`);
  const post: Post = await res.json();
  return { props: { post }, revalidate: 60 };
};

export default function ArchivedPost({ post }: Props) {
  const router = useRouter();
  if (router.isFallback) {
    // No props yet: the same shape as the post, with placeholders.
    return (
      <main aria-busy="true">
        <Head>
          <title>Loading… · Node.js blog</title>
        </Head>
        <article>
          <h1>Loading…</h1>
          <p className="meta">Fetching the post from the content API</p>
          <div className="skeleton" />
          <div className="skeleton" />
          <div className="skeleton short" />
        </article>
      </main>
    );
  }

  return (
    <main>
      <Head>
        <title>{`${post.title} · Node.js blog`}</title>
      </Head>
      <PostArticle post={post} />
      <p>
        <Link href="/archive">← The archive</Link>
      </p>
    </main>
  );
}
