/** Rules 1–6 of the engine (stated at the top of engine.ts, with their sources), against the engine alone, with an injected clock. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/engine/clock.ts';
import { type Generated, GenerationError, IsrEngine, RenderTimeoutError } from '../../src/engine/engine.ts';
import { implicitTags } from '../../src/engine/tags.ts';
import { cacheControl, NO_STORE } from '../../src/http/cache-control.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { MemoryStore } from '../../src/store/memory.ts';

const text = (body: Uint8Array) => new TextDecoder().decode(body);

/** A data source whose value the test changes, and a generator that renders it, counting calls. */
function source(initial: string, options: { revalidate?: number | false; tags?: string[]; path?: string } = {}) {
  const state = { value: initial, calls: 0, fail: false as boolean | Error, gate: undefined as Promise<void> | undefined };
  const generate = async (): Promise<Generated> => {
    state.calls++;
    const read = state.value; // the data this generation is made of
    if (state.gate) await state.gate;
    if (state.fail) throw state.fail instanceof Error ? state.fail : new Error('content API answered 500');
    return {
      value: { kind: 'page', status: 200, headers: { 'content-type': 'text/html' }, body: new TextEncoder().encode(read) },
      tags: [...(options.tags ?? []), ...implicitTags(options.path ?? '/blog/1', '/blog/[id]')],
      revalidate: options.revalidate ?? 60,
    };
  };
  return { state, generate };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function setup(options: { renderTimeout?: number } = {}) {
  const clock = new ManualClock();
  const logger = createMemoryLogger();
  const store = new MemoryStore();
  const engine = new IsrEngine({ store, clock, logger, renderTimeout: options.renderTimeout });
  return { clock, logger, store, engine };
}

describe('rule 1: inside the revalidate window, requests are served from cache', () => {
  test('a generated page is a HIT until its window passes, without generating again', async () => {
    const { engine, clock } = setup();
    const { state, generate } = source('v1');
    assert.equal((await engine.serve('/blog/1', generate)).state, 'MISS');
    clock.advanceSeconds(59);
    const served = await engine.serve('/blog/1', generate);
    assert.equal(served.state, 'HIT');
    assert.equal(text(served.entry.value.body), 'v1');
    assert.equal(state.calls, 1);
  });

  test('an entry prerendered by one engine is a HIT for another on the same store (build, then start)', async () => {
    const { store, clock } = setup();
    const builder = new IsrEngine({ store, clock, logger: createMemoryLogger() });
    const { state, generate } = source('built');
    await builder.regenerate('/blog/1', generate);
    const server = new IsrEngine({ store, clock, logger: createMemoryLogger() });
    await server.init();
    assert.equal((await server.serve('/blog/1', generate)).state, 'HIT');
    assert.equal(state.calls, 1);
  });
});

describe('rule 2: after the window, stale-while-revalidate with one shared regeneration', () => {
  test('the stale page is served at once, one regeneration runs for 50 concurrent requests, then the new page', async () => {
    const { engine, clock } = setup();
    const { state, generate } = source('v1');
    await engine.serve('/blog/1', generate);
    clock.advance(60_001);
    state.value = 'v2';
    const gate = deferred();
    state.gate = gate.promise;
    const answers = await Promise.all(Array.from({ length: 50 }, () => engine.serve('/blog/1', generate)));
    assert.ok(answers.every((a) => a.state === 'STALE' && text(a.entry.value.body) === 'v1'));
    assert.equal(state.calls, 2, 'exactly one background regeneration');
    assert.ok(engine.isGenerating('/blog/1'));
    gate.resolve();
    await engine.flush();
    const after = await engine.serve('/blog/1', generate);
    assert.equal(after.state, 'HIT');
    assert.equal(text(after.entry.value.body), 'v2');
    assert.equal(state.calls, 2);
  });

  test('the new generation gets a full window from when its render started', async () => {
    const { engine, clock } = setup();
    const { generate } = source('v1');
    await engine.serve('/blog/1', generate);
    clock.advanceSeconds(61);
    await engine.serve('/blog/1', generate);
    await engine.flush();
    clock.advanceSeconds(59);
    assert.equal((await engine.serve('/blog/1', generate)).state, 'HIT');
    clock.advance(1001);
    assert.equal((await engine.serve('/blog/1', generate)).state, 'STALE');
  });

  test('past expire, a stale page is no longer served: the request waits for the new one', async () => {
    const { clock, store, logger } = setup();
    const engine = new IsrEngine({ store, clock, logger, expireTime: 600 });
    const { state, generate } = source('v1');
    await engine.serve('/blog/1', generate);
    clock.advanceSeconds(601);
    state.value = 'v2';
    const served = await engine.serve('/blog/1', generate);
    assert.equal(served.state, 'MISS');
    assert.equal(text(served.entry.value.body), 'v2');
  });

  test('staleWhileRevalidate: false (the data cache) refreshes before answering', async () => {
    const { engine, clock } = setup();
    const { state, generate } = source('v1', { revalidate: 5 });
    await engine.serve('fetch:x', generate, { staleWhileRevalidate: false });
    clock.advance(5001);
    state.value = 'v2';
    const served = await engine.serve('fetch:x', generate, { staleWhileRevalidate: false });
    assert.equal(served.state, 'MISS');
    assert.equal(text(served.entry.value.body), 'v2');
  });
});

describe('peekStale: what the fast path may answer STALE (rule 2 while its regeneration runs)', () => {
  test('a stale page in memory only while its regeneration runs; the fresh page after it', async () => {
    const { engine, clock } = setup();
    const { state, generate } = source('v1');
    await engine.serve('/blog/1', generate);
    assert.equal(engine.peekStale('/blog/1'), undefined, 'fresh: a HIT, not STALE');
    clock.advance(60_001);
    assert.equal(engine.peekFresh('/blog/1'), undefined);
    assert.equal(engine.peekStale('/blog/1'), undefined, 'stale with nothing regenerating it: serve must start the regeneration');
    const gate = deferred();
    state.gate = gate.promise;
    state.value = 'v2';
    assert.equal((await engine.serve('/blog/1', generate)).state, 'STALE');
    const peeked = engine.peekStale('/blog/1');
    assert.equal(text(peeked!.value.body), 'v1');
    assert.equal((await engine.serve('/blog/1', generate)).entry, peeked, 'serve answers the same entry, STALE');
    assert.equal(state.calls, 2, 'peeking starts nothing');
    gate.resolve();
    await engine.flush();
    assert.equal(engine.peekStale('/blog/1'), undefined);
    assert.equal(text(engine.peekFresh('/blog/1')!.value.body), 'v2');
  });

  test('never a page that serve would not answer STALE: past expire, or purged by tag, even while it regenerates', async () => {
    const { clock, store, logger } = setup();
    const engine = new IsrEngine({ store, clock, logger, expireTime: 600 });
    const { state, generate } = source('v1', { tags: ['posts'] });
    await engine.serve('/blog/1', generate);
    clock.advanceSeconds(61);
    const gate = deferred();
    state.gate = gate.promise;
    assert.equal((await engine.serve('/blog/1', generate)).state, 'STALE');
    assert.ok(engine.peekStale('/blog/1'));
    // A hard purge: the next request waits for the new page (rule 5), so nothing is answered from memory.
    engine.invalidateTags(['posts']);
    assert.equal(engine.peekStale('/blog/1'), undefined, 'invalidated');
    gate.resolve();
    await engine.flush();
    // Past expire while a regeneration runs (one started by an on-demand revalidation).
    clock.advanceSeconds(601);
    const again = deferred();
    state.gate = again.promise;
    const regenerating = engine.regenerate('/blog/1', generate);
    assert.ok(engine.isGenerating('/blog/1'));
    assert.equal(engine.peekStale('/blog/1'), undefined, 'expired');
    again.resolve();
    await regenerating;
  });
});

describe('rule 3: unknown paths are generated on first request and cached', () => {
  test('concurrent first requests share one blocking generation', async () => {
    const { engine } = setup();
    const { state, generate } = source('fresh');
    const gate = deferred();
    state.gate = gate.promise;
    const pending = Array.from({ length: 20 }, () => engine.serve('/blog/26', generate));
    await new Promise((r) => setImmediate(r));
    gate.resolve();
    const answers = await Promise.all(pending);
    assert.ok(answers.every((a) => a.state === 'MISS' && text(a.entry.value.body) === 'fresh'));
    assert.equal(state.calls, 1);
    assert.equal((await engine.serve('/blog/26', generate)).state, 'HIT');
  });

  test('a dynamic result is returned but never stored', async () => {
    const { engine, store } = setup();
    let calls = 0;
    const generate = async (): Promise<Generated> => ({
      value: { kind: 'page', status: 200, headers: {}, body: new TextEncoder().encode(`render ${++calls}`) },
      tags: [],
      revalidate: 60,
      dynamic: true,
    });
    assert.equal((await engine.serve('/dash', generate)).state, 'DYNAMIC');
    assert.equal(await store.get('/dash'), undefined);
    assert.equal(text((await engine.serve('/dash', generate)).entry.value.body), 'render 2');
  });
});

describe('rule 4: a failed regeneration never replaces the last good page', () => {
  test('background failure: the old page stays, the error is logged with the route and cause, the next request retries', async () => {
    const { engine, clock, logger } = setup();
    const { state, generate } = source('good');
    await engine.serve('/blog/1', generate, { label: '/blog/1 (route /blog/[id])' });
    clock.advanceSeconds(61);
    state.fail = new Error('Failed to fetch posts, received status 500');
    assert.equal((await engine.serve('/blog/1', generate, { label: '/blog/1 (route /blog/[id])' })).state, 'STALE');
    await engine.flush();
    const errors = logger.lines.filter((line) => line.startsWith('error'));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /\/blog\/1 \(route \/blog\/\[id\]\).*received status 500/);
    const again = await engine.serve('/blog/1', generate);
    assert.equal(again.state, 'STALE');
    assert.equal(text(again.entry.value.body), 'good');
    await engine.flush();
    assert.equal(state.calls, 3, 'each request after the window retries');
    state.fail = false;
    state.value = 'recovered';
    await engine.serve('/blog/1', generate);
    await engine.flush();
    assert.equal(text((await engine.serve('/blog/1', generate)).entry.value.body), 'recovered');
  });

  test('a failed blocking regeneration (after a revalidation) serves the last good page as STALE', async () => {
    const { engine, clock } = setup();
    const { state, generate } = source('good', { tags: ['posts'] });
    await engine.serve('/blog/1', generate);
    clock.advance(10);
    engine.revalidateTag('posts');
    state.fail = true;
    const served = await engine.serve('/blog/1', generate);
    assert.equal(served.state, 'STALE');
    assert.equal(text(served.entry.value.body), 'good');
  });

  test('a failed first generation throws GenerationError and stores nothing', async () => {
    const { engine, store } = setup();
    const { state, generate } = source('x');
    state.fail = true;
    await assert.rejects(engine.serve('/blog/9', generate, { label: '/blog/9' }), (error: unknown) => {
      assert.ok(error instanceof GenerationError);
      assert.match((error as Error).message, /\/blog\/9.*500/);
      return true;
    });
    assert.equal(await store.get('/blog/9'), undefined);
  });
});

describe('rule 5: on-demand revalidation by tag and path', () => {
  test('after revalidateTag returns, the next request gets freshly rendered content, never the old page', async () => {
    const { engine } = setup();
    const { state, generate } = source('v1', { tags: ['posts'] });
    await engine.serve('/blog/1', generate);
    state.value = 'v2';
    engine.revalidateTag('posts');
    const served = await engine.serve('/blog/1', generate);
    assert.equal(served.state, 'MISS');
    assert.equal(text(served.entry.value.body), 'v2');
    assert.equal((await engine.serve('/blog/1', generate)).state, 'HIT');
  });

  test('an unrelated tag leaves the page cached', async () => {
    const { engine } = setup();
    const { state, generate } = source('v1', { tags: ['posts'] });
    await engine.serve('/blog/1', generate);
    engine.revalidateTag('comments');
    assert.equal((await engine.serve('/blog/1', generate)).state, 'HIT');
    assert.equal(state.calls, 1);
  });

  for (const [call, affected] of [
    [['/blog/1'], true],
    [['/blog/2'], false],
    [['/blog/[id]', 'page'], true],
    [['/blog', 'layout'], true],
    [['/', 'layout'], true],
    [['/about', 'layout'], false],
  ] as const) {
    test(`revalidatePath(${call.map((c) => JSON.stringify(c)).join(', ')}) ${affected ? 'regenerates' : 'leaves'} /blog/1`, async () => {
      const { engine } = setup();
      const { state, generate } = source('v1');
      await engine.serve('/blog/1', generate);
      state.value = 'v2';
      engine.revalidatePath(call[0], call[1]);
      const served = await engine.serve('/blog/1', generate);
      assert.equal(served.state, affected ? 'MISS' : 'HIT');
      assert.equal(text(served.entry.value.body), affected ? 'v2' : 'v1');
    });
  }

  test('revalidate = false caches until revalidated, however much time passes', async () => {
    const { engine, clock } = setup();
    const { state, generate } = source('v1', { revalidate: false, tags: ['forever'] });
    await engine.serve('/about', generate);
    clock.advanceSeconds(10 * 365 * 24 * 3600);
    assert.equal((await engine.serve('/about', generate)).state, 'HIT');
    state.value = 'v2';
    engine.revalidateTag('forever');
    assert.equal(text((await engine.serve('/about', generate)).entry.value.body), 'v2');
  });

  test('a revalidation during an in-flight regeneration is never lost', async () => {
    // Next.js 15 stores the in-flight result (read before the revalidation) as fresh.
    const { engine, clock } = setup();
    const { state, generate } = source('v1', { tags: ['posts'] });
    await engine.serve('/blog/1', generate);
    clock.advanceSeconds(61);
    const gate = deferred();
    state.gate = gate.promise;
    assert.equal((await engine.serve('/blog/1', generate)).state, 'STALE'); // regeneration reads v1 ...
    state.value = 'v2'; // ... the CMS changes the post ...
    engine.revalidateTag('posts'); // ... and calls the webhook while that render is still running
    state.gate = undefined;
    const next = engine.serve('/blog/1', generate); // a request after the revalidation
    gate.resolve();
    const served = await next;
    assert.equal(text(served.entry.value.body), 'v2', 'the request after the revalidation never sees v1');
    await engine.flush();
    const later = await engine.serve('/blog/1', generate);
    assert.equal(text(later.entry.value.body), 'v2');
    assert.equal(later.state, 'HIT');
  });

  test('an in-flight result that finishes after a newer one never overwrites it', async () => {
    const { engine, store, clock } = setup();
    const { state, generate } = source('v0', { tags: ['posts'] });
    await engine.serve('/blog/1', generate);
    clock.advanceSeconds(61);
    const gate = deferred();
    state.gate = gate.promise;
    state.value = 'old';
    await engine.serve('/blog/1', generate); // STALE: a slow background render of 'old' starts
    engine.revalidateTag('posts');
    state.gate = undefined;
    state.value = 'new';
    const second = await engine.serve('/blog/1', generate); // must not join the older render
    assert.equal(text(second.entry.value.body), 'new');
    gate.resolve(); // the older render finishes last
    await engine.flush();
    assert.equal(text((await store.get('/blog/1'))!.value.body), 'new');
    assert.equal(text((await engine.serve('/blog/1', generate)).entry.value.body), 'new');
  });

  test('data-cache reads check the reading page’s implicit tags (extraTags)', async () => {
    const { engine } = setup();
    const { state, generate } = source('data v1', { revalidate: false, tags: [] });
    const pageTags = implicitTags('/other', '/other');
    await engine.serve('fetch:shared', generate, { staleWhileRevalidate: false, extraTags: pageTags });
    state.value = 'data v2';
    engine.revalidatePath('/other');
    const served = await engine.serve('fetch:shared', generate, { staleWhileRevalidate: false, extraTags: pageTags });
    assert.equal(text(served.entry.value.body), 'data v2');
  });

  test('invalidations persist in the store and apply to an engine started later', async () => {
    const { store, clock } = setup();
    const first = new IsrEngine({ store, clock, logger: createMemoryLogger() });
    const { state, generate } = source('v1', { tags: ['posts'] });
    await first.serve('/blog/1', generate);
    await first.invalidateTagsDurably(['posts']);
    const second = new IsrEngine({ store, clock, logger: createMemoryLogger() });
    await second.init();
    state.value = 'v2';
    assert.equal(text((await second.serve('/blog/1', generate)).entry.value.body), 'v2');
  });

  test('bad tags and paths are refused with a clear error', () => {
    const { engine } = setup();
    assert.throws(() => engine.revalidateTag(''), /non-empty/);
    assert.throws(() => engine.revalidateTag('x'.repeat(257)), /longer than 256/);
    assert.throws(() => engine.revalidateTag('_N_T_/blog'), /reserved/);
    assert.throws(() => engine.revalidatePath('blog'), /starting with "\/"/);
    assert.throws(() => engine.revalidatePath('/blog/[id]'), /dynamic segment/);
    assert.throws(() => engine.revalidatePath('/blog', 'everything' as 'page'), /"page" or "layout"/);
  });
});

describe('rule 6: Cache-Control values', () => {
  test('s-maxage and stale-while-revalidate from revalidate and expire (seconds)', () => {
    assert.equal(cacheControl(60, 31_536_000), 's-maxage=60, stale-while-revalidate=31535940');
    assert.equal(cacheControl(3600, 86_400), 's-maxage=3600, stale-while-revalidate=82800');
    assert.equal(cacheControl(false, 31_536_000), 's-maxage=31536000');
    assert.equal(NO_STORE, 'private, no-cache, no-store, max-age=0, must-revalidate');
  });

  test('every stored entry carries a strong ETag of its body', async () => {
    const { engine } = setup();
    const a = await engine.serve('/a', source('same').generate);
    const b = await engine.serve('/b', source('same').generate);
    const c = await engine.serve('/c', source('other').generate);
    assert.match(a.entry.etag, /^"[A-Za-z0-9_-]{27}"$/);
    assert.equal(a.entry.etag, b.entry.etag);
    assert.notEqual(a.entry.etag, c.entry.etag);
  });
});

describe('data cache mode (staleIfError: false)', () => {
  test('a failed refresh rethrows instead of handing back the old data', async () => {
    const { engine, clock } = setup();
    const { state, generate } = source('old data', { revalidate: 5 });
    await engine.serve('fetch:x', generate, { staleWhileRevalidate: false, staleIfError: false });
    clock.advance(5001);
    state.fail = true;
    await assert.rejects(engine.serve('fetch:x', generate, { staleWhileRevalidate: false, staleIfError: false }), GenerationError);
  });

  test('a transient result is returned without replacing the stored entry', async () => {
    const { engine, store, clock } = setup();
    const { generate } = source('good', { revalidate: 5 });
    await engine.serve('fetch:y', generate, { staleWhileRevalidate: false });
    clock.advance(5001);
    const served = await engine.serve(
      'fetch:y',
      async () => ({
        value: { kind: 'fetch', status: 500, headers: {}, body: new Uint8Array() },
        tags: [],
        revalidate: 5,
        transient: true,
      }),
      { staleWhileRevalidate: false },
    );
    assert.equal(served.entry.value.status, 500);
    assert.equal(text((await store.get('fetch:y'))!.value.body), 'good');
  });
});

describe('requests that follow a revalidation never get content read before it', () => {
  test('a first render in flight when the revalidation arrives is not handed to a request that came after it', async () => {
    const { engine } = setup();
    const { state, generate } = source('v1', { tags: ['posts'] });
    const gate = deferred();
    state.gate = gate.promise;
    const first = engine.serve('/blog/1', generate); // MISS, reads v1, slow
    await new Promise((r) => setImmediate(r));
    state.value = 'v2';
    engine.revalidateTag('posts');
    state.gate = undefined;
    const second = engine.serve('/blog/1', generate); // arrives after the revalidation
    gate.resolve();
    assert.equal(text((await first).entry.value.body), 'v1', 'the earlier request may get v1');
    assert.equal(text((await second).entry.value.body), 'v2');
  });
});

describe('serveOrStartInBackground (the Pages Router fallback: true)', () => {
  test('with no entry, starts one generation in the background and answers undefined at once; then serves it', async () => {
    const { engine } = setup();
    const { state, generate } = source('v1');
    const gate = deferred();
    state.gate = gate.promise;
    assert.equal(await engine.serveOrStartInBackground('/blog/1', generate), undefined);
    assert.equal(await engine.serveOrStartInBackground('/blog/1', generate), undefined, 'a second visitor joins the running generation');
    assert.equal(engine.isGenerating('/blog/1'), true);
    gate.resolve();
    await engine.flush();
    assert.equal(state.calls, 1);
    const served = await engine.serveOrStartInBackground('/blog/1', generate);
    assert.equal(served?.state, 'HIT');
    assert.equal(text(served!.entry.value.body), 'v1');
  });

  test('with an entry, behaves as serve: stale served at once, invalidated regenerated before answering', async () => {
    const { engine, clock } = setup();
    const { state, generate } = source('v1', { tags: ['posts'] });
    await engine.serve('/blog/1', generate);
    state.value = 'v2';
    clock.advanceSeconds(61);
    const stale = await engine.serveOrStartInBackground('/blog/1', generate);
    assert.equal(stale?.state, 'STALE');
    assert.equal(text(stale!.entry.value.body), 'v1');
    await engine.flush();
    state.value = 'v3';
    engine.revalidateTag('posts');
    const fresh = await engine.serveOrStartInBackground('/blog/1', generate);
    assert.equal(fresh?.state, 'MISS');
    assert.equal(text(fresh!.entry.value.body), 'v3');
  });

  test('a background generation that fails stores nothing and is logged; the next call starts another', async () => {
    const { engine, logger } = setup();
    const { state, generate } = source('v1');
    state.fail = true;
    assert.equal(await engine.serveOrStartInBackground('/blog/1', generate), undefined);
    await engine.flush();
    assert.ok(logger.lines.some((line) => line.startsWith('error generation of /blog/1 failed')));
    state.fail = false;
    assert.equal(await engine.serveOrStartInBackground('/blog/1', generate), undefined);
    await engine.flush();
    assert.equal((await engine.serve('/blog/1', generate)).state, 'HIT');
    assert.equal(state.calls, 2);
  });
});

/**
 * The render timeout is measured with a real timer (the injected ManualClock only dates entries and
 * has no timers), so these tests use a small renderTimeout of 0.2 s.
 */
describe('render timeout: a generation that hangs fails after renderTimeout seconds', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const timeoutLines = (logger: { lines: string[] }) => logger.lines.filter((line) => /timed out/.test(line));

  test('a hung background regeneration: the stale page is served meanwhile, then the flight is released and a new one succeeds', async () => {
    const { engine, clock, logger, store } = setup({ renderTimeout: 0.2 });
    const { state, generate } = source('v1');
    const options = { label: '/blog/1 (route /blog/[id])' };
    await engine.serve('/blog/1', generate, options);
    clock.advance(60_001);
    state.value = 'late';
    const hung = deferred();
    state.gate = hung.promise;
    assert.equal(text((await engine.serve('/blog/1', generate, options)).entry.value.body), 'v1');
    assert.equal(state.calls, 2);
    await sleep(50);
    const during = await engine.serve('/blog/1', generate, options);
    assert.equal(during.state, 'STALE');
    assert.equal(text(during.entry.value.body), 'v1');
    assert.equal(state.calls, 2, 'still one regeneration while it runs');
    await sleep(250);
    assert.equal(engine.isGenerating('/blog/1'), false, 'the hung flight no longer occupies the key');
    assert.deepEqual(timeoutLines(logger), [
      'error generation of /blog/1 (route /blog/[id]) timed out after 0.2 s; the last good version (if any) stays in place',
    ]);

    state.gate = undefined;
    state.value = 'v3';
    assert.equal((await engine.serve('/blog/1', generate, options)).state, 'STALE');
    assert.equal(state.calls, 3, 'the next request started a new regeneration');
    await engine.flush();
    const fresh = await engine.serve('/blog/1', generate, options);
    assert.equal(fresh.state, 'HIT');
    assert.equal(text(fresh.entry.value.body), 'v3');

    hung.resolve(); // the timed-out render finishes late with 'late'
    await sleep(10);
    await engine.flush();
    assert.equal(text((await store.get('/blog/1'))!.value.body), 'v3');
  });

  test('a hung first render (MISS) fails with RenderTimeoutError after the timeout, not before, and its late result is not stored', async () => {
    const { engine, store } = setup({ renderTimeout: 0.2 });
    const { state, generate } = source('late');
    const hung = deferred();
    state.gate = hung.promise;
    const began = performance.now();
    await assert.rejects(engine.serve('/blog/9', generate, { label: 'page /blog/9' }), (error: unknown) => {
      assert.ok(error instanceof GenerationError);
      assert.ok(error.cause instanceof RenderTimeoutError);
      assert.equal(error.cause.message, 'generation of page /blog/9 timed out after 0.2 s');
      return true;
    });
    const elapsed = performance.now() - began;
    assert.ok(elapsed >= 190 && elapsed < 1000, `failed after ${elapsed.toFixed(0)} ms`);
    hung.resolve();
    await sleep(10);
    await engine.flush();
    assert.equal(await store.get('/blog/9'), undefined, 'the late result of the timed-out render is discarded');
  });

  test('a hung blocking regeneration of an invalidated page answers with the last good page (stale-if-error)', async () => {
    const { engine } = setup({ renderTimeout: 0.2 });
    const { state, generate } = source('v1', { tags: ['posts'] });
    await engine.serve('/blog/1', generate);
    engine.revalidateTag('posts');
    const hung = deferred();
    state.gate = hung.promise;
    state.value = 'late';
    const began = performance.now();
    const served = await engine.serve('/blog/1', generate);
    assert.ok(performance.now() - began >= 190);
    assert.equal(served.state, 'STALE');
    assert.equal(text(served.entry.value.body), 'v1');
    hung.resolve();
  });

  test('the signal given to generate is aborted with the RenderTimeoutError', async () => {
    const { engine } = setup({ renderTimeout: 0.05 });
    let seen: AbortSignal | undefined;
    await assert.rejects(
      engine.serve('/slow', (signal) => {
        seen = signal;
        return new Promise(() => {});
      }),
      GenerationError,
    );
    assert.equal(seen?.aborted, true);
    assert.ok(seen?.reason instanceof RenderTimeoutError);
  });

  test('renderTimeout must be a positive number of seconds', () => {
    for (const renderTimeout of [0, -1, Number.NaN, Infinity]) {
      assert.throws(() => new IsrEngine({ store: new MemoryStore(), renderTimeout }), /renderTimeout must be a positive number of seconds/);
    }
  });
});
