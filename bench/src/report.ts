/**
 * The benchmark's outputs: the performance targets (docs/performance.md) checked against one run's figures, and
 * latest.json (everything), latest.md (tables) and latest.svg (the HIT and purge chart).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchResults, LoadFigures, ProxyName, SystemName, TargetCheck } from './types.ts';

const SYSTEM_LABELS: Record<SystemName, string> = {
  isr: 'isr',
  'isr-2w': 'isr, 2 workers',
  'isr-http': 'isr, fast path off',
  next: 'next start',
  'nginx-1w': 'nginx, 1 worker',
  'nginx-2w': 'nginx, 2 workers',
  ceiling: 'bare node:http',
};

const PROXY_LABELS: Record<ProxyName, string> = {
  'isr-proxy': 'isr proxy',
  'nginx-proxy': 'nginx proxy_cache, 1 worker',
  varnish: 'Varnish',
};

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (us: number) => (us / 1000).toFixed(2);
const fmtMiB = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
/** `a / b` as a ratio: two decimals, or two significant digits below 0.1 (so 0.004× does not show as 0.00×). */
const ratio = (a: number, b: number) => {
  const r = a / b;
  return `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
};

function check(name: string, goal: string, measured: string | undefined, holds: boolean | undefined): TargetCheck {
  return { name, goal, measured: measured ?? 'not measured', holds: measured === undefined ? null : (holds ?? null) };
}

/** Slack of the purge-propagation goal over the page's render time, in ms (on loopback). */
export const PURGE_SLACK_MS = 50;

/**
 * The single-instance targets, each with the ratio measured in this run (ratios, never absolute
 * timings), and those of several instances: purge propagation against the page's render time measured beside it, and what
 * a second worker process adds (reported without a goal).
 */
export function evaluateTargets(results: BenchResults): TargetCheck[] {
  const hit = results.scenarios.hit['64'] ?? {};
  const rps = (s: SystemName) => hit[s]?.median.requestsPerSec;
  const p99 = (s: SystemName) => hit[s]?.median.latencyUs.p99;
  const isr = rps('isr');
  const targets: TargetCheck[] = [];
  const both = <T>(a: T | undefined, b: T | undefined): [T, T] | undefined => (a === undefined || b === undefined ? undefined : [a, b]);

  let pair = both(isr, rps('ceiling'));
  targets.push(check('HIT req/s vs bare node:http (64 connections)', '≥ 0.80×', pair && ratio(...pair), pair && pair[0] / pair[1] >= 0.8));
  pair = both(isr, rps('next'));
  targets.push(check('HIT req/s vs next start (64 connections)', '≥ 10×', pair && ratio(...pair), pair && pair[0] / pair[1] >= 10));
  pair = both(isr, rps('nginx-1w'));
  targets.push(check('HIT req/s vs nginx, 1 worker (64 connections)', '≥ 0.50×', pair && ratio(...pair), pair && pair[0] / pair[1] >= 0.5));
  const client = results.scenarios.clientComponents;
  const js = both(client?.systems.isr?.scriptBytes, client?.systems.next?.scriptBytes);
  targets.push(
    check('JavaScript bytes of a page with one client component: isr / next start', '≤ 1.00×', js && ratio(...js), js && js[0] <= js[1]),
  );
  const hydration = both(client?.systems.isr?.hydratedMs, client?.systems.next?.hydratedMs);
  targets.push(
    check(
      'Time to interactive of that page in Chromium: isr / next start',
      'none (reported)',
      hydration && `${ratio(...hydration)} (${hydration[0].toFixed(0)} vs ${hydration[1].toFixed(0)} ms)`,
      undefined,
    ),
  );
  const twin = both(client?.isrHit?.interactive.median.requestsPerSec, client?.isrHit?.twin.median.requestsPerSec);
  targets.push(
    check(
      'HIT req/s of that page / its server-only twin, isr (64 connections)',
      '≥ 0.90×',
      twin && ratio(...twin),
      twin && twin[0] / twin[1] >= 0.9,
    ),
  );
  pair = both(p99('isr'), p99('next'));
  targets.push(
    check('HIT p99 latency vs next start (64 connections)', '≤ 0.10×', pair && ratio(...pair), pair && pair[0] / pair[1] <= 0.1),
  );

  const miss = results.scenarios.miss;
  const missPair = miss.isr && miss.next ? ([miss.isr, miss.next] as const) : undefined;
  targets.push(
    check(
      'MISS latency vs next start (same posts)',
      'p50 and p99 ≤ 1.00×',
      missPair && `p50 ${ratio(missPair[0].p50Ms, missPair[1].p50Ms)}, p99 ${ratio(missPair[0].p99Ms, missPair[1].p99Ms)}`,
      missPair && missPair[0].p50Ms <= missPair[1].p50Ms && missPair[0].p99Ms <= missPair[1].p99Ms,
    ),
  );
  const build = results.scenarios.build;
  const buildPair = build.isr && build.next ? ([build.isr, build.next] as const) : undefined;
  targets.push(
    check(
      `Build of ${build.isr?.pages ?? '?'} posts: next build time / isr build time`,
      '≥ 3×',
      buildPair && ratio(buildPair[1].wallMs, buildPair[0].wallMs),
      buildPair && buildPair[1].wallMs / buildPair[0].wallMs >= 3,
    ),
  );
  const mem = results.scenarios.memory.afterEveryPost;
  const memPair = mem.isr && mem.next ? ([mem.isr.rssBytes, mem.next.rssBytes] as const) : undefined;
  targets.push(
    check(
      'Server RSS after serving every post vs next start',
      '≤ 0.50×',
      memPair && ratio(...memPair),
      memPair && memPair[0] / memPair[1] <= 0.5,
    ),
  );
  const herd = results.scenarios.staleHerd.isr;
  targets.push(
    check(
      'STALE herd: content-API calls per stale page (every run)',
      'exactly 1',
      herd?.contentApiCalls.join(', '),
      herd?.contentApiCalls.every((n) => n === 1),
    ),
  );
  const synthetic = results.scenarios.memory.synthetic;
  targets.push(
    check(
      `HIT p50 latency at ${synthetic?.entries ?? '?'} entries vs at 1,000`,
      '≤ 1.20×',
      synthetic && `${synthetic.p50Ratio.toFixed(2)}×`,
      synthetic && synthetic.p50Ratio <= 1.2,
    ),
  );
  const purge = results.scenarios.purge;
  const purgeGoalMs = purge && PURGE_SLACK_MS + purge.render.p50Ms;
  targets.push(
    check(
      `Purge propagation, ${purge?.instances ?? 3} instances on one Redis: p99 until the last instance serves the new page`,
      purge
        ? `≤ ${PURGE_SLACK_MS} ms + render p50 (${purge.render.p50Ms.toFixed(1)} ms) = ${purgeGoalMs!.toFixed(1)} ms`
        : `≤ ${PURGE_SLACK_MS} ms + render p50`,
      purge &&
        `p99 ${purge.lastInstanceMs.p99Ms.toFixed(1)} ms (p50 ${purge.lastInstanceMs.p50Ms.toFixed(1)}, max ${purge.lastInstanceMs.maxMs.toFixed(1)}; ${purge.lastInstanceMs.samples} trials)`,
      purge && purge.lastInstanceMs.p99Ms <= purgeGoalMs!,
    ),
  );
  targets.push(...proxyTargets(results));
  const workers = workerRatios(results);
  targets.push(
    check(
      'HIT req/s with 2 worker processes vs 1: isr start --workers 2 / isr (nginx 2 workers / 1 beside it)',
      'none, reported (2 cores, wrk takes one)',
      workers.length === 0 ? undefined : workers.map((w) => `${w.connections} connections: ${w.isr} (nginx ${w.nginx})`).join('; '),
      undefined,
    ),
  );
  return targets;
}

/**
 * The proxy comparison's targets for `isr proxy` (bench/src/shared-caches.ts): HIT requests/s at least
 * nginx proxy_cache's, HIT p99 at most nginx's, exactly one origin call per STALE herd in every
 * run. While isr proxy is not available each says why instead of a figure (holds: n/a).
 */
function proxyTargets(results: BenchResults): TargetCheck[] {
  const proxy = results.scenarios.proxy;
  const isr = proxy?.systems['isr-proxy'];
  const nginx = proxy?.systems['nginx-proxy']?.hit?.median;
  const hit = isr?.hit?.median;
  const unavailable = isr?.notAvailable;
  const connections = proxy?.connections ?? 64;
  const pair = hit && nginx ? ([hit, nginx] as const) : undefined;
  return [
    check(
      `Proxy HIT req/s: isr proxy vs nginx proxy_cache, same origin (${connections} connections)`,
      "≥ 1.00× (nginx's)",
      unavailable ??
        (pair &&
          `${ratio(pair[0].requestsPerSec, pair[1].requestsPerSec)} (${fmtInt(pair[0].requestsPerSec)} vs ${fmtInt(pair[1].requestsPerSec)})`),
      pair && pair[0].requestsPerSec >= pair[1].requestsPerSec,
    ),
    check(
      `Proxy HIT p99 latency: isr proxy vs nginx proxy_cache (${connections} connections)`,
      "≤ 1.00× (nginx's)",
      unavailable ??
        (pair &&
          `${ratio(pair[0].latencyUs.p99, pair[1].latencyUs.p99)} (${fmtMs(pair[0].latencyUs.p99)} vs ${fmtMs(pair[1].latencyUs.p99)} ms)`),
      pair && pair[0].latencyUs.p99 <= pair[1].latencyUs.p99,
    ),
    check(
      `Proxy STALE herd: origin calls per stale page, isr proxy (${proxy?.herdConcurrency ?? 100} requests at once, every run)`,
      'exactly 1',
      unavailable ?? isr?.herd?.map((h) => h.originCalls).join(', '),
      isr?.herd?.every((h) => h.originCalls === 1),
    ),
  ];
}

/** isr-2w / isr and nginx-2w / nginx-1w requests/s per HIT connection count, where both were measured. */
function workerRatios(results: BenchResults): Array<{ connections: string; isr: string; nginx: string }> {
  const rows: Array<{ connections: string; isr: string; nginx: string }> = [];
  for (const [connections, figures] of Object.entries(results.scenarios.hit)) {
    const line = twoVsOne(figures);
    if (line) rows.push({ connections, ...line });
  }
  return rows;
}

/** The two-process / one-process ratios of one load table, if it has isr, isr-2w and both nginx rows. */
function twoVsOne(figures: Partial<Record<SystemName, LoadFigures>>): { isr: string; nginx: string } | undefined {
  const rps = (s: SystemName) => figures[s]?.median.requestsPerSec;
  const [isr1, isr2, nginx1, nginx2] = [rps('isr'), rps('isr-2w'), rps('nginx-1w'), rps('nginx-2w')];
  if (isr1 === undefined || isr2 === undefined || nginx1 === undefined || nginx2 === undefined) return undefined;
  return { isr: ratio(isr2, isr1), nginx: ratio(nginx2, nginx1) };
}

/** "Two processes vs one" under a load table that has isr, isr-2w and both nginx rows (else nothing). */
function twoVsOneLine(figures: Partial<Record<SystemName, LoadFigures>>): string[] {
  const r = twoVsOne(figures);
  return r ? [`Two processes vs one: isr \`--workers 2\` / isr **${r.isr}**; nginx 2 workers / 1 worker ${r.nginx}.`, ''] : [];
}

function loadTable(figures: Partial<Record<SystemName, LoadFigures>>, baseline: SystemName): string[] {
  const base = figures[baseline]?.median.requestsPerSec;
  const rows = ['| system | requests/s | vs isr | p50 ms | p99 ms | errors |', '|---|---:|---:|---:|---:|---:|'];
  for (const [system, f] of Object.entries(figures) as Array<[SystemName, LoadFigures]>) {
    const m = f.median;
    rows.push(
      `| ${SYSTEM_LABELS[system]} | ${fmtInt(m.requestsPerSec)} | ${base ? ratio(m.requestsPerSec, base) : ''} | ${fmtMs(m.latencyUs.p50)} | ${fmtMs(m.latencyUs.p99)} | ${m.errors} |`,
    );
  }
  return rows;
}

/**
 * A horizontal bar chart (SVG) of HIT requests/s and p99 per system, one group per connection
 * count; below it, when measured, the purge propagation times against the page's render time and
 * the goal.
 */
export function hitChart(results: BenchResults): string {
  const groups = Object.entries(results.scenarios.hit);
  const systems = [...new Set(groups.flatMap(([, f]) => Object.keys(f)))] as SystemName[];
  const max = Math.max(1, ...groups.flatMap(([, f]) => Object.values(f).map((x) => x!.median.requestsPerSec)));
  const rowH = 22;
  const labelW = 150;
  const barW = 460;
  const width = labelW + barW + 190;
  const colors: Record<SystemName, string> = {
    isr: '#3b7d23',
    'isr-2w': '#1e5212',
    'isr-http': '#8cc36f',
    next: '#555555',
    'nginx-1w': '#1f6feb',
    'nginx-2w': '#6e9ff0',
    ceiling: '#b08800',
  };
  const parts: string[] = [];
  let y = 40;
  for (const [connections, figures] of groups) {
    parts.push(`<text x="10" y="${y}" font-weight="600">HIT, ${connections} connections (median of ${results.settings.runs} runs)</text>`);
    y += 10;
    for (const system of systems) {
      const f = figures[system];
      if (f === undefined) continue;
      const w = Math.max(1, (f.median.requestsPerSec / max) * barW);
      parts.push(
        `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${SYSTEM_LABELS[system]}</text>`,
        `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colors[system]}"/>`,
        `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}">${fmtInt(f.median.requestsPerSec)} req/s · p99 ${fmtMs(f.median.latencyUs.p99)} ms</text>`,
      );
      y += rowH;
    }
    y += 24;
  }
  const purge = results.scenarios.purge;
  if (purge) {
    const goalMs = PURGE_SLACK_MS + purge.render.p50Ms;
    const bars: Array<[string, number, string]> = [
      ['render p50 (alone)', purge.render.p50Ms, '#8cc36f'],
      ['last instance p50', purge.lastInstanceMs.p50Ms, '#3b7d23'],
      ['last instance p99', purge.lastInstanceMs.p99Ms, '#3b7d23'],
      ['last instance max', purge.lastInstanceMs.maxMs, '#1e5212'],
    ];
    const scale = barW / Math.max(goalMs, ...bars.map(([, ms]) => ms));
    parts.push(
      `<text x="10" y="${y}" font-weight="600">Purge propagation: ${purge.instances} isr instances on one Redis, ms from the revalidation call's return (${purge.lastInstanceMs.samples} trials; shorter is better)</text>`,
    );
    y += 10;
    const top = y;
    for (const [label, ms, color] of bars) {
      const w = Math.max(1, ms * scale);
      parts.push(
        `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${label}</text>`,
        `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${color}"/>`,
        `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}">${ms.toFixed(1)} ms</text>`,
      );
      y += rowH;
    }
    const goalX = (labelW + goalMs * scale).toFixed(1);
    parts.push(
      `<line x1="${goalX}" y1="${top}" x2="${goalX}" y2="${y + 4}" stroke="#cf222e" stroke-dasharray="4 3"/>`,
      `<text x="${goalX}" y="${y + 16}" text-anchor="middle" fill="#cf222e">goal: p99 ≤ ${PURGE_SLACK_MS} ms + render p50 = ${goalMs.toFixed(1)} ms</text>`,
    );
    y += 40;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="700">isr vs next start vs nginx vs bare node:http — requests/s (longer is better)</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** The Markdown report: targets, then one table per scenario. */
export function markdown(results: BenchResults): string {
  const s = results.scenarios;
  const lines: string[] = [
    `# Benchmark results (${results.mode})`,
    '',
    `Run ${results.startedAt} → ${results.finishedAt} on ${results.machine.cpus} × ${results.machine.cpuModel}, ` +
      `${fmtMiB(results.machine.memoryBytes)} MiB, ${results.machine.os}. Versions: ${Object.entries(results.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
    `Every figure is the median of ${results.settings.runs} run(s)${s.proxy ? ' (the proxy HIT figures: see section 8)' : ''}, ` +
      'systems alternating run by run; load from wrk, one thread, on 127.0.0.1. ' +
      'Regenerate with `npm run bench` (see bench/README.md).',
    '',
    '![HIT throughput and p99 latency; purge propagation](latest.svg)',
    '',
    '## Targets',
    '',
    '| target | goal | measured | holds |',
    '|---|---|---|---|',
    ...results.targets.map((t) => `| ${t.name} | ${t.goal} | ${t.measured} | ${t.holds === null ? 'n/a' : t.holds ? 'yes' : '**no**'} |`),
    '',
  ];
  const hitPage = results.settings.hitPage as { path: string; isrBytes: number; nextBytes: number } | undefined;
  for (const [connections, figures] of Object.entries(s.hit)) {
    lines.push(`## 1. HIT, one prerendered post, ${connections} connections`, '');
    if (hitPage)
      lines.push(
        `\`${hitPage.path}\`: ${fmtInt(hitPage.isrBytes)} bytes from isr, nginx and node:http; ${fmtInt(hitPage.nextBytes)} from Next.js (its RSC payload inline).`,
        '',
      );
    lines.push(...loadTable(figures, 'isr'), '', ...twoVsOneLine(figures));
  }
  lines.push(
    '## 2. HIT across every post (Zipf-like mix), 64 connections',
    '',
    ...loadTable(s.hitMany, 'isr'),
    '',
    ...twoVsOneLine(s.hitMany),
  );
  lines.push(
    '## 3. MISS: first request of a post that was not prerendered',
    '',
    '| system | posts | p50 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|',
  );
  for (const [system, f] of Object.entries(s.miss))
    lines.push(
      `| ${SYSTEM_LABELS[system as SystemName]} | ${f!.samples} | ${f!.p50Ms.toFixed(1)} | ${f!.p99Ms.toFixed(1)} | ${f!.maxMs.toFixed(1)} |`,
    );
  lines.push(
    '',
    `## 4. STALE herd: ${results.settings.herdConcurrency} concurrent requests to a page whose window just passed`,
    '',
    '| system | content-API calls per run | statuses |',
    '|---|---|---|',
  );
  for (const [system, f] of Object.entries(s.staleHerd))
    lines.push(`| ${SYSTEM_LABELS[system as SystemName]} | ${f!.contentApiCalls.join(', ')} | ${JSON.stringify(f!.statuses)} |`);
  lines.push(
    '',
    '## 5. Build: prerender every post',
    '',
    '| system | pages | wall s | peak RSS MiB (process tree) |',
    '|---|---:|---:|---:|',
  );
  for (const [system, f] of Object.entries(s.build))
    lines.push(`| ${system} build | ${f!.pages} | ${(f!.wallMs / 1000).toFixed(1)} | ${fmtMiB(f!.peakRssBytes)} |`);
  lines.push('', '## 6. Memory', '', '| system | RSS after start MiB | RSS after serving every post MiB |', '|---|---:|---:|');
  for (const [system, f] of Object.entries(s.memory.afterEveryPost))
    lines.push(`| ${SYSTEM_LABELS[system as SystemName]} | ${fmtMiB(f!.rssAfterStartBytes)} | ${fmtMiB(f!.rssBytes)} |`);
  const syn = s.memory.synthetic;
  if (syn) {
    lines.push(
      '',
      `isr with ${fmtInt(syn.entries)} synthetic pages pushed through one server (memory tier bound ${fmtMiB(syn.memoryTierBoundBytes)} MiB):`,
      '',
      '| entries | RSS MiB |',
      '|---:|---:|',
      ...syn.rssBytesAt.map((r) => `| ${fmtInt(r.entries)} | ${fmtMiB(r.rssBytes)} |`),
      '',
      `HIT on one page at 1,000 entries: ${fmtInt(syn.hitAt1k.median.requestsPerSec)} req/s, p50 ${fmtMs(syn.hitAt1k.median.latencyUs.p50)} ms; ` +
        `at ${fmtInt(syn.entries)}: ${fmtInt(syn.hitAtEnd.median.requestsPerSec)} req/s, p50 ${fmtMs(syn.hitAtEnd.median.latencyUs.p50)} ms (ratio ${syn.p50Ratio.toFixed(2)}×).`,
    );
  }
  const purge = s.purge;
  if (purge) {
    const oldAnswers = purge.trials.reduce((sum, t) => sum + t.oldAnswers, 0);
    const withOld = purge.trials.filter((t) => t.oldAnswers > 0).length;
    const row = (what: string, f: { p50Ms: number; p99Ms: number; maxMs: number }) =>
      `| ${what} | ${f.p50Ms.toFixed(1)} | ${f.p99Ms.toFixed(1)} | ${f.maxMs.toFixed(1)} |`;
    lines.push(
      '',
      `## 7. Purge propagation: ${purge.instances} isr instances on one Redis`,
      '',
      `Three \`isr start\` processes of the same build, each with its own cache folder, on one \`redis-server\` started by the benchmark (nothing persisted, a fresh key prefix). ` +
        `${purge.lastInstanceMs.samples} trials (after ${purge.warmupTrials} discarded) on \`${purge.path}\`: its title is changed in the content API, \`POST /_isr/revalidate\` goes to one instance (each in turn), ` +
        'and from the moment that call returns every instance is polled, one client per instance on its own keep-alive connection, request after request, until it serves the new title. ' +
        "A trial's figure is the time until the last instance does. " +
        `The pollers got ${fmtInt(oldAnswers)} answers with the old title after the call returned, in ${withOld} of the ${purge.trials.length} trials ` +
        '(none in a trial means the purge had reached every instance before its first poll arrived). ' +
        'The render row is the same page alone, alternating with the trials: changed, revalidated on one instance, then one request to that instance with no other client ' +
        `(\`x-isr-cache\`: ${Object.entries(purge.renderCacheStates)
          .map(([state, n]) => `${state} ${n}`)
          .join(', ')}).`,
      '',
      '| ms | p50 | p99 | max |',
      '|---|---:|---:|---:|',
      row('until the last instance serves the new page (the figure)', purge.lastInstanceMs),
      row('until the first instance does', purge.firstInstanceMs),
      row('the page rendered alone (one request after a revalidation)', purge.render),
      row('the revalidation call itself (until Redis recorded it)', purge.revalidateCallMs),
    );
  }
  if (s.proxy) lines.push('', ...proxySection(results));
  if (results.notes.length > 0) lines.push('', '## Notes', '', ...results.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

/** Section 8 of the Markdown report: the proxy comparison's one table, its goals in its last row. */
function proxySection(results: BenchResults): string[] {
  const proxy = results.scenarios.proxy!;
  const nginx = proxy.systems['nginx-proxy']?.hit?.median.requestsPerSec;
  const hitRuns = Math.max(0, ...Object.values(proxy.systems).map((f) => f?.hit?.runs.length ?? 0));
  const lines = [
    `## 8. Proxy: isr proxy, nginx proxy_cache and Varnish in front of one origin`,
    '',
    `One node:http origin (bench/src/origin.ts), every answer delayed ${proxy.origin.latencyMs} ms, pages of ${fmtInt(proxy.origin.pageBytes)} bytes with ` +
      '`Cache-Tag` and an `ETag` (`If-None-Match` answered 304). ' +
      `HIT: wrk on \`${proxy.origin.hitPath}\` (\`Cache-Control: ${proxy.origin.hitPolicy}\`), ${proxy.connections} connections, same duration for all, the median of ${hitRuns} runs per system (alternating). ` +
      `STALE herd: a page with \`Cache-Control: ${proxy.origin.herdPolicy}\` is cached, its s-maxage passes, ${proxy.herdConcurrency} requests arrive at once (a connection each); ` +
      'the origin counts its requests for the page (200 or 304) until the refresh settled. ' +
      "Purge effect: the page changes at the origin, the cache is told to purge the page's tag, and from that call's answer the page is requested " +
      'on one keep-alive connection until the new content shows (the time includes one origin fetch).',
    '',
    '| system | HIT req/s | vs nginx | HIT p99 ms | STALE herd: origin calls per run | herd answers (cache status) | purge effect ms: p50 / p99 / max |',
    '|---|---:|---:|---:|---|---|---|',
  ];
  for (const [name, f] of Object.entries(proxy.systems) as Array<[ProxyName, NonNullable<(typeof proxy.systems)[ProxyName]>]>) {
    if (f.notAvailable !== undefined) {
      lines.push(`| ${PROXY_LABELS[name]} | ${f.notAvailable} | | | | | |`);
      continue;
    }
    const hit = f.hit?.median;
    const states: Record<string, number> = {};
    for (const h of f.herd ?? []) for (const [state, n] of Object.entries(h.cacheStates)) states[state] = (states[state] ?? 0) + n;
    const origin = (f.herd ?? []).map(
      (h) =>
        `${h.originCalls} (${
          Object.entries(h.originStatuses)
            .map(([st, n]) => `${n}× ${st}`)
            .join(', ') || 'none'
        })`,
    );
    const purge = f.purge
      ? `${f.purge.p50Ms.toFixed(1)} / ${f.purge.p99Ms.toFixed(1)} / ${f.purge.maxMs.toFixed(1)} (${f.purge.samples} trials; ${f.purge.how})`
      : (f.purgeNotAvailable ?? '');
    lines.push(
      `| ${PROXY_LABELS[name]} | ${hit ? fmtInt(hit.requestsPerSec) : ''} | ${hit && nginx ? ratio(hit.requestsPerSec, nginx) : ''} | ` +
        `${hit ? fmtMs(hit.latencyUs.p99) : ''} | ${origin.join('; ')} | ${Object.entries(states)
          .map(([state, n]) => `${state} ${n}`)
          .join(', ')} | ${purge} |`,
    );
  }
  lines.push("| goal (isr proxy) | ≥ nginx's | ≥ 1.00× | ≤ nginx's | exactly 1 every run | | |");
  return lines;
}

/** Writes latest.json, latest.md and latest.svg into `dir`. */
export async function writeReport(results: BenchResults, dir: string): Promise<void> {
  await writeFile(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(dir, 'latest.md'), markdown(results));
  await writeFile(join(dir, 'latest.svg'), hitChart(results));
}
