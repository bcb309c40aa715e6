/** The filesystem side of route discovery, shared by both routers (kept out of routes.ts, which the browser bundles too). */

import { statSync } from 'node:fs';

/** Whether `dir` exists and is a folder. */
export function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
