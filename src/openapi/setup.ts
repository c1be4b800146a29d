import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { GangwayConfigError } from '../errors.ts';
import type { ResourceTemplateDefinition, ToolDefinition } from '../registry/types.ts';
import { createUpstream, type UpstreamOptions } from '../upstream/index.ts';
import { importSpec } from './import.ts';
import { loadManifest } from './manifest.ts';
import type { Manifest } from './operation.ts';
import { openapiResources } from './resources.ts';
import { openapiTools, type ToolsOptions } from './tools.ts';
import type { McpOverride } from './x-mcp.ts';

export interface OpenApiConfig extends ToolsOptions {
  /** A manifest written by `gangway import` (fast start: nothing is parsed or validated again). */
  manifest?: string;
  /** Or the spec itself (Swagger 2.0, OpenAPI 3.0 / 3.1, JSON or YAML), imported at start-up. */
  spec?: string;
  /** Renames, descriptions, scopes, hiding... by operationId or tool name (applied when importing `spec`). */
  overrides?: Record<string, McpOverride>;
  /** Serve GETs mapped with `x-mcp: { resource }` as resource templates. Default true. */
  resources?: boolean;
  /** Where the API lives and how Gangway calls it. */
  upstream: UpstreamOptions;
}

export interface OpenApiSetup {
  tools: ToolDefinition[];
  resourceTemplates: ResourceTemplateDefinition[];
  manifest: Manifest;
  close(): Promise<void>;
}

/** Turns `config.openapi` into tools and templates proxied to the upstream; every mistake fails start-up. */
export function setupOpenApi(c: OpenApiConfig, logger: Logger): OpenApiSetup {
  if ((c.manifest === undefined) === (c.spec === undefined)) {
    throw new GangwayConfigError('GW_CONFIG_OPENAPI', 'openapi needs exactly one of `manifest` (from gangway import) or `spec`');
  }
  if (c.manifest !== undefined && c.overrides !== undefined) {
    // Overrides shape the import (names, schemas, token counts); a manifest is already imported.
    throw new GangwayConfigError('GW_CONFIG_OPENAPI', 'openapi.overrides apply when importing: use them with `spec`, or pass them to `gangway import --overrides FILE` for the manifest');
  }
  if (!c.upstream || typeof c.upstream !== 'object') throw new GangwayConfigError('GW_CONFIG_OPENAPI', 'openapi.upstream is required (at least baseUrl)');
  let manifest: Manifest;
  if (c.manifest !== undefined) manifest = loadManifest(resolve(c.manifest));
  else {
    let bytes: Buffer;
    try {
      bytes = readFileSync(resolve(c.spec!));
    } catch (err) {
      throw new GangwayConfigError('GW_CONFIG_OPENAPI', `openapi.spec: cannot read ${c.spec} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    manifest = importSpec(bytes, { ...(c.overrides ? { overrides: c.overrides } : {}) });
  }
  if (c.upstream.forwardHeaders) manifest = withoutDroppedHeaders(manifest, c.upstream.forwardHeaders);
  const upstream = createUpstream({
    onError: (err, plan) => logger.warn({ err, tool: plan.tool }, 'upstream request failed'),
    ...c.upstream,
  });
  const { mode, tokenBudget, toolsets, tools, meta } = { ...manifest.tools, ...c };
  const options: ToolsOptions = {
    ...(mode ? { mode } : {}),
    ...(tokenBudget ? { tokenBudget } : {}),
    ...(toolsets ? { toolsets } : {}),
    ...(tools ? { tools } : {}),
    ...(meta !== undefined ? { meta } : {}),
  };
  return {
    manifest,
    tools: openapiTools(manifest, options, upstream.call),
    resourceTemplates: c.resources === false ? [] : openapiResources(manifest, upstream.call),
    close: () => upstream.close(),
  };
}

/**
 * Header parameters the upstream would drop (not in `forwardHeaders`) are taken out of the tools
 * too: an argument that does nothing only misleads the model.
 */
function withoutDroppedHeaders(manifest: Manifest, forward: readonly string[]): Manifest {
  const allowed = new Set(forward.map((h) => h.toLowerCase()));
  const operations = manifest.operations.map((plan) => {
    const dropped = plan.parameters.filter((p) => p.in === 'header' && !allowed.has(p.name.toLowerCase()));
    if (dropped.length === 0) return plan;
    const gone = new Set(dropped.map((p) => p.argument));
    const schema = plan.inputSchema as { properties?: Record<string, unknown>; required?: string[] };
    const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([k]) => !gone.has(k)));
    const required = (schema.required ?? []).filter((k) => !gone.has(k));
    return {
      ...plan,
      parameters: plan.parameters.filter((p) => !gone.has(p.argument)),
      inputSchema: { ...plan.inputSchema, properties, ...(schema.required ? { required } : {}) },
    };
  });
  return { ...manifest, operations };
}
