import type { JsonSchema } from '../registry/types.ts';
import type { BodyPlan, ParameterPlan } from './operation.ts';
import type { ParameterCandidate } from './parameters.ts';
import type { BodyCandidate } from './request-body.ts';
import type { Schema } from './schema-convert.ts';

export interface FlatInput {
  /** Properties, required and additionalProperties; `$defs` are added by the caller. */
  schema: JsonSchema;
  parameters: ParameterPlan[];
  body: BodyPlan | null;
}

interface Slot {
  preferred: string;
  /** Prefix when the preferred name is taken: `query_body`, `body_id`. */
  prefix: string;
  schema: Schema;
  required: boolean;
  assign(argument: string): void;
}

/** Argument names stay readable and portable: the MCP tool-name alphabet, at most 64 characters. */
export function safeArgument(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 64);
  return s || 'param';
}

/**
 * Path, query, header and cookie parameters and the body become one flat object schema.
 * A name used twice is resolved by precedence, path > query > header > cookie > body: the first
 * keeps the name, the others get their location as a prefix (`body_id`, `query_body`); the body
 * as a whole is `body`, or `request_body` if a parameter is called `body`. The plans record each
 * argument's location and wire name, so the request is rebuilt exactly.
 */
export function flatten(params: ParameterCandidate[], body: BodyCandidate | null): FlatInput {
  const parameters: ParameterPlan[] = [];
  const slots: Slot[] = [];
  const order = ['path', 'query', 'header', 'cookie'] as const;
  for (const location of order) {
    for (const p of params.filter((c) => c.plan.in === location)) {
      slots.push({
        preferred: safeArgument(p.plan.name),
        prefix: location,
        schema: p.schema,
        required: p.plan.required,
        assign: (argument) => parameters.push({ argument, ...p.plan }),
      });
    }
  }
  let bodyPlan: BodyPlan | null = null;
  if (body) {
    bodyPlan = { ...body.plan };
    if (body.fields) {
      const properties: Record<string, string> = {};
      bodyPlan.properties = properties;
      for (const f of body.fields) {
        slots.push({
          preferred: safeArgument(f.property),
          prefix: 'body',
          schema: f.schema,
          // An optional body's fields are all optional: the body may be left out altogether.
          required: body.plan.required && f.required,
          assign: (argument) => (properties[argument] = f.property),
        });
      }
    } else {
      const plan = bodyPlan;
      const schema = body.schema ?? {};
      slots.push({
        preferred: 'body',
        prefix: 'request',
        schema: body.description && typeof schema === 'object' && !schema.description ? { ...schema, description: body.description } : schema,
        required: body.plan.required,
        assign: (argument) => (plan.argument = argument),
      });
    }
  }

  const wanted = new Map<string, number>();
  for (const s of slots) wanted.set(s.preferred, (wanted.get(s.preferred) ?? 0) + 1);
  const taken = new Set<string>();
  // Uncontested names first, so a prefixed name never steals a name another argument wants.
  for (const s of slots) if (wanted.get(s.preferred) === 1) taken.add(s.preferred);
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const s of slots) {
    let name = s.preferred;
    if (wanted.get(name) !== 1) {
      if (taken.has(name)) {
        // Taken by an argument of higher precedence: prefix with the location, then count.
        name = safeArgument(`${s.prefix}_${s.preferred}`);
        for (let i = 2; taken.has(name) || wanted.has(name); i++) name = safeArgument(`${s.prefix}_${s.preferred}_${i}`);
      }
      taken.add(name);
    }
    properties[name] = s.schema;
    if (s.required) required.push(name);
    s.assign(name);
  }
  const schema: JsonSchema = { type: 'object', properties };
  if (required.length) schema.required = required;
  // Unknown arguments are refused rather than silently not sent: the model sees its typo.
  schema.additionalProperties = false;
  return { schema, parameters, body: bodyPlan };
}
