/**
 * Which response headers a cache entry keeps. Stored bodies are decoded bytes served to many
 * clients, so the entry drops: `set-cookie` (one visitor's cookie must never reach the others),
 * hop-by-hop headers (RFC 9110 §7.6.1), and `content-length` / `content-encoding` (the body is
 * stored decoded; the server sets its own length).
 */
const DROPPED = new Set([
  'set-cookie',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-encoding',
]);

/** The headers of `response` worth storing with its body, lower-case names. */
export function storableHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (!DROPPED.has(name)) kept[name] = value;
  });
  return kept;
}
