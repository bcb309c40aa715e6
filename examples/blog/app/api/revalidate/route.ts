import { revalidatePath, revalidateTag } from 'next/cache';

// On-demand revalidation, the secret-token pattern of the Next.js ISR guides
// (https://nextjs.org/docs/pages/guides/incremental-static-regeneration) with revalidatePath/revalidateTag
// (https://nextjs.org/docs/app/guides/incremental-static-regeneration):
//   curl -X POST 'http://127.0.0.1:3000/api/revalidate?secret=<MY_SECRET_TOKEN>&path=/blog/v8.0.0'
//   curl -X POST 'http://127.0.0.1:3000/api/revalidate?secret=<MY_SECRET_TOKEN>&tag=posts'
export async function POST(request: Request) {
  const { searchParams } = new URL(request.url);

  // Check for secret to confirm this is a valid request
  const secret = process.env.MY_SECRET_TOKEN;
  if (!secret || searchParams.get('secret') !== secret) {
    return Response.json({ message: 'Invalid token' }, { status: 401 });
  }

  const path = searchParams.get('path');
  const tag = searchParams.get('tag');
  if (!path && !tag) {
    return Response.json(
      { revalidated: false, now: Date.now(), message: 'Missing path or tag to revalidate' },
      { status: 400 },
    );
  }
  if (path) revalidatePath(path);
  if (tag) revalidateTag(tag);
  return Response.json({ revalidated: true, now: Date.now() });
}
