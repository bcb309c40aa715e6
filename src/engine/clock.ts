/** A source of time, injected so every ISR rule can be tested without waiting. */
export interface Clock {
  /** Milliseconds since the epoch; may be fractional (sub-millisecond precision). */
  now(): number;
}

/** Wall-clock time with sub-millisecond precision (`performance.timeOrigin + performance.now()`). */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
};

/** A clock that only moves when told to (tests). */
export class ManualClock implements Clock {
  constructor(private time = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.time;
  }
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.time += ms;
  }
  /** Moves the clock forward by `seconds` seconds. */
  advanceSeconds(seconds: number): void {
    this.time += seconds * 1000;
  }
}
