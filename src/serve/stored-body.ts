/**
 * Responses whose body is a stored cache entry's bytes, shared rather than copied.
 *
 * `new Response(uint8Array)` copies the bytes (the Fetch standard's "extract a body" takes a copy
 * of a buffer source), so every answer from the cache would hold a private copy of its page until
 * written: one page's size per request waiting on a slow client. A stored-body response instead
 * carries the entry's bytes under a private symbol: the Node adapter (`writeWebResponse`) writes
 * them as they are, and the Web stream of `response.body`, for code that reads the Response itself
 * (embedders), copies them only when read, so no reader can change the stored entry.
 */

const STORED_BODY = Symbol('isr.storedBody');

/**
 * A Response with `body` (stored bytes, never written to) as its content; `null` for no body.
 * `init.headers` should carry the `content-length` (a stream body has none of its own).
 */
export function storedBodyResponse(body: Uint8Array | null, init: ResponseInit): Response {
  if (body === null) return new Response(null, init);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      // A copy (`Buffer#slice` would be a view: stored entries are often Buffers).
      controller.enqueue(new Uint8Array(body));
      controller.close();
    },
  });
  const response = new Response(stream, init);
  Object.defineProperty(response, STORED_BODY, { value: body });
  return response;
}

/** The stored bytes of a response made by {@link storedBodyResponse}, if its body was not read. */
export function storedBodyOf(response: Response): Uint8Array | undefined {
  const body = (response as unknown as Record<symbol, Uint8Array | undefined>)[STORED_BODY];
  return body !== undefined && !response.bodyUsed ? body : undefined;
}
