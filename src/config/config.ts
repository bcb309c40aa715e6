/**
 * `loadConfig`: a site's configuration from its config file, the environment and explicit options,
 * each option read, defaulted and checked through the table of options.ts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './errors.ts';
import { type IsrConfig, OPTION_NAMES, OPTIONS, type Option } from './options.ts';

export type { IsrConfig } from './options.ts';

export const CONFIG_FILES = ['isr.config.mjs', 'isr.config.js'];

/**
 * Loads the configuration of the site in `siteDir`: each option of {@link OPTIONS} from `overrides`,
 * else its environment variable (unless empty), else the config file (`isr.config.mjs` or
 * `isr.config.js`, default export), else its default (`null` counts as unset), then checked by its
 * parser.
 * @param overrides explicit values (highest precedence).
 * @param env environment (default `process.env`).
 * @throws ConfigError naming the option (and the config file) for an unknown option or a bad value;
 *   Error when the config file fails to load.
 */
export async function loadConfig(
  siteDir: string,
  overrides: Partial<IsrConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<IsrConfig> {
  let fileConfig: Record<string, unknown> = {};
  let source = 'options';
  for (const name of CONFIG_FILES) {
    const file = path.join(siteDir, name);
    if (!existsSync(file)) continue;
    const loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
    if (typeof loaded.default !== 'object' || loaded.default === null) {
      throw new ConfigError(`${file} must export a configuration object as its default export`);
    }
    fileConfig = loaded.default as Record<string, unknown>;
    source = file;
    break;
  }
  for (const [where, values] of [
    [source, fileConfig],
    ['options', overrides],
  ] as const) {
    for (const key of Object.keys(values)) {
      if (!Object.hasOwn(OPTIONS, key)) throw new ConfigError(`${where}: unknown option "${key}" (known: ${OPTION_NAMES.join(', ')})`);
    }
  }
  const config: Record<string, unknown> = {};
  for (const name of OPTION_NAMES) {
    const option: Option = OPTIONS[name];
    const fromEnv = env[option.env];
    const value =
      (overrides[name] !== undefined ? overrides[name] : fromEnv !== undefined && fromEnv !== '' ? fromEnv : fileConfig[name]) ??
      (option.defaultFor === undefined ? option.default : option.defaultFor(siteDir));
    config[name] = value === undefined ? undefined : option.parse(value, siteDir);
  }
  return config as IsrConfig;
}
