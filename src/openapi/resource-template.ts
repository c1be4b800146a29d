import { UriTemplate, UriTemplateError } from '../registry/uri-template.ts';
import { OpenApiImportError } from './errors.ts';
import type { OperationPlan } from './operation.ts';
import type { McpOverride } from './x-mcp.ts';

// RFC 6570 varname: ALPHA / DIGIT / "_" / pct-encoded, dots between.
const VARNAME = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/;

/** A URI scheme from the API's title: "GitHub v3 REST API" -> "github-v3-rest-api". */
export function schemeOf(title: string): string {
  const s = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+|-+$/g, '').slice(0, 32);
  return s || 'api';
}

/**
 * x-mcp `resource` of a GET -> the plan's resource. Default URI template: the path under the
 * API's scheme with path parameters as variables, and the query parameters as `{?a,b}`;
 * a given template may only use the operation's argument names.
 */
export function resourceFor(plan: OperationPlan, o: NonNullable<McpOverride['resource']>, scheme: string): OperationPlan['resource'] {
  const where = `x-mcp resource of ${plan.method.toUpperCase()} ${plan.path}`;
  if (plan.method !== 'get') throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `${where}: only a GET can be a resource`);
  const given = typeof o === 'object' ? o : {};
  let uriTemplate = given.uriTemplate;
  if (uriTemplate === undefined) {
    let bad: string | undefined;
    const byWire = new Map(plan.parameters.filter((p) => p.in === 'path').map((p) => [p.name, p.argument]));
    const path = plan.path.replace(/\{([^}]+)\}/g, (_m, wire: string) => {
      const arg = byWire.get(wire) ?? wire;
      if (!VARNAME.test(arg)) bad = arg;
      return `{${arg}}`;
    });
    const query = plan.parameters.filter((p) => p.in === 'query' && VARNAME.test(p.argument)).map((p) => p.argument);
    if (bad) throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `${where}: argument "${bad}" cannot be a URI template variable; give uriTemplate`);
    uriTemplate = `${scheme}://${path.replace(/^\/+/, '')}${query.length ? `{?${query.join(',')}}` : ''}`;
  }
  let template: UriTemplate;
  try {
    template = new UriTemplate(uriTemplate);
  } catch (err) {
    if (err instanceof UriTemplateError) throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `${where}: ${err.message}`);
    throw err;
  }
  const args = new Set([...plan.parameters.map((p) => p.argument), ...Object.keys(plan.body?.properties ?? {})]);
  const unknown = template.variables.filter((v) => !args.has(v));
  if (unknown.length) throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `${where}: template variables ${unknown.join(', ')} are not arguments`);
  const missing = plan.parameters.filter((p) => p.required && !template.variables.includes(p.argument));
  if (missing.length) {
    throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `${where}: required arguments ${missing.map((p) => p.argument).join(', ')} are not in the template`);
  }
  const out: NonNullable<OperationPlan['resource']> = { uriTemplate, name: given.name ?? plan.tool };
  const description = given.description ?? plan.title ?? plan.description;
  if (description) out.description = description;
  const mimeType = given.mimeType ?? (plan.produces.find((t) => t.includes('json')) ? 'application/json' : plan.produces[0]);
  if (mimeType) out.mimeType = mimeType;
  return out;
}
