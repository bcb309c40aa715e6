export default function Home() {
  return (
    <main>
      <h1>An ISR blog on real content</h1>
      <p>
        This site serves the 1,049 posts of the Node.js blog through <code>isr</code>, a self-hosted
        Incremental Static Regeneration server. The posts come from a small content API; the 100 newest
        are prerendered at build time, the rest are rendered on their first visit and cached.
      </p>
      <p>
        Pages are served from the cache and regenerated in the background when they go stale (every
        minute for a post, every hour for the list), or at once when the content API reports an edit.
      </p>
      <p>
        <a href="/blog">Read the blog →</a>
      </p>
      <p>
        The <a href="/archive">archive</a> shows the same posts through the Pages Router (
        <code>getStaticProps</code> and <code>getStaticPaths</code> with <code>fallback: true</code>).
      </p>
    </main>
  );
}
