import type { OperationPlan } from '../openapi/operation.ts';

/**
 * How the model can ask for less or for the rest: the operation's own paging arguments, and
 * the next page the API announced in a `Link: <...>; rel="next"` header (RFC 8288; GitHub
 * pages this way).
 */

/** Query parameter names APIs use for paging, compared without case, `_`, `-` or `$`. */
const PAGING_NAMES = new Set([
  'page',
  'perpage',
  'pagesize',
  'pagenumber',
  'pagetoken',
  'limit',
  'offset',
  'cursor',
  'after',
  'before',
  'continue',
  'startingafter',
  'endingbefore',
  'nexttoken',
  'skip',
  'top',
  'maxresults',
  'maxitems',
]);

/** The argument names (as the model passes them) of the operation's paging query parameters. */
export function pagingArguments(plan: OperationPlan): string[] {
  return plan.parameters
    .filter((p) => p.in === 'query' && PAGING_NAMES.has(p.name.toLowerCase().replace(/[-_$]/g, '')))
    .map((p) => p.argument);
}

/**
 * `rel="next"` from a Link header, as arguments of this operation (`page=2, per_page=30`).
 * Only query parameters the operation declares are named; the link's host is never shown.
 */
export function nextPageArguments(plan: OperationPlan, link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const m of link.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    if (!/;\s*rel\s*=\s*"?(?:[^"]*\s)?next(?:\s[^"]*)?"?/i.test(m[2] ?? '')) continue;
    let url: URL;
    try {
      url = new URL(m[1]!, 'http://upstream.invalid');
    } catch {
      return undefined;
    }
    const pairs: string[] = [];
    for (const p of plan.parameters) {
      if (p.in !== 'query') continue;
      const value = url.searchParams.get(p.name);
      if (value !== null) pairs.push(`${p.argument}=${value}`);
    }
    return pairs.length ? pairs.join(', ') : undefined;
  }
  return undefined;
}
