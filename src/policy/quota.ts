import type { Principal } from '../auth/principal.ts';
import type { Ephemeral, Store } from '../store/types.ts';
import type { QuotaConfig } from './config.ts';
import type { RateState } from './rate-headers.ts';

const DAY = 86_400_000;

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

  /** The calls a month the caller's plan allows (null: unlimited). */
  async allowance(principal: Principal): Promise<{ plan: string | null; limit: number | null }> {
    const plan = (this.config.plan ? await this.config.plan(principal) : 'default') ?? null;
    const limit = plan !== null && Object.hasOwn(this.config.plans, plan) ? this.config.plans[plan]! : null;
    return { plan, limit };
  }

  /** Counts `n` calls; the exhausted quota as a rate state, or null. */
  async count(principal: Principal, tenant: string, n: number): Promise<RateState | null> {
    const { limit } = await this.allowance(principal);
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
