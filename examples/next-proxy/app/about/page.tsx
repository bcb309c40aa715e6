import Link from 'next/link';

/** A static page (no revalidate): Next caches it for a year. */
export default function About() {
  return (
    <main>
      <h1 id="about">About</h1>
      <p>
        A Next.js App Router site served by <code>next start</code>, with <code>isr proxy</code> in front
        as its shared cache.
      </p>
      <p>
        <Link href="/" id="home-link">
          Home
        </Link>
      </p>
    </main>
  );
}
