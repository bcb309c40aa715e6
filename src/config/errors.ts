/**
 * The error of a configuration a user wrote wrong (`isr.config.mjs`, an `ISR_*` variable, a
 * command-line option): its message names the option and what it accepts, so the command line
 * prints the message alone, without a stack trace.
 */
export class ConfigError extends TypeError {
  override name = 'ConfigError';
}

/**
 * A problem in the site a user can act on: a file isr cannot build or serve, a feature it does not
 * support, a value of the wrong shape returned by the site's code (`generateStaticParams`,
 * `getStaticPaths`), a prerender that failed. Its message names the file (relative to the site),
 * the feature and what to do, so `isr build` and `isr start` print the message alone, with at most
 * the stack frames of the site's own code that threw (`cause`), never isr's.
 */
export class SiteError extends Error {
  override name = 'SiteError';
}
