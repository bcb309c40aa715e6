/**
 * The shared secret of the operator endpoints (`/_isr/revalidate`, `/_isr/status`):
 * `Authorization: Bearer <ISR_REVALIDATE_TOKEN>` (RFC 6750 §2.1), compared in constant time.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { NOT_STORED } from '../http/cache-control.ts';

/** A JSON response that no cache keeps (`no-store`). */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': NOT_STORED, ...headers },
  });
}

/** Constant-time comparison of two secrets of any lengths (both are hashed first). */
export function safeEqual(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * The 401 answer for a request without the right bearer token, or undefined when it carries it.
 * With no token configured every request is refused, saying which setting enables `feature`.
 * The answer never echoes the token or the header.
 */
export function refuseWithoutToken(request: Request, token: string | undefined, feature: string): Response | undefined {
  if (token === undefined) {
    return json(401, { error: `${feature} is disabled: set ISR_REVALIDATE_TOKEN on the server` });
  }
  const match = /^Bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '');
  if (match === null || !safeEqual(match[1]!.trim(), token)) {
    return json(401, { error: 'missing or invalid bearer token' }, { 'www-authenticate': 'Bearer' });
  }
  return undefined;
}
