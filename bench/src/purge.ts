/**
 * Purge propagation: several `isr start` processes share one Redis; a page's content
 * changes in the content API and one instance is asked to revalidate it. From the moment that
 * call returns, every instance is polled (one client per instance, its own keep-alive connection,
 * one request after another without pause) until each serves the new content. A trial's figure is
 * the time until the LAST instance does: the purge reached it, and the page was regenerated once
 * for the cluster (by whichever instance took the lock) and adopted by the others.
 *
 * Beside it, the page's render time in the same cluster, measured on its own: the content changes,
 * one instance is asked to revalidate, and one request to that instance (no other client) waits
 * for the new render: a MISS. Render samples and purge trials alternate round by round, and both
 * rotate over the instances.
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { type Answer, get, percentile, send } from './http.ts';
import type { LatencyFigures, PurgeFigures, RunningServer } from './types.ts';

export interface PurgeOptions {
  /** The instances, all on one Redis (same key prefix) and one content API. */
  instances: RunningServer[];
  /** The content API's base URL (its `PUT /posts/:id` edits a post). */
  apiUrl: string;
  /** The post whose page `/blog/<id>` is edited and revalidated. */
  postId: string;
  /** The instances' ISR_REVALIDATE_TOKEN. */
  token: string;
  /** Measured rounds (one render sample and one purge trial each). */
  trials: number;
  /** Rounds run first and discarded (JIT, connections, Redis scripts loaded). */
  warmupTrials: number;
  /** Longest a trial may take before the scenario fails, in milliseconds. */
  timeoutMs: number;
  log: (line: string) => void;
}

function latency(samples: number[]): LatencyFigures {
  return { samples: samples.length, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: Math.max(...samples) };
}

/** Runs the scenario; throws if an answer is not a 200 or an instance does not converge within `timeoutMs`. */
export async function purgePropagation(options: PurgeOptions): Promise<PurgeFigures> {
  const { instances, postId, timeoutMs } = options;
  const path = `/blog/${encodeURIComponent(postId)}`;
  // One connection per instance for its poller (and the render sample's request on it).
  const pollers = instances.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const nonce = randomBytes(3).toString('hex');
  let version = 0;

  /** Changes the post's title to a new marker (ending in '.', so version 1 is no prefix of 10); resolves with it. */
  const edit = async (): Promise<string> => {
    const marker = `purge-${nonce}-${++version}.`;
    const answer = await send('PUT', `${options.apiUrl}/posts/${encodeURIComponent(postId)}`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: marker }),
    });
    if (answer.status !== 200)
      throw new Error(`purge: content API edit answered ${answer.status}: ${answer.body.toString('utf8').slice(0, 200)}`);
    return marker;
  };

  /** POST /_isr/revalidate of the page to instance `k`; resolves with the call's duration in ms. */
  const revalidate = async (k: number): Promise<number> => {
    const answer = await send('POST', `${instances[k]!.url}/_isr/revalidate`, {
      headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ paths: [path] }),
    });
    if (answer.status !== 200)
      throw new Error(`purge: revalidation on instance ${k} answered ${answer.status}: ${answer.body.toString('utf8').slice(0, 200)}`);
    return answer.elapsedMs;
  };

  const fetchPage = async (k: number): Promise<Answer> => {
    const answer = await get(`${instances[k]!.url}${path}`, {}, pollers[k]);
    if (answer.status !== 200) throw new Error(`purge: instance ${k} answered ${answer.status} for ${path}`);
    return answer;
  };

  /** Polls instance `k` until it serves `marker`; resolves with the ms since `since` and the answers with other content. */
  const until = async (k: number, marker: string, since: number): Promise<{ ms: number; old: number }> => {
    let old = 0;
    for (;;) {
      const answer = await fetchPage(k);
      const now = performance.now();
      if (answer.body.includes(marker)) return { ms: now - since, old };
      old += 1;
      if (now - since > timeoutMs) throw new Error(`purge: instance ${k} did not serve the new content of ${path} within ${timeoutMs} ms`);
    }
  };
  const everyInstance = (marker: string, since: number) => Promise.all(instances.map((_, k) => until(k, marker, since)));

  const render: number[] = [];
  const renderCacheStates: Record<string, number> = {};
  const calls: number[] = [];
  const trials: PurgeFigures['trials'] = [];
  let current = await edit();
  await revalidate(0);
  try {
    for (let round = -options.warmupTrials; round < options.trials; round++) {
      const k = ((round % instances.length) + instances.length) % instances.length;
      const measured = round >= 0;
      // Every instance serves the current content before each step (untimed).
      await everyInstance(current, performance.now());

      // The render sample: one request to the instance that was asked, nobody else asking.
      current = await edit();
      await revalidate(k);
      const rendered = await fetchPage(k);
      if (!rendered.body.includes(current))
        throw new Error(`purge: instance ${k} served the old content of ${path} right after revalidating it`);
      if (measured) {
        render.push(rendered.elapsedMs);
        const state = String(rendered.headers['x-isr-cache']);
        renderCacheStates[state] = (renderCacheStates[state] ?? 0) + 1;
      }
      await everyInstance(current, performance.now());

      // The purge trial: every instance polled from the moment the call returns.
      current = await edit();
      const callMs = await revalidate(k);
      const since = performance.now();
      const seen = await everyInstance(current, since);
      if (measured) {
        calls.push(callMs);
        trials.push({
          revalidatedOn: k,
          lastMs: Math.max(...seen.map((s) => s.ms)),
          firstMs: Math.min(...seen.map((s) => s.ms)),
          oldAnswers: seen.reduce((sum, s) => sum + s.old, 0),
        });
        if ((round + 1) % 25 === 0 || round + 1 === options.trials) {
          const last = trials.map((t) => t.lastMs);
          options.log(
            `  trial ${round + 1}/${options.trials}: last instance p50 ${percentile(last, 50).toFixed(1)} ms, max ${Math.max(...last).toFixed(1)} ms; ` +
              `render p50 ${percentile(render, 50).toFixed(1)} ms`,
          );
        }
      }
    }
  } finally {
    for (const agent of pollers) agent.destroy();
  }
  return {
    instances: instances.length,
    path,
    warmupTrials: options.warmupTrials,
    lastInstanceMs: latency(trials.map((t) => t.lastMs)),
    firstInstanceMs: latency(trials.map((t) => t.firstMs)),
    render: latency(render),
    renderCacheStates,
    revalidateCallMs: latency(calls),
    trials,
  };
}
