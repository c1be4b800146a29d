import type { Principal } from '../auth/principal.ts';
import type { Ephemeral, Store } from '../store/types.ts';
import type { QuotaConfig } from './config.ts';
import type { RateState } from './rate-headers.ts';

const DAY = 86_400_000;

export interface Allowance {
  plan: string;
  /** Calls a month; null: unlimited (0 when there is no access). */
  limit: number | null;
  /** False: the plan does not include MCP access, or is not in `plans`. */
  access: boolean;
  /** False: the name is not in `plans` (a misconfiguration the server logs). */
  known: boolean;
}

/** `YYYY-MM` and the bounds of the UTC month holding `at`. */
export function utcMonth(at: number): { month: string; start: number; end: number } {
  const d = new Date(at);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { month: new Date(start).toISOString().slice(0, 7), start, end };
}

/**
 * Monthly quotas per plan (seed 003: every MCP request counts one call against the tenant's
 * quota). The live count is an Ephemeral counter per tenant and month; when a process first
 * meets a month's counter (a restart, or a new month) it is seeded from the durable usage
 * table, so a restart does not hand out a fresh quota.
 */
export class Quotas {
  constructor(
    private readonly config: QuotaConfig,
    private readonly store: () => Store,
    private readonly ephemeral: () => Ephemeral,
    private readonly now: () => number,
  ) {}

  /**
   * The caller's plan and the calls a month it allows (null: unlimited). `access` is false for a
   * plan marked `false` and for a name missing from `plans` (`known` tells them apart).
   */
  async allowance(principal: Principal): Promise<Allowance> {
    const plan = String((this.config.plan ? await this.config.plan(principal) : undefined) ?? 'default');
    if (!Object.hasOwn(this.config.plans, plan)) return { plan, limit: 0, access: false, known: false };
    const limit = this.config.plans[plan]!;
    return limit === false ? { plan, limit: 0, access: false, known: true } : { plan, limit, access: true, known: true };
  }

  /** Counts `n` calls; the exhausted quota as a rate state, a plan without access, or null. */
  async count(principal: Principal, tenant: string, n: number): Promise<RateState | Allowance | null> {
    const allowance = await this.allowance(principal);
    if (!allowance.access) return allowance; // refused before counting: a request the plan excludes is not a call
    const { limit } = allowance;
    if (limit === null) return null;
    const at = this.now();
    const { month, start, end } = utcMonth(at);
    const key = `quota:${month}:${tenant}`;
    // The counter lives a day past the month's end: clocks of several processes differ a little.
    const ttl = end - at + DAY;
    let { value } = await this.ephemeral().increment(key, n, ttl);
    if (value === n) {
      // First sight of this month's counter here: add what the durable table already counted.
      const used = (await this.store().usage.month({ month, tenant })).total;
      if (used > 0) value = (await this.ephemeral().increment(key, used, ttl)).value;
    }
    if (value <= limit) return null;
    // A refused request is not a call: give it back, so the count stays what was served.
    await this.ephemeral().increment(key, -n, ttl);
    return { policy: 'quota', quota: limit, windowMs: end - start, remaining: 0, resetMs: end - at };
  }

  /** This month's count for a tenant as the limiter sees it (the durable table may lag by a commit). */
  async used(tenant: string): Promise<number> {
    const { month } = utcMonth(this.now());
    const live = await this.ephemeral().get(`quota:${month}:${tenant}`);
    if (live !== undefined) return Number(live);
    return (await this.store().usage.month({ month, tenant })).total;
  }
}
