/** The text both bench pages show (about 6 KB), so they differ only by the client component. */
export const PARAGRAPHS = Array.from(
  { length: 24 },
  (_, i) =>
    `Paragraph ${i + 1}. Incremental Static Regeneration serves a prerendered page from the cache and regenerates it in the background once its window has passed, so readers get static speed and fresh content at once.`,
);
