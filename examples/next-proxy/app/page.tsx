import Link from 'next/link';
import { getContent, nextRender } from '../lib/content';
import { refreshPosts } from './actions';
import { Counter } from './counter';

/** ISR: Next serves this page from its cache and regenerates it at most once a minute. */
export const revalidate = 60;

export default async function Home() {
  const content = await getContent();
  return (
    <main>
      <h1>Next.js behind isr proxy</h1>
      <p>
        Rendered at <time id="rendered-at">{new Date().toISOString()}</time>, render{' '}
        <span id="render">{nextRender()}</span> of this server.
      </p>
      <p>
        Content edition <span id="edition">{content.edition}</span>:
      </p>
      <ul id="posts">
        {content.posts.map((post) => (
          <li key={post.id}>{post.title}</li>
        ))}
      </ul>
      <Counter />
      <form action={refreshPosts}>
        <button id="refresh-posts" type="submit">
          Refresh the posts (Server Action, updateTag)
        </button>
      </form>
      <p>
        <Link href="/about" id="about-link">
          About this example
        </Link>
      </p>
    </main>
  );
}
