import type { CallToolResult, ResourceContents, ResourceTemplateDefinition } from '../registry/types.ts';
import type { Manifest, OperationPlan } from './operation.ts';
import type { OperationCall } from './tools.ts';

/**
 * GETs mapped with x-mcp `resource` as resource templates: reading a URI calls the operation
 * with the template's variables as arguments. An upstream 404 reads as "not found"; any other
 * upstream error is an error, not contents.
 */
export function openapiResources(manifest: Manifest, call: OperationCall): ResourceTemplateDefinition[] {
  return manifest.operations.filter((p) => p.resource).map((plan) => resourceTemplate(plan, call));
}

function resourceTemplate(plan: OperationPlan, call: OperationCall): ResourceTemplateDefinition {
  const r = plan.resource!;
  const def: ResourceTemplateDefinition = {
    uriTemplate: r.uriTemplate,
    name: r.name,
    read: async (uri, variables, ctx) => {
      const args: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(variables)) if (v !== '' && !(Array.isArray(v) && !v.length)) args[k] = v;
      const result = await call(plan, args, ctx);
      if (result.isError) {
        if (result._meta?.status === 404 || (result.structuredContent as { status?: unknown } | undefined)?.status === 404) return null;
        throw new Error(`${plan.tool}: ${textOf(result) || 'upstream error'}`);
      }
      return contents(uri, result, r.mimeType);
    },
  };
  if (r.description) def.description = r.description;
  if (r.mimeType) def.mimeType = r.mimeType;
  if (plan.scopes.length) def.scopes = plan.scopes;
  return def;
}

function textOf(result: CallToolResult): string {
  return result.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
}

function contents(uri: string, result: CallToolResult, mimeType: string | undefined): ResourceContents[] {
  if (result.structuredContent) return [{ uri, mimeType: 'application/json', text: JSON.stringify(result.structuredContent) }];
  const out: ResourceContents[] = [];
  for (const c of result.content) {
    if (c.type === 'text') out.push({ uri, ...(mimeType ? { mimeType } : {}), text: c.text });
    else if (c.type === 'image' || c.type === 'audio') out.push({ uri, mimeType: c.mimeType, blob: c.data });
    else if (c.type === 'resource') out.push({ ...c.resource, uri });
  }
  return out;
}
