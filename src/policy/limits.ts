import { type Principal, principalKey } from '../auth/principal.ts';
import { isUnavailable } from '../errors.ts';
import type { Ephemeral } from '../store/types.ts';
import { addressBucket } from './client-ip.ts';
import type { RateRule, ResolvedLimits } from './config.ts';
import type { RateState } from './rate-headers.ts';

/** One JSON-RPC request as the limits see it. */
export interface Counted {
  method: string;
  params?: Record<string, unknown> | undefined;
}

/**
 * Rate windows (SECURITY 37-40): fixed windows that start at a key's first request, one atomic
 * `increment` each in the Ephemeral store, so they hold across processes once that store is
 * shared. Every MCP request counts (seed 003); per-tool rules count tools/call of that tool.
 * Keys come from the verified principal, or the client address for anonymous callers: never
 * from anything the request says about itself.
 */
export class RateWindows {
  /** Each identified caller's window key, built once per principal object (the authenticator caches those). */
  private readonly keys = new WeakMap<Principal, string>();

  constructor(
    private readonly limits: ResolvedLimits,
    private readonly ephemeral: () => Ephemeral,
    /** `whenUnavailable: 'allow'`: a window that cannot be counted admits; this hears why. */
    private readonly uncounted: (err: unknown) => void = () => {},
  ) {}

  /** The caller's rate key: the credential (key, or user and client), else the address (an IPv6 /64). */
  static credentialKey(principal: Principal, ip: string): string {
    return principal.via === 'anonymous' ? `ip:${addressBucket(ip)}` : principalKey(principal);
  }

  /**
   * Counts `requests` against every rule that applies; the exceeded window, or null. At once (no
   * promise) when no rule applies or the Ephemeral adapter increments synchronously.
   */
  count(principal: Principal, credential: string, requests: readonly Counted[]): RateState | null | Promise<RateState | null> {
    const l = this.limits;
    const n = requests.length;
    const checks: Array<RateState | null | Promise<RateState | null>> = [];
    if (l.perCredential) checks.push(this.hit('credential', this.windowKey(principal, credential), n, l.perCredential));
    if (l.perTenant && principal.via !== 'anonymous') {
      checks.push(this.hit('tenant', `rl:t:${principal.tenant ?? principal.subject}`, n, l.perTenant));
    }
    if (l.perTool.size > 0) {
      for (const r of requests) {
        const name = r.method === 'tools/call' ? r.params?.name : undefined;
        const rule = typeof name === 'string' ? l.perTool.get(name) : undefined;
        if (rule) checks.push(this.hit(`tool-${name as string}`, `rl:tool:${name as string}:${credential}`, 1, rule));
      }
    }
    if (checks.some((c) => c instanceof Promise)) return Promise.all(checks).then(worstOf);
    return worstOf(checks as Array<RateState | null>);
  }

  private windowKey(principal: Principal, credential: string): string {
    if (principal.via === 'anonymous') return `rl:c:${credential}`;
    let key = this.keys.get(principal);
    if (key === undefined) this.keys.set(principal, (key = `rl:c:${credential}`));
    return key;
  }

  /** One window: at once on an adapter that increments synchronously, else through its promise. */
  private hit(policy: string, key: string, n: number, rule: RateRule): RateState | null | Promise<RateState | null> {
    const ephemeral = this.ephemeral();
    if (ephemeral.incrementNow) return exceeded(policy, ephemeral.incrementNow(key, n, rule.windowMs), rule);
    const counted = ephemeral.increment(key, n, rule.windowMs).then((c) => exceeded(policy, c, rule));
    if (this.limits.whenUnavailable === 'refuse') return counted;
    return counted.catch((err: unknown) => {
      if (!isUnavailable(err)) throw err;
      this.uncounted(err);
      return null;
    });
  }
}

/** Several windows exceeded: the caller must wait for the one that resets last. */
function worstOf(states: ReadonlyArray<RateState | null>): RateState | null {
  let worst: RateState | null = null;
  for (const s of states) if (s && (!worst || s.resetMs > worst.resetMs)) worst = s;
  return worst;
}

/** The window's state when the count went over the rule, else null. */
function exceeded(policy: string, counted: { value: number; ttlMs: number }, rule: RateRule): RateState | null {
  return counted.value <= rule.max ? null : { policy, quota: rule.max, windowMs: rule.windowMs, remaining: 0, resetMs: counted.ttlMs };
}

/**
 * Calls running at once per caller, in this process: a client that opens many slow calls in
 * parallel cannot take every worker. Counted from admission until the answer is complete.
 */
export class Concurrency {
  private readonly running = new Map<string, number>();
  constructor(private readonly cap: number) {}

  /**
   * Takes one slot for an HTTP request carrying `n` calls (a 2025-03-26 batch is one slot, so a
   * batch larger than the cap is not refused forever). The release must be called once per
   * call; the slot frees after the n-th. Null when the caller is at the cap.
   */
  enter(key: string, n: number): (() => void) | null {
    const now = this.running.get(key) ?? 0;
    if (now >= this.cap) return null;
    this.running.set(key, now + 1);
    let left = n;
    return () => {
      if (left === 0 || --left > 0) return;
      const rest = this.running.get(key)! - 1;
      if (rest <= 0) this.running.delete(key);
      else this.running.set(key, rest);
    };
  }
}
