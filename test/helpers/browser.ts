/** Headless Chromium for the browser tests: Debian's package (never downloaded), driven by playwright-core. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Where Chromium is: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * A desktop Chrome's user agent. Headless Chromium says "HeadlessChrome" in its own, which bot
 * detection (rightly) treats as a crawler; tests that play a person's browser send this one.
 */
export const DESKTOP_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/**
 * Launches headless Chromium (`--no-sandbox`, as root in a container needs).
 * @throws AssertionError saying how to install it when it is missing.
 */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
}

/**
 * Collects what goes wrong in `page` from now on: uncaught exceptions and console errors (React's
 * hydration mismatches and invalid hook calls are logged there), except the browser's own request
 * for a missing `/favicon.ico`.
 * @returns the list, filled as they happen.
 */
export function recordPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(message.text());
  });
  return errors;
}
