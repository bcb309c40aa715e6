/**
 * Small real folder trees for the route-discovery tests: each listed path becomes a file (a path
 * ending in `/` an empty folder) under a new temp folder, removed again by `cleanup`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface FileTrees {
  /** A new temp folder holding `paths` (`/`-separated, relative); returns its absolute path. */
  tree(paths: readonly string[]): string;
  /** A new temp folder holding `files` (`/`-separated relative path → contents); returns its absolute path. */
  site(files: Readonly<Record<string, string>>): string;
  /** Removes every folder made by `tree` and `site`. */
  cleanup(): void;
}

export function fileTrees(prefix: string): FileTrees {
  const roots: string[] = [];
  return {
    tree(paths) {
      const root = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
      roots.push(root);
      for (const relative of paths) {
        const full = path.join(root, ...relative.split('/'));
        if (relative.endsWith('/')) {
          mkdirSync(full, { recursive: true });
        } else {
          mkdirSync(path.dirname(full), { recursive: true });
          writeFileSync(full, 'export default function Component() { return null; }\n');
        }
      }
      return root;
    },
    site(files) {
      const root = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
      roots.push(root);
      for (const [relative, text] of Object.entries(files)) {
        const full = path.join(root, ...relative.split('/'));
        mkdirSync(path.dirname(full), { recursive: true });
        writeFileSync(full, text);
      }
      return root;
    },
    cleanup() {
      for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
    },
  };
}
