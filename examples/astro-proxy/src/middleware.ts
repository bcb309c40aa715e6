import { defineMiddleware } from 'astro:middleware';
import { countRequest, originFailing, renderDelay } from './lib/origin';

/**
 * Every request that reaches the origin is counted (a shared cache in front should keep most of
 * them away) and stamped with a render number and time the pages print. While the slow flag is
 * up, pages wait before rendering; while the failure flag is up, they throw, so Astro answers 500.
 * /origin/stats.json is neither counted, slowed nor failed.
 */
export const onRequest = defineMiddleware(async (context, next) => {
  const { pathname } = context.url;
  if (pathname.startsWith('/origin/')) return next();
  context.locals.render = countRequest(pathname);
  context.locals.renderedAt = new Date().toISOString();
  const delay = renderDelay();
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  if (originFailing()) throw new Error(`origin failing on purpose (FAIL_FLAG_FILE is present): ${pathname}`);
  return next();
});
