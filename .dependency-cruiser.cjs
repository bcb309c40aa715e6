/**
 * The layers of `src/`, as `docs/architecture.md` ("Layers") lists them: each folder (or top-level
 * file) may import only what its entry names, which is always something below it. `npm test` runs
 * `depcruise` with this file and fails on any other import; `test/unit/layers.test.ts` checks that
 * this table and the one in `docs/architecture.md` say the same, and that an upward import fails.
 * @see https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md
 */
const below = (...names) => names;
const BASE = below('log.ts', 'units.ts');
const LAYERS = {
  'log.ts': [],
  'units.ts': [],
  http: [...BASE],
  config: [...BASE, 'http'],
  store: [...BASE, 'http', 'config'],
  engine: [...BASE, 'http', 'config', 'store'],
  cluster: [...BASE, 'http', 'config', 'store', 'engine'],
  serve: [...BASE, 'http', 'config', 'store', 'engine'],
  render: [...BASE, 'http', 'config', 'store', 'engine'],
  app: [...BASE, 'http', 'config', 'store', 'engine', 'render'],
  pages: [...BASE, 'http', 'config', 'store', 'engine', 'render'],
  site: [...BASE, 'http', 'config', 'store', 'engine', 'render', 'app', 'pages'],
  build: [...BASE, 'http', 'config', 'store', 'engine', 'render', 'app', 'pages', 'site'],
  server: [...BASE, 'http', 'config', 'store', 'engine', 'serve', 'render', 'app', 'pages', 'site'],
  proxy: [...BASE, 'http', 'config', 'store', 'engine', 'serve'],
  cli: [...BASE, 'http', 'config', 'store', 'engine', 'cluster', 'serve', 'render', 'app', 'pages', 'site', 'server', 'proxy', 'build'],
  'index.ts': [...BASE, 'http', 'config', 'store', 'engine', 'cluster', 'serve', 'render', 'app', 'pages', 'site', 'server', 'proxy', 'build'],
};

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `src/<name>` as a path pattern: the file itself, or anything in the folder. */
const place = (name) => (name.endsWith('.ts') ? `^src/${escape(name)}$` : `^src/${escape(name)}/`);

module.exports = {
  forbidden: [
    ...Object.entries(LAYERS).map(([name, allowed]) => ({
      name: `layer-${name.replace(/\.ts$/, '')}`,
      comment: `src/${name} may import only ${allowed.length ? allowed.join(', ') : 'nothing in src/'} (docs/architecture.md, "Layers")`,
      severity: 'error',
      from: { path: place(name) },
      to: { path: '^src/', pathNot: [place(name), ...allowed.map(place)] },
    })),
    {
      name: 'no-unknown-place',
      comment: 'every file of src/ belongs to a layer of docs/architecture.md',
      severity: 'error',
      from: { path: '^src/', pathNot: Object.keys(LAYERS).map(place) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    // TypeScript 7 has no JavaScript compiler API for dependency-cruiser to parse with; @swc/core (a
    // devDependency for this alone, hence knip.json's ignoreDependencies) parses the sources.
    parser: 'swc',
  },
};
// For test/unit/layers.test.ts; not enumerable, so the config's schema check does not see it.
Object.defineProperty(module.exports, 'LAYERS', { value: LAYERS, enumerable: false });
