import type { ToolAnnotations } from '../registry/types.ts';
import type { OperationPlan } from './operation.ts';

type Method = OperationPlan['method'];

/**
 * Tool annotations from the HTTP method (RFC 9110 9.2: safe and idempotent methods).
 * MCP's destructiveHint defaults to true when readOnlyHint is false, so it is always stated;
 * it follows `destructive` (DELETE unless overridden) because the registry makes
 * `destructive: true` imply destructiveHint anyway. An upstream API is an open world.
 */
export function methodAnnotations(method: Method, destructive: boolean): ToolAnnotations {
  const safe = method === 'get' || method === 'head' || method === 'options' || method === 'trace';
  const a: ToolAnnotations = {};
  a.readOnlyHint = safe && !destructive;
  a.destructiveHint = destructive;
  a.idempotentHint = safe || method === 'put' || method === 'delete';
  a.openWorldHint = true;
  return a;
}

export const defaultDestructive = (method: Method) => method === 'delete';
