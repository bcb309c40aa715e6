// A small page without data (bench: 100,000 entries through the cache). Rendered on first request.
export const revalidate = 3600;

export async function generateStaticParams() {
  return [];
}

export default async function Page({ params }: { params: Promise<{ n: string }> }) {
  const { n } = await params;
  return (
    <main>
      <h1>Synthetic page {n}</h1>
      <p className="meta">One of many pages the benchmark pushes through the cache to check that memory stays bounded.</p>
    </main>
  );
}
