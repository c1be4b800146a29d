import type { Principal } from '../auth/principal.ts';
import { GangwayConfigError } from '../errors.ts';

/** `max` calls per `windowMs` (a fixed window that starts at the first call). */
export interface RateRule {
  max: number;
  windowMs: number;
}

export interface LimitsConfig {
  /**
   * Every MCP request counts, per credential: an API key, an OAuth grant (user and client), or the
   * client address for anonymous callers. Default 60 a minute (seed 003); `false` turns it off.
   */
  perCredential?: RateRule | false;
  /** Every MCP request counts, per tenant (all of its credentials together). Default off. */
  perTenant?: RateRule | false;
  /** tools/call of one tool, per credential, by tool name. */
  perTool?: Record<string, RateRule>;
  /** Calls running at once per caller, in this process. Default 16; `false` turns it off. */
  concurrent?: number | false;
  /**
   * When the Ephemeral store (Redis) cannot be reached to count a rate window or a quota:
   * `refuse` (default) answers 503; `allow` admits the call uncounted and logs a warning (at
   * most once a minute). Authentication always fails closed.
   */
  whenUnavailable?: 'refuse' | 'allow';
  /** The browser and OAuth endpoints, per client address (SECURITY 40). */
  web?: {
    /** POST /oauth/token. Default 60 a minute. */
    token?: RateRule | false;
    /** GET and POST /oauth/authorize. Default 60 a minute. */
    authorize?: RateRule | false;
    /** POST /signin (the built-in sign-in). Default 10 a minute. */
    signIn?: RateRule | false;
  };
}

export interface QuotaConfig {
  /**
   * Per plan: calls a month, `null` for unlimited, or `false` for a plan that does not include
   * MCP access (every request is refused with 403, seed 003's "Plan Not Supported").
   */
  plans: Record<string, number | null | false>;
  /**
   * The caller's plan name; nothing (or no function) means the plan named `default`. A name that
   * is not in `plans` is refused like a plan without access, and the server log says so.
   */
  plan?: (principal: Principal) => string | null | undefined | Promise<string | null | undefined>;
}

export interface ConfirmationConfig {
  /**
   * How a destructive tool asks for approval:
   * - `auto` (default): a form through the client (elicitation, or 2026-07-28 `input_required`)
   *   when the client declares it can, else the two-step token of seed 000;
   * - `token`: always the token and `confirm_destructive_action`;
   * - `elicitation`: only through the client; a client that cannot is refused.
   */
  mode?: 'auto' | 'token' | 'elicitation';
  /** Lifetime of a confirmation, at most 10 minutes. Default 5 minutes. */
  ttlMs?: number;
}

export interface PolicyConfig {
  /** `tools/list` shows every tool (`all`, default) or only those the caller may call (`permitted`). */
  toolsList?: 'all' | 'permitted';
  limits?: LimitsConfig;
  quotas?: QuotaConfig;
  confirmation?: ConfirmationConfig;
  /** One durable audit record per tool call and read. Default true. Auth events (sign-ins, tokens, refused credentials, keys) are recorded either way. */
  audit?: boolean;
  /** Registers a tool that reports the caller's usage this month (`true` names it `get_api_usage`). */
  usageTool?: boolean | string;
}

export interface ResolvedLimits {
  perCredential: RateRule | null;
  perTenant: RateRule | null;
  perTool: ReadonlyMap<string, RateRule>;
  concurrent: number | null;
  whenUnavailable: 'refuse' | 'allow';
  web: { token: RateRule | null; authorize: RateRule | null; signIn: RateRule | null };
}

export interface ResolvedPolicy {
  toolsList: 'all' | 'permitted';
  limits: ResolvedLimits;
  quotas: QuotaConfig | null;
  confirmation: { mode: 'auto' | 'token' | 'elicitation'; ttlMs: number };
  audit: boolean;
  usageTool: string | null;
}

const MINUTE = 60_000;

/** Checks and completes the policy options; every mistake is reported at start-up. */
export function resolvePolicy(config: PolicyConfig | undefined): ResolvedPolicy {
  const c = config ?? {};
  const fail = (msg: string): never => {
    throw new GangwayConfigError('GW_CONFIG_POLICY', `policy.${msg}`);
  };
  if (typeof c !== 'object') fail('must be an object');
  const rule = (v: RateRule | false | undefined, name: string, fallback: RateRule | null): RateRule | null => {
    if (v === false) return null;
    if (v === undefined) return fallback;
    if (typeof v !== 'object' || v === null) return fail(`${name} must be { max, windowMs } or false`);
    if (!Number.isInteger(v.max) || v.max < 1) fail(`${name}.max must be a positive integer`);
    if (!Number.isInteger(v.windowMs) || v.windowMs < 1000) fail(`${name}.windowMs must be an integer >= 1000`);
    return { max: v.max, windowMs: v.windowMs };
  };
  const l = c.limits ?? {};
  const perTool = new Map<string, RateRule>();
  for (const [tool, r] of Object.entries(l.perTool ?? {})) perTool.set(tool, rule(r, `limits.perTool.${tool}`, null)!);
  const concurrent = l.concurrent === false ? null : (l.concurrent ?? 16);
  if (concurrent !== null && !(Number.isInteger(concurrent) && concurrent >= 1)) fail('limits.concurrent must be a positive integer or false');
  if (l.whenUnavailable !== undefined && l.whenUnavailable !== 'refuse' && l.whenUnavailable !== 'allow') fail('limits.whenUnavailable must be "refuse" or "allow"');
  const limits: ResolvedLimits = {
    perCredential: rule(l.perCredential, 'limits.perCredential', { max: 60, windowMs: MINUTE }),
    perTenant: rule(l.perTenant, 'limits.perTenant', null),
    perTool,
    concurrent,
    whenUnavailable: l.whenUnavailable ?? 'refuse',
    web: {
      token: rule(l.web?.token, 'limits.web.token', { max: 60, windowMs: MINUTE }),
      authorize: rule(l.web?.authorize, 'limits.web.authorize', { max: 60, windowMs: MINUTE }),
      signIn: rule(l.web?.signIn, 'limits.web.signIn', { max: 10, windowMs: MINUTE }),
    },
  };

  let quotas: QuotaConfig | null = null;
  if (c.quotas !== undefined) {
    const q = c.quotas;
    if (typeof q !== 'object' || q === null || typeof q.plans !== 'object' || q.plans === null) fail('quotas needs plans: { name: calls a month | null | false }');
    for (const [name, n] of Object.entries(q.plans)) {
      if (n !== null && n !== false && !(Number.isInteger(n) && n >= 0)) {
        fail(`quotas.plans.${name} must be a non-negative integer (calls a month), null (unlimited) or false (no MCP access)`);
      }
    }
    if (q.plan !== undefined && typeof q.plan !== 'function') fail('quotas.plan must be a function (principal) => plan name');
    // Without a plan function everyone is on `default`: without it, every call would be refused.
    if (q.plan === undefined && !Object.hasOwn(q.plans, 'default')) fail('quotas.plans needs a "default" plan when quotas.plan is not set');
    quotas = q;
  }

  const conf = c.confirmation ?? {};
  const mode = conf.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'token' && mode !== 'elicitation') fail('confirmation.mode must be "auto", "token" or "elicitation"');
  const ttlMs = conf.ttlMs ?? 5 * MINUTE;
  // SECURITY 34: a confirmation token lives at most 5 minutes (the default): a human answers within
  // that or confirms again, and a leaked token is of no use for long.
  if (!Number.isInteger(ttlMs) || ttlMs < 1000 || ttlMs > 5 * MINUTE) fail('confirmation.ttlMs must be 1 s to 5 minutes');

  const toolsList = c.toolsList ?? 'all';
  if (toolsList !== 'all' && toolsList !== 'permitted') fail('toolsList must be "all" or "permitted"');
  const usageTool = c.usageTool === true ? 'get_api_usage' : typeof c.usageTool === 'string' ? c.usageTool : null;
  return { toolsList, limits, quotas, confirmation: { mode, ttlMs }, audit: c.audit ?? true, usageTool };
}

/**
 * Limits apply by default once callers are identified (`auth` or `authenticate`); a server
 * where everyone is anonymous has them only when `policy.limits` or `policy.quotas` is set.
 */
export function limitsApply(config: { auth?: unknown; authenticate?: unknown; policy?: PolicyConfig }): boolean {
  return Boolean(config.auth || config.authenticate) || config.policy?.limits !== undefined || config.policy?.quotas !== undefined;
}
