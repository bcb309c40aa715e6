/**
 * The on-disk form of one cache entry: a single self-checking byte string.
 *
 * Layout (all integers big-endian):
 *
 * ```
 * offset 0   4 bytes   magic "ISR1" (0x49 0x53 0x52 0x31)
 * offset 4   uint32    M = byte length of the metadata block
 * offset 8   M bytes   metadata: UTF-8 JSON object (see `EntryMetadata`)
 * offset 8+M N bytes   the raw body, N = metadata.bodyLength
 * then       D bytes   the data representation (`value.data`), D = metadata.dataLength when
 *                      present; nothing follows it
 * ```
 *
 * JSON cannot represent `Infinity`, so `revalidate` and `expire` values of `Infinity` are written
 * as the string `"Infinity"` and read back as the number. Every other field is written as is.
 *
 * Decoding trusts nothing: a short file, another magic, a metadata length running past the end,
 * invalid UTF-8 or JSON, a field of the wrong type, or a body whose length differs from the
 * recorded one all throw `CorruptEntryError`. So does a page or route-handler entry (the kinds the
 * server sends as they are) whose status or headers could not be sent as is (see
 * `http/fields.ts`: a CR/LF or control character in a value, a character above U+00FF, a name that
 * is not a lower-case token, a header never stored, a status outside 200–599): such an entry
 * was written by something else than this version's generation (a tampered file or Redis key, an
 * older build), and serving it could split a response or crash `node:http`.
 */
import { responseHeadProblem } from '../http/fields.ts';
import type { CacheEntry, CacheValue, CacheValueKind } from './store.ts';

/** The four magic bytes that open every encoded entry: ASCII `ISR1` (the format version is the `1`). */
export const ENTRY_MAGIC: Uint8Array = Uint8Array.of(0x49, 0x53, 0x52, 0x31);

/** Bytes before the metadata block: the magic (4) and the metadata length (uint32, 4). */
export const ENTRY_HEADER_BYTES = 8;

const KINDS: ReadonlySet<string> = new Set<CacheValueKind>(['page', 'route', 'fetch', 'function']);

/** Kinds whose status and headers the server sends to clients as stored. */
const SERVED_KINDS: ReadonlySet<string> = new Set<CacheValueKind>(['page', 'route']);

/**
 * Thrown by `decodeEntry` when bytes are not one complete, well-formed encoded entry.
 * `reason` is a short machine-friendly description (also the start of `message`).
 */
export class CorruptEntryError extends Error {
  override readonly name = 'CorruptEntryError';
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`corrupt cache entry: ${reason}`, options);
    this.reason = reason;
  }
}

/** A duration in seconds as stored in JSON: a finite number, or `"Infinity"`. */
type StoredSeconds = number | 'Infinity';

/** The JSON metadata block, exactly as written. */
interface EntryMetadata {
  key: string;
  kind: CacheValueKind;
  status: number;
  headers: Record<string, string>;
  tags: string[];
  revalidate: StoredSeconds | false;
  expire: StoredSeconds;
  lastModified: number;
  etag: string;
  /** Length of the body that follows the metadata, in bytes. */
  bodyLength: number;
  /** Length of `value.data`, which follows the body, in bytes; absent when the entry has none. */
  dataLength?: number;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Serializes `entry` into one buffer (layout in the module comment). The body bytes are copied, so
 * the result does not alias `entry.value.body`.
 *
 * @returns a fresh Buffer of `8 + metadata bytes + body bytes` bytes.
 * @throws TypeError if `entry` is not a valid CacheEntry (wrong types, an HTTP status outside
 *   100–999, a negative or NaN duration, a non-finite `lastModified`, a page or route entry whose
 *   response head could not be sent as is), so an entry that could not be decoded again is never
 *   written.
 */
export function encodeEntry(entry: CacheEntry): Buffer {
  const problem = entryProblem(entry);
  if (problem !== undefined) throw new TypeError(`cannot encode cache entry: ${problem}`);

  const body = entry.value.body;
  const metadata: EntryMetadata = {
    key: entry.key,
    kind: entry.value.kind,
    status: entry.value.status,
    headers: entry.value.headers,
    tags: entry.tags,
    revalidate: entry.revalidate === false ? false : toStoredSeconds(entry.revalidate),
    expire: toStoredSeconds(entry.expire),
    lastModified: entry.lastModified,
    etag: entry.etag,
    bodyLength: body.byteLength,
  };
  const data = entry.value.data;
  if (data !== undefined) metadata.dataLength = data.byteLength;
  const json = utf8Encoder.encode(JSON.stringify(metadata));
  if (json.byteLength > 0xffffffff) throw new TypeError('cannot encode cache entry: metadata exceeds 4 GiB');

  const out = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + json.byteLength + body.byteLength + (data?.byteLength ?? 0));
  out.set(ENTRY_MAGIC, 0);
  out.writeUInt32BE(json.byteLength, 4);
  out.set(json, ENTRY_HEADER_BYTES);
  out.set(body, ENTRY_HEADER_BYTES + json.byteLength);
  if (data !== undefined) out.set(data, ENTRY_HEADER_BYTES + json.byteLength + body.byteLength);
  return out;
}

/**
 * Parses bytes written by `encodeEntry`.
 *
 * @param bytes one complete encoded entry (nothing before or after it).
 * @returns the entry. `value.body` and `value.data` are views into `bytes` (no copy): do not reuse `bytes` afterwards.
 * @throws CorruptEntryError on a truncated or over-long input, wrong magic, a metadata length past
 *   the end, invalid UTF-8/JSON, a missing or mistyped field, a page or route entry whose response
 *   head could not be sent as is (module comment), or a body length mismatch.
 */
export function decodeEntry(bytes: Uint8Array): CacheEntry {
  if (bytes.byteLength < ENTRY_HEADER_BYTES) {
    throw new CorruptEntryError(`truncated header (${bytes.byteLength} of ${ENTRY_HEADER_BYTES} bytes)`);
  }
  for (let i = 0; i < ENTRY_MAGIC.length; i++) {
    if (bytes[i] !== ENTRY_MAGIC[i]) throw new CorruptEntryError('wrong magic (not an ISR1 entry)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const metadataLength = view.getUint32(4, false);
  const bodyStart = ENTRY_HEADER_BYTES + metadataLength;
  if (bodyStart > bytes.byteLength) {
    throw new CorruptEntryError(`truncated metadata (${bytes.byteLength - ENTRY_HEADER_BYTES} of ${metadataLength} bytes)`);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Decoder.decode(bytes.subarray(ENTRY_HEADER_BYTES, bodyStart)));
  } catch (error) {
    throw new CorruptEntryError('metadata is not valid UTF-8 JSON', { cause: error });
  }
  const metadata = checkMetadata(parsed);

  const dataLength = metadata.dataLength ?? 0;
  const actualBodyLength = bytes.byteLength - bodyStart - dataLength;
  if (actualBodyLength !== metadata.bodyLength) {
    throw new CorruptEntryError(
      `body length mismatch (metadata says ${metadata.bodyLength}${metadata.dataLength === undefined ? '' : ` + ${dataLength} data`} bytes, ` +
        `found ${bytes.byteLength - bodyStart})`,
    );
  }
  const dataStart = bodyStart + metadata.bodyLength;
  const value: CacheValue = {
    kind: metadata.kind,
    status: metadata.status,
    headers: metadata.headers,
    body: bytes.subarray(bodyStart, dataStart),
  };
  if (metadata.dataLength !== undefined) value.data = bytes.subarray(dataStart);

  return {
    key: metadata.key,
    value,
    tags: metadata.tags,
    revalidate: metadata.revalidate === false ? false : fromStoredSeconds(metadata.revalidate),
    expire: fromStoredSeconds(metadata.expire),
    lastModified: metadata.lastModified,
    etag: metadata.etag,
  };
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function toStoredSeconds(seconds: number): StoredSeconds {
  return seconds === Infinity ? 'Infinity' : seconds;
}

function fromStoredSeconds(seconds: StoredSeconds): number {
  return seconds === 'Infinity' ? Infinity : seconds;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return isPlainObject(value) && Object.values(value).every((v) => typeof v === 'string');
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function isStatus(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 999;
}

/** A duration in seconds: >= 0, finite or +Infinity. */
function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && value >= 0; // rejects NaN and -Infinity
}

function isStoredSeconds(value: unknown): value is StoredSeconds {
  return value === 'Infinity' || (typeof value === 'number' && Number.isFinite(value) && value >= 0);
}

/** Why `entry` cannot be encoded, or undefined when it can. */
function entryProblem(entry: CacheEntry): string | undefined {
  if (typeof entry !== 'object' || entry === null) return 'entry is not an object';
  if (typeof entry.key !== 'string') return 'key must be a string';
  const value = entry.value as unknown;
  if (typeof value !== 'object' || value === null) return 'value must be an object';
  if (!KINDS.has(entry.value.kind)) return `value.kind must be one of ${[...KINDS].join(', ')}`;
  if (!isStatus(entry.value.status)) return 'value.status must be an integer in 100..999';
  if (!isStringRecord(entry.value.headers)) return 'value.headers must be an object of strings';
  if (SERVED_KINDS.has(entry.value.kind)) {
    const head = responseHeadProblem(entry.value.status, entry.value.headers);
    if (head !== undefined) return `a ${entry.value.kind} entry's response head is invalid: ${head.reason}`;
  }
  if (!(entry.value.body instanceof Uint8Array)) return 'value.body must be a Uint8Array';
  if (entry.value.data !== undefined && !(entry.value.data instanceof Uint8Array)) return 'value.data must be a Uint8Array when present';
  if (!isStringArray(entry.tags)) return 'tags must be an array of strings';
  if (entry.revalidate !== false && !isSeconds(entry.revalidate)) {
    return 'revalidate must be false or a number of seconds >= 0';
  }
  if (!isSeconds(entry.expire)) return 'expire must be a number of seconds >= 0';
  if (typeof entry.lastModified !== 'number' || !Number.isFinite(entry.lastModified)) {
    return 'lastModified must be a finite number of milliseconds';
  }
  if (typeof entry.etag !== 'string') return 'etag must be a string';
  return undefined;
}

/** Checks the parsed metadata block field by field; throws CorruptEntryError naming the first bad one. */
function checkMetadata(parsed: unknown): EntryMetadata {
  if (!isPlainObject(parsed)) throw new CorruptEntryError('metadata is not a JSON object');
  const m = parsed;
  const bad = (field: string, expected: string): never => {
    throw new CorruptEntryError(`metadata field "${field}" must be ${expected}`);
  };
  if (typeof m.key !== 'string') bad('key', 'a string');
  if (typeof m.kind !== 'string' || !KINDS.has(m.kind)) bad('kind', `one of ${[...KINDS].join(', ')}`);
  if (!isStatus(m.status)) bad('status', 'an integer in 100..999');
  if (!isStringRecord(m.headers)) bad('headers', 'an object of strings');
  if (SERVED_KINDS.has(m.kind as string)) {
    const head = responseHeadProblem(m.status as number, m.headers as Record<string, string>);
    if (head !== undefined) throw new CorruptEntryError(`the response head of a ${m.kind as string} entry cannot be sent: ${head.reason}`);
  }
  if (!isStringArray(m.tags)) bad('tags', 'an array of strings');
  if (m.revalidate !== false && !isStoredSeconds(m.revalidate)) bad('revalidate', 'false or seconds >= 0');
  if (!isStoredSeconds(m.expire)) bad('expire', 'seconds >= 0');
  if (typeof m.lastModified !== 'number' || !Number.isFinite(m.lastModified)) bad('lastModified', 'a finite number');
  if (typeof m.etag !== 'string') bad('etag', 'a string');
  if (!Number.isSafeInteger(m.bodyLength) || (m.bodyLength as number) < 0) bad('bodyLength', 'an integer >= 0');
  if (m.dataLength !== undefined && (!Number.isSafeInteger(m.dataLength) || (m.dataLength as number) < 0)) {
    bad('dataLength', 'an integer >= 0 when present');
  }
  return m as unknown as EntryMetadata;
}
