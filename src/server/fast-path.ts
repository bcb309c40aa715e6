import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { STATUS_CODES, type Server as HttpServer } from 'node:http';
import type { MemoryAnswer, RequestHandler } from './handler.ts';
import { isValidHost } from './node.ts';

/**
 * The HIT fast path of `isr start`: a TCP server in front of Node's HTTP server.
 *
 * Every connection starts here. While its requests are complete, simple `GET`/`HEAD` requests
 * whose page is fresh in the memory tier (the handler's `fromMemory`), each is answered at once by
 * writing the entry's precomputed status line and headers, a `Date` line made once a second, and
 * the stored body: no `IncomingMessage`, no `ServerResponse`, no header validation per request.
 * The first request it does not answer — anything else: another method, a body, `Connection:
 * close`, `Upgrade`, `Expect`, HTTP/1.0, a head split across packets, a byte outside the strict
 * grammar below, a page not fresh in memory — hands the connection, with every byte not yet
 * answered, to the `node:http` server, which serves that request and the rest of the connection
 * with all its protections (header limits and timeouts, keep-alive, errors).
 *
 * Why: on loopback Node's HTTP stack answers a constant Buffer at roughly half the rate a raw
 * socket can (docs/performance.md has the figures); the HIT path is what a cache is judged by.
 *
 * Grammar accepted here (RFC 9112 §3, stricter): request line `GET|HEAD SP origin-form SP
 * HTTP/1.1 CRLF`, the target made of visible ASCII only; header lines `token ":" OWS value OWS
 * CRLF` with no control characters but HTAB in the value, exactly one valid `Host`; the head ends at
 * the first empty line and is at most {@link MAX_HEAD_BYTES}. `Content-Length`, `Transfer-Encoding`, `Upgrade` and
 * `Expect` headers, and a `Connection` header other than `keep-alive`, are handed over.
 */

/** Largest request head answered here, in bytes (Node's default `maxHeaderSize` is 16 KiB). */
export const MAX_HEAD_BYTES = 16 * 1024;

type FromMemory = NonNullable<RequestHandler['fromMemory']>;

export interface FastPathOptions {
  /** Idle time after which a keep-alive connection is closed, in milliseconds (as `server.keepAliveTimeout`). */
  keepAliveTimeoutMs: number;
}

/** tchar of RFC 9110 §5.6.2, by byte. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');

/** A parsed request head this path may answer. */
interface SimpleRequest {
  method: 'GET' | 'HEAD';
  target: string;
  ifNoneMatch: string | undefined;
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
  let line = requestLineEnd + 2;
  while (line < head.length) {
    let end = head.indexOf('\r\n', line);
    if (end === -1) end = head.length;
    const colon = head.indexOf(':', line);
    if (colon === -1 || colon >= end || colon === line) return undefined;
    for (let j = line; j < colon; j++) {
      const c = head.charCodeAt(j);
      if (c >= 128 || TOKEN[c] === 0) return undefined;
    }
    for (let j = colon + 1; j < end; j++) {
      const c = head.charCodeAt(j);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
    }
    const nameLength = colon - line;
    // Only the names that change how a request is read or answered are looked at.
    if (nameLength === 13 || nameLength === 14 || nameLength === 17 || nameLength === 10 || nameLength === 7 || nameLength === 6 || nameLength === 4) {
      const name = head.slice(line, colon).toLowerCase();
      switch (name) {
        case 'host':
          if (++hosts > 1 || !isValidHost(head.slice(colon + 1, end).trim())) return undefined;
          break;
        case 'if-none-match':
          if (ifNoneMatch !== undefined) return undefined;
          ifNoneMatch = head.slice(colon + 1, end).trim();
          break;
        case 'connection':
          if (head.slice(colon + 1, end).trim().toLowerCase() !== 'keep-alive') return undefined;
          break;
        case 'content-length':
        case 'transfer-encoding':
        case 'upgrade':
        case 'expect':
          return undefined;
      }
    }
    line = end + 2;
  }
  // HTTP/1.1 requires exactly one valid Host (RFC 9112 §3.2); node:http and its listener answer 400 otherwise.
  if (hosts !== 1) return undefined;
  return { method, target, ifNoneMatch };
}

/** Bodies up to this size are copied into one Buffer with their head (one write per HIT), in bytes. */
const COMBINED_BODY_BYTES = 16 * 1024;

/**
 * The bytes of a response: the head (status line, entry headers, `date`, `connection`,
 * `keep-alive`) and the body, as one Buffer for a body up to {@link COMBINED_BODY_BYTES} (one
 * socket write), else head and body apart. Heads are serialized once per headers object (they are
 * per entry); the `date` line changes once a second, and with it every response is rebuilt on
 * first use in the new second.
 */
function responseCache(keepAliveTimeoutMs: number): (answer: MemoryAnswer) => Buffer[] {
  const keepAlive = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(keepAliveTimeoutMs / 1000)}\r\n\r\n`;
  let second = -1;
  let tail = Buffer.alloc(0);
  let responses = new WeakMap<object, Map<number, { body: Uint8Array | undefined; bytes: Buffer[] }>>();
  const heads = new WeakMap<object, Map<number, Buffer>>();
  const headOf = (answer: MemoryAnswer): Buffer => {
    let byStatus = heads.get(answer.headers);
    if (byStatus === undefined) heads.set(answer.headers, (byStatus = new Map()));
    let head = byStatus.get(answer.status);
    if (head === undefined) {
      let text = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Unknown'}\r\n`;
      for (const [name, value] of Object.entries(answer.headers)) text += `${name}: ${value}\r\n`;
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
    if (response === undefined || response.body !== answer.body) {
      const head = Buffer.concat([headOf(answer), tail]);
      const { body } = answer;
      const bytes =
        body === undefined || body.byteLength === 0
          ? [head]
          : body.byteLength <= COMBINED_BODY_BYTES
            ? [Buffer.concat([head, body])]
            : [head, Buffer.from(body.buffer, body.byteOffset, body.byteLength)];
      response = { body, bytes };
      byStatus.set(key, response);
    }
    return response.bytes;
  };
}

/**
 * Creates the TCP server of the fast path. `http` receives, through its `connection` event, every
 * connection this path hands over (and is told `listening` when this server listens, so its header
 * and request timeouts run). Listen on `server`; `close()` stops accepting connections and closes
 * every open one, on the fast path and handed over.
 */
export function createFastPathServer(
  http: HttpServer,
  fromMemory: FromMemory,
  options: FastPathOptions,
): { server: NetServer; close(): Promise<void> } {
  const responseOf = responseCache(options.keepAliveTimeoutMs);
  const sockets = new Set<Socket>();
  const server = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.setTimeout(options.keepAliveTimeoutMs);

    const handOver = (rest: Buffer | undefined) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('timeout', onTimeout);
      socket.off('drain', onDrain);
      socket.off('error', onError);
      socket.setTimeout(0);
      sockets.delete(socket);
      http.emit('connection', socket);
      if (rest !== undefined && rest.length > 0) socket.unshift(rest);
      if (socket.isPaused()) socket.resume();
    };

    const onData = (chunk: Buffer) => {
      let start = 0;
      socket.cork();
      while (start < chunk.length) {
        const end = chunk.indexOf(CRLF_CRLF, start);
        const request = end === -1 || end - start > MAX_HEAD_BYTES ? undefined : parseSimpleRequest(chunk.toString('latin1', start, end));
        const answer = request === undefined ? undefined : fromMemory(request.method, request.target, request.ifNoneMatch);
        if (answer === undefined) {
          socket.uncork();
          handOver(chunk.subarray(start));
          return;
        }
        for (const bytes of responseOf(answer)) socket.write(bytes);
        start = end + 4;
      }
      socket.uncork();
      // A client that sends faster than it reads: stop reading until its answers are taken.
      if (socket.writableNeedDrain) socket.pause();
    };
    const onDrain = () => {
      if (socket.isPaused()) socket.resume();
    };
    const onEnd = () => socket.end();
    const onTimeout = () => socket.destroy();
    const onError = () => socket.destroy();
    socket.on('data', onData);
    socket.on('drain', onDrain);
    socket.on('end', onEnd);
    socket.on('timeout', onTimeout);
    socket.on('error', onError);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('listening', () => http.emit('listening'));
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
      http.closeAllConnections();
      http.close(() => {}); // not listening itself: this only stops its timeout checks
    });
  return { server, close };
}
