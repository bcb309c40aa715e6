/**
 * Logging. Every part of isr logs through a `Logger` so tests can capture lines and servers can
 * route them. The default writes one line per event to stderr, prefixed `[isr]`.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, cause?: unknown): void;
  /** Cache tracing, printed only when debugging is on (`ISR_DEBUG_CACHE=1`). */
  debug(message: string): void;
  /** Whether `debug` prints anything: callers on hot paths skip building the message when not. */
  readonly debugEnabled: boolean;
}

/** An error's message (or string form), for one-line log messages. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Formats an error for a log line: its stack when it has one, else its string form. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * The console logger.
 * @param options.debug print `debug` lines (cache HIT/STALE/MISS tracing); default: `ISR_DEBUG_CACHE=1` (or `true`).
 */
export function createConsoleLogger(options: { debug?: boolean } = {}): Logger {
  const debug = options.debug ?? (process.env.ISR_DEBUG_CACHE === '1' || process.env.ISR_DEBUG_CACHE === 'true');
  return {
    info: (message) => console.error(`[isr] ${message}`),
    warn: (message) => console.error(`[isr] warning: ${message}`),
    error: (message, cause) => console.error(`[isr] error: ${message}${cause === undefined ? '' : `\n${describeError(cause)}`}`),
    debug: debug ? (message) => console.error(`[isr] ${message}`) : () => {},
    debugEnabled: debug,
  };
}

/** A logger that keeps lines in memory (tests, embedding). */
export function createMemoryLogger(options: { debug?: boolean } = {}): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m, cause) => lines.push(`error ${m}${cause === undefined ? '' : ` :: ${describeError(cause)}`}`),
    debug: options.debug === false ? () => {} : (m) => lines.push(`debug ${m}`),
    debugEnabled: options.debug !== false,
  };
}

/** Length kept of input echoed in a warning by {@link excerpt}, in characters. */
export const EXCERPT_LENGTH = 80;

/**
 * `text` cut to its first {@link EXCERPT_LENGTH} characters plus `…(N characters)` when longer:
 * input echoed in a log line (a URL, a tag) stays short whatever its size.
 */
export function excerpt(text: string, length = EXCERPT_LENGTH): string {
  return text.length <= length ? text : `${text.slice(0, length)}…(${text.length} characters)`;
}

/** A repeated warning is logged at most once per this many ms per key: one minute. */
export const REPEATED_WARNING_INTERVAL_MS = 60_000;
/** Most keys a logger's limiter remembers; the least recently warned is forgotten beyond that. */
const REPEATED_WARNING_KEYS = 1000;

const warningLimits = new WeakMap<Logger, Map<string, { lastAt: number; suppressed: number }>>();

/**
 * Logs `message` as a `warn` on `logger` unless a warning with the same `key` was logged less than
 * {@link REPEATED_WARNING_INTERVAL_MS} (60 s) ago; those are counted instead, and the next one
 * logged says how many were suppressed. For warnings a request can cause (bad input in a page's
 * code, a corrupt entry read on every request), so that traffic cannot flood the log. `key` names
 * the kind of warning (a constant, never request input); `now` is the clock in ms (tests).
 */
export function warnRepeated(logger: Logger, key: string, message: string, now: number = Date.now()): void {
  let limits = warningLimits.get(logger);
  if (limits === undefined) warningLimits.set(logger, (limits = new Map()));
  const limit = limits.get(key);
  if (limit !== undefined && now - limit.lastAt < REPEATED_WARNING_INTERVAL_MS) {
    limit.suppressed++;
    return;
  }
  const suppressed = limit?.suppressed ?? 0;
  limits.delete(key); // re-inserted last: the Map's order is the least recently warned first
  limits.set(key, { lastAt: now, suppressed: 0 });
  if (limits.size > REPEATED_WARNING_KEYS) limits.delete(limits.keys().next().value!);
  const tail =
    suppressed > 0
      ? ` (${suppressed} more like this in the last ${Math.round((now - limit!.lastAt) / 1000)} s were not logged: such warnings are logged at most once a minute)`
      : '';
  logger.warn(`${message}${tail}`);
}
