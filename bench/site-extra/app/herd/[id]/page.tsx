// The blog post page with a 2-second window, rendered on first request (bench: stale herd).
export const revalidate = 2;

export async function generateStaticParams() {
  return [];
}

export { default, generateMetadata } from '../../blog/[id]/page';
