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
    error: (message, cause) =>
      console.error(`[isr] error: ${message}${cause === undefined ? '' : `\n${describeError(cause)}`}`),
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
