import type { ToolDefinition } from '../registry/types.ts';
import type { Ephemeral, Store } from '../store/types.ts';
import type { Quotas } from './quota.ts';
import { utcMonth } from './quota.ts';

interface UsageSource {
  readonly quotas: Quotas | null;
  stores(): Promise<{ store: Store; ephemeral: Ephemeral }>;
  /** Writes the counts still held in memory, so the answer includes every earlier request. */
  flushUsage(): Promise<unknown>;
}

/**
 * The caller's usage this month (seed 003's `get_api_usage`): calls by tool and by day for the
 * tenant, the plan's quota and what is left. Always the caller's own tenant: it takes no
 * arguments, so it cannot be pointed at another.
 */
export function usageToolDefinition(name: string, source: UsageSource): ToolDefinition {
  return {
    name,
    title: 'API usage this month',
    description: "Your workspace's API usage for the current month: calls by tool and by day, your plan's monthly quota and what is left.",
    input: { type: 'object', properties: {}, additionalProperties: false },
    annotations: { title: 'API usage this month', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    async handler(_args, ctx) {
      const tenant = ctx.principal.tenant ?? ctx.principal.subject;
      const { month, end } = utcMonth(Date.now());
      const { store } = await source.stores();
      await source.flushUsage();
      const recorded = await store.usage.month({ month, tenant });
      // A caller whose plan has no access never gets here (refused at admission).
      const allowance = source.quotas ? await source.quotas.allowance(ctx.principal) : { plan: null, limit: null };
      // The live counter includes calls whose usage rows are still in the current group commit.
      const used = source.quotas ? Math.max(recorded.total, await source.quotas.used(tenant)) : recorded.total;
      return {
        month,
        tenant,
        plan: allowance.plan,
        quota: allowance.limit,
        used,
        remaining: allowance.limit === null ? null : Math.max(0, allowance.limit - used),
        resetsAt: new Date(end).toISOString(),
        byTool: recorded.byTool,
        byDay: recorded.byDay,
      };
    },
  };
}
