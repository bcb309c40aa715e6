/**
 * How the image endpoint (image.ts) fetches a remote image, safely, as Next.js 16 does
 * (https://nextjs.org/docs/app/api-reference/components/image#remotepatterns,
 * `maximumRedirects`, `dangerouslyAllowLocalIP`): each hop of a redirect must match the config's
 * `remotePatterns` again, at most `maximumRedirects` hops (3 by default) are followed, and the
 * connection is refused when the host name resolves to a private, loopback or link-local address
 * (checked at connect time by undici's `lookup`, so a DNS answer that changes between a check and
 * the connection cannot slip through) unless `dangerouslyAllowLocalIP` is set. The body is read
 * up to a limit, whatever `Content-Length` says.
 */

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, request } from 'undici';
import type { ImagesConfig } from '../config/next-config.ts';
import { REDIRECT_STATUSES } from '../http/response-head.ts';

/** Addresses a remote image may not come from: RFC 1918, loopback, link-local, CGNAT, unique-local, unspecified, multicast. */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

/** Whether `address` is one a remote image may not come from (an IPv4-mapped IPv6 address is checked as IPv4). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return PRIVATE.check(mapped, 'ipv4');
  const family = isIP(address);
  return family === 0 ? true : PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

class PrivateAddressError extends Error {
  readonly code = 'ISR_PRIVATE_ADDRESS';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** `dns.lookup` refusing private addresses: what undici connects with. */
function publicLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const list = addresses as LookupAddress[];
    if (list.some(({ address }) => isPrivateAddress(address)))
      return callback(new PrivateAddressError(`${hostname} resolves to a private address`), []);
    if ((options as { all?: boolean }).all) return callback(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
}

const publicAgent = new Agent({ connect: { lookup: publicLookup as never } });
const anyAgent = new Agent();

export interface FetchedImage {
  body: Uint8Array;
  type: string;
  /** The upstream's `max-age`, seconds, when it sent one. */
  maxAge?: number;
}

export interface FetchLimits {
  /** Milliseconds for the whole fetch. */
  timeoutMs: number;
  maxBytes: number;
}

/**
 * Fetches `url`, following redirects only to URLs `allowed` accepts.
 * @returns the image, or a refusal (status and message) for the client: 400 for a URL or an address
 *   not allowed, 508 for too many redirects, 413 for a body over the limit, 404/502 for an upstream
 *   that did not give an image.
 */
export async function fetchRemoteImage(
  url: URL,
  images: Pick<ImagesConfig, 'maximumRedirects' | 'dangerouslyAllowLocalIP'>,
  allowed: (url: URL) => boolean,
  limits: FetchLimits,
): Promise<FetchedImage | { status: number; message: string }> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const dispatcher = images.dangerouslyAllowLocalIP ? anyAgent : publicAgent;
  let current = url;
  for (let hop = 0; ; hop++) {
    if ((current.protocol !== 'http:' && current.protocol !== 'https:') || !allowed(current)) {
      return { status: 400, message: '"url" parameter is not allowed' };
    }
    if (
      !images.dangerouslyAllowLocalIP &&
      isIP(current.hostname.replace(/^\[|\]$/g, '')) !== 0 &&
      isPrivateAddress(current.hostname.replace(/^\[|\]$/g, ''))
    ) {
      return { status: 400, message: '"url" parameter is not allowed' };
    }
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(current, { method: 'GET', dispatcher, signal, headers: { accept: 'image/*' } });
    } catch (error) {
      const cause = error as { code?: string; cause?: { code?: string } };
      if (cause.code === 'ISR_PRIVATE_ADDRESS' || cause.cause?.code === 'ISR_PRIVATE_ADDRESS')
        return { status: 400, message: '"url" parameter is not allowed' };
      return { status: 502, message: `"url" parameter is valid but upstream response is invalid (${(error as Error).message})` };
    }
    if (REDIRECT_STATUSES.has(response.statusCode)) {
      await response.body.dump();
      const location = response.headers.location;
      if (typeof location !== 'string' || hop >= images.maximumRedirects) {
        return { status: 508, message: '"url" parameter is valid but upstream response is invalid (too many redirects)' };
      }
      current = new URL(location, current);
      continue;
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      return {
        status: response.statusCode === 404 ? 404 : 502,
        message: `"url" parameter is valid but upstream response is invalid (${response.statusCode})`,
      };
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > limits.maxBytes) {
        response.body.destroy();
        return { status: 413, message: 'the upstream image is too large' };
      }
      chunks.push(chunk);
    }
    const body = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      body.set(chunk, at);
      at += chunk.byteLength;
    }
    const header = (name: string) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value.join(', ') : (value ?? '');
    };
    const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)/i.exec(header('cache-control'))?.[1];
    return { body, type: header('content-type').split(';', 1)[0]!.trim(), maxAge: maxAge === undefined ? undefined : Number(maxAge) };
  }
}
