/** Build and serve a fixture site in this process with an injected clock, and make requests to it. */

import { build } from '../../src/build/build.ts';
import type { IsrConfig } from '../../src/config/config.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { type FixtureApi, startFixtureApi } from './fixture-api.ts';
import { copyFixture } from './site.ts';

export const TOKEN = 'test-token-0123456789';

/** The fixture content API's items when a fixture site is built (its prerender reads them). */
export const FIXTURE_ITEMS: Readonly<Record<string, string>> = {
  '1': 'one',
  '2': 'two',
  forever: 'ever v1',
  data: 'data v1',
  route: 'route v1',
  fn: 'fn v1',
  broken: 'broken v1',
  'mix-a': 'a1',
  'mix-b': 'b1',
  untagged: 'untagged v1',
  sometimes: 'static v1',
  'sometimes-a': 'static a1',
  'sometimes-b': 'static b1',
  twice: 'twice v1',
};

export interface Response_ {
  status: number;
  headers: Headers;
  text: string;
}

/** A request to the running server, body read as text. */
export async function request(server: { url: string }, path: string, init: RequestInit = {}): Promise<Response_> {
  const response = await fetch(server.url + path, { redirect: 'manual', ...init });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Text as React writes it into HTML (the five characters it escapes). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
}

/** The `<p id="text">` content of a fixture page. */
export function pageText(html: string): string | undefined {
  return /<p id="text">(.*?)<\/p>/.exec(html)?.[1]?.replace(/<!-- -->/g, '');
}

export interface FixtureServer {
  api: FixtureApi;
  dir: string;
  clock: ManualClock;
  logger: ReturnType<typeof createMemoryLogger>;
  server: RunningServer;
  url: string;
  /** Stops the server and starts a new one on the same site and cache (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Copies a fixture site (`test/fixtures/<site.name>`, default `site`) to a temp folder, builds it
 * against a fresh fixture API holding `site.items` (default {@link FIXTURE_ITEMS}), and serves it
 * in-process on a free port with an injected clock (starting at the wall time of the build).
 */
export async function startFixtureServer(
  config: Partial<IsrConfig> = {},
  site: { name?: string; items?: Readonly<Record<string, string>> } = {},
): Promise<FixtureServer> {
  const api = await startFixtureApi(site.items ?? FIXTURE_ITEMS);
  process.env.FIXTURE_API_URL = api.url;
  process.env.MY_SECRET_TOKEN = TOKEN;
  const { dir, cleanup } = await copyFixture(site.name ?? 'site');
  const logger = createMemoryLogger();
  await build({ siteDir: dir, logger });
  const clock = new ManualClock(Date.now());
  const options = { siteDir: dir, port: 0, hostname: '127.0.0.1', logger, clock, config: { revalidateToken: TOKEN, ...config } };
  const fixture: FixtureServer = {
    api,
    dir,
    clock,
    logger,
    server: await startServer(options),
    get url() {
      return fixture.server.url;
    },
    async restart() {
      await fixture.server.close();
      // A real restart takes time: the new process's clock is past every time the old one handed out.
      clock.advance(1);
      fixture.server = await startServer(options);
    },
    async close() {
      await fixture.server.close();
      await api.close();
      await cleanup();
    },
  };
  return fixture;
}
