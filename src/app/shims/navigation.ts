/**
 * `next/navigation` for App Router sites, as the build maps it (build/shims.ts): the server's
 * control flow (`notFound`, `redirect`, `permanentRedirect`) and the client components' hooks
 * (`useRouter`, `usePathname`, `useSearchParams`, `useParams`).
 * @see https://nextjs.org/docs/app/api-reference/functions
 */

export { notFound, permanentRedirect, redirect } from '../navigation.ts';
export { type AppRouter, useParams, usePathname, useRouter, useSearchParams } from '../navigation-client.ts';
