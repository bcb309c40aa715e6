/**
 * The site's `public/` folder, served at the same paths with an ETag and conditional requests.
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/public-folder
 */

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { lookup } from 'mime-types';
import { PUBLIC_FILE } from '../http/cache-control.ts';
import { entityTag, etagMatches } from '../http/etag.ts';

/**
 * The media type a file is sent with, from its extension: the IANA registry's (mime-types), except
 * `.ico`, sent as `image/x-icon` as Next.js sends it (from `public/` through the `mime` table of
 * its `send`, and for `app/favicon.ico`), not as the registered `image/vnd.microsoft.icon`.
 */
function mediaType(name: string): string {
  if (name.toLowerCase().endsWith('.ico')) return 'image/x-icon';
  return lookup(name) || 'application/octet-stream';
}

/**
 * Files under the site's `public/` folder, served at the same path (Next.js `public`), or the
 * build's browser files under `client/`, served at `/_isr/`. Only files listed in the build
 * manifest are served, by exact name, so no request can reach outside it. Contents are read on
 * first request and kept in memory.
 */
export class PublicFiles {
  private readonly names: Set<string>;
  private readonly loaded = new Map<string, Promise<{ body: Uint8Array<ArrayBuffer>; etag: string; type: string }>>();

  /**
   * @param dir the site's `public/` folder (or the build's `client/`).
   * @param files the manifest's `publicFiles` (or `clientAssets`): relative, `/`-separated.
   * @param cacheControl what they are sent with: {@link PUBLIC_FILE} (revalidated on each use) by default.
   */
  constructor(
    private readonly dir: string,
    files: readonly string[],
    private readonly cacheControl: string = PUBLIC_FILE,
  ) {
    this.names = new Set(files);
  }

  /** Whether a canonical path (`/favicon.ico`) names a public file. */
  hasPath(pathname: string): boolean {
    return this.names.size > 0 && this.names.has(decodeURIComponent(pathname.slice(1)));
  }

  /** Whether `parts` (decoded path segments) name a public file. */
  has(parts: readonly string[]): boolean {
    return this.names.size > 0 && this.names.has(parts.join('/'));
  }

  /**
   * A file's bytes and media type (read once, then kept).
   * @param parts decoded path segments for which {@link has} is true.
   * @throws Error when the file cannot be read.
   */
  read(parts: readonly string[]): Promise<{ body: Uint8Array<ArrayBuffer>; etag: string; type: string }> {
    const name = parts.join('/');
    let file = this.loaded.get(name);
    if (file === undefined) {
      file = readFile(path.join(this.dir, ...parts)).then((buffer) => {
        const body = new Uint8Array(
          buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength),
        ) as Uint8Array<ArrayBuffer>;
        return { body, etag: entityTag(body), type: mediaType(name) };
      });
      file.catch(() => this.loaded.delete(name));
      this.loaded.set(name, file);
    }
    return file;
  }

  /**
   * The response for a public file (GET or HEAD; 304 when `If-None-Match` matches).
   * @param parts decoded path segments for which {@link has} is true.
   */
  async respond(parts: readonly string[], request: Request): Promise<Response> {
    const { body, etag, type } = await this.read(parts);
    const headers = { 'content-type': type, etag, 'cache-control': this.cacheControl };
    if (etagMatches(request.headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers });
    return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers });
  }
}
