import { defineMiddleware } from 'astro:middleware';
import { countRequest, originFailing } from './lib/origin';

/**
 * Every request that reaches the origin is counted (a shared cache in front should keep most of
 * them away) and stamped with a render number and time the pages print. While the failure flag is
 * up, pages throw, so Astro answers 500; /origin/stats.json keeps answering.
 */
export const onRequest = defineMiddleware((context, next) => {
  const { pathname } = context.url;
  if (pathname.startsWith('/origin/')) return next();
  context.locals.render = countRequest(pathname);
  context.locals.renderedAt = new Date().toISOString();
  if (originFailing()) throw new Error(`origin failing on purpose (FAIL_FLAG_FILE is present): ${pathname}`);
  return next();
});
