/**
 * The HIT fast path of `isr start`: the strict request grammar it answers and the bytes of its
 * answers. The front (`front.ts`), which owns each connection, asks {@link parseSimpleRequest}
 * whether a request head is one it may answer from memory, and writes {@link responseCache}'s
 * bytes for it: the entry's precomputed status line and headers, a `Date` line made once a
 * second, and the stored body — no `IncomingMessage`, no `ServerResponse`, no header validation
 * per request. Why: on loopback Node's HTTP stack answers a constant Buffer at roughly half the
 * rate a raw socket can (docs/performance.md has the figures).
 *
 * Grammar answered (RFC 9112 §3, stricter): request line `GET|HEAD SP origin-form SP HTTP/1.1
 * CRLF`, the target made of visible ASCII only; header lines `token ":" OWS value OWS CRLF` with
 * no control characters but HTAB in the value, exactly one valid `Host`; the head ends at the
 * first empty line and is at most {@link MAX_HEAD_BYTES}. `Content-Length`, `Transfer-Encoding`,
 * `Upgrade` and `Expect` headers, and a `Connection` header other than `keep-alive`, go to
 * node:http.
 */

import { STATUS_CODES } from 'node:http';
import { fieldValueProblem, isToken, TCHAR } from '../http/fields.ts';
import { isValidHost } from '../http/host.ts';
import type { Milliseconds } from '../units.ts';

/** Largest request head answered here, in bytes (Node's default `maxHeaderSize` is 16 KiB). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** A response the adapter writes as is: precomputed headers and the stored bytes. */
export interface MemoryAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  /** Undefined for HEAD and 304. */
  body: Uint8Array | undefined;
}

/**
 * A handler's answer from memory: for a simple GET/HEAD, the precomputed answer of an entry held
 * in memory that is fresh (`HIT`) or stale with its regeneration already running (`STALE`), or
 * undefined whenever it cannot (not in memory, stale with nothing regenerating it, unusual
 * path...): the full handler answers then, and starts the regeneration.
 */
export type FromMemory = (request: SimpleRequest) => MemoryAnswer | undefined;

/**
 * A Web-standard request handler, `(Request) => Promise<Response>`, optionally with the HIT fast
 * path for adapters ({@link FromMemory}): the shape both `isr start`'s handler and `isr proxy`'s have.
 */
export type WebHandler = ((request: Request) => Promise<Response>) & { fromMemory?: FromMemory };

export interface FastPathOptions {
  /** Idle time after which a keep-alive connection is closed, in milliseconds (as `server.keepAliveTimeout`). */
  keepAliveTimeoutMs: Milliseconds;
}

export const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');

/** A parsed request head this path may answer: what a handler's {@link FromMemory} is given. */
export interface SimpleRequest {
  method: 'GET' | 'HEAD';
  /** The raw request target, origin-form (`/blog/1?x=1`). */
  target: string;
  /** The raw `If-None-Match` field value, if sent once. */
  ifNoneMatch: string | undefined;
  /** The `Host` field value, trimmed (undefined only from adapters that allow none). */
  host: string | undefined;
  /** Whether the request has an `Authorization` field (a shared cache passes such requests to the origin). */
  authorization: boolean;
  /** The `Cookie` field value(s), joined with `; ` if sent more than once. */
  cookie: string | undefined;
}

/**
 * Parses the request head `head` (latin1, without the final empty line). Returns undefined for
 * anything outside the grammar in the module comment: the caller then hands the request to node:http.
 */
export function parseSimpleRequest(head: string): SimpleRequest | undefined {
  let method: 'GET' | 'HEAD';
  let i: number;
  if (head.startsWith('GET /')) {
    method = 'GET';
    i = 4;
  } else if (head.startsWith('HEAD /')) {
    method = 'HEAD';
    i = 5;
  } else {
    return undefined;
  }
  const lineEnd = head.indexOf('\r\n');
  const requestLineEnd = lineEnd === -1 ? head.length : lineEnd;
  const space = head.indexOf(' ', i);
  if (space === -1 || space + 9 !== requestLineEnd || !head.startsWith(' HTTP/1.1', space)) return undefined;
  for (let j = i; j < space; j++) {
    const c = head.charCodeAt(j);
    if (c <= 0x20 || c >= 0x7f) return undefined;
  }
  const target = head.slice(i, space);
  let ifNoneMatch: string | undefined;
  let hosts = 0;
  let host = '';
  let authorization = false;
  let cookie: string | undefined;
  let line = requestLineEnd + 2;
  while (line < head.length) {
    let end = head.indexOf('\r\n', line);
    if (end === -1) end = head.length;
    const colon = head.indexOf(':', line);
    if (colon === -1 || colon >= end || colon === line) return undefined;
    for (let j = line; j < colon; j++) {
      const c = head.charCodeAt(j);
      if (c >= 128 || TCHAR[c] === 0) return undefined;
    }
    for (let j = colon + 1; j < end; j++) {
      const c = head.charCodeAt(j);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
    }
    // Only the names that change how a request is read or answered are looked at, compared in
    // place (no string per header line).
    switch (lookedAtName(head, line, colon)) {
      case 'host':
        host = trimmedValue(head, colon + 1, end);
        if (++hosts > 1) return undefined;
        // A client sends the same Host request after request: checked once while it does.
        if (host !== lastValidHost) {
          if (!isValidHost(host)) return undefined;
          lastValidHost = host;
        }
        break;
      case 'authorization':
        authorization = true;
        break;
      case 'cookie': {
        const value = trimmedValue(head, colon + 1, end);
        cookie = cookie === undefined ? value : `${cookie}; ${value}`;
        break;
      }
      case 'if-none-match':
        if (ifNoneMatch !== undefined) return undefined;
        ifNoneMatch = trimmedValue(head, colon + 1, end);
        break;
      case 'connection':
        if (!sameLowerCase(head, valueStart(head, colon + 1, end), valueEnd(head, colon + 1, end), 'keep-alive')) return undefined;
        break;
      case 'content-length':
      case 'transfer-encoding':
      case 'upgrade':
      case 'expect':
        return undefined;
    }
    line = end + 2;
  }
  // HTTP/1.1 requires exactly one valid Host (RFC 9112 §3.2); node:http and its listener answer 400 otherwise.
  if (hosts !== 1) return undefined;
  return { method, target, ifNoneMatch, host, authorization, cookie };
}

/** The last `Host` value {@link parseSimpleRequest} found valid. */
let lastValidHost: string | undefined;

/** The header names {@link parseSimpleRequest} looks at (lower case), by length. */
const LOOKED_AT_BY_LENGTH: ReadonlyArray<readonly string[] | undefined> = (() => {
  const names = [
    'host',
    'authorization',
    'cookie',
    'if-none-match',
    'connection',
    'content-length',
    'transfer-encoding',
    'upgrade',
    'expect',
  ];
  const byLength: string[][] = [];
  for (const name of names) (byLength[name.length] ??= []).push(name);
  return byLength;
})();

/**
 * The looked-at name (lower case, from {@link LOOKED_AT_BY_LENGTH}) that the field name
 * `head[start, end)` is, ignoring ASCII case; undefined for any other name. No string is made.
 */
function lookedAtName(head: string, start: number, end: number): string | undefined {
  const candidates = LOOKED_AT_BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  for (const name of candidates) if (sameLowerCase(head, start, end, name)) return name;
  return undefined;
}

/** Whether `head[start, end)` equals `lower` (lower-case ASCII), ignoring ASCII case. */
function sameLowerCase(head: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = head.charCodeAt(start + i);
    // 'A'..'Z' compare as 'a'..'z'; every other character as it is.
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Whitespace around a field value (OWS, RFC 9110 §5.6.3): SP or HTAB. */
const isOws = (c: number) => c === 0x20 || c === 0x09;

/** Where the field value in `head[start, end)` starts without its leading whitespace. */
function valueStart(head: string, start: number, end: number): number {
  while (start < end && isOws(head.charCodeAt(start))) start++;
  return start;
}

/** Where the field value in `head[start, end)` ends without its trailing whitespace. */
function valueEnd(head: string, start: number, end: number): number {
  while (end > start && isOws(head.charCodeAt(end - 1))) end--;
  return end;
}

/** The field value `head[start, end)` without leading and trailing whitespace. */
function trimmedValue(head: string, start: number, end: number): string {
  const from = valueStart(head, start, end);
  return head.slice(from, valueEnd(head, from, end));
}

/**
 * Bodies up to this size are copied into one Buffer with their head (one write per HIT), in bytes.
 * Most HTML pages fit. A larger body goes as a second buffer of a corked `writev`, which costs
 * its HIT ~9% of requests/s at 18 KB (measured with `isr proxy` under wrk).
 */
const COMBINED_BODY_BYTES = 64 * 1024;

/**
 * Bodies up to this size are copied at their first answer in a second; larger ones (up to
 * {@link COMBINED_BODY_BYTES}) at their second, so a client reading every page once (a crawler)
 * does not make a copy of each: the copies of one second are garbage the next. In bytes.
 */
const COMBINED_AT_ONCE_BYTES = 16 * 1024;

/**
 * The bytes of a response: the head (status line, entry headers, `date`, `connection`,
 * `keep-alive`) and the body, as one Buffer for a body up to {@link COMBINED_BODY_BYTES} (one
 * socket write; from its second answer in a second above {@link COMBINED_AT_ONCE_BYTES}), else
 * head and body apart. Heads are serialized once per headers object (they are per entry); the
 * `date` line changes once a second, and with it every response is rebuilt on first use in the
 * new second.
 */
export function responseCache(keepAliveTimeoutMs: Milliseconds): (answer: MemoryAnswer) => Buffer[] {
  const keepAlive = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(keepAliveTimeoutMs / 1000)}\r\n\r\n`;
  let second = -1;
  let tail = Buffer.alloc(0);
  let responses = new WeakMap<object, Map<number, { body: Uint8Array | undefined; bytes: Buffer[] }>>();
  const apart = (head: Buffer, body: Uint8Array) => [head, Buffer.from(body.buffer, body.byteOffset, body.byteLength)];
  const heads = new WeakMap<object, Map<number, Buffer>>();
  const headOf = (answer: MemoryAnswer): Buffer => {
    let byStatus = heads.get(answer.headers);
    if (byStatus === undefined) heads.set(answer.headers, (byStatus = new Map()));
    let head = byStatus.get(answer.status);
    if (head === undefined) {
      if (!Number.isInteger(answer.status) || answer.status < 200 || answer.status > 599) {
        throw new TypeError(`the fast path cannot send status ${answer.status}`);
      }
      let text = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Unknown'}\r\n`;
      for (const [name, value] of Object.entries(answer.headers)) {
        // Entries are valid by construction (http/fields.ts); this keeps a store written by
        // other code from splitting a response: the request goes to node:http, which answers 500.
        const problem = isToken(name) ? fieldValueProblem(value) : 'a name that is not a token';
        if (problem !== undefined)
          throw new TypeError(`the fast path cannot send header ${JSON.stringify(name.slice(0, 40))}: it holds ${problem}`);
        text += `${name}: ${value}\r\n`;
      }
      byStatus.set(answer.status, (head = Buffer.from(text, 'latin1')));
    }
    return head;
  };
  return (answer) => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      tail = Buffer.from(`date: ${new Date(now * 1000).toUTCString()}\r\n${keepAlive}`, 'latin1');
      responses = new WeakMap();
    }
    let byStatus = responses.get(answer.headers);
    if (byStatus === undefined) responses.set(answer.headers, (byStatus = new Map()));
    // HEAD and GET share headers objects and statuses: tell them apart by the body.
    const key = answer.body === undefined ? -answer.status : answer.status;
    let response = byStatus.get(key);
    const { body } = answer;
    if (response === undefined || response.body !== body) {
      const head = Buffer.concat([headOf(answer), tail]);
      const bytes =
        body === undefined || body.byteLength === 0
          ? [head]
          : body.byteLength <= COMBINED_AT_ONCE_BYTES
            ? [Buffer.concat([head, body])]
            : apart(head, body);
      response = { body, bytes };
      byStatus.set(key, response);
    } else if (response.bytes.length === 2 && body!.byteLength <= COMBINED_BODY_BYTES) {
      // Its second answer this second: worth the copy.
      response.bytes = [Buffer.concat(response.bytes)];
    }
    return response.bytes;
  };
}
