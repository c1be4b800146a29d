import { ToolError } from '../errors.ts';
import type { BodyPlan } from '../openapi/operation.ts';
import { decodeBase64Argument } from './base64-argument.ts';
import { formUrlEncoded } from './form-fields.ts';
import { encodeMultipart } from './multipart.ts';
import { isPlainObject } from './serialize-parameter.ts';

export interface EncodedBody {
  body: string | Buffer;
  contentType: string;
}

/**
 * The request body from the arguments, by the plan's media type (OpenAPI 3.1.1 4.8.14 Request
 * Body Object). Null when the body is optional and nothing was given for it.
 */
export function encodeBody(plan: BodyPlan, args: Record<string, unknown>): EncodedBody | null {
  const value = bodyValue(plan, args);
  if (value === undefined) {
    if (plan.required) throw new ToolError(`The request body (${plan.argument ?? 'its properties'}) is required.`);
    return null;
  }
  const essence = plan.mediaType.split(';')[0]!.trim().toLowerCase();
  if (essence === 'application/x-www-form-urlencoded') {
    return { body: formUrlEncoded(asObject(plan, value), plan.encoding), contentType: plan.mediaType };
  }
  if (essence === 'multipart/form-data') {
    const { body, contentType } = encodeMultipart(asObject(plan, value), plan.fileFields ?? [], plan.encoding);
    return { body, contentType };
  }
  if (plan.contentEncoding === 'base64' || essence === 'application/octet-stream') {
    return { body: decodeBase64Argument(plan.argument ?? 'body', value).bytes, contentType: plan.mediaType };
  }
  if (isJsonMedia(essence)) return { body: JSON.stringify(value), contentType: plan.mediaType };
  // Text, XML, YAML, CSV...: the argument is the document itself.
  return { body: typeof value === 'string' ? value : JSON.stringify(value), contentType: plan.mediaType };
}

/** application/json and every +json (merge-patch, json-patch, strategic-merge-patch). */
function isJsonMedia(essence: string): boolean {
  return essence === 'application/json' || essence.endsWith('+json') || essence === '*/*';
}

/** Whole: one argument holds the body. Spread: its properties are top-level arguments. */
function bodyValue(plan: BodyPlan, args: Record<string, unknown>): unknown {
  if (plan.mode === 'whole') return plan.argument === undefined ? undefined : args[plan.argument];
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [argument, property] of Object.entries(plan.properties ?? {})) {
    if (args[argument] === undefined) continue;
    out[property] = args[argument];
    any = true;
  }
  // A spread body with no property given is still `{}` when the body is required.
  return any || plan.required ? out : undefined;
}

function asObject(plan: BodyPlan, value: unknown): Record<string, unknown> {
  if (!isPlainObject(value)) throw new ToolError(`${plan.argument ?? 'The request body'} must be an object.`);
  return value;
}
