import type { CompiledTemplate, CompiledTool } from '../registry/registry.ts';
import type { PromptDefinition, ResourceDefinition } from '../registry/types.ts';
import type { Era } from './eras.ts';

/** Wire shape of definitions per era: fields an era does not know are left out. */

export function toolWire(t: CompiledTool, era: Era): Record<string, unknown> {
  const d = t.def;
  return clean({
    name: t.name,
    title: era.structured ? d.title : undefined,
    description: d.description,
    inputSchema: t.inputSchema,
    outputSchema: era.structured ? t.outputSchema : undefined,
    annotations: t.annotations,
    icons: era.icons ? d.icons : undefined,
    _meta: era.structured ? d._meta : undefined,
  });
}

export function resourceWire(r: ResourceDefinition, era: Era): Record<string, unknown> {
  return clean({
    uri: r.uri,
    name: r.name,
    title: era.structured ? r.title : undefined,
    description: r.description,
    mimeType: r.mimeType,
    size: r.size,
    annotations: r.annotations,
    icons: era.icons ? r.icons : undefined,
  });
}

export function templateWire({ def: t }: CompiledTemplate, era: Era): Record<string, unknown> {
  return clean({
    uriTemplate: t.uriTemplate,
    name: t.name,
    title: era.structured ? t.title : undefined,
    description: t.description,
    mimeType: t.mimeType,
    annotations: t.annotations,
    icons: era.icons ? t.icons : undefined,
  });
}

export function promptWire(p: PromptDefinition, era: Era): Record<string, unknown> {
  return clean({
    name: p.name,
    title: era.structured ? p.title : undefined,
    description: p.description,
    arguments: p.arguments?.map((a) =>
      clean({
        name: a.name,
        title: era.structured ? a.title : undefined,
        description: a.description,
        required: a.required,
      }),
    ),
    icons: era.icons ? p.icons : undefined,
  });
}

function clean(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
