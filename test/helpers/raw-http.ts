/**
 * HTTP/1.1 exchanges over a raw socket, so a test sees the bytes a server wrote: an injected
 * header line, a bare LF or a garbled byte cannot be hidden by a client's parser.
 */

import { connect } from 'node:net';

export interface RawResponse {
  /** The response head exactly as received (latin1), without the final CRLF CRLF. */
  head: string;
  status: number;
  /** Header lines in order, names lower-cased. */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** A header field line of RFC 9112 §5 as a strict recipient reads it: token, colon, OWS, field-value. */
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*$/;

/**
 * Why `head` is not a well-formed HTTP/1.1 response head (status line, then header lines, each
 * ended by CRLF: RFC 9112 §2.1, §4, §5), or undefined when it is. A bare CR or LF anywhere, a
 * line that is not `name: value`, or a control character in a value is reported.
 */
export function headProblem(head: string): string | undefined {
  const lines = head.split('\r\n');
  for (const [index, line] of lines.entries()) {
    if (/[\r\n]/.test(line)) return `line ${index} holds a bare CR or LF: ${JSON.stringify(line)}`;
  }
  if (!/^HTTP\/1\.1 [1-5]\d\d [\t\x20-\x7e\x80-\xff]*$/.test(lines[0]!)) return `bad status line ${JSON.stringify(lines[0])}`;
  for (const line of lines.slice(1)) {
    if (!HEADER_LINE.test(line)) return `bad header line ${JSON.stringify(line)}`;
  }
  return undefined;
}

/** Parses the first response in `bytes`, or undefined while it is incomplete. */
function parseResponse(bytes: Buffer, method: string): { response: RawResponse; length: number } | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const head = bytes.toString('latin1', 0, end);
  const lines = head.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1] ?? 0);
  const headers = lines.slice(1).map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
  const start = end + 4;
  const get = (name: string) => headers.find(([n]) => n === name)?.[1];
  if (method === 'HEAD' || status === 304 || status === 204 || (status >= 100 && status < 200)) {
    return { response: { head, status, headers, body: Buffer.alloc(0) }, length: start };
  }
  if (get('transfer-encoding')?.toLowerCase() === 'chunked') {
    const chunks: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = bytes.indexOf('\r\n', at);
      if (lineEnd === -1) return undefined;
      const size = Number.parseInt(bytes.toString('latin1', at, lineEnd), 16);
      if (!Number.isFinite(size)) throw new Error(`bad chunk size in ${JSON.stringify(bytes.toString('latin1', at, lineEnd))}`);
      if (bytes.length < lineEnd + 2 + size + 2) return undefined;
      if (size === 0) return { response: { head, status, headers, body: Buffer.concat(chunks) }, length: lineEnd + 4 };
      chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const contentLength = get('content-length');
  if (contentLength === undefined) return undefined; // read until the connection closes
  const length = start + Number(contentLength);
  if (bytes.length < length) return undefined;
  return { response: { head, status, headers, body: bytes.subarray(start, length) }, length };
}

export interface RawRequest {
  path: string;
  method?: string;
  /** `Host` value; default `127.0.0.1:<port>`. */
  host?: string;
  /** Extra header lines, e.g. `{ connection: 'close' }`. */
  headers?: Record<string, string>;
}

/**
 * Sends `requests` one after another on one connection to 127.0.0.1:`port` (keep-alive unless a
 * request says `connection: close`) and resolves with each response once all have arrived; a
 * response without a length is read until the server closes. Rejects after `timeoutMs` (default
 * 10 s) or when the connection fails or closes before every response arrived.
 */
export function rawExchange(port: number, requests: RawRequest[], timeoutMs = 10_000): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const responses: RawResponse[] = [];
    let buffer = Buffer.alloc(0);
    let closed = false;
    const timer = setTimeout(
      () => finish(new Error(`no complete answer within ${timeoutMs} ms (${responses.length} of ${requests.length})`)),
      timeoutMs,
    );
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(responses);
    };
    const send = () => {
      const request = requests[responses.length]!;
      const lines = [`${request.method ?? 'GET'} ${request.path} HTTP/1.1`, `host: ${request.host ?? `127.0.0.1:${port}`}`];
      for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    };
    const drain = () => {
      for (;;) {
        const request = requests[responses.length];
        if (request === undefined) return finish();
        let parsed: ReturnType<typeof parseResponse>;
        try {
          parsed = parseResponse(buffer, request.method ?? 'GET');
        } catch (error) {
          return finish(error as Error);
        }
        if (parsed === undefined) {
          if (!closed) return;
          const end = buffer.indexOf('\r\n\r\n');
          if (end === -1)
            return finish(
              new Error(`the connection closed before answer ${responses.length + 1}: ${JSON.stringify(buffer.toString('latin1'))}`),
            );
          // No length: the body runs to the close.
          const whole = parseResponse(Buffer.concat([buffer.subarray(0, end + 4)]), 'HEAD')!.response;
          responses.push({ ...whole, body: buffer.subarray(end + 4) });
          buffer = Buffer.alloc(0);
          continue;
        }
        responses.push(parsed.response);
        buffer = buffer.subarray(parsed.length);
        if (responses.length < requests.length) send();
      }
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      drain();
    });
    socket.on('end', () => {
      closed = true;
      drain();
      if (responses.length < requests.length)
        finish(new Error(`the connection closed after ${responses.length} of ${requests.length} answers`));
    });
    socket.on('error', (error) => finish(error));
  });
}

/** One request on its own connection (see {@link rawExchange}). */
export async function rawRequest(port: number, request: RawRequest, timeoutMs?: number): Promise<RawResponse> {
  return (await rawExchange(port, [request], timeoutMs))[0]!;
}

/** The value of header `name` (lower case) in `response`, all values joined by `, `; undefined if absent. */
export function header(response: RawResponse, name: string): string | undefined {
  const values = response.headers.filter(([n]) => n === name).map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(', ');
}
