import type { Manifest } from './operation.ts';
import { metaTools } from './meta-tools.ts';
import { countJsonTokens } from './tokens.ts';
import { listTokens, toolEntry } from './tool-entry.ts';
import { chooseMode, type ToolsOptions } from './tools.ts';
import { ToolError } from '../errors.ts';

export interface ModeCost {
  mode: string;
  tools: number;
  tokens: number;
}

/**
 * tools/list token cost of one mode: the stored per-operation counts, plus the meta tools
 * (tokenized here, as their descriptions name the API and its tags). For the CLI and docs.
 */
export function modeCost(manifest: Manifest, options: ToolsOptions): ModeCost {
  const choice = chooseMode(manifest, options);
  const counts = choice.plans.map((p) => p.listTokens ?? countJsonTokens(toolEntry(p)));
  if (choice.meta) {
    const never = () => Promise.reject(new ToolError('not serving'));
    for (const t of metaTools(manifest, manifest.operations, never)) counts.push(countJsonTokens(toolEntry({ ...t, annotations: t.destructive ? { ...t.annotations, destructiveHint: true } : t.annotations })));
  }
  return { mode: choice.mode, tools: counts.length, tokens: listTokens(counts) };
}
