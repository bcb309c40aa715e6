/**
 * The `Host` of a request (RFC 9112 §3.2, RFC 9110 §7.2): which values a server accepts, and the
 * authority of an absolute-form request target (RFC 9112 §3.2.2).
 */

/** A host the Web `Request` URL is built with: letters, digits, `.` and `-`, or an IP literal, and an optional port. */
const URL_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** `uri-host [ ":" port ]` (RFC 9110 §7.2 with RFC 3986 §3.2.2): a reg-name or an IP literal; empty is allowed. */
const VALID_HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*(?::\d*)?$|^\[[0-9A-Fa-f:.]+\](?::\d*)?$/;

/** Longest `Host` value accepted, in characters (a DNS name has at most 253, plus a port). */
export const MAX_HOST_LENGTH = 255;

/**
 * Whether `value` is a `Host` field value a server may accept: `uri-host [ ":" port ]` of at most
 * {@link MAX_HOST_LENGTH} characters. RFC 9112 §3.2: a request with an invalid Host, or with more
 * than one, MUST be answered 400.
 */
export function isValidHost(value: string): boolean {
  return value.length <= MAX_HOST_LENGTH && VALID_HOST.test(value);
}

/**
 * Whether `value` may be the host of the Web `Request` URL as it is: a DNS-style name (letters,
 * digits, `.`, `-`) or an IP literal, an optional port of up to 5 digits, at most
 * {@link MAX_HOST_LENGTH} characters. Narrower than {@link isValidHost}.
 */
export function isUrlHost(value: string): boolean {
  return value.length <= MAX_HOST_LENGTH && URL_HOST.test(value);
}

/**
 * The authority and origin-form of an absolute-form request target (`http://host/path?q`, RFC
 * 9112 §3.2.2, which a server MUST accept): the Host of the request is then the target's authority,
 * and the Host header is ignored. Undefined for any other form, or when the authority is not a
 * valid `uri-host [ ":" port ]` (the target is then taken as a path, which matches no page).
 */
export function absoluteFormTarget(target: string): { host: string; target: string } | undefined {
  const match = /^https?:\/\/([^/?#]*)([^#]*)$/i.exec(target);
  if (match === null) return undefined;
  const host = match[1]!;
  if (host === '' || !isValidHost(host) || !URL_HOST.test(host)) return undefined;
  const rest = match[2]!;
  return { host, target: rest.startsWith('/') ? rest : `/${rest}` };
}
