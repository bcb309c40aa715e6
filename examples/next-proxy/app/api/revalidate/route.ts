import { revalidatePath, revalidateTag } from 'next/cache';

/**
 * `POST /api/revalidate?path=/` calls `revalidatePath('/')`; `?tag=posts` calls
 * `revalidateTag('posts', { expire: 0 })` (expired now: the next request waits for fresh content),
 * `?tag=posts&profile=max` calls `revalidateTag('posts', 'max')` (marked stale: the next request
 * gets the old page while Next regenerates it). When `REVALIDATE_SECRET` is set, the request needs
 * `Authorization: Bearer <REVALIDATE_SECRET>`.
 */
export async function POST(request: Request): Promise<Response> {
  const secret = process.env.REVALIDATE_SECRET;
  if (secret && request.headers.get('authorization') !== `Bearer ${secret}`) {
    return Response.json({ revalidated: false, error: 'unauthorized' }, { status: 401 });
  }
  const query = new URL(request.url).searchParams;
  const path = query.get('path');
  const tag = query.get('tag');
  if (!path && !tag) return Response.json({ revalidated: false, error: 'give ?path= or ?tag=' }, { status: 400 });
  if (path) revalidatePath(path);
  if (tag) revalidateTag(tag, query.get('profile') === 'max' ? 'max' : { expire: 0 });
  return Response.json({ revalidated: true, path, tag });
}
