import type { JsonSchema } from '../registry/types.ts';
import { flatten } from './arguments.ts';
import { isObject, type Json } from './document.ts';
import type { OperationPlan } from './operation.ts';
import { parameterCandidate, type ParameterCandidate } from './parameters.ts';
import { derefObject, pointerOf } from './pointer.ts';
import { bodyFrom2, bodyFrom3, type BodyCandidate } from './request-body.ts';
import type { SchemaConverter } from './schema-convert.ts';
import { throwInvalid } from './schema-convert.ts';
import { operationScopes } from './security.ts';
import { readOverride, type McpOverride } from './x-mcp.ts';

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type Method = (typeof METHODS)[number];

export interface PlanContext {
  doc: Json;
  conv: SchemaConverter;
  schemes: Record<string, Json>;
  apiKeys: ReadonlySet<string>;
}

/** An operation translated, before its tool name and overrides are settled (import.ts). */
export interface DraftPlan extends Omit<OperationPlan, 'tool' | 'annotations' | 'destructive'> {
  summary?: string;
  xMcp?: McpOverride;
}

/** One Operation Object -> everything the tool needs but its name. */
export function draftPlan(ctx: PlanContext, method: Method, path: string, pathItem: Json, op: Json): DraftPlan {
  const at = `/paths${pointerOf(path, method)}`;
  const v2 = ctx.conv.version === '2.0';
  const params: ParameterCandidate[] = [];
  let bodyParam: Json | undefined;
  const formData: Json[] = [];
  for (const p of mergedParameters(ctx.doc, pathItem, op, at)) {
    if (v2 && p.value.in === 'body') bodyParam = p.value;
    else if (v2 && p.value.in === 'formData') formData.push(p.value);
    else {
      const c = parameterCandidate(p.value, p.at, ctx.conv, ctx.apiKeys);
      if (c) params.push(c);
    }
  }
  let body: BodyCandidate | null = null;
  if (v2) {
    const consumes = strings(op.consumes) ?? strings(ctx.doc.consumes) ?? [];
    body = bodyFrom2(ctx.conv, bodyParam, formData, consumes, at);
  } else if (op.requestBody !== undefined) {
    const { value, at: bodyAt } = derefObject(ctx.doc, op.requestBody, `${at}/requestBody`);
    if (isObject(value)) body = bodyFrom3(ctx.conv, value, bodyAt);
  }

  const flat = flatten(params, body);
  const refs = new Set<string>();
  for (const c of params) for (const r of c.refs) refs.add(r);
  for (const r of body?.refs ?? []) refs.add(r);
  const inputSchema: JsonSchema = flat.schema;
  const defs = ctx.conv.defs.closure(refs);
  if (defs) inputSchema.$defs = defs;

  const summary = text(op.summary);
  const draft: DraftPlan = {
    operationId: typeof op.operationId === 'string' && op.operationId ? op.operationId : null,
    method,
    path,
    inputSchema,
    scopes: operationScopes(op, ctx.doc, ctx.schemes),
    tags: (strings(op.tags) ?? []).filter(Boolean),
    parameters: flat.parameters,
    body: flat.body,
    produces: v2 ? (strings(op.produces) ?? strings(ctx.doc.produces) ?? []) : responseTypes(ctx.doc, op, at),
  };
  if (summary) draft.summary = summary;
  const description = describe(summary, text(op.description), op.deprecated === true);
  if (description) draft.description = description;
  const xMcp = readOverride(op['x-mcp'], `x-mcp of ${method.toUpperCase()} ${path}`);
  if (xMcp) draft.xMcp = xMcp;
  return draft;
}

/**
 * Path-item parameters apply to every operation; an operation's parameter with the same name
 * and location replaces one (3.x 4.8.10.1, 2.0 likewise). Parameters are dereferenced here.
 */
function mergedParameters(doc: Json, pathItem: Json, op: Json, at: string): Array<{ value: Json; at: string }> {
  const merged = new Map<string, { value: Json; at: string }>();
  const add = (list: unknown, base: string) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throwInvalid('parameters must be an array', base);
    list.forEach((raw, i) => {
      const { value, at: where } = derefObject(doc, raw, `${base}/${i}`);
      if (!isObject(value)) throwInvalid('a parameter must be an object', where);
      merged.set(`${String(value.in)}\u0000${String(value.name)}`, { value, at: where });
    });
  };
  add(pathItem.parameters, `${at.slice(0, at.lastIndexOf('/'))}/parameters`);
  add(op.parameters, `${at}/parameters`);
  return [...merged.values()];
}

/** Media types of the success responses (2XX, then default), for the proxy's Accept header. */
function responseTypes(doc: Json, op: Json, at: string): string[] {
  const types = new Set<string>();
  if (!isObject(op.responses)) return [];
  const codes = Object.keys(op.responses).filter((c) => /^2/.test(c));
  for (const code of codes.length ? codes : ['default']) {
    const { value } = derefObject(doc, op.responses[code], `${at}/responses/${code}`);
    if (isObject(value) && isObject(value.content)) for (const t of Object.keys(value.content)) types.add(t);
  }
  return [...types];
}

function describe(summary: string | undefined, description: string | undefined, deprecated: boolean): string | undefined {
  let out = summary ?? '';
  if (description && description !== summary) {
    out = summary && !description.startsWith(summary) ? `${summary}\n\n${description}` : description;
  }
  if (deprecated) out = out ? `Deprecated. ${out}` : 'Deprecated.';
  return out || undefined;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined;
}
