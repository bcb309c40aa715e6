import type { NextApiRequest, NextApiResponse } from 'next';

// On-demand revalidation of one archived post, the res.revalidate() pattern of the Next.js Pages Router
// ISR guide (https://nextjs.org/docs/pages/guides/incremental-static-regeneration):
//   curl -X POST 'http://127.0.0.1:3000/api/archive/revalidate?secret=<MY_SECRET_TOKEN>&id=v8.0.0'
// The page is regenerated before the answer, so the next request gets the new page.
export default async function handler(req: NextApiRequest, res: NextApiResponse) {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return res.status(405).json({ message: 'Method not allowed' });
  }

  // Check for secret to confirm this is a valid request
  const secret = process.env.MY_SECRET_TOKEN;
  if (!secret || req.query.secret !== secret) {
    return res.status(401).json({ message: 'Invalid token' });
  }

  const id = req.query.id;
  if (typeof id !== 'string' || id === '') {
    return res.status(400).json({ revalidated: false, message: 'Missing id to revalidate' });
  }

  try {
    // The actual path, not the route pattern /archive/[id]
    await res.revalidate(`/archive/${encodeURIComponent(id)}`);
    return res.json({ revalidated: true });
  } catch {
    // If there was an error, the last successfully generated page keeps being served
    return res.status(500).send('Error revalidating');
  }
}
