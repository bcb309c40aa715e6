/**
 * Time for the engine: an injected `Clock` (ms since the epoch), so every ISR rule can be tested
 * without waiting (`ManualClock`), and the reporting of times from the future (rule 7 of
 * engine.ts: a peer or a store whose clock runs ahead).
 */

import type { Milliseconds } from '../units.ts';

/** A source of time, injected so every ISR rule can be tested without waiting. */
export interface Clock {
  /** Milliseconds since the epoch; may be fractional (sub-millisecond precision). */
  now(): Milliseconds;
}

/** When this process's `performance.now()` counts from, ms since the epoch (a constant). */
const TIME_ORIGIN = performance.timeOrigin;

/** Wall-clock time with sub-millisecond precision (`performance.timeOrigin + performance.now()`). */
export const systemClock: Clock = {
  now: () => TIME_ORIGIN + performance.now(),
};

/** A clock that only moves when told to (tests). */
export class ManualClock implements Clock {
  constructor(private time = Date.UTC(2026, 0, 1)) {}
  now(): Milliseconds {
    return this.time;
  }
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: Milliseconds): void {
    this.time += ms;
  }
  /** Moves the clock forward by `seconds` seconds. */
  advanceSeconds(seconds: number): void {
    this.time += seconds * 1000;
  }
}

/**
 * Reports times from the future (see `CLOCK_SKEW_TOLERANCE_MS` in store/store.ts) once per source
 * and streak, not per request: the first one from a source is a `warn` naming the source and how
 * far ahead it was (ms); further ones from that source are only counted until a time from it is
 * no longer ahead, which ends the streak with an `info` line giving the count.
 */
export class FutureTimeReporter {
  readonly #streaks = new Map<string, { count: number; largestMs: Milliseconds }>();

  constructor(private readonly logger: { warn(message: string): void; info(message: string): void }) {}

  /** Whether any source is in a streak now (a cheap check before {@link settled} on hot paths). */
  get active(): boolean {
    return this.#streaks.size > 0;
  }

  /**
   * Records that `source` gave a time `aheadMs` milliseconds ahead of the local clock, and what was
   * done about it (`action`, e.g. `clamped to now`); logs it if it starts a streak.
   */
  ahead(source: string, aheadMs: Milliseconds, action: string): void {
    const streak = this.#streaks.get(source);
    if (streak !== undefined) {
      streak.count++;
      streak.largestMs = Math.max(streak.largestMs, aheadMs);
      return;
    }
    this.#streaks.set(source, { count: 1, largestMs: aheadMs });
    this.logger.warn(
      `a time from ${source} is ${Math.round(aheadMs)} ms ahead of this host's clock (a clock stepped back, or another ` +
        `host's clock is fast: check NTP); ${action}. Further ones from this source are not logged until its times are no longer ahead`,
    );
  }

  /** Ends the streak of `source`, if there is one: its times are no longer ahead. */
  settled(source: string): void {
    const streak = this.#streaks.get(source);
    if (streak === undefined) return;
    this.#streaks.delete(source);
    this.logger.info(
      `times from ${source} are no longer ahead of this host's clock (${streak.count} were, by up to ${Math.round(streak.largestMs)} ms)`,
    );
  }
}
