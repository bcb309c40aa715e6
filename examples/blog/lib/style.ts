/**
 * The example's stylesheet, inlined in <head> by both routers: `app/layout.tsx` (App Router) and
 * `pages/_app.tsx` (Pages Router). The example has no CSS pipeline.
 */
export const css = `
  :root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --accent: #3b7d23; --rule: #d8dee4; --code: #f3f5f7; }
  @media (prefers-color-scheme: dark) {
    :root { --fg: #e6e8ea; --muted: #9aa4ae; --bg: #15181c; --accent: #7cc35d; --rule: #30363d; --code: #1e2329; }
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--fg); font: 17px/1.65 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  header, main { max-width: 46rem; margin: 0 auto; padding: 0 1.25rem; }
  header { padding-top: 1.25rem; padding-bottom: 1rem; border-bottom: 1px solid var(--rule); }
  header a { color: var(--fg); font-weight: 700; text-decoration: none; }
  header a span { color: var(--accent); }
  main { padding-top: 1.5rem; padding-bottom: 4rem; }
  a { color: var(--accent); }
  h1, h2, h3 { line-height: 1.25; }
  h1 { font-size: 2rem; margin: 0 0 0.5rem; }
  .meta { color: var(--muted); font-size: 0.9rem; margin-top: 0; }
  .posts { list-style: none; padding: 0; margin: 0; }
  .posts li { padding: 0.6rem 0; border-bottom: 1px solid var(--rule); }
  .posts a { font-weight: 600; text-decoration: none; }
  .posts a:hover { text-decoration: underline; }
  .posts .meta { display: block; margin: 0.1rem 0 0; }
  article img, article video { max-width: 100%; height: auto; }
  code { font: 0.88em/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--code); padding: 0.1em 0.3em; border-radius: 4px; }
  pre { background: var(--code); padding: 0.9rem 1rem; border-radius: 6px; overflow-x: auto; }
  pre code { padding: 0; background: none; }
  blockquote { margin: 1rem 0; padding: 0 1rem; color: var(--muted); border-left: 3px solid var(--rule); }
  table { border-collapse: collapse; display: block; overflow-x: auto; font-size: 0.92rem; }
  th, td { border: 1px solid var(--rule); padding: 0.3rem 0.6rem; text-align: left; }
  hr { border: 0; border-top: 1px solid var(--rule); }
  .skeleton { height: 1.1rem; margin: 0.9rem 0; border-radius: 4px; background: var(--code); }
  .skeleton.short { width: 60%; }
`;
