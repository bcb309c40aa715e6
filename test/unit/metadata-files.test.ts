/**
 * The size an `app/favicon.ico` is linked with (src/build/metadata-files.ts `icoSize`): its
 * largest image, as `next build` (Turbopack) links a favicon of several sizes.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { icoSize } from '../../src/build/metadata-files.ts';

/** An ICO header and directory for images of the given pixel sizes (bodies left out: only the directory is read). */
function ico(sizes: [number, number][]): Buffer {
  const body = Buffer.alloc(6 + 16 * sizes.length);
  body.writeUInt16LE(0, 0);
  body.writeUInt16LE(1, 2);
  body.writeUInt16LE(sizes.length, 4);
  for (const [index, [width, height]] of sizes.entries()) {
    body[6 + 16 * index] = width === 256 ? 0 : width;
    body[7 + 16 * index] = height === 256 ? 0 : height;
  }
  return body;
}

describe('icoSize', () => {
  it('is the largest image of the file, in whatever order the images come', () => {
    assert.deepEqual(icoSize(ico([[16, 16]])), { width: 16, height: 16 });
    assert.deepEqual(
      icoSize(
        ico([
          [16, 16],
          [32, 32],
          [48, 48],
        ]),
      ),
      { width: 48, height: 48 },
    );
    assert.deepEqual(
      icoSize(
        ico([
          [48, 48],
          [16, 16],
          [32, 32],
        ]),
      ),
      { width: 48, height: 48 },
    );
  });

  it('reads a 0 byte as 256 pixels', () => {
    assert.deepEqual(
      icoSize(
        ico([
          [32, 32],
          [256, 256],
        ]),
      ),
      { width: 256, height: 256 },
    );
  });

  it('is undefined for what is not an ICO file, or an ICO without images', () => {
    assert.equal(icoSize(Buffer.from('\x89PNG\r\n\x1a\n')), undefined);
    assert.equal(icoSize(ico([])), undefined);
  });
});
