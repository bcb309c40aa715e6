// Bench only: /interactive without its client component (server-rendered only, no JavaScript).
import { PARAGRAPHS } from '../interactive/text';

export const revalidate = 3600;

export default function Page() {
  return (
    <main>
      <h1>Interactive page</h1>
      {PARAGRAPHS.map((text) => (
        <p key={text}>{text}</p>
      ))}
      <button type="button" id="like">
        3 likes
      </button>
    </main>
  );
}
