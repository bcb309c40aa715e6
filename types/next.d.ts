/**
 * Type declarations of the parts of `next` that isr provides, so a site's editor and `tsc`
 * type-check the seeds' code without installing Next.js. Reference it from a site's tsconfig
 * (`"include": ["app", "node_modules/isr/types"]`). The isr build does not read this file: it maps
 * `next/cache` and `next/navigation` to its own implementations.
 */
declare module 'next/cache' {
  export function revalidatePath(path: string, type?: 'page' | 'layout'): void;
  export function revalidateTag(tag: string): void;
  export function unstable_cache<Args extends unknown[], Result>(
    fn: (...args: Args) => Promise<Result>,
    keyParts?: string[],
    options?: { revalidate?: number | false; tags?: string[] },
  ): (...args: Args) => Promise<Result>;
  export function unstable_noStore(): void;
}

declare module 'next/navigation' {
  export function notFound(): never;
  export function redirect(url: string, type?: 'replace' | 'push'): never;
  export function permanentRedirect(url: string, type?: 'replace' | 'push'): never;
}

// Next.js extends fetch's options with `next: { revalidate, tags }`.
interface RequestInit {
  next?: { revalidate?: number | false; tags?: string[] };
}
