// Bench only: a page with one client component (a like button), for the JavaScript it ships, the
// time until it is interactive, and the HIT rate beside its server-only twin (/interactive-twin).
import { LikeButton } from './like-button';
import { PARAGRAPHS } from './text';

export const revalidate = 3600;

export default function Page() {
  return (
    <main>
      <h1>Interactive page</h1>
      {PARAGRAPHS.map((text) => (
        <p key={text}>{text}</p>
      ))}
      <LikeButton start={3} />
    </main>
  );
}
