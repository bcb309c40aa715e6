/** Small HTTP client helpers for the scenarios that are not load runs (keep-alive, loopback). */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** From sending the request to the last byte of the body, in milliseconds. */
  elapsedMs: number;
}

/** GET `url` with a 60-second timeout; rejects on a socket error or timeout, never on a status. */
export function get(url: string, headers: Record<string, string> = {}, via: Agent = agent): Promise<Answer> {
  return send('GET', url, { headers, via });
}

/**
 * `method url` with an optional body, through `via` (default: a shared keep-alive agent of up to
 * 256 sockets; give an `Agent` with `maxSockets: 1` for a client that keeps one connection), with
 * a 60-second timeout; rejects on a socket error or timeout, never on a status.
 */
export function send(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string; via?: Agent } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const headers = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = request(url, { method, agent: options.via ?? agent, headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), elapsedMs: performance.now() - started }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** GETs every url with at most `concurrency` requests in flight; resolves with the answers in order. */
export async function getAll(urls: string[], concurrency: number): Promise<Answer[]> {
  const answers: Answer[] = new Array(urls.length);
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const i = next++;
      answers[i] = await get(urls[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, worker));
  return answers;
}

/** The `p`-th percentile (0–100) of `values` (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of `values`. */
export function median(values: number[]): number {
  return percentile(values, 50);
}
