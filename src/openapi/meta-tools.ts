import type { ValidateFunction } from 'ajv';
import { ToolError } from '../errors.ts';
import { missingScopes } from '../policy/access.ts';
import { createAjv, describeErrors } from '../registry/schema.ts';
import { secretPaths } from '../policy/secrets.ts';
import { operationResourceId } from './resource-id.ts';
import type { HandlerContext, ToolDefinition } from '../registry/types.ts';
import type { Manifest, OperationPlan } from './operation.ts';
import { OperationIndex } from './search.ts';
import type { OperationCall } from './tools.ts';

export const META_TOOL_NAMES = ['search_operations', 'describe_operation', 'invoke_operation', 'invoke_destructive_operation'] as const;

const OPEN_WORLD = { openWorldHint: true } as const;

/**
 * The meta tools of a large API: find an operation, read its input schema, call it. The
 * catalog is every operation of the manifest, so a client sees four tools instead of 1,000.
 *
 * Destructive operations are not reachable through `invoke_operation`: they have their own
 * `invoke_destructive_operation`, marked destructive. Confirmation, annotations and client-side
 * approval all key on the tool that is called; one invoke tool would either make every read
 * ask for confirmation or let a DELETE through without any.
 */
export function metaTools(manifest: Manifest, catalog: readonly OperationPlan[], call: OperationCall): ToolDefinition[] {
  const byName = new Map(catalog.map((p) => [p.tool, p]));
  const index = new OperationIndex(catalog);
  const ajv = createAjv();
  const validators = new Map<string, ValidateFunction>();
  const api = manifest.title || 'the API';
  const tags = [...new Set(catalog.flatMap((p) => p.tags))].sort();
  const hasDestructive = catalog.some((p) => p.destructive);

  const find = (name: unknown): OperationPlan => {
    const plan = typeof name === 'string' ? byName.get(name) : undefined;
    if (!plan) throw new ToolError(`Unknown operation "${String(name).slice(0, 64)}": use search_operations to find its name.`);
    return plan;
  };

  const invoke = (destructive: boolean) => (args: { name: string; arguments?: Record<string, unknown> }, ctx: HandlerContext) => {
    const plan = find(args.name);
    if (plan.destructive !== destructive) {
      throw new ToolError(
        destructive
          ? `${plan.tool} is not destructive: call it with invoke_operation.`
          : `${plan.tool} is destructive: call it with invoke_destructive_operation.`,
      );
    }
    // The meta tool carries no scopes of its own: each operation's are checked here, per call,
    // by the same rule as the gate (policy/access.ts): an anonymous caller only gets this far
    // when the server has no `auth`, and then scopes are not enforced anywhere.
    const missing = ctx.principal.via === 'anonymous' ? [] : missingScopes(ctx.principal, plan.scopes);
    if (missing.length) throw new ToolError(`insufficient_scope: ${plan.tool} needs ${missing.join(' ')}`);
    const input = args.arguments ?? {};
    let validate = validators.get(plan.tool);
    if (!validate) {
      validate = ajv.compile(plan.inputSchema);
      validators.set(plan.tool, validate);
    }
    if (!validate(input)) throw new ToolError(`Invalid arguments for ${plan.tool}: ${describeErrors(validate.errors)}`);
    return call(plan, input, ctx);
  };

  // The invoked operation's write-only fields, under `arguments`: the policy masks them in the
  // audit and cuts them out of results exactly as for the operation's own tool.
  const secretsByTool = new Map<string, string[][]>();
  const argumentSecrets = (args: Record<string, unknown>): string[][] => {
    const plan = typeof args.name === 'string' ? byName.get(args.name) : undefined;
    if (!plan) return [];
    let paths = secretsByTool.get(plan.tool);
    if (!paths) secretsByTool.set(plan.tool, (paths = secretPaths(plan.inputSchema).map((p) => ['arguments', ...p])));
    return paths;
  };

  const invokeInput = {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'Operation name, from search_operations.' },
      arguments: { type: 'object', description: 'Arguments matching the schema from describe_operation.' },
    },
    required: ['name'],
    additionalProperties: false,
  };

  const tools: ToolDefinition[] = [
    {
      name: 'search_operations',
      description: `Search the ${catalog.length} operations of ${api} by keywords; returns operation names with one-line summaries, best match first.${tags.length ? ` Tags: ${tags.join(', ')}.` : ''}`,
      input: {
        type: 'object',
        properties: {
          query: { type: 'string', minLength: 1, description: 'Keywords, e.g. "list pull requests".' },
          tag: { type: 'string', description: 'Only operations with this tag.' },
          limit: { type: 'integer', minimum: 1, maximum: 50, description: 'At most this many results (10 by default).' },
        },
        required: ['query'],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      handler: (args: { query: string; tag?: string; limit?: number }) => ({ ...index.search(args.query, args.limit ?? 10, args.tag) }),
    },
    {
      name: 'describe_operation',
      description: 'The input schema and details of one operation, to call it with invoke_operation (or invoke_destructive_operation when it is destructive).',
      input: { type: 'object', properties: { name: { type: 'string', description: 'Operation name.' } }, required: ['name'], additionalProperties: false },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      handler: (args: { name: string }) => {
        const plan = find(args.name);
        return {
          name: plan.tool,
          ...(plan.title ? { title: plan.title } : {}),
          ...(plan.description ? { description: plan.description } : {}),
          method: plan.method.toUpperCase(),
          path: plan.path,
          destructive: plan.destructive,
          invokeWith: plan.destructive ? 'invoke_destructive_operation' : 'invoke_operation',
          ...(plan.scopes.length ? { scopes: plan.scopes } : {}),
          inputSchema: plan.inputSchema,
        };
      },
    },
    {
      name: 'invoke_operation',
      description: `Call a non-destructive operation of ${api} by name with its arguments (validated against its input schema).`,
      input: invokeInput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
      argumentSecrets,
      handler: invoke(false),
    },
  ];
  if (hasDestructive) {
    tools.push({
      name: 'invoke_destructive_operation',
      description: `Call a destructive operation of ${api} (one that deletes or overwrites data) by name with its arguments. Destructive: make sure the user wants it first.`,
      input: invokeInput,
      annotations: { ...OPEN_WORLD, readOnlyHint: false, destructiveHint: true },
      destructive: true,
      argumentSecrets,
      // The confirmation names the operation and what it acts on: `delete_repo acme/widgets`.
      resourceId: (args) => {
        const plan = typeof args.name === 'string' ? byName.get(args.name) : undefined;
        return plan ? `${plan.tool} ${operationResourceId(plan, (args.arguments ?? {}) as Record<string, unknown>)}` : String(args.name);
      },
      handler: invoke(true),
    });
  }
  return tools;
}
