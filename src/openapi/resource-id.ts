import type { OperationPlan } from './operation.ts';

/**
 * What a destructive operation acts on, for its confirmation: the path parameters' values
 * (`42`, or `acme/widgets` for two), else the operation's path template.
 */
export function operationResourceId(plan: OperationPlan, args: Record<string, unknown>): string {
  const values = plan.parameters.filter((p) => p.in === 'path' && args[p.argument] !== undefined).map((p) => String(args[p.argument]));
  return values.length ? values.join('/') : plan.path;
}
