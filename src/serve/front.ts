/**
 * The front of `isr start`: a TCP server in front of Node's HTTP server, which owns every
 * connection from its first byte to its last.
 *
 * **The HIT fast path.** A complete, simple `GET`/`HEAD` request whose page is fresh in the memory
 * tier, or stale there with its regeneration already running (the handler's `fromMemory`; the
 * grammar and the answer bytes are in `fast-path.ts`), is answered at once from precomputed bytes.
 * Every other request — another method, a body, `Connection: close`, `Upgrade`, `Expect`,
 * HTTP/1.0, a head split across reads, a page not in memory, or stale with no regeneration
 * running yet — is fed to the `node:http` server through a per-connection stream ({@link Bridge},
 * handed to node:http as the connection), which answers it with all its protections (header limits
 * and timeouts, keep-alive, errors). The connection stays here: the next simple request for a
 * fresh page is the fast path's again.
 *
 * **Backpressure** (as nginx treats pipelined requests). A connection has one request in flight:
 * the next request is looked at only once the current one is answered and the socket has taken
 * the answer. node:http is fed one request head at a time, then exactly the body it reads, so it
 * never parses a flood of pipelined requests at once. At most {@link READ_AHEAD_BYTES} are read
 * ahead (plus the one read of up to 64 KiB that crossed the bound, and one more that the paused
 * socket's stream holds); the rest of a pipeline waits, unread, in the kernel. Answers from the
 * cache share the stored bytes (`stored-body.ts`), so a client that sends without reading costs
 * about that read-ahead plus one answer's head.
 *
 * **Fairness.** A connection starts at most {@link REQUESTS_PER_TURN} requests per turn of the
 * event loop; connections with pipelined requests waiting take round-robin turns ({@link Turns}).
 * libuv accepts one new connection per turn of the loop, so a flood answered inline would delay
 * every other client's accept.
 *
 * **Timeouts.** Idle: node:http's keep-alive timeout plus its 1 s buffer. While a request is in
 * flight: none of the front's own (the render timeout bounds a render, node:http's request
 * timeout a body that does not come). An answer not yet taken by the client: {@link
 * SEND_TIMEOUT_MS} (nginx's `send_timeout`). Empty lines before a request line are skipped (RFC
 * 9112 §2.2); the HTTP/2 preface goes to node:http whole, which refuses it.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { Milliseconds } from '../units.ts';
import {
  CRLF_CRLF,
  type FastPathOptions,
  type FromMemory,
  MAX_HEAD_BYTES,
  type MemoryAnswer,
  parseSimpleRequest,
  responseCache,
} from './fast-path.ts';
import { answerServerError } from './node.ts';

/** Unanswered bytes read ahead from one connection before reading stops, in bytes (one head fits). */
export const READ_AHEAD_BYTES = MAX_HEAD_BYTES + 4 * 1024;

/** Bytes of a chunked request body handed to node:http per step, so that little beyond it is read. */
const CHUNKED_BODY_STEP_BYTES = 1024;

/**
 * How long a written answer may wait for the client to take it (no progress), in milliseconds:
 * nginx's `send_timeout` default. Reading resets it.
 */
const SEND_TIMEOUT_MS = 60_000;

/**
 * Added to the advertised keep-alive timeout before an idle connection is closed, in milliseconds,
 * as node:http does (`HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER`): a client reusing the connection at
 * the advertised deadline must not meet a reset.
 */
const KEEP_ALIVE_BUFFER_MS = 1000;

/** Requests a connection may start in one turn of the event loop before the others get theirs. */
const REQUESTS_PER_TURN = 4;

/** Connections with pipelined requests waiting whose turns are run per turn of the event loop. */
const CONNECTIONS_PER_TURN = 8;

/**
 * Round-robin turns for connections with pipelined requests waiting. A connection that has started
 * {@link REQUESTS_PER_TURN} requests, or whose answer completed without any I/O, waits here for its
 * next turn; {@link CONNECTIONS_PER_TURN} turns run per turn of the event loop. New connections and
 * newly read requests are never queued behind a pipelining client: libuv accepts one connection
 * per turn of the loop, so a flood that ran inline would delay everyone else's accept.
 */
class Turns {
  readonly #queue: (() => void)[] = [];
  #scheduled = false;

  defer(turn: () => void): void {
    this.#queue.push(turn);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    const count = Math.min(this.#queue.length, CONNECTIONS_PER_TURN);
    for (let i = 0; i < count; i++) this.#queue.shift()!();
    if (this.#queue.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  };
}

export interface FrontOptions extends FastPathOptions {
  /** The fast path's answers; undefined sends every request to node:http (`fastPath: false`, no memory tier). */
  fromMemory: FromMemory | undefined;
  /** The request listener of node:http, called for one request of a connection at a time. */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Called with an unexpected error and what it cost: an answer the fast path could not send (the
   * request then goes to node:http), or a connection (closed).
   */
  onError?: (error: unknown, consequence: string) => void;
}

/**
 * The stream node:http reads a connection's requests from and writes its answers to. Reads are
 * what the front feeds it; writes go straight to the socket (a write waits for the socket to drain
 * when it is full); ending or destroying it ends or destroys the socket.
 */
class Bridge extends Duplex {
  readonly #socket: Socket;
  readonly #onRead: () => void;

  constructor(socket: Socket, onRead: () => void) {
    super({ allowHalfOpen: true });
    this.#socket = socket;
    this.#onRead = onRead;
  }

  override _read(): void {
    this.#onRead();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#socket.destroyed) return callback(new Error('the connection is closed'));
    if (this.#socket.write(chunk)) callback();
    else this.#afterDrain(callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    if (this.#socket.destroyed) return callback(new Error('the connection is closed'));
    this.#socket.cork();
    let ok = true;
    for (const { chunk } of chunks) ok = this.#socket.write(chunk) && ok;
    this.#socket.uncork();
    if (ok) callback();
    else this.#afterDrain(callback);
  }

  #afterDrain(callback: (error?: Error | null) => void): void {
    const done = () => {
      this.#socket.off('drain', done);
      this.#socket.off('close', done);
      callback(this.#socket.destroyed ? new Error('the connection is closed') : null);
    };
    this.#socket.on('drain', done);
    this.#socket.on('close', done);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // node:http writes its 400/408/431 answer just before destroying: let it leave first.
    if (error !== null && this.#socket.writableLength > 0 && !this.#socket.destroyed) this.#socket.end();
    else this.#socket.destroy();
    callback(error);
  }

  /** node:http sets its keep-alive and request timeouts here; the front keeps the socket's own. */
  setTimeout(): this {
    return this;
  }

  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.#socket.remotePort;
  }

  get localAddress(): string | undefined {
    return this.#socket.localAddress;
  }

  get localPort(): number | undefined {
    return this.#socket.localPort;
  }

  get bytesWritten(): number {
    return this.#socket.bytesWritten;
  }
}

/** The request node:http is answering on a connection, and how much of its body is still to feed. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  /**
   * Body bytes still to hand to node:http: a count (the Content-Length of a head the front cut
   * itself), or `until-complete` (a chunked body, or a request node:http parsed from bytes fed
   * with another's body): fed in steps until node:http says the request is complete.
   */
  body: number | 'until-complete';
  /** The response has been written (to the socket's buffer). */
  answered: boolean;
}

/** What every connection of one front shares. */
interface ConnectionShared {
  /** The node:http server fed the requests the front does not answer itself. */
  http: HttpServer;
  options: FrontOptions;
  /** The bytes of a memory answer (status line, head, body). */
  responseOf: (answer: MemoryAnswer) => Buffer[];
  /** The round-robin of connections with pipelined requests waiting. */
  turns: Turns;
}

/**
 * One client connection. It reads at most {@link READ_AHEAD_BYTES} ahead and has one request in
 * flight at a time: the next request is looked at only once the current one is answered and the
 * socket has taken the answer (not waiting to drain), as nginx does with pipelined requests.
 *
 * Modes: `front` (at a request boundary: answer from memory, or feed the head to node:http),
 * `partial-head` (node:http holds the start of a head; feed until it ends), `awaiting` (node:http
 * has a whole head and will emit its request), `exchange` (node:http answers a request; its body,
 * if any, is fed as node:http reads it), `closed`.
 */
class Connection {
  readonly #socket: Socket;
  readonly #options: FrontOptions;
  readonly #http: HttpServer;
  readonly #responseOf: (answer: MemoryAnswer) => Buffer[];
  readonly #turns: Turns;
  /** Requests this connection may still start in the current turn. */
  #budget = REQUESTS_PER_TURN;
  /** A turn is queued in {@link Turns}. */
  #waitingTurn = false;
  #pending: Buffer = EMPTY;
  #mode: 'front' | 'partial-head' | 'awaiting' | 'exchange' | 'closed' = 'front';
  /** The last bytes fed in `partial-head` mode (for a CRLFCRLF split across reads). */
  #tail: Buffer = EMPTY;
  #bridge: Bridge | undefined;
  #exchange: Exchange | undefined;
  /** Requests node:http parsed beyond the current one (bytes fed with a chunked body), in order. */
  readonly #queued: [IncomingMessage, ServerResponse, FrontOptions['listener'], boolean][] = [];
  /** The front fed node:http a head whose request has not been emitted yet. */
  #ownHeadFed = false;
  /** Idle keep-alive timeout of the socket, in milliseconds. */
  readonly #idleMs: Milliseconds;
  /** node:http asked for more bytes and has none buffered. */
  #wanted = false;
  #clientEnded = false;
  /** node:http was told the client's input ended. */
  #inputEnded = false;
  /**
   * Requests may be answered from memory. Off once node:http may hold bytes of a head the front
   * has not seen whole (after a chunked body was fed in steps): then only node:http answers.
   */
  #fastPathAllowed = true;
  #pumping = false;
  /** An event arrived while pumping: pump again. */
  #again = false;

  constructor(socket: Socket, shared: ConnectionShared) {
    const { http, options, responseOf, turns } = shared;
    this.#socket = socket;
    this.#http = http;
    this.#options = options;
    this.#responseOf = responseOf;
    this.#turns = turns;
    this.#idleMs = options.keepAliveTimeoutMs + KEEP_ALIVE_BUFFER_MS;
    socket.setTimeout(this.#idleMs);
    socket.on('data', (chunk: Buffer) => {
      if (this.#mode === 'closed') return;
      this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
      if (this.#pending.length >= READ_AHEAD_BYTES) socket.pause();
      if (!this.#waitingTurn) this.#budget = REQUESTS_PER_TURN;
      this.#pump();
    });
    socket.on('drain', () => {
      // A fast-path answer has been taken: the connection is idle again.
      if (this.#mode === 'front') socket.setTimeout(this.#idleMs);
      this.#pump();
    });
    socket.on('end', () => {
      this.#clientEnded = true;
      this.#pump();
    });
    socket.on('timeout', () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.#mode = 'closed';
      this.#pending = EMPTY;
      this.#bridge?.destroy();
    });
  }

  /** node:http emitted a request of this connection: run it now, or after the current one. */
  onRequest(req: IncomingMessage, res: ServerResponse, listener: FrontOptions['listener']): void {
    // The first request emitted after the front fed a head is that head's; any other was parsed
    // from bytes fed along with a body, and its own body may already be in node:http.
    const own = this.#ownHeadFed && this.#queued.length === 0;
    this.#ownHeadFed = false;
    if (this.#exchange !== undefined) {
      this.#queued.push([req, res, listener, own]);
      return;
    }
    this.#start(req, res, listener, own);
  }

  #start(req: IncomingMessage, res: ServerResponse, listener: FrontOptions['listener'], own: boolean): void {
    const length = req.headers['content-length'];
    const exchange: Exchange = {
      req,
      res,
      body: !own || req.headers['transfer-encoding'] !== undefined ? 'until-complete' : length !== undefined ? Number(length) : 0,
      answered: false,
    };
    this.#exchange = exchange;
    this.#mode = 'exchange';
    // A render may take longer than the idle timeout: renderTimeout bounds it, and node:http's
    // request timeout covers a body that does not arrive.
    this.#socket.setTimeout(0);
    const done = () => {
      if (exchange.answered) return;
      exchange.answered = true;
      // As node:http after an answer: idle from now on (or waiting for the client to take it).
      if (!this.#socket.destroyed) this.#socket.setTimeout(this.#socket.writableLength > 0 ? SEND_TIMEOUT_MS : this.#idleMs);
      this.#pumpSoon();
    };
    res.once('finish', done);
    res.once('close', done);
    try {
      listener(req, res);
    } catch (error) {
      // A listener that throws costs its request a 500, never the process.
      this.#options.onError?.(error, 'the request was answered 500');
      answerServerError(res);
    }
    // Its body, if any, is fed from here on.
    this.#pumpSoon();
  }

  /**
   * {@link #pump} once the current call stack has unwound. For calls from node:http: it emits a
   * request from inside its parser, and feeding the parser from there would re-enter it.
   */
  #pumpSoon(): void {
    queueMicrotask(() => this.#pump());
  }

  /** Moves the connection on as far as it can go now; called on every event. */
  #pump(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        this.#step();
      } while (this.#again);
    } catch (error) {
      // A bug here must cost one connection, never the process.
      this.#options.onError?.(error, 'the connection was closed');
      this.#socket.destroy();
    } finally {
      this.#pumping = false;
    }
  }

  #step(): void {
    for (;;) {
      switch (this.#mode) {
        case 'closed':
          return;
        case 'exchange': {
          const exchange = this.#exchange!;
          if (!this.#feedBody(exchange)) return;
          // Answered and its body all read: the next request, if node:http already parsed one.
          this.#exchange = undefined;
          if (exchange.body === 'until-complete') this.#fastPathAllowed = false;
          this.#mode = 'front';
          this.#socket.setTimeout(this.#idleMs);
          // The next request waits for this connection's next turn: answers that resolve without
          // I/O (a stale page) must not keep the loop from other clients.
          this.#budget = 0;
          if (this.#queued.length > 0 || this.#pending.length > 0) this.#waitTurn();
          else this.#read();
          return;
        }
        case 'awaiting':
          if (this.#clientEnded && this.#pending.length === 0) this.#endInput();
          return;
        case 'partial-head': {
          if (this.#pending.length === 0) {
            // The client ended inside a head: node:http answers that (400) and closes.
            if (this.#clientEnded) return this.#endInput();
            return this.#read();
          }
          const joined = Buffer.concat([this.#tail, this.#pending]);
          const end = joined.indexOf(CRLF_CRLF);
          if (end === -1) {
            this.#tail = joined.subarray(Math.max(0, joined.length - 3));
            this.#feed(this.#pending);
            this.#pending = EMPTY;
            return this.#read();
          }
          const upTo = end + 4 - this.#tail.length;
          const head = this.#pending.subarray(0, upTo);
          this.#tail = EMPTY;
          this.#pending = this.#pending.subarray(upTo);
          // Before feeding: node:http may emit the request (and answer it) within the push.
          this.#mode = 'awaiting';
          this.#ownHeadFed = true;
          this.#feed(head);
          return;
        }
        case 'front': {
          // The client has not taken the previous answers: read nothing more until it does.
          if (this.#socket.writableNeedDrain) return;
          if (this.#queued.length > 0) {
            // node:http already parsed it (bytes fed with a chunked body).
            if (this.#budget <= 0) return this.#waitTurn();
            this.#budget--;
            this.#start(...this.#queued.shift()!);
            continue;
          }
          // Empty lines before a request line are ignored (RFC 9112 §2.2).
          let skip = 0;
          while (skip < this.#pending.length && (this.#pending[skip] === 0x0d || this.#pending[skip] === 0x0a)) skip++;
          if (skip > 0) this.#pending = this.#pending.subarray(skip);
          if (this.#pending.length === 0) {
            if (this.#clientEnded) {
              this.#mode = 'closed';
              this.#socket.end();
              return;
            }
            return this.#read();
          }
          if (this.#budget <= 0) return this.#waitTurn();
          const end = this.#pending.indexOf(CRLF_CRLF);
          if (end === 14 && this.#pending.toString('latin1', 0, 14) === 'PRI * HTTP/2.0') {
            // The HTTP/2 connection preface (RFC 9113 §3.4) is no HTTP/1.1 head: node:http takes
            // all of it, and refuses it.
            const preface = this.#pending;
            this.#pending = EMPTY;
            this.#mode = 'awaiting';
            this.#feed(preface);
            return;
          }
          if (end === -1 || end > MAX_HEAD_BYTES) {
            // A head split across reads (or too long: node:http answers 431): node:http takes it
            // from here, with its header timeout and limits.
            this.#mode = 'partial-head';
            this.#tail = EMPTY;
            this.#socket.setTimeout(0);
            continue;
          }
          this.#budget--;
          if (this.#fastPathAllowed && this.#answer(end)) continue;
          const head = this.#pending.subarray(0, end + 4);
          this.#pending = this.#pending.subarray(end + 4);
          this.#mode = 'awaiting';
          this.#ownHeadFed = true;
          this.#feed(head);
          return;
        }
      }
    }
  }

  /** Answers the head ending at `end` from memory, if the fast path can; true when it did. */
  #answer(end: number): boolean {
    const fromMemory = this.#options.fromMemory;
    if (fromMemory === undefined) return false;
    const request = parseSimpleRequest(this.#pending.toString('latin1', 0, end));
    if (request === undefined) return false;
    let bytes: Buffer[];
    try {
      const answer = fromMemory(request);
      if (answer === undefined) return false;
      bytes = this.#responseOf(answer);
    } catch (error) {
      // node:http answers it instead, through the full handler and its error page.
      this.#options.onError?.(error, 'node:http answers the request instead');
      return false;
    }
    // One Buffer (the usual answer: head and body together) is one write; corking it would only
    // add the stream's buffering of a single chunk.
    if (bytes.length === 1) this.#socket.write(bytes[0]!);
    else {
      this.#socket.cork();
      for (const chunk of bytes) this.#socket.write(chunk);
      this.#socket.uncork();
    }
    // Not all taken yet: the client gets the send timeout to take it, not the idle one.
    if (this.#socket.writableLength > 0) this.#socket.setTimeout(SEND_TIMEOUT_MS);
    this.#pending = end + 4 === this.#pending.length ? EMPTY : this.#pending.subarray(end + 4);
    return true;
  }

  /**
   * Hands body bytes of the current request to node:http as it reads them. True once the request
   * is answered and its body fully handed over (the connection can move to the next request).
   */
  #feedBody(exchange: Exchange): boolean {
    // node:http's word is final: a request it has whole needs nothing more, whatever was counted.
    const bodyDone = () => exchange.req.complete || exchange.body === 0;
    while (!bodyDone() && this.#pending.length > 0 && this.#wanted) {
      const size =
        exchange.body === 'until-complete'
          ? Math.min(CHUNKED_BODY_STEP_BYTES, this.#pending.length)
          : Math.min(exchange.body, this.#pending.length);
      if (exchange.body !== 'until-complete') exchange.body -= size;
      this.#feed(this.#pending.subarray(0, size));
      this.#pending = this.#pending.subarray(size);
      // Without a count, the body ends where node:http says (`req.complete`): one step per turn.
      if (exchange.body === 'until-complete') {
        setImmediate(() => this.#pump());
        break;
      }
    }
    // The client ended its side with nothing more to read: node:http decides, as on a socket of its
    // own (it ends the connection, and the request's `request.signal` aborts).
    if (this.#clientEnded && this.#pending.length === 0) this.#endInput();
    if (!bodyDone()) {
      this.#read();
      return false;
    }
    if (!exchange.answered) return false;
    return !this.#socket.writableNeedDrain;
  }

  /** Hands `bytes` to node:http, creating its side of the connection on first use. */
  #feed(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.#bridge === undefined) {
      const bridge = new Bridge(this.#socket, () => {
        this.#wanted = true;
        this.#pumpSoon();
      });
      this.#bridge = bridge;
      BRIDGES.set(bridge, this);
      bridge.on('error', () => {});
      // node:http ended or dropped the connection: nothing more is read; a client that does not
      // close its side is dropped after the idle timeout.
      const closed = () => {
        this.#mode = 'closed';
        this.#pending = EMPTY;
        if (!this.#socket.destroyed) this.#socket.setTimeout(this.#idleMs);
      };
      bridge.on('finish', closed);
      bridge.on('close', closed);
      this.#http.emit('connection', bridge);
    }
    this.#wanted = this.#bridge.push(bytes);
  }

  /** Queues this connection's next turn (once). */
  #waitTurn(): void {
    if (this.#waitingTurn) return;
    this.#waitingTurn = true;
    this.#turns.defer(() => {
      this.#waitingTurn = false;
      this.#budget = REQUESTS_PER_TURN;
      this.#pump();
    });
  }

  /** Tells node:http that the client's input ended (once). */
  #endInput(): void {
    if (this.#inputEnded || this.#bridge === undefined) return;
    this.#inputEnded = true;
    this.#bridge.push(null);
  }

  /** Reads more from the client while less than {@link READ_AHEAD_BYTES} is buffered. */
  #read(): void {
    if (this.#pending.length < READ_AHEAD_BYTES && this.#socket.isPaused() && !this.#clientEnded) this.#socket.resume();
  }
}

const EMPTY = Buffer.alloc(0);

/** The connection each bridge belongs to (node:http hands the bridge back as `req.socket`). */
const BRIDGES = new WeakMap<Duplex, Connection>();

/**
 * Creates the TCP server in front of `http` (created without a request listener: `options.listener`
 * is registered here and called one request per connection at a time). Every connection starts
 * here and stays here: simple requests for fresh pages are answered from memory, every other
 * request is fed to node:http (through a per-connection stream; `http` is told `listening` when
 * this server listens, so its header and request timeouts run). Listen on `server`; `close()`
 * stops accepting connections and closes every open one.
 */
export function createFrontServer(http: HttpServer, options: FrontOptions): { server: NetServer; close(): Promise<void> } {
  const responseOf = responseCache(options.keepAliveTimeoutMs);
  const turns = new Turns();
  const sockets = new Set<Socket>();
  const route = (listener: FrontOptions['listener']) => (req: IncomingMessage, res: ServerResponse) => {
    const connection = BRIDGES.get(req.socket);
    if (connection === undefined) listener(req, res);
    else connection.onRequest(req, res, listener);
  };
  http.on('request', route(options.listener));
  // An `Expect` other than 100-continue: 417 (RFC 9110 §10.1.1), as one exchange of the connection.
  http.on(
    'checkExpectation',
    route((_req, res) => res.writeHead(417, { 'content-length': '0', connection: 'close' }).end()),
  );
  const server = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new Connection(socket, { http, options, responseOf, turns });
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
