import type { GetStaticProps } from 'next';
import Head from 'next/head';
import { PostList } from '../../lib/post-views.tsx';
import { contentApi, type PostSummary } from '../../lib/posts.ts';

interface Props {
  posts: PostSummary[];
}

// /archive, the Pages Router's /blog: every post, regenerated at most once an hour; edits
// revalidate it at once (the content API's webhook revalidates the fetch tag 'posts').
export const getStaticProps: GetStaticProps<Props> = async () => {
  const res = await fetch(`${contentApi()}/posts`, { next: { tags: ['posts'] } });
  if (!res.ok) throw new Error(`Failed to fetch posts, received status ${res.status}`);
  const posts: PostSummary[] = await res.json();
  return { props: { posts }, revalidate: 3600 };
};

export default function Archive({ posts }: Props) {
  return (
    <main>
      <Head>
        <title>Archive · Node.js blog</title>
      </Head>
      <h1>Archive</h1>
      <p className="meta">{posts.length} posts, newest first, through the Pages Router</p>
      <PostList posts={posts} basePath="/archive" />
    </main>
  );
}
