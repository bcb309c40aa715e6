/**
 * The keys of the process-wide registry (render/context.ts), in a module with no Node imports, so
 * code bundled for the browser too (the App Router's navigation hooks) can read it during a
 * server render.
 */

/** Where the render-context storage (an `AsyncLocalStorage`) is registered on `globalThis`. */
export const STORAGE_KEY: unique symbol = Symbol.for('isr.renderStorage');

/** Where the running engine and logger are registered on `globalThis`. */
export const RUNTIME_KEY: unique symbol = Symbol.for('isr.runtime');

/** The path being rendered on the server (`/blog/1`), or undefined outside a server render (in the browser). */
export function renderingPath(): string | undefined {
  const storage = (globalThis as { [STORAGE_KEY]?: { getStore(): { path: string } | undefined } })[STORAGE_KEY];
  return storage?.getStore()?.path;
}
