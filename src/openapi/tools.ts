import type { CallToolResult, HandlerContext, ToolDefinition } from '../registry/types.ts';
import { operationResourceId } from './resource-id.ts';
import { OpenApiImportError } from './errors.ts';
import { META_TOOL_NAMES, metaTools } from './meta-tools.ts';
import type { Manifest, OperationPlan } from './operation.ts';

/** Performs one operation: the proxy (upstream/) turns plan + arguments into the HTTP request. */
export type OperationCall = (plan: OperationPlan, args: Record<string, unknown>, ctx: HandlerContext) => Promise<CallToolResult>;

export type ToolsMode = 'auto' | 'all' | 'toolsets' | 'meta' | 'curated';

export interface ToolsOptions {
  /** Default `auto`: `all` when tools/list costs at most `tokenBudget` tokens, else `meta`. */
  mode?: ToolsMode;
  /** Default 30,000 tokens (o200k_base), about 15% of a 200k context. */
  tokenBudget?: number;
  /** `toolsets` mode: the tags whose operations become tools (case-insensitive). */
  toolsets?: string[];
  /** `curated` mode: tool names (as in the manifest). */
  tools?: string[];
  /** Add the meta tools next to `toolsets` or `curated` tools, to reach the rest (default false). */
  meta?: boolean;
}

export const DEFAULT_TOKEN_BUDGET = 30_000;

export interface ModeChoice {
  mode: Exclude<ToolsMode, 'auto'>;
  /** Operations served one tool each. */
  plans: OperationPlan[];
  /** Whether the meta tools are served (their catalog is every operation). */
  meta: boolean;
}

/** Which operations become tools, and whether the meta tools join them. */
export function chooseMode(manifest: Manifest, options: ToolsOptions = {}): ModeChoice {
  const mode = options.mode ?? 'auto';
  const ops = manifest.operations;
  switch (mode) {
    case 'auto':
      return manifest.listTokens <= (options.tokenBudget ?? DEFAULT_TOKEN_BUDGET)
        ? { mode: 'all', plans: ops, meta: false }
        : { mode: 'meta', plans: [], meta: true };
    case 'all':
      return { mode, plans: ops, meta: false };
    case 'meta':
      return { mode, plans: [], meta: true };
    case 'toolsets': {
      const wanted = new Set((options.toolsets ?? []).map((t) => t.toLowerCase()));
      if (!wanted.size) throw new OpenApiImportError('GW_OPENAPI_MODE', 'mode "toolsets" needs toolsets: a list of tags');
      const known = new Set(ops.flatMap((p) => p.tags.map((t) => t.toLowerCase())));
      const unknown = [...wanted].filter((t) => !known.has(t));
      if (unknown.length) throw new OpenApiImportError('GW_OPENAPI_MODE', `toolsets name unknown tags: ${unknown.join(', ')}`);
      return { mode, plans: ops.filter((p) => p.tags.some((t) => wanted.has(t.toLowerCase()))), meta: options.meta === true };
    }
    case 'curated': {
      const names = options.tools ?? [];
      if (!names.length) throw new OpenApiImportError('GW_OPENAPI_MODE', 'mode "curated" needs tools: a list of tool names');
      const byName = new Map(ops.map((p) => [p.tool, p]));
      const unknown = names.filter((n) => !byName.has(n));
      if (unknown.length) throw new OpenApiImportError('GW_OPENAPI_MODE', `curated tools not in the manifest: ${unknown.join(', ')}`);
      return { mode, plans: [...new Set(names)].map((n) => byName.get(n)!), meta: options.meta === true };
    }
    default:
      throw new OpenApiImportError('GW_OPENAPI_MODE', `unknown mode ${JSON.stringify(mode)}: auto, all, toolsets, meta or curated`);
  }
}

/** One operation as a registry tool; its handler hands the arguments to the proxy. */
export function operationTool(plan: OperationPlan, call: OperationCall): ToolDefinition {
  const def: ToolDefinition = {
    name: plan.tool,
    input: plan.inputSchema,
    annotations: plan.annotations,
    destructive: plan.destructive,
    handler: (args, ctx) => call(plan, args, ctx),
  };
  if (plan.title !== undefined) def.title = plan.title;
  if (plan.description !== undefined) def.description = plan.description;
  if (plan.outputSchema !== undefined) def.output = plan.outputSchema;
  if (plan.scopes.length) def.scopes = plan.scopes;
  if (plan.destructive) def.resourceId = (args) => operationResourceId(plan, args);
  return def;
}


/**
 * The registry's tools for an imported API, in the chosen mode. Cheap: no schema is compiled
 * here (the registry checks each schema and compiles validators on first use).
 */
export function openapiTools(manifest: Manifest, options: ToolsOptions, call: OperationCall): ToolDefinition[] {
  const choice = chooseMode(manifest, options);
  const tools = choice.plans.map((p) => operationTool(p, call));
  if (choice.meta) {
    const clash = tools.find((t) => (META_TOOL_NAMES as readonly string[]).includes(t.name));
    if (clash) throw new OpenApiImportError('GW_OPENAPI_MODE', `operation tool "${clash.name}" has a meta tool's name: rename it with x-mcp`);
    tools.push(...metaTools(manifest, manifest.operations, call));
  }
  return tools;
}
