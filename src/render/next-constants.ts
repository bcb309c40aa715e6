/**
 * `next/constants` for both routers, as the build maps it (build/shims.ts): the phase names a
 * next.config function receives (config/next-config.ts calls it with `phase-production-build`).
 * @see https://nextjs.org/docs/app/api-reference/config/next-config-js#phase
 */

export const PHASE_EXPORT = 'phase-export';
export const PHASE_PRODUCTION_BUILD = 'phase-production-build';
export const PHASE_PRODUCTION_SERVER = 'phase-production-server';
export const PHASE_DEVELOPMENT_SERVER = 'phase-development-server';
export const PHASE_TEST = 'phase-test';
export const PHASE_INFO = 'phase-info';
