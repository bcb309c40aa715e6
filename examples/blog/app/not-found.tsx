export default function NotFound() {
  return (
    <main>
      <h1>Page not found</h1>
      <p>There is no post or page at this address. It may have been renamed, or the link may be mistyped.</p>
      <p>
        <a href="/blog">Browse all posts →</a>
      </p>
    </main>
  );
}
