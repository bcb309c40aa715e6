/**
 * `GET /_isr/status`: the operators' report of this process's cache (tiers, memory, generations).
 */

import type { IsrEngine } from '../engine/engine.ts';
import type { MemoryStore } from '../store/memory.ts';
import type { TieredStore, TierStatus } from '../store/tiered.ts';
import type { Bytes } from '../units.ts';
import { json, refuseWithoutToken } from './bearer.ts';

/**
 * `GET /_isr/status`: how this process's cache is doing, for operators, health dashboards and the
 * reliability suite (docs/reliability.md).
 *
 *   Authorization: Bearer <ISR_REVALIDATE_TOKEN>
 *
 * 200 with an {@link IsrStatus} (JSON, `no-store`); 401 without a valid token (the same secret as
 * `/_isr/revalidate`: the report names cache folders and the Redis host); 405 for methods other
 * than GET and HEAD. It answers 200 even when degraded: a cache folder that cannot be written or a
 * Redis outage does not stop this process from serving (from memory and by rendering), so it is
 * no reason to take it out of a load balancer. Under `isr start --workers`, the worker that took
 * the connection reports on itself.
 */
export const STATUS_ENDPOINT = '/_isr/status';

export interface IsrStatus {
  /** `degraded` while any tier below memory is failing (see `problems`). */
  status: 'ok' | 'degraded';
  /** One sentence per failing tier; empty when `ok`. */
  problems: string[];
  buildId: string;
  pid: number;
  /** Seconds since the process started. */
  uptime: number;
  /** `process.memoryUsage()` figures, in bytes. */
  process: { rss: number; heapUsed: number };
  cache: {
    /** The memory tier's estimated size and bound, in bytes; null when it is turned off. */
    memory: { bytes: Bytes; maxBytes: Bytes; entries: number } | null;
    /** Every tier, fastest first (memory, the durable store, the build's prerendered pages). */
    tiers: TierStatus[];
  };
  /** Background and first-request generations since start (`IsrEngine.stats`). */
  generations: { generating: number; generated: number; failed: number };
}

/** What the report is built from. */
export interface StatusSources {
  buildId: string;
  engine: IsrEngine;
  store: TieredStore;
  /** The memory tier, when there is one. */
  memory: MemoryStore | undefined;
}

/** The report of `sources` now. */
export function describeStatus(sources: StatusSources): IsrStatus {
  const tiers = sources.store.status();
  const problems: string[] = [];
  for (const tier of tiers) {
    if (tier.reachable === false) problems.push(`${tier.store} is unreachable; pages are served from the other tiers and by rendering`);
    else if (tier.failingWrites > 0)
      problems.push(`${tier.store}: the last ${tier.failingWrites} write(s) failed; pages are kept in the other tiers`);
    if (tier.reachable !== false && tier.failingReads > 0) problems.push(`${tier.store}: the last ${tier.failingReads} read(s) failed`);
  }
  const { rss, heapUsed } = process.memoryUsage();
  const memory = sources.memory;
  return {
    status: problems.length === 0 ? 'ok' : 'degraded',
    problems,
    buildId: sources.buildId,
    pid: process.pid,
    uptime: Math.round(process.uptime()),
    process: { rss, heapUsed },
    cache: {
      memory: memory === undefined ? null : { bytes: memory.bytes, maxBytes: memory.maxBytes, entries: memory.size },
      tiers,
    },
    generations: sources.engine.stats(),
  };
}

/**
 * Handles a request to {@link STATUS_ENDPOINT}.
 * @param token the configured secret; without one every request gets 401.
 */
export function handleStatusRequest(request: Request, token: string | undefined, status: () => IsrStatus): Response {
  if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { error: 'use GET' }, { allow: 'GET, HEAD' });
  const refusal = refuseWithoutToken(request, token, 'the status report');
  if (refusal !== undefined) return refusal;
  const response = json(200, status());
  return request.method === 'HEAD' ? new Response(null, { status: 200, headers: response.headers }) : response;
}
