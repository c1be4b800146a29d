import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.ts';
import { RpcError } from '../errors.ts';
import { InputRequired } from '../protocol/input-required.ts';
import type { RequestScope } from '../protocol/scope.ts';
import type { CallPipeline, RunTool, WireResult } from '../protocol/tools.ts';
import { errorResult } from '../protocol/tools.ts';
import type { CompiledTool } from '../registry/registry.ts';
import type { ToolDefinition } from '../registry/types.ts';
import type { AuditEntry, Ephemeral, Store } from '../store/types.ts';
import type { Admitted } from '../transport/admission.ts';
import { auditedArgs, outcomeOf, who } from './audit.ts';
import type { ResolvedPolicy } from './config.ts';
import { CONFIRM_TOOL, Confirmation, ConfirmationError, type ConfirmOutcome, confirmToolDefinition } from './confirmation.ts';
import { Admission } from './admission.ts';
import type { Counted } from './limits.ts';
import type { Quotas } from './quota.ts';
import { redact, scrubText, scrubValue, type SecretPath, secretPaths, secretValues } from './secrets.ts';
import { usageToolDefinition } from './usage-tool.ts';

export interface PolicyOptions {
  resolved: ResolvedPolicy;
  stores: () => Promise<{ store: Store; ephemeral: Ephemeral }>;
  /** The registry's tool lookup (the registry is built after the policy adds its tools). */
  lookup: (name: string) => CompiledTool | undefined;
  logger: Logger;
  now: () => number;
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * The policy pipeline for every tool call and read (DESIGN: visible -> scopes -> rate and quota
 * -> confirmation -> handler -> audit). Scopes are checked by the gate (access.ts) before any of
 * this; `admit` runs once per HTTP request, `tool` and `read` once per call. Knows no protocol
 * era and no HTTP: it sees principals, tools, arguments and results.
 */
export class Policy implements CallPipeline {
  readonly confirmation: Confirmation;
  private readonly admission: Admission;
  private readonly secrets = new WeakMap<CompiledTool, SecretPath[]>();
  /** Secret values of the calls in flight, for scrubbing a failing handler's log line. */
  private readonly callSecrets = new WeakMap<RequestScope, readonly string[]>();
  private opened: { store: Store; ephemeral: Ephemeral } | undefined;
  /** The built-in confirm tool, recognised by identity (a product tool of the same name fails at start-up as a duplicate). */
  private confirmDef: ToolDefinition | undefined;

  constructor(private readonly o: PolicyOptions) {
    const r = o.resolved;
    this.admission = new Admission({
      resolved: r,
      opened: () => this.opened!,
      lookup: o.lookup,
      auditOnce: (...args) => this.auditOnce(...args),
      logger: o.logger,
      now: o.now,
    });
    this.confirmation = new Confirmation({
      mode: r.confirmation.mode,
      ttlMs: r.confirmation.ttlMs,
      ephemeral: async () => (await this.stores()).ephemeral,
      lookup: o.lookup,
      now: o.now,
    });
  }

  /** The tools policy/ adds: confirm_destructive_action when something is destructive, the usage tool. */
  builtinTools(tools: readonly ToolDefinition[]): ToolDefinition[] {
    const out: ToolDefinition[] = [];
    const destructive = tools.filter((t) => t.destructive);
    if (destructive.length > 0 && this.o.resolved.confirmation.mode !== 'elicitation') {
      out.push((this.confirmDef = confirmToolDefinition(destructive.some((t) => t.anonymous))));
    }
    if (this.o.resolved.usageTool) out.push(usageToolDefinition(this.o.resolved.usageTool, this));
    return out;
  }

  async stores(): Promise<{ store: Store; ephemeral: Ephemeral }> {
    return (this.opened ??= await this.o.stores());
  }

  /** Rate windows, concurrency and quota for one HTTP request (see Admission). */
  admit(principal: Principal, requests: readonly Counted[], ip: string): Admitted | Promise<Admitted> {
    if (!this.opened) return this.stores().then(() => this.admission.admit(principal, requests, ip));
    return this.admission.admit(principal, requests, ip);
  }

  /**
   * A call the scope gate refused (401/403) is audited too, once per caller, target and minute:
   * a client retrying a forbidden call must not become a stream of writes.
   */
  denied(principal: Principal, method: string, params: Record<string, unknown> | undefined): void {
    if (!this.o.resolved.audit) return;
    const target = method === 'tools/call' ? params?.name : method === 'prompts/get' ? params?.name : method === 'resources/read' ? params?.uri : undefined;
    if (typeof target !== 'string') return;
    const tool = method === 'tools/call' ? this.o.lookup(target)?.name : undefined;
    if (method === 'tools/call' && !tool) return;
    const event = method === 'tools/call' ? 'tool.call' : method === 'prompts/get' ? 'prompt.get' : 'resource.read';
    this.auditOnce(principal, event, 'denied', tool ? { tool } : { resourceId: target.slice(0, 2048) }, target);
  }

  /** A call refused for its arguments: audited like a denied one (once per caller, tool and minute). */
  invalid(tool: CompiledTool, scope: RequestScope): void {
    this.auditOnce(scope.principal, 'tool.call', 'invalid_arguments', { tool: tool.name }, tool.name);
  }

  /** A call to a tool that does not exist: audited once per caller, name and minute, the name as the target. */
  unknown(name: string, scope: RequestScope): void {
    this.auditOnce(scope.principal, 'tool.call', 'unknown_tool', { resourceId: name.slice(0, 256) }, name);
  }

  /** One audit row per caller, event, outcome and target a minute: refusals must not become a stream of writes. */
  private auditOnce(principal: Principal, event: string, outcome: string, fields: Partial<AuditEntry>, target: string, ttlMs = 60_000): void {
    if (!this.o.resolved.audit) return;
    const key = `audit:${outcome}:${principal.via}:${principal.subject}:${principal.client ?? ''}:${event}:${target.slice(0, 256)}`;
    this.stores()
      .then(({ ephemeral }) => ephemeral.setIfAbsent(key, '1', ttlMs))
      .then((first) => (first ? this.append({ event, outcome, ...who(principal), ...fields }) : undefined))
      .catch((err: unknown) => this.o.logger.warn({ err, event, outcome }, 'could not audit a refusal'));
  }

  /** Hands this turn's usage counts to the store (the usage tool calls it before reading). */
  flushUsage(): Promise<unknown> {
    return this.opened ? this.admission.flushUsage() : Promise.resolve();
  }

  get quotas(): Quotas | null {
    return this.admission.quotas;
  }

  /** Hands the usage still counted in memory to the store (before it closes). */
  async close(): Promise<void> {
    await this.flushUsage();
  }

  /** Keeps a call's secret values out of what its handler sends (log, progress) and logs. */
  private guard(scope: RequestScope, secrets: readonly string[]): void {
    this.callSecrets.set(scope, secrets);
    scope.outgoing = (message) => scrubValue(message, secrets);
  }

  /** The write-only fields of a call: the tool's schema's, plus any its arguments select (meta tools). */
  private secretPathsOf(tool: CompiledTool, args: Record<string, unknown>): readonly SecretPath[] {
    let paths = this.secrets.get(tool);
    if (!paths) this.secrets.set(tool, (paths = secretPaths(tool.inputSchema)));
    const more = tool.def.argumentSecrets?.(args);
    return more?.length ? [...paths, ...more] : paths;
  }

  tool(tool: CompiledTool, args: Record<string, unknown>, scope: RequestScope, run: RunTool): WireResult | Promise<WireResult> {
    const paths = this.secretPathsOf(tool, args);
    const secrets = paths.length ? secretValues(args, paths) : NONE;
    if (secrets.length) this.guard(scope, secrets);
    if (tool.def === this.confirmDef) return this.confirmByToken(args, scope, run);
    if (tool.def.destructive) return this.confirmFirst(tool, args, scope, run, secrets);
    return this.runAudited(tool, args, scope, run, secrets, { event: 'tool.call' });
  }

  /** Runs a tool, scrubs its result, and answers only once the audit row is durable. */
  private runAudited(
    tool: CompiledTool,
    args: Record<string, unknown>,
    scope: RequestScope,
    run: RunTool,
    secrets: readonly string[],
    extra: Partial<AuditEntry>,
  ): WireResult | Promise<WireResult> {
    const started = performance.now();
    const finish = (result: WireResult) => {
      const clean = secrets.length ? scrubValue(result, secrets) : result;
      return this.audited(scope, tool, args, { outcome: outcomeOf(clean), ...extra }, started, clean);
    };
    const fail = (err: unknown): Promise<never> => {
      const outcome = err instanceof InputRequired ? 'input_required' : err instanceof RpcError ? 'rpc_error' : 'failed';
      return this.audited(scope, tool, args, { outcome, ...extra }, started, undefined).then(() => {
        throw err;
      });
    };
    let value: WireResult | Promise<WireResult>;
    try {
      value = run(tool, args, scope);
    } catch (err) {
      return fail(err);
    }
    if (!this.o.resolved.audit) {
      if (!secrets.length) return value;
      return value instanceof Promise ? value.then((r) => scrubValue(r, secrets)) : scrubValue(value, secrets);
    }
    return value instanceof Promise ? value.then(finish, fail) : finish(value);
  }

  /** Appends the call's audit row; resolves with `result` once it is durable. */
  private audited<T>(
    scope: RequestScope,
    tool: CompiledTool,
    args: Record<string, unknown>,
    entry: Partial<AuditEntry> & { outcome: string },
    started: number,
    result: T,
  ): Promise<T> {
    if (!this.o.resolved.audit) return Promise.resolve(result);
    const p = scope.principal;
    const { argsDigest, args: shown } = auditedArgs(args, redact(args, this.secretPathsOf(tool, args)));
    // Fields spelled out rather than spread from who()/auditedArgs(): this runs for every call.
    const row: AuditEntry = {
      event: 'tool.call',
      outcome: entry.outcome,
      subject: p.subject,
      tenant: p.tenant,
      client: p.client,
      via: p.via,
      tool: tool.name,
      argsDigest,
      args: shown,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      requestId: String(scope.id),
    };
    if (scope.session) row.detail = { session: scope.session.id.slice(0, 8) };
    return this.append(Object.assign(row, entry), result);
  }

  /**
   * A response is sent only after its audit row is durable: resolves with `result` then. If the
   * row cannot be written the caller gets an error (the call may have run: the log line keeps
   * what happened).
   */
  private append<T = void>(entry: AuditEntry, result?: T): Promise<T> {
    const fail = (err: unknown): never => {
      this.o.logger.error({ err, event: entry.event, tool: entry.tool, outcome: entry.outcome, subject: entry.subject }, 'audit record not written');
      throw new RpcError(-32603, 'The call could not be recorded in the audit log; check the server log before retrying');
    };
    let written: Promise<unknown>;
    try {
      written = this.opened ? this.opened.store.audit.append(entry) : this.stores().then((s) => s.store.audit.append(entry));
    } catch (err) {
      written = Promise.reject(err);
    }
    return written.then(() => result as T, fail);
  }

  /** A destructive tool's first call: a form through the client, or a parked action and a token. */
  private async confirmFirst(
    tool: CompiledTool,
    args: Record<string, unknown>,
    scope: RequestScope,
    run: RunTool,
    secrets: readonly string[],
  ): Promise<WireResult> {
    const started = performance.now();
    if (this.confirmation.useForm(scope)) {
      let ok: ConfirmOutcome;
      try {
        ok = await this.confirmation.ask(tool, args, scope);
      } catch (err) {
        return this.confirmFailed(err, scope, started, tool, args);
      }
      return this.runAudited(tool, args, scope, run, secrets, { event: 'confirm.run', resourceId: ok.resourceId, reason: ok.reason, detail: { via: 'form' } });
    }
    let parked: Awaited<ReturnType<Confirmation['park']>>;
    try {
      parked = await this.confirmation.park(tool, args, scope);
    } catch (err) {
      return this.confirmFailed(err, scope, started, tool, args);
    }
    // The token goes to the caller only: the audit row has the resource id, never the token.
    // A tool with an outputSchema: clients check structuredContent against it unless isError is
    // set, and the pending action is not the tool's output. It did not run: isError says so.
    // SDK 1.x checks structuredContent even then, so the pending action moves to `_meta`.
    const wire: WireResult = scope.era.structured ? { ...parked.result } : { content: parked.result.content };
    if (tool.outputSchema) {
      wire.isError = true;
      if (wire.structuredContent) {
        wire._meta = { 'io.gangway/confirmation': wire.structuredContent };
        delete wire.structuredContent;
      }
    }
    return this.audited(scope, tool, args, { outcome: 'pending_confirmation', resourceId: parked.resourceId }, started, {
      ...wire,
      ...(scope.era.resultType ? { resultType: 'complete' } : {}),
    } as WireResult);
  }

  /** confirm_destructive_action: redeem the token, then run the parked call. */
  private async confirmByToken(args: Record<string, unknown>, scope: RequestScope, run: RunTool): Promise<WireResult> {
    const started = performance.now();
    let ok: ConfirmOutcome;
    try {
      ok = await this.confirmation.redeem(args, scope);
    } catch (err) {
      return this.confirmFailed(err, scope, started, undefined, undefined);
    }
    // Scopes are checked again: the grant may have narrowed since the action was parked.
    const needed = ok.tool.def.scopes ?? [];
    if (scope.principal.via !== 'anonymous' && !needed.every((s) => scope.principal.scopes.includes(s))) {
      return this.confirmFailed(
        new ConfirmationError('GW_CONFIRM_SCOPE', `${ok.tool.name} needs scope ${needed.join(' ')}, which this credential no longer holds`, ok),
        scope, started, ok.tool, ok.args,
      );
    }
    const secrets = secretValues(ok.args, this.secretPathsOf(ok.tool, ok.args));
    if (secrets.length) this.guard(scope, secrets);
    return this.runAudited(ok.tool, ok.args, scope, run, secrets, { event: 'confirm.run', resourceId: ok.resourceId, reason: ok.reason, detail: { via: 'token' } });
  }

  /** A refused or cancelled confirmation: a typed tool error, audited with resource id and reason. */
  private async confirmFailed(
    err: unknown,
    scope: RequestScope,
    started: number,
    tool: CompiledTool | undefined,
    args: Record<string, unknown> | undefined,
  ): Promise<WireResult> {
    if (!(err instanceof ConfirmationError)) {
      if (tool && args && this.o.resolved.audit) {
        const outcome = err instanceof InputRequired ? 'input_required' : 'failed';
        await this.audited(scope, tool, args, { event: 'confirm.ask', outcome }, started, undefined);
      }
      throw err;
    }
    const t = err.outcome.tool ?? tool;
    const a = err.outcome.args ?? args;
    if (this.o.resolved.audit) {
      await this.append({
        event: 'confirm.cancel',
        outcome: err.code,
        ...who(scope.principal),
        tool: t?.name ?? CONFIRM_TOOL,
        ...(a ? auditedArgs(a, redact(a, t ? this.secretPathsOf(t, a) : [])) : {}),
        resourceId: err.outcome.resourceId ?? null,
        reason: err.outcome.reason ?? null,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
        requestId: String(scope.id),
      });
    }
    return errorResult(err.message, scope.era, err.structured);
  }

  /** resources/read and prompts/get: run, then audit (no arguments to redact beyond the target). */
  read(method: string, target: string, scope: RequestScope, run: () => unknown): unknown {
    if (!this.o.resolved.audit) return run();
    const started = performance.now();
    const event = method === 'prompts/get' ? 'prompt.get' : 'resource.read';
    const record = (outcome: string) =>
      this.append({
        event,
        outcome,
        ...who(scope.principal),
        resourceId: target.slice(0, 2048),
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
        requestId: String(scope.id),
      });
    const fail = (err: unknown) => record(err instanceof InputRequired ? 'input_required' : 'error').then(() => Promise.reject(err));
    let value: unknown;
    try {
      value = run();
    } catch (err) {
      return fail(err);
    }
    return Promise.resolve(value).then((v) => record('ok').then(() => v), fail);
  }

  /** A failing handler's error as it may be logged: the call's secret values cut out. */
  scrubError(err: unknown, scope: RequestScope): unknown {
    const secrets = this.callSecrets.get(scope);
    if (!secrets || !(err instanceof Error)) return err;
    const copy = new Error(scrubText(err.message, secrets));
    copy.name = err.name;
    copy.stack = err.stack ? scrubText(err.stack, secrets) : undefined;
    return copy;
  }
}
