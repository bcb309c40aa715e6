/**
 * The benchmark's outputs: issue 3's targets checked against one run's figures, and
 * latest.json (everything), latest.md (tables) and latest.svg (the HIT chart).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchResults, LoadFigures, SystemName, TargetCheck } from './types.ts';

const SYSTEM_LABELS: Record<SystemName, string> = {
  isr: 'isr',
  'isr-http': 'isr, fast path off',
  next: 'next start',
  'nginx-1w': 'nginx, 1 worker',
  'nginx-2w': 'nginx, 2 workers',
  ceiling: 'bare node:http',
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

/** Issue 3's targets, each with the ratio measured in this run (ratios, never absolute timings). */
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
  pair = both(p99('isr'), p99('next'));
  targets.push(check('HIT p99 latency vs next start (64 connections)', '≤ 0.10×', pair && ratio(...pair), pair && pair[0] / pair[1] <= 0.1));

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
  targets.push(check('Server RSS after serving every post vs next start', '≤ 0.50×', memPair && ratio(...memPair), memPair && memPair[0] / memPair[1] <= 0.5));
  const herd = results.scenarios.staleHerd.isr;
  targets.push(
    check(
      'STALE herd: content-API calls per stale page (every run)',
      'exactly 1',
      herd && herd.contentApiCalls.join(', '),
      herd && herd.contentApiCalls.every((n) => n === 1),
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
  return targets;
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

/** A horizontal bar chart (SVG) of HIT requests/s and p99 per system, one group per connection count. */
export function hitChart(results: BenchResults): string {
  const groups = Object.entries(results.scenarios.hit);
  const systems = [...new Set(groups.flatMap(([, f]) => Object.keys(f)))] as SystemName[];
  const max = Math.max(1, ...groups.flatMap(([, f]) => Object.values(f).map((x) => x!.median.requestsPerSec)));
  const rowH = 22;
  const labelW = 150;
  const barW = 460;
  const width = labelW + barW + 190;
  const colors: Record<SystemName, string> = { isr: '#3b7d23', 'isr-http': '#8cc36f', next: '#555555', 'nginx-1w': '#1f6feb', 'nginx-2w': '#6e9ff0', ceiling: '#b08800' };
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
      `${fmtMiB(results.machine.memoryBytes)} MiB, ${results.machine.os}. Versions: ${Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Every figure is the median of ${results.settings.runs} run(s), systems alternating run by run; load from wrk, one thread, on 127.0.0.1. ` +
      'Regenerate with `npm run bench` (see bench/README.md).',
    '',
    '![HIT throughput and p99 latency](latest.svg)',
    '',
    '## Targets (issue 3)',
    '',
    '| target | goal | measured | holds |',
    '|---|---|---|---|',
    ...results.targets.map((t) => `| ${t.name} | ${t.goal} | ${t.measured} | ${t.holds === null ? 'n/a' : t.holds ? 'yes' : '**no**'} |`),
    '',
  ];
  const hitPage = results.settings.hitPage as { path: string; isrBytes: number; nextBytes: number } | undefined;
  for (const [connections, figures] of Object.entries(s.hit)) {
    lines.push(`## 1. HIT, one prerendered post, ${connections} connections`, '');
    if (hitPage) lines.push(`\`${hitPage.path}\`: ${fmtInt(hitPage.isrBytes)} bytes from isr, nginx and node:http; ${fmtInt(hitPage.nextBytes)} from Next.js (its RSC payload inline).`, '');
    lines.push(...loadTable(figures, 'isr'), '');
  }
  lines.push('## 2. HIT across every post (Zipf-like mix), 64 connections', '', ...loadTable(s.hitMany, 'isr'), '');
  lines.push('## 3. MISS: first request of a post that was not prerendered', '', '| system | posts | p50 ms | p99 ms | max ms |', '|---|---:|---:|---:|---:|');
  for (const [system, f] of Object.entries(s.miss)) lines.push(`| ${SYSTEM_LABELS[system as SystemName]} | ${f!.samples} | ${f!.p50Ms.toFixed(1)} | ${f!.p99Ms.toFixed(1)} | ${f!.maxMs.toFixed(1)} |`);
  lines.push('', `## 4. STALE herd: ${results.settings.herdConcurrency} concurrent requests to a page whose window just passed`, '', '| system | content-API calls per run | statuses |', '|---|---|---|');
  for (const [system, f] of Object.entries(s.staleHerd)) lines.push(`| ${SYSTEM_LABELS[system as SystemName]} | ${f!.contentApiCalls.join(', ')} | ${JSON.stringify(f!.statuses)} |`);
  lines.push('', '## 5. Build: prerender every post', '', '| system | pages | wall s | peak RSS MiB (process tree) |', '|---|---:|---:|---:|');
  for (const [system, f] of Object.entries(s.build)) lines.push(`| ${system} build | ${f!.pages} | ${(f!.wallMs / 1000).toFixed(1)} | ${fmtMiB(f!.peakRssBytes)} |`);
  lines.push('', '## 6. Memory', '', '| system | RSS after start MiB | RSS after every post once MiB |', '|---|---:|---:|');
  for (const [system, f] of Object.entries(s.memory.afterEveryPost)) lines.push(`| ${SYSTEM_LABELS[system as SystemName]} | ${fmtMiB(f!.rssAfterStartBytes)} | ${fmtMiB(f!.rssBytes)} |`);
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
  if (results.notes.length > 0) lines.push('', '## Notes', '', ...results.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

/** Writes latest.json, latest.md and latest.svg into `dir`. */
export async function writeReport(results: BenchResults, dir: string): Promise<void> {
  await writeFile(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(dir, 'latest.md'), markdown(results));
  await writeFile(join(dir, 'latest.svg'), hitChart(results));
}
