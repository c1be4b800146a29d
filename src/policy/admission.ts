import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.ts';
import { isUnavailable, RpcCode } from '../errors.ts';
import type { CompiledTool } from '../registry/registry.ts';
import type { AuditEntry, Ephemeral, Store, UsageIncrement } from '../store/types.ts';
import type { Admitted, AdmissionRefusal } from '../transport/admission.ts';
import type { ResolvedPolicy } from './config.ts';
import { Concurrency, type Counted, RateWindows } from './limits.ts';
import { type Allowance, Quotas } from './quota.ts';
import { type RateState, tooManyHeaders } from './rate-headers.ts';

export interface AdmissionOptions {
  resolved: ResolvedPolicy;
  /** The stores, open (the policy opens them before the first admission). */
  opened: () => { store: Store; ephemeral: Ephemeral };
  lookup: (name: string) => CompiledTool | undefined;
  /** One audit row per caller, event, outcome and target within `ttlMs` (the policy's). */
  auditOnce: (principal: Principal, event: string, outcome: string, fields: Partial<AuditEntry>, target: string, ttlMs: number) => void;
  logger: Logger;
  now: () => number;
}

const MCP_METHODS = new Set([
  'initialize', 'ping', 'server/discover', 'tools/list', 'resources/list', 'resources/templates/list', 'prompts/list',
  'resources/read', 'resources/subscribe', 'resources/unsubscribe', 'prompts/get', 'completion/complete',
  'logging/setLevel', 'subscriptions/listen',
]);

/**
 * What runs once per HTTP request, before dispatch: rate windows, the concurrency cap, the
 * monthly quota, and usage counting. A refusal is a 429 (the endpoint's `Admit` contract).
 */
export class Admission {
  private readonly windows: RateWindows;
  private readonly concurrency: Concurrency | null;
  readonly quotas: Quotas | null;
  /** Usage counted this turn, not yet handed to the store: caller -> name -> row. */
  private readonly usage = new Map<Principal | string, Map<string, UsageIncrement>>();
  private usageScheduled = false;
  /** When an uncounted limit was last logged. */
  private warnedAt = -Infinity;
  /** Plan names already logged as missing from `plans`. */
  private readonly unknownPlans = new Set<string>();

  constructor(private readonly o: AdmissionOptions) {
    const r = o.resolved;
    const ephemeral = () => o.opened().ephemeral;
    this.windows = new RateWindows(r.limits, ephemeral, (err) => this.uncounted(err));
    this.concurrency = r.limits.concurrent ? new Concurrency(r.limits.concurrent) : null;
    this.quotas = r.quotas ? new Quotas(r.quotas, () => o.opened().store, ephemeral, o.now) : null;
  }

  /**
   * The refusal, or a function to call once per request when its answer is complete. Synchronous
   * when nothing needs a store round trip (no rate window, no quota): no promise per request.
   */
  admit(principal: Principal, requests: readonly Counted[], ip: string): Admitted | Promise<Admitted> {
    const credential = RateWindows.credentialKey(principal, ip);
    const limited = this.windows.count(principal, credential, requests);
    if (limited instanceof Promise) return limited.then((state) => this.afterWindows(principal, credential, requests, state));
    return this.afterWindows(principal, credential, requests, limited);
  }

  private afterWindows(principal: Principal, credential: string, requests: readonly Counted[], limited: RateState | null): Admitted | Promise<Admitted> {
    if (limited) return this.refuse(principal, limited, 'Rate limit exceeded');
    let release: (() => void) | null = null;
    if (this.concurrency) {
      release = this.concurrency.enter(credential, requests.length);
      if (!release) {
        const state = { policy: 'concurrency', quota: this.o.resolved.limits.concurrent!, windowMs: 1000, remaining: 0, resetMs: 1000 };
        return this.refuse(principal, state, 'Too many calls running at once');
      }
    }
    const tenant = principal.tenant ?? principal.subject;
    if (!this.quotas || principal.via === 'anonymous') {
      this.countUsage(principal, credential, tenant, requests);
      return release;
    }
    const giveBack = () => {
      for (let i = 0; i < requests.length; i++) release?.();
    };
    return this.quotas.count(principal, tenant, requests.length).then(
      (exhausted) => {
        if (exhausted && 'access' in exhausted) {
          giveBack();
          return this.planDenied(principal, exhausted);
        }
        if (exhausted) {
          giveBack();
          return this.refuse(principal, exhausted, 'Monthly quota exhausted');
        }
        this.countUsage(principal, credential, tenant, requests);
        return release;
      },
      (err: unknown) => {
        if (this.o.resolved.limits.whenUnavailable === 'allow' && isUnavailable(err)) {
          this.uncounted(err);
          this.countUsage(principal, credential, tenant, requests);
          return release;
        }
        giveBack(); // a failing plan() must not keep the slot
        throw err;
      },
    );
  }

  /** A limit not counted because its store is down (`whenUnavailable: 'allow'`): said once a minute. */
  private uncounted(err: unknown): void {
    const now = this.o.now();
    if (now - this.warnedAt < 60_000) return;
    this.warnedAt = now;
    this.o.logger.warn({ err }, 'limits not counted: the ephemeral store is unavailable and limits.whenUnavailable is "allow"');
  }

  /**
   * A plan without MCP access (seed 003's "403 Plan Not Supported"): 403, audited once per caller
   * and minute. A plan name missing from `plans` is refused the same way, and logged once: the
   * client is told nothing about the configuration.
   */
  private planDenied(principal: Principal, allowance: Allowance): AdmissionRefusal {
    if (!allowance.known && !this.unknownPlans.has(allowance.plan) && this.unknownPlans.size < 100) {
      this.unknownPlans.add(allowance.plan);
      this.o.logger.warn({ plan: allowance.plan }, 'policy.quotas.plan returned a plan that is not in policy.quotas.plans: its callers are refused (403)');
    }
    const plan = allowance.plan.slice(0, 64);
    this.o.auditOnce(principal, 'plan.refused', 'plan_denied', { detail: { plan } }, plan, 60_000);
    return {
      status: 403,
      code: RpcCode.PlanDenied,
      message: `Your plan (${plan}) does not include MCP access`,
      headers: {},
      data: { plan },
    };
  }

  private refuse(principal: Principal, state: RateState, title: string): AdmissionRefusal {
    const retryAfter = Math.max(1, Math.ceil(state.resetMs / 1000));
    const resetAt = new Date(this.o.now() + state.resetMs).toISOString();
    // One audit row per caller and window, not per refused request: a flood must not fill the disk.
    this.o.auditOnce(principal, 'limit.refused', 'rate_limited', { detail: { policy: state.policy, resetAt } }, state.policy, Math.max(1000, state.resetMs));
    return {
      message: `${title}: ${state.quota} per ${describeWindow(state.windowMs)} (${state.policy}); retry in ${retryAfter} s`,
      headers: tooManyHeaders(state),
      data: { policy: state.policy, limit: state.quota, retryAfter, resetAt },
    };
  }

  /**
   * Usage per credential, tenant, tool and day. Counted here and handed to the store once per
   * event-loop turn, summed per row (one `add` per row and turn instead of one per request).
   * Keyed by the principal object (the authenticator hands out one per credential while cached),
   * or the address for anonymous callers: no string is built per request. Two principal objects
   * of one credential make two rows that the store adds up.
   */
  private countUsage(principal: Principal, credential: string, tenant: string, requests: readonly Counted[]): void {
    const who = principal.via === 'anonymous' ? credential : principal;
    let byName = this.usage.get(who);
    if (!byName) this.usage.set(who, (byName = new Map()));
    for (const r of requests) {
      // Known names only: a caller must not grow the usage table with names of its choosing.
      const tool = r.method === 'tools/call' && typeof r.params?.name === 'string' ? this.o.lookup(r.params.name)?.name : undefined;
      const name = r.method === 'tools/call' ? (tool ?? '(unknown tool)') : MCP_METHODS.has(r.method) ? r.method : '(other)';
      const row = byName.get(name);
      if (row) row.count!++;
      else byName.set(name, { tenant, credential: principal.via === 'anonymous' ? credential : `${principal.via}:${principal.client ?? principal.subject}`, tool: name, count: 1 });
    }
    if (!this.usageScheduled) {
      this.usageScheduled = true;
      setImmediate(() => void this.flushUsage());
    }
  }

  /** Hands this turn's usage counts to the store; resolves once they are written. */
  flushUsage(): Promise<unknown> {
    this.usageScheduled = false;
    if (this.usage.size === 0) return Promise.resolve();
    const rows: UsageIncrement[] = [];
    for (const byName of this.usage.values()) rows.push(...byName.values());
    this.usage.clear();
    const usage = this.o.opened().store.usage;
    return Promise.all(rows.map((r) => usage.add(r).catch((err: unknown) => this.o.logger.warn({ err }, 'usage not counted'))));
  }
}

function describeWindow(ms: number): string {
  if (ms % 86_400_000 === 0 && ms >= 28 * 86_400_000) return 'month';
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`;
  return `${Math.round(ms / 1000)} s`;
}
