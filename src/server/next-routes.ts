/**
 * next.config's `redirects`, `rewrites` and `headers` (read at build, config/next-config.ts),
 * applied to each request as Next.js applies them
 * (https://nextjs.org/docs/app/api-reference/config/next-config-js/rewrites#order): headers to the
 * answer, then redirects, then `beforeFiles` rewrites (before the site's files and pages),
 * `afterFiles` rewrites (when no page or file has the path itself), and `fallback` rewrites (when
 * nothing does). Patterns use Next.js's syntax, path-to-regexp 6 (`/blog/:slug`, `/docs/:path*`,
 * `/(.*)`), with `has` / `missing` conditions on headers, cookies, the query and the host.
 *
 * A rewrite to a path of the site serves that path's page, from the ISR cache, under the
 * requested URL; a rewrite to another origin (`https://…`) is proxied, never cached.
 */

import { compile, type MatchFunction, match } from 'path-to-regexp-v6';
import type { HeaderRule, RedirectRule, RewriteRule, RouteCondition, RoutingRules } from '../config/next-config.ts';

type Params = Record<string, string | string[]>;

interface Compiled<Rule> {
  rule: Rule;
  matches: MatchFunction<Params>;
}

function compileRules<Rule extends { source: string }>(rules: readonly Rule[]): Compiled<Rule>[] {
  return rules.map((rule) => ({ rule, matches: match<Params>(rule.source, { decode: decodeURIComponent, strict: true }) }));
}

function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0 || part.slice(0, at).trim() !== name) continue;
    const raw = part.slice(at + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/**
 * Whether `condition` (of a rule's or a middleware matcher's `has` / `missing`) holds for the
 * request; a value is a regular expression the whole value must match.
 */
export function holds(condition: RouteCondition, request: Request, url: URL): boolean {
  let value: string | undefined | null;
  switch (condition.type) {
    case 'header':
      value = request.headers.get(condition.key!);
      break;
    case 'cookie':
      value = cookieValue(request.headers.get('cookie'), condition.key!);
      break;
    case 'query':
      value = url.searchParams.get(condition.key!);
      break;
    case 'host':
      value = (request.headers.get('host') ?? url.host).split(':', 1)[0];
      break;
  }
  if (value === undefined || value === null) return false;
  return condition.value === undefined || new RegExp(`^(?:${condition.value})$`).test(value);
}

/** The params of the first rule whose source matches `pathname` and whose conditions hold. */
function firstMatch<Rule extends { has?: RouteCondition[]; missing?: RouteCondition[] }>(
  rules: readonly Compiled<Rule>[],
  request: Request,
  url: URL,
  pathname = url.pathname,
): { rule: Rule; params: Params } | undefined {
  for (const { rule, matches } of rules) {
    const found = matches(pathname);
    if (found === false) continue;
    if (!(rule.has ?? []).every((condition) => holds(condition, request, url))) continue;
    if ((rule.missing ?? []).some((condition) => holds(condition, request, url))) continue;
    return { rule, params: found.params };
  }
  return undefined;
}

/**
 * `destination` with the source's params put in (`:slug` → its value); the request's query is kept,
 * under the destination's own.
 */
function destinationUrl(destination: string, params: Params, url: URL): URL {
  const external = /^[a-z][a-z0-9+.-]*:\/\//i.test(destination);
  const target = new URL(destination, url.origin);
  const fill = (text: string) => compile<Params>(text, { encode: encodeURIComponent, validate: false })(params);
  let pathname = target.pathname;
  try {
    pathname = fill(decodeURIComponent(target.pathname));
  } catch {
    // A destination without params of this source: as written.
  }
  const result = new URL(external ? `${target.protocol}//${target.host}${pathname}` : pathname, url.origin);
  for (const [name, value] of target.searchParams)
    result.searchParams.append(
      name,
      value.startsWith(':') && typeof params[value.slice(1)] === 'string' ? (params[value.slice(1)] as string) : value,
    );
  for (const [name, value] of url.searchParams) if (!result.searchParams.has(name)) result.searchParams.append(name, value);
  result.hash = target.hash;
  return result;
}

export class NextRoutes {
  private readonly redirects: Compiled<RedirectRule>[];
  private readonly beforeFiles: Compiled<RewriteRule>[];
  private readonly afterFiles: Compiled<RewriteRule>[];
  private readonly fallback: Compiled<RewriteRule>[];
  private readonly headers: Compiled<HeaderRule>[];
  /** Whether any rule exists (the memory fast path is off when one does: every request goes through them). */
  readonly any: boolean;

  constructor(rules: RoutingRules) {
    this.redirects = compileRules(rules.redirects);
    this.beforeFiles = compileRules(rules.rewrites.beforeFiles);
    this.afterFiles = compileRules(rules.rewrites.afterFiles);
    this.fallback = compileRules(rules.rewrites.fallback);
    this.headers = compileRules(rules.headers);
    this.any = [this.redirects, this.beforeFiles, this.afterFiles, this.fallback, this.headers].some((list) => list.length > 0);
  }

  /** The redirect `request` gets, if a rule says so. */
  redirect(request: Request, url: URL): Response | undefined {
    const found = firstMatch(this.redirects, request, url);
    if (found === undefined) return undefined;
    const location = destinationUrl(found.rule.destination, found.params, url);
    const sameOrigin = location.origin === url.origin;
    return new Response(null, {
      status: found.rule.statusCode,
      headers: { location: sameOrigin ? `${location.pathname}${location.search}${location.hash}` : location.href },
    });
  }

  /** Where a rewrite of `phase` sends `url`, if one applies: a URL of the site, or of another origin. */
  rewrite(phase: 'beforeFiles' | 'afterFiles' | 'fallback', request: Request, url: URL): URL | undefined {
    const found = firstMatch(this[phase], request, url);
    return found === undefined ? undefined : destinationUrl(found.rule.destination, found.params, url);
  }

  /** The headers every matching `headers` rule adds to the answer of `request`, in order (a later rule's value wins). */
  headersFor(request: Request, url: URL): [string, string][] {
    const out: [string, string][] = [];
    for (const compiled of this.headers) {
      const found = firstMatch([compiled], request, url);
      if (found === undefined) continue;
      for (const { key, value } of found.rule.headers) {
        let filled = value;
        for (const [name, param] of Object.entries(found.params))
          filled = filled.replaceAll(`:${name}`, Array.isArray(param) ? param.join('/') : param);
        out.push([key, filled]);
      }
    }
    return out;
  }
}
