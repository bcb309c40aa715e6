/**
 * Scenario 9, client components: the bench site's `/interactive` (about 6 KB of server-rendered
 * text and one `'use client'` like button) on isr and on `next start`, in headless Chromium
 * (Debian's package, never downloaded), and its HIT rate on isr beside `/interactive-twin/<copies>`, the
 * same page without the client component, its text repeated until it is about as large.
 *
 *   - JavaScript bytes: the script files the page loads until it is interactive, as the browser
 *     decoded them (`PerformanceResourceTiming.decodedBodySize`; next start compresses, isr does
 *     not, so transfer sizes would compare compression, not code).
 *   - Hydration time: from the start of navigation to the like button's first effect
 *     (`performance.now()` recorded by the button), each load in a fresh browser context (empty cache).
 *   - HIT req/s: wrk on isr, `/interactive` against the twin of about its size.
 */

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { loadRuns, type Settings } from './scenarios.ts';
import type { ClientComponentFigures, RunningServer } from './types.ts';

type Log = (line: string) => void;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** One load of `url`: the JavaScript it took and when it became interactive. */
interface Load {
  scriptBytes: number;
  scripts: number;
  hydratedMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/**
 * Runs the scenario on `servers` (`isr` and `next`): `loads` page loads each, alternating systems.
 * @throws Error when Chromium is missing or the page never becomes interactive.
 */
export async function clientComponents(
  servers: Map<'isr' | 'next', RunningServer>,
  settings: Settings,
  loads: number,
  log: Log,
): Promise<ClientComponentFigures> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
  const byServer = new Map<'isr' | 'next', Load[]>([...servers.keys()].map((name) => [name, []]));
  try {
    for (let round = 0; round < loads; round++) {
      for (const [name, server] of servers) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${server.url}/interactive`);
        await page.waitForFunction(() => (window as unknown as { __hydratedAt?: number }).__hydratedAt !== undefined, undefined, {
          timeout: 30_000,
        });
        const load = await page.evaluate(() => {
          const scripts = performance
            .getEntriesByType('resource')
            .filter((entry): entry is PerformanceResourceTiming => entry instanceof PerformanceResourceTiming)
            .filter((entry) => entry.initiatorType === 'script' || /\.m?js(\?|$)/.test(new URL(entry.name).pathname));
          return {
            scriptBytes: scripts.reduce((sum, entry) => sum + entry.decodedBodySize, 0),
            scripts: scripts.length,
            hydratedMs: (window as unknown as { __hydratedAt: number }).__hydratedAt,
          };
        });
        // The button works: a click counts.
        await page.click('#like');
        await page.waitForFunction(() => document.querySelector('#like')?.textContent === '4 likes');
        await context.close();
        byServer.get(name)!.push(load);
        log(
          `  ${name.padEnd(9)} load ${round + 1}: ${load.scripts} scripts, ${load.scriptBytes} bytes of JavaScript, interactive at ${load.hydratedMs.toFixed(0)} ms`,
        );
      }
    }
  } finally {
    await browser.close();
  }
  const figures: ClientComponentFigures = { loads, systems: {} };
  for (const [name, list] of byServer) {
    figures.systems[name] = {
      scriptBytes: median(list.map((load) => load.scriptBytes)),
      scripts: median(list.map((load) => load.scripts)),
      hydratedMs: median(list.map((load) => load.hydratedMs)),
    };
  }
  const isr = servers.get('isr');
  if (isr !== undefined) {
    const size = async (path: string) => (await (await fetch(`${isr.url}${path}`)).arrayBuffer()).byteLength;
    // The server-only twin as large as the page: its text repeated the number of times that comes closest.
    const interactiveBytes = await size('/interactive');
    let twinPath = '/interactive-twin/1';
    let twinBytes = await size(twinPath);
    for (let copies = 2; copies <= 8; copies++) {
      const bytes = await size(`/interactive-twin/${copies}`);
      if (Math.abs(bytes - interactiveBytes) < Math.abs(twinBytes - interactiveBytes))
        [twinPath, twinBytes] = [`/interactive-twin/${copies}`, bytes];
    }
    figures.isrPageBytes = { interactive: interactiveBytes, twin: twinBytes };
    log(
      `  HIT on isr: /interactive (client component, ${interactiveBytes} bytes) against ${twinPath} ` +
        `(server only, ${twinBytes} bytes), 64 connections`,
    );
    const paths = { interactive: '/interactive', twin: twinPath } as const;
    const hit = await loadRuns<'interactive' | 'twin'>(['interactive', 'twin'], (which) => `${isr.url}${paths[which]}`, 64, settings, log);
    figures.isrHit = { interactive: hit.interactive!, twin: hit.twin! };
  }
  return figures;
}
