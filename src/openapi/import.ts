import { isObject, parseDocument, type Json } from './document.ts';
import { OpenApiImportError } from './errors.ts';
import { defaultDestructive, methodAnnotations } from './method-semantics.ts';
import { assignToolNames, type NameRequest } from './naming.ts';
import type { Manifest, OperationPlan } from './operation.ts';
import { draftPlan, METHODS, type DraftPlan, type Method, type PlanContext } from './operation-plan.ts';
import { derefObject, pointerOf } from './pointer.ts';
import { resourceFor, schemeOf } from './resource-template.ts';
import { checkSchemas, type SchemaCheck } from './schema-check.ts';
import { SchemaConverter } from './schema-convert.ts';
import { apiKeyParameters, securitySchemes } from './security.ts';
import { countJsonTokens, TOKENIZER } from './tokens.ts';
import { listTokens, toolEntry } from './tool-entry.ts';
import { mergeOverrides, readOverride, type McpOverride } from './x-mcp.ts';

export interface ImportProgress {
  phase: 'parse' | 'plan' | 'check' | 'tokens' | 'done';
  done: number;
  total: number;
}

export interface ImportOptions {
  /** Same fields as `x-mcp`, keyed by operationId, generated tool name or "METHOD /path"; wins over x-mcp. */
  overrides?: Record<string, McpOverride>;
  /** Keep schema examples (default true): they help models, and cost tokens. */
  examples?: boolean;
  /** Cut tool descriptions longer than this (at a word boundary). Default: no limit. */
  maxDescriptionChars?: number;
  /** Leave out operations that cannot be translated (listed in `manifest.skipped`) instead of failing. */
  skipInvalid?: boolean;
  /** How far to check the generated input schemas (default `meta`; the CLI uses `compile`). */
  check?: SchemaCheck;
  /** URI scheme of resources mapped with x-mcp `resource` (default: from info.title). */
  resourceScheme?: string;
  onProgress?: (p: ImportProgress) => void;
}

/**
 * An OpenAPI document (Swagger 2.0, OpenAPI 3.0, 3.1; JSON or YAML text, bytes, or an object)
 * -> a Manifest: one OperationPlan per operation, in document order, with unique stable tool
 * names, flat input schemas (JSON Schema 2020-12, checked) and the tools/list token cost.
 */
export function importSpec(input: string | Uint8Array | object, options: ImportOptions = {}): Manifest {
  const progress = options.onProgress ?? (() => {});
  const { doc, version, digest } = parseDocument(input);
  progress({ phase: 'parse', done: 1, total: 1 });
  const conv = new SchemaConverter(doc, version, { examples: options.examples ?? true });
  const schemes = securitySchemes(doc, version === '2.0');
  const ctx: PlanContext = { doc, conv, schemes, apiKeys: apiKeyParameters(schemes) };

  const operations = listOperations(doc);
  const drafts: DraftPlan[] = [];
  const skipped: NonNullable<Manifest['skipped']> = [];
  operations.forEach(({ method, path, pathItem, op }, i) => {
    try {
      drafts.push(draftPlan(ctx, method, path, pathItem, op));
    } catch (err) {
      if (!options.skipInvalid || !(err instanceof OpenApiImportError)) throw err;
      skipped.push({ operation: `${method.toUpperCase()} ${path}`, reason: err.message });
    }
    if ((i + 1) % 100 === 0 || i + 1 === operations.length) progress({ phase: 'plan', done: i + 1, total: operations.length });
  });

  const overrides = applyConfigOverrides(drafts, options.overrides ?? {});
  const visible = drafts.filter((d, i) => {
    if (overrides[i]?.hidden !== true) return true;
    skipped.push({ operation: `${d.method.toUpperCase()} ${d.path}`, reason: 'hidden by x-mcp' });
    return false;
  });
  const visibleOverrides = overrides.filter((o) => o?.hidden !== true);
  const names = assignToolNames(visible.map((d, i) => nameRequest(d, visibleOverrides[i]?.name)));
  const info = isObject(doc.info) ? doc.info : {};
  const scheme = options.resourceScheme ?? schemeOf(String(info.title ?? ''));
  const plans = visible.map((d, i) => finish(d, names[i]!, visibleOverrides[i], options, scheme));

  const level = options.check ?? 'meta';
  checkSchemas(plans, level, (n) => (n % 100 === 0 || n === plans.length) && progress({ phase: 'check', done: n, total: plans.length }));
  plans.forEach((p, i) => {
    p.listTokens = countJsonTokens(toolEntry(p));
    if ((i + 1) % 200 === 0 || i + 1 === plans.length) progress({ phase: 'tokens', done: i + 1, total: plans.length });
  });

  const manifest: Manifest = {
    format: 1,
    specDigest: digest,
    title: String(info.title ?? ''),
    version: String(info.version ?? ''),
    servers: servers(doc, version === '2.0'),
    operations: plans,
    listTokens: listTokens(plans.map((p) => p.listTokens ?? 0)),
    tokenizer: TOKENIZER,
  };
  if (skipped.length) manifest.skipped = skipped;
  progress({ phase: 'done', done: plans.length, total: plans.length });
  return manifest;
}

function listOperations(doc: Json): Array<{ method: Method; path: string; pathItem: Json; op: Json }> {
  if (doc.paths === undefined) return []; // 3.1: a document may hold only webhooks or components
  if (!isObject(doc.paths)) throw new OpenApiImportError('GW_OPENAPI_INVALID', '"paths" must be an object', '/paths');
  const out: Array<{ method: Method; path: string; pathItem: Json; op: Json }> = [];
  for (const [path, raw] of Object.entries(doc.paths)) {
    if (path.startsWith('x-')) continue;
    const { value: pathItem } = derefObject(doc, raw, `/paths${pointerOf(path)}`);
    if (!isObject(pathItem)) throw new OpenApiImportError('GW_OPENAPI_INVALID', 'a path item must be an object', `/paths${pointerOf(path)}`);
    for (const key of Object.keys(pathItem)) {
      const method = key.toLowerCase() as Method;
      if (!METHODS.includes(method)) continue;
      const op = pathItem[key];
      if (!isObject(op)) throw new OpenApiImportError('GW_OPENAPI_INVALID', 'an operation must be an object', `/paths${pointerOf(path, key)}`);
      out.push({ method, path, pathItem, op });
    }
  }
  return out;
}

const nameRequest = (d: DraftPlan, explicit: string | undefined): NameRequest => ({
  method: d.method,
  path: d.path,
  operationId: d.operationId,
  ...(explicit !== undefined ? { explicit } : {}),
});

/**
 * Config overrides are matched by operationId, then "METHOD /path", then the tool name the
 * operation would get from its x-mcp alone; a key that matches nothing is an error (a stale
 * override would otherwise silently stop applying).
 */
function applyConfigOverrides(drafts: DraftPlan[], config: Record<string, McpOverride>): Array<McpOverride | undefined> {
  const result = drafts.map((d) => d.xMcp);
  const keys = Object.keys(config);
  if (!keys.length) return result;
  const baseNames = assignToolNames(drafts.map((d) => nameRequest(d, d.xMcp?.name)));
  for (const key of keys) {
    const entry = readOverride(config[key], `override "${key}"`);
    const [m, p] = key.split(/\s+/, 2);
    let index = drafts.findIndex((d) => d.operationId === key);
    if (index < 0 && p !== undefined) index = drafts.findIndex((d) => d.method === m!.toLowerCase() && d.path === p);
    if (index < 0) index = baseNames.indexOf(key);
    if (index < 0) throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `override "${key}" matches no operation (by operationId, "METHOD /path" or tool name)`);
    result[index] = mergeOverrides(result[index], entry);
  }
  return result;
}

function finish(d: DraftPlan, tool: string, o: McpOverride | undefined, options: ImportOptions, scheme: string): OperationPlan {
  const destructive = o?.destructive ?? defaultDestructive(d.method);
  const title = o?.title ?? d.summary;
  const description = o?.description ?? d.description;
  // Key order as on the wire, so a manifest reads like tools/list.
  const plan: OperationPlan = {
    tool,
    ...(title ? { title } : {}),
    ...(description ? { description: cut(description, options.maxDescriptionChars) } : {}),
    operationId: d.operationId,
    method: d.method,
    path: d.path,
    inputSchema: d.inputSchema,
    annotations: methodAnnotations(d.method, destructive),
    destructive,
    scopes: o?.scopes ? [...new Set(o.scopes)].sort() : d.scopes,
    tags: d.tags,
    parameters: d.parameters,
    body: d.body,
    produces: d.produces,
  };
  if (o?.resource) plan.resource = resourceFor(plan, o.resource, scheme);
  return plan;
}

function cut(text: string, max: number | undefined): string {
  if (max === undefined || text.length <= max) return text;
  const head = text.slice(0, max);
  const space = head.lastIndexOf(' ');
  return `${(space > max * 0.6 ? head.slice(0, space) : head).trimEnd()}…`;
}

function servers(doc: Json, v2: boolean): string[] {
  if (v2) {
    if (typeof doc.host !== 'string') return [];
    const schemes = Array.isArray(doc.schemes) && doc.schemes.length ? doc.schemes : ['https'];
    return schemes.map((s) => `${String(s)}://${doc.host}${typeof doc.basePath === 'string' ? doc.basePath : ''}`);
  }
  return Array.isArray(doc.servers) ? doc.servers.flatMap((s) => (isObject(s) && typeof s.url === 'string' ? [s.url] : [])) : [];
}
