/** The `ISR1` entry format: round trips, and every damaged or hand-made file decoded as corrupt, never as an entry. */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CorruptEntryError, decodeEntry, ENTRY_HEADER_BYTES, encodeEntry } from '../../src/store/codec.ts';
import type { CacheEntry } from '../../src/store/store.ts';
import { makeEntry } from './helpers.ts';

/** Builds raw bytes from an arbitrary metadata value and body, bypassing encodeEntry's checks. */
function rawEntry(metadata: unknown, body: Uint8Array = new Uint8Array(), magic = 'ISR1'): Buffer {
  const json = Buffer.from(typeof metadata === 'string' ? metadata : JSON.stringify(metadata), 'utf8');
  const header = Buffer.alloc(ENTRY_HEADER_BYTES);
  header.write(magic, 0, 'latin1');
  header.writeUInt32BE(json.byteLength, 4);
  return Buffer.concat([header, json, body]);
}

/** The metadata object encodeEntry writes for `entry` (read back from its bytes). */
function metadataOf(entry: CacheEntry): Record<string, unknown> {
  const bytes = encodeEntry(entry);
  const length = bytes.readUInt32BE(4);
  return JSON.parse(bytes.subarray(ENTRY_HEADER_BYTES, ENTRY_HEADER_BYTES + length).toString('utf8'));
}

function assertCorrupt(bytes: Uint8Array, reason: RegExp): void {
  assert.throws(
    () => decodeEntry(bytes),
    (error: unknown) => {
      assert.ok(error instanceof CorruptEntryError, `expected CorruptEntryError, got ${String(error)}`);
      assert.equal(error.name, 'CorruptEntryError');
      assert.match(error.message, reason);
      return true;
    },
  );
}

function assertSameEntry(actual: CacheEntry, expected: CacheEntry): void {
  assert.deepEqual(
    { ...actual, value: { ...actual.value, body: Buffer.from(actual.value.body) } },
    { ...expected, value: { ...expected.value, body: Buffer.from(expected.value.body) } },
  );
}

describe('codec', () => {
  it('round-trips every field of a text entry', () => {
    const entry = makeEntry('page:/blog/1', {
      tags: ['a', 'b', 'ünïcode ✓'],
      revalidate: 10,
      expire: 600,
      lastModified: 1_712_345_678_901.25,
      etag: '"deadbeef"',
    });
    entry.value.headers = { 'content-type': 'text/html', 'x-custom': 'välue "quoted"' };
    entry.value.status = 404;
    entry.value.kind = 'route';
    const bytes = encodeEntry(entry);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x49, 0x53, 0x52, 0x31]);
    const decoded = decodeEntry(bytes);
    assertSameEntry(decoded, entry);
    assert.equal(decoded.value.status, 404);
    assert.equal(decoded.value.kind, 'route');
    assert.equal(decoded.lastModified, 1_712_345_678_901.25);
  });

  it('round-trips binary bodies byte for byte (all byte values, random, empty, offset views)', () => {
    const allBytes = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
    const random = randomBytes(100_000);
    const big = randomBytes(4096);
    const view = big.subarray(1000, 1100); // a view with a non-zero byteOffset into a larger buffer
    for (const body of [allBytes, random, new Uint8Array(0), view]) {
      const entry = makeEntry('fetch:0123', { body });
      entry.value.kind = 'fetch';
      const bytes = encodeEntry(entry);
      const headerAndMeta = ENTRY_HEADER_BYTES + bytes.readUInt32BE(4);
      assert.equal(bytes.byteLength, headerAndMeta + body.byteLength, 'only the view is encoded');
      const decoded = decodeEntry(bytes);
      assert.equal(decoded.value.body.byteLength, body.byteLength);
      assert.ok(Buffer.from(decoded.value.body).equals(Buffer.from(body)));
    }
  });

  it('round-trips revalidate false and Infinity durations', () => {
    for (const [revalidate, expire] of [
      [false, 31_536_000],
      [false, Infinity],
      [Infinity, Infinity],
      [0, 0],
    ] as const) {
      const entry = makeEntry('function:x', { revalidate, expire });
      const decoded = decodeEntry(encodeEntry(entry));
      assert.equal(decoded.revalidate, revalidate);
      assert.equal(decoded.expire, expire);
    }
  });

  it('round-trips keys with any characters (NUL, slashes, dots, emoji, lone surrogates)', () => {
    for (const key of ['../../etc/passwd', 'a\0b\\c', '/a/../../b', '🙂'.repeat(50), 'x\uD800y', '']) {
      assert.equal(decodeEntry(encodeEntry(makeEntry(key))).key, key);
    }
  });

  it('round-trips a data representation stored beside the body, and keeps it absent when there is none', () => {
    const entry = makeEntry('/blog/1', { body: Buffer.from('<html>page</html>') });
    entry.value.data = Buffer.from('{"pageProps":{"id":"1"}}');
    const decoded = decodeEntry(encodeEntry(entry));
    assert.equal(Buffer.from(decoded.value.body).toString(), '<html>page</html>');
    assert.equal(Buffer.from(decoded.value.data!).toString(), '{"pageProps":{"id":"1"}}');
    const empty = makeEntry('/e', { body: Buffer.from('x') });
    empty.value.data = new Uint8Array(0);
    assert.equal(decodeEntry(encodeEntry(empty)).value.data?.byteLength, 0);
    assert.equal('data' in decodeEntry(encodeEntry(makeEntry('/none'))).value, false);
  });

  it('rejects an entry whose data is cut short or has a bad recorded length', () => {
    const entry = makeEntry('/blog/1', { body: Buffer.from('body') });
    entry.value.data = Buffer.from('{"pageProps":{}}');
    const bytes = encodeEntry(entry);
    assertCorrupt(bytes.subarray(0, bytes.byteLength - 1), /body length mismatch/);
    const good = metadataOf(entry);
    assertCorrupt(rawEntry({ ...good, dataLength: -1 }, Buffer.from('body{}')), /dataLength/);
    assertCorrupt(rawEntry({ ...good, dataLength: 'x' }, Buffer.from('body{}')), /dataLength/);
    assert.throws(() => encodeEntry({ ...entry, value: { ...entry.value, data: 'json' as unknown as Uint8Array } }), /value.data/);
  });

  it('does not alias the body it encoded', () => {
    const body = Uint8Array.of(1, 2, 3);
    const bytes = encodeEntry(makeEntry('k', { body }));
    body[0] = 99;
    assert.deepEqual([...decodeEntry(bytes).value.body], [1, 2, 3]);
  });

  it('rejects input shorter than the header, and every truncation of a valid entry', () => {
    assertCorrupt(new Uint8Array(0), /truncated header/);
    assertCorrupt(Buffer.from('ISR1'), /truncated header/);
    const bytes = encodeEntry(makeEntry('page:/t', { body: randomBytes(64) }));
    for (let length = 0; length < bytes.byteLength; length++) {
      assert.throws(() => decodeEntry(bytes.subarray(0, length)), CorruptEntryError, `prefix of ${length} bytes`);
    }
    const metaLength = bytes.readUInt32BE(4);
    assertCorrupt(bytes.subarray(0, ENTRY_HEADER_BYTES + metaLength - 1), /truncated metadata/);
    assertCorrupt(bytes.subarray(0, bytes.byteLength - 1), /body length mismatch.*64 bytes, found 63/);
  });

  it('rejects trailing bytes after the body', () => {
    const bytes = encodeEntry(makeEntry('page:/t'));
    assertCorrupt(Buffer.concat([bytes, Buffer.of(0)]), /body length mismatch/);
  });

  it('rejects a wrong magic', () => {
    const bytes = encodeEntry(makeEntry('page:/t'));
    for (const magic of ['ISR2', 'isr1', '\0\0\0\0', 'PK\x03\x04']) {
      const copy = Buffer.from(bytes);
      copy.write(magic, 0, 'latin1');
      assertCorrupt(copy, /wrong magic/);
    }
    assertCorrupt(Buffer.from('<!doctype html><html></html>'), /wrong magic/);
  });

  it('rejects a metadata length pointing past the end', () => {
    const bytes = Buffer.from(encodeEntry(makeEntry('page:/t')));
    bytes.writeUInt32BE(0xffffffff, 4);
    assertCorrupt(bytes, /truncated metadata/);
  });

  it('rejects metadata that is not UTF-8 JSON, or not an object', () => {
    assertCorrupt(rawEntry('{"key": '), /not valid UTF-8 JSON/);
    assertCorrupt(rawEntry(''), /not valid UTF-8 JSON/);
    const invalidUtf8 = rawEntry('{"key":"xx"}');
    invalidUtf8[ENTRY_HEADER_BYTES + 8] = 0xff;
    assertCorrupt(invalidUtf8, /not valid UTF-8 JSON/);
    for (const notObject of ['null', '[]', '42', '"str"', 'true']) {
      assertCorrupt(rawEntry(notObject), /not a JSON object/);
    }
  });

  it('rejects every missing or mistyped metadata field', () => {
    const body = Buffer.from('hello');
    const good = metadataOf(makeEntry('k', { body }));
    assert.deepEqual(Object.keys(good).sort(), [
      'bodyLength',
      'etag',
      'expire',
      'headers',
      'key',
      'kind',
      'lastModified',
      'revalidate',
      'status',
      'tags',
    ]);
    // sanity: the hand-built good metadata decodes
    assert.equal(decodeEntry(rawEntry(good, body)).key, 'k');

    const bad: Record<string, unknown[]> = {
      key: [undefined, 1, null, ['k']],
      kind: [undefined, 'html', 1, null],
      status: [undefined, '200', 99, 1000, 200.5, null],
      headers: [undefined, null, [], 'x', { 'content-type': 1 }, { a: null }],
      tags: [undefined, null, 'a', [1], [null], { 0: 'a' }],
      revalidate: [undefined, true, -1, '60', null, 'Infinity!'],
      expire: [undefined, false, -1, '3600', null],
      lastModified: [undefined, '1700000000000', null, false],
      etag: [undefined, 1, null, ['"x"']],
      bodyLength: [undefined, '5', -1, 5.5, null],
    };
    for (const [field, values] of Object.entries(bad)) {
      for (const value of values) {
        const metadata = { ...good, [field]: value };
        if (value === undefined) delete metadata[field];
        assertCorrupt(rawEntry(metadata, body), new RegExp(`"${field}"`));
      }
    }
  });

  it('treats a page or route entry whose response head could not be sent as corrupt, and never writes one', () => {
    const good = metadataOf(makeEntry('k'));
    const heads: Array<[Record<string, unknown>, RegExp]> = [
      [{ headers: { location: '/x\r\nSet-Cookie: a=1' } }, /header "location" holds U\+000D \(CR\) at index 2/],
      [{ headers: { location: '/y\nz' } }, /U\+000A \(LF\)/],
      [{ headers: { 'x-a': 'a\u0000b' } }, /U\+0000 \(NUL\)/],
      [{ headers: { 'x-a': 'a\u0001b' } }, /U\+0001/],
      [{ headers: { location: '/blog/日本' } }, /U\+65E5 \(not Latin-1\)/],
      [{ headers: { 'Content-Length': '1' } }, /not a lower-case token/],
      [{ headers: { 'x a': '1' } }, /not a lower-case token/],
      [{ headers: { 'transfer-encoding': 'chunked' } }, /"transfer-encoding" is never stored/],
      [{ headers: { 'set-cookie': 'a=1' } }, /"set-cookie" is never stored/],
      [{ status: 101 }, /status 101 is not an integer in 200..599/],
      [{ status: 600, kind: 'route' }, /status 600/],
    ];
    for (const [change, reason] of heads) {
      assertCorrupt(rawEntry({ ...good, ...change }), reason);
      const entry = makeEntry('k');
      if (change.headers) entry.value.headers = change.headers as Record<string, string>;
      if (change.status) entry.value.status = change.status as number;
      assert.throws(() => encodeEntry(entry), /response head is invalid/);
    }
    // A Latin-1 value (obs-text) and a HTAB are valid; fetch entries keep whatever their origin sent.
    assert.equal(
      decodeEntry(rawEntry({ ...good, bodyLength: 0, headers: { 'x-title': 'caf\u00e9\tx' } })).value.headers['x-title'],
      'caf\u00e9\tx',
    );
    const fetched = makeEntry('k');
    fetched.value.kind = 'fetch';
    fetched.value.status = 100;
    fetched.value.headers = { 'X-Upstream': 'a\u0001b' };
    assert.deepEqual(decodeEntry(encodeEntry(fetched)).value.headers, { 'X-Upstream': 'a\u0001b' });
  });

  it('rejects a body length that disagrees with the metadata', () => {
    const body = Buffer.from('hello');
    const good = metadataOf(makeEntry('k', { body }));
    assertCorrupt(rawEntry({ ...good, bodyLength: 4 }, body), /body length mismatch/);
    assertCorrupt(rawEntry({ ...good, bodyLength: 6 }, body), /body length mismatch/);
    assertCorrupt(rawEntry({ ...good, bodyLength: 0 }, body), /body length mismatch/);
  });

  it('refuses to encode entries it could not decode', () => {
    const cases: Array<(e: CacheEntry) => void> = [
      (e) => (e.lastModified = NaN),
      (e) => (e.lastModified = Infinity),
      (e) => (e.expire = NaN),
      (e) => (e.expire = -1),
      (e) => (e.revalidate = -5),
      (e) => (e.value.status = 42),
      (e) => ((e.value as { kind: string }).kind = 'html'),
      (e) => ((e.value.headers as Record<string, unknown>).x = 1),
      (e) => (e.tags as unknown[]).push(7),
      (e) => ((e.value as { body: unknown }).body = 'text'),
      (e) => ((e as { etag: unknown }).etag = undefined),
    ];
    for (const mutate of cases) {
      const entry = makeEntry('k');
      mutate(entry);
      assert.throws(() => encodeEntry(entry), TypeError);
    }
  });
});
