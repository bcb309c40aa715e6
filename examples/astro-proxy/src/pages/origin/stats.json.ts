import type { APIRoute } from 'astro';
import { requestCounts } from '../../lib/origin';

/** GET /origin/stats.json → `{ "requests": { "/blog/x": 2, ... } }`: requests that reached this origin, never cached. */
export const GET: APIRoute = () => Response.json({ requests: requestCounts() }, { headers: { 'Cache-Control': 'no-store' } });
