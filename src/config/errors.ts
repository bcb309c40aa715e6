/**
 * The error of a configuration a user wrote wrong (`isr.config.mjs`, an `ISR_*` variable, a
 * command-line option): its message names the option and what it accepts, so the command line
 * prints the message alone, without a stack trace.
 */
export class ConfigError extends TypeError {
  override name = 'ConfigError';
}
