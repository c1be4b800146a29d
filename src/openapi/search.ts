import type { OperationPlan } from './operation.ts';

interface Entry {
  plan: OperationPlan;
  name: Set<string>;
  title: Set<string>;
  tags: Set<string>;
  path: Set<string>;
  text: Set<string>;
}

export interface SearchHit {
  name: string;
  summary: string;
  method: string;
  path: string;
  destructive?: true;
}

// Field weights: a word in the tool name or summary says more than one deep in a description.
const WEIGHTS = { name: 4, title: 3, tags: 2, path: 2, text: 1 } as const;

/** Lower-case words, camelCase and snake_case split, a plural "s" dropped: "listRepos" -> list, repo. */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1 || /\d/.test(w))
    .map((w) => (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w));
}

/** The first line (or sentence) of a description, at most 160 characters. */
export function oneLine(plan: OperationPlan): string {
  const source = plan.title ?? plan.description ?? `${plan.method.toUpperCase()} ${plan.path}`;
  const line = source.split('\n').find((l) => l.trim())?.trim() ?? '';
  return line.length > 160 ? `${line.slice(0, 157).trimEnd()}...` : line;
}

/**
 * A small keyword index over the operations for `search_operations`: every query word scores
 * by the field it appears in (whole word, or a prefix of one at half weight), operations that
 * match every word rank first, ties go by name so results are stable. Built once per server.
 */
export class OperationIndex {
  private readonly entries: Entry[];

  constructor(plans: readonly OperationPlan[]) {
    this.entries = plans.map((plan) => ({
      plan,
      name: new Set(words(`${plan.tool} ${plan.operationId ?? ''}`)),
      title: new Set(words(plan.title ?? '')),
      tags: new Set(plan.tags.flatMap(words)),
      path: new Set(words(plan.path.replace(/\{[^}]*\}/g, ' '))),
      text: new Set(words((plan.description ?? '').slice(0, 600))),
    }));
  }

  search(query: string, limit: number, tag?: string): { total: number; results: SearchHit[] } {
    const terms = [...new Set(words(query))];
    const exact = query.trim().toLowerCase();
    const wantTag = tag?.toLowerCase();
    const scored: Array<{ e: Entry; score: number }> = [];
    for (const e of this.entries) {
      if (wantTag && !e.plan.tags.some((t) => t.toLowerCase() === wantTag)) continue;
      let score = e.plan.tool.toLowerCase() === exact || e.plan.operationId?.toLowerCase() === exact ? 100 : 0;
      let matched = 0;
      for (const term of terms) {
        let best = 0;
        for (const field of ['name', 'title', 'tags', 'path', 'text'] as const) {
          const w = WEIGHTS[field];
          if (e[field].has(term)) best = Math.max(best, w);
          else if (term.length >= 3 && [...e[field]].some((x) => x.startsWith(term))) best = Math.max(best, w / 2);
        }
        if (best) matched++;
        score += best;
      }
      if (terms.length > 1 && matched === terms.length) score += 5;
      if (score > 0 || (!terms.length && wantTag)) scored.push({ e, score });
    }
    scored.sort((a, b) => b.score - a.score || (a.e.plan.tool < b.e.plan.tool ? -1 : 1));
    const results = scored.slice(0, limit).map(({ e }) => {
      const hit: SearchHit = { name: e.plan.tool, summary: oneLine(e.plan), method: e.plan.method.toUpperCase(), path: e.plan.path };
      if (e.plan.destructive) hit.destructive = true;
      return hit;
    });
    return { total: scored.length, results };
  }
}
