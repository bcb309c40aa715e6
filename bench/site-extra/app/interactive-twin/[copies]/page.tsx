// Bench only: /interactive without its client component (server-rendered only, no JavaScript), its
// text `copies` times over: the bench picks the copies that make it about as large as /interactive,
// which carries its text in the HTML and again in the RSC payload it is hydrated from.
import { PARAGRAPHS } from '../../interactive/text';

export const revalidate = 3600;

export async function generateStaticParams() {
  return [];
}

export default async function Page({ params }: { params: Promise<{ copies: string }> }) {
  const copies = Math.min(8, Math.max(1, Number((await params).copies) || 1));
  const paragraphs = Array.from({ length: copies }, () => PARAGRAPHS).flat();
  return (
    <main>
      <h1>Interactive page</h1>
      {paragraphs.map((text, i) => (
        <p key={`${i}-${text}`}>{text}</p>
      ))}
      <button type="button" id="like">
        3 likes
      </button>
    </main>
  );
}
