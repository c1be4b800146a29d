import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';
import { principalKey } from '../auth/principal.ts';
import { hashSecret, newSecret } from '../auth/secrets.ts';
import { ToolError } from '../errors.ts';
import { handlerContext } from '../protocol/handler-context.ts';
import type { RequestScope } from '../protocol/scope.ts';
import type { CompiledTool } from '../registry/registry.ts';
import type { CallToolResult, ToolDefinition } from '../registry/types.ts';
import type { Ephemeral } from '../store/types.ts';
import { argsDigest } from './audit.ts';

/** What the pipeline needs to know about a confirmation's end, for the audit row. */
export interface ConfirmOutcome {
  /** The tool that ran or would have run. */
  tool: CompiledTool;
  args: Record<string, unknown>;
  resourceId: string;
  reason: string | null;
}

/** A typed refusal (seed 000: "a mismatch cancels the pending action and returns a typed error"). */
export class ConfirmationError extends ToolError {
  constructor(
    readonly code: string,
    message: string,
    readonly outcome: Partial<ConfirmOutcome> = {},
  ) {
    super(`${message} (${code})`, { error: { code, message } });
  }
}

export const CONFIRM_TOOL = 'confirm_destructive_action';

/** The state a pending action keeps between the two calls. The arguments are sealed with the token. */
interface Pending {
  /** principalKey of the caller. */
  o: string;
  /** 2025 session the action was requested in, or null. */
  s: string | null;
  t: string;
  /** Digest of the arguments: checked again before they run. */
  d: string;
  r: string;
  /** Expiry, epoch ms. */
  e: number;
  /** AES-256-GCM of the arguments under a key derived from the token: iv.tag.ciphertext. */
  c: string;
}

/** The reserved answer key carrying a 2026 form confirmation's nonce and issue time in the signed state. */
export const FORM_STATE_KEY = 'gangway:confirm';
const FORM_ANSWER_KEY = 'gangway.confirm';
/** Entries outlive their expiry by this much, so a late confirm is told "expired", not "unknown". */
const GRACE_MS = 5 * 60_000;

export interface ConfirmationOptions {
  mode: 'auto' | 'token' | 'elicitation';
  ttlMs: number;
  ephemeral: () => Promise<Ephemeral>;
  lookup: (name: string) => CompiledTool | undefined;
  now: () => number;
}

/**
 * Two-step confirmation of destructive tools, as seed 000 describes it: the first call does not
 * run; it answers with the pending action, its Resource id and a single-use token addressed to
 * the human operator; `confirm_destructive_action(token, resource_id_echo, reason)` runs it.
 * Clients that can show a form (elicitation; 2026-07-28 `input_required`) get the same question
 * as a form instead (`mode: auto`). The token is 256 random bits; only its hash is kept, and the
 * arguments are sealed under a key derived from it, so the store holds nothing usable.
 */
export class Confirmation {
  constructor(private readonly o: ConfirmationOptions) {}

  /** True when this call should be confirmed through a form the client shows. */
  useForm(scope: RequestScope): boolean {
    if (this.o.mode === 'token') return false;
    const caps = scope.clientCapabilities.elicitation as Record<string, unknown> | undefined;
    if (caps === undefined || caps === null || typeof caps !== 'object') return false;
    // `elicitation: {}` means form; a client that lists modes must list `form`.
    const form = Object.keys(caps).length === 0 || 'form' in caps;
    if (!form) return false;
    if (scope.era.modern) return true;
    return scope.era.liveElicitation && scope.session !== undefined && scope.streamable;
  }

  /** First call of a destructive tool in token mode: park it and answer with the pending action. */
  async park(tool: CompiledTool, args: Record<string, unknown>, scope: RequestScope): Promise<{ result: CallToolResult; resourceId: string }> {
    if (this.o.mode === 'elicitation') {
      throw new ConfirmationError(
        'GW_CONFIRM_UNSUPPORTED',
        `${tool.name} is destructive and must be confirmed by the user in a form, which this client cannot show here (it needs the elicitation capability and, before 2026-07-28, a session that accepts a streamed response)`,
      );
    }
    const resourceId = resourceIdOf(tool, args);
    const { secret: token, hash: lookup } = newSecret('confirmation');
    const expiresAt = this.o.now() + this.o.ttlMs;
    const pending: Pending = {
      o: principalKey(scope.principal),
      s: scope.session?.id ?? null,
      t: tool.name,
      d: argsDigest(args),
      r: resourceId,
      e: expiresAt,
      c: seal(token, JSON.stringify(args)),
    };
    const ephemeral = await this.o.ephemeral();
    await ephemeral.set(`confirm:${lookup}`, JSON.stringify(pending), this.o.ttlMs + GRACE_MS);
    const minutes = Math.round(this.o.ttlMs / 60_000);
    const text = [
      'CONFIRMATION REQUIRED. This message is addressed to the human operator, not to the assistant.',
      '',
      `Pending action: ${tool.name}`,
      `Resource id: ${resourceId}`,
      '',
      'The action has NOT been performed. Assistant: show this pending action to the human and wait for',
      'their explicit approval. Only then call confirm_destructive_action with:',
      `  token: ${token}`,
      '  resource_id_echo: the Resource id above, exactly as written (case-sensitive)',
      '  reason: a short justification from the human, 1-256 characters (kept in the audit log)',
      '',
      `The token works once and expires in ${minutes} minute${minutes === 1 ? '' : 's'} (${new Date(expiresAt).toISOString()}).`,
      'A wrong resource_id_echo cancels the action.',
    ].join('\n');
    return {
      resourceId,
      result: {
        content: [{ type: 'text', text }],
        structuredContent: {
          status: 'confirmation_required',
          action: tool.name,
          resourceId,
          token,
          expiresAt: new Date(expiresAt).toISOString(),
          confirmWith: CONFIRM_TOOL,
        },
      },
    };
  }

  /**
   * confirm_destructive_action: the parked action if every check passes. Consumed on any
   * outcome but "unknown": an echo mismatch or an expired token cancels the action.
   */
  async redeem(args: Record<string, unknown>, scope: RequestScope): Promise<ConfirmOutcome> {
    const token = args.token as string;
    const echo = args.resource_id_echo as string;
    const reason = args.reason as string;
    const ephemeral = await this.o.ephemeral();
    const key = `confirm:${hashSecret(token)}`;
    const unknown = () =>
      new ConfirmationError(
        'GW_CONFIRM_NOT_FOUND',
        'No pending action for this token: it is unknown, already used, or was requested by another caller. Call the original tool again.',
        { reason },
      );
    const seen = await ephemeral.get(key);
    if (seen === undefined) throw unknown();
    const peek = JSON.parse(seen) as Pending;
    // Another caller (or session) learns nothing and cannot cancel the owner's action.
    if (peek.o !== principalKey(scope.principal) || peek.s !== (scope.session?.id ?? null)) throw unknown();
    const raw = await ephemeral.consume(key);
    if (raw === undefined) throw unknown(); // a concurrent confirm won
    const p = JSON.parse(raw) as Pending;
    const tool = this.o.lookup(p.t);
    const base = { resourceId: p.r, reason, ...(tool ? { tool } : {}) };
    if (this.o.now() > p.e) {
      throw new ConfirmationError('GW_CONFIRM_EXPIRED', `The confirmation expired; call ${p.t} again for a new one.`, base);
    }
    if (echo !== p.r) {
      throw new ConfirmationError(
        'GW_CONFIRM_ECHO_MISMATCH',
        `resource_id_echo does not match the Resource id of the pending ${p.t}; the action was cancelled and nothing was changed.`,
        base,
      );
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(open(token, p.c)) as Record<string, unknown>;
    } catch {
      throw new ConfirmationError('GW_CONFIRM_NOT_FOUND', 'The pending action could not be read; call the original tool again.', base);
    }
    if (!tool || argsDigest(parsed) !== p.d) {
      throw new ConfirmationError('GW_CONFIRM_NOT_FOUND', 'The pending action no longer matches a tool of this server.', base);
    }
    return { tool, args: parsed, resourceId: p.r, reason };
  }

  /**
   * The form path: ask the user to type the Resource id and a reason. 2025 eras ask live over
   * the stream; 2026-07-28 answers `input_required`, and the retry (bound to the same caller and
   * arguments by the signed state) must arrive before the expiry and is accepted once.
   */
  async ask(tool: CompiledTool, args: Record<string, unknown>, scope: RequestScope): Promise<ConfirmOutcome> {
    const resourceId = resourceIdOf(tool, args);
    const base = { tool, args, resourceId };
    let answers: Record<string, unknown> | undefined;
    if (scope.era.modern) {
      answers = scope.inputResponses ??= {};
      const state = answers[FORM_STATE_KEY] as FormState | undefined;
      if (state && typeof state.n === 'string' && typeof state.t === 'number') {
        if (this.o.now() > state.t + this.o.ttlMs) {
          throw new ConfirmationError('GW_CONFIRM_EXPIRED', `The confirmation expired; call ${tool.name} again.`, { ...base, reason: null });
        }
        // Every signed state is good for one retry: a replayed retry finds it spent. A handler
        // that asks its own questions after the approval gets a new state for each round.
        const ephemeral = await this.o.ephemeral();
        if (!(await ephemeral.setIfAbsent(`confirm:state:${scope.stateId ?? state.n}`, '1', this.o.ttlMs + GRACE_MS))) {
          throw new ConfirmationError('GW_CONFIRM_NOT_FOUND', `This confirmation was already used; call ${tool.name} again.`, { ...base, reason: null });
        }
        if (state.ok === true) return { ...base, reason: typeof state.r === 'string' ? state.r : null };
      } else {
        // No round of ours yet: an answer the client volunteered is not an approval. Ask.
        delete answers[FORM_ANSWER_KEY];
        answers[FORM_STATE_KEY] = { n: randomBytes(16).toString('base64url'), t: this.o.now() } satisfies FormState;
      }
    }
    const question = handlerContext(scope).elicit(
      {
        mode: 'form',
        message:
          `Approve a destructive action? ${tool.name} on Resource id "${resourceId}". ` +
          'Type the Resource id exactly to approve it, and give a reason (kept in the audit log).',
        requestedSchema: {
          type: 'object',
          properties: {
            resource_id_echo: { type: 'string', title: 'Resource id', description: `Type ${resourceId} to approve` },
            reason: { type: 'string', title: 'Reason', minLength: 1, maxLength: 256 },
          },
          required: ['resource_id_echo', 'reason'],
        },
      },
      FORM_ANSWER_KEY,
    );
    const answer = scope.era.modern ? await question : await this.withinLifetime(question, scope, tool, base);
    const content = answer.content ?? {};
    const reason = typeof content.reason === 'string' ? content.reason : null;
    if (answer.action !== 'accept') {
      throw new ConfirmationError('GW_CONFIRM_DECLINED', `The user did not approve ${tool.name}; nothing was changed.`, { ...base, reason });
    }
    if (content.resource_id_echo !== resourceId) {
      throw new ConfirmationError(
        'GW_CONFIRM_ECHO_MISMATCH',
        `The Resource id typed does not match "${resourceId}"; the action was cancelled and nothing was changed.`,
        { ...base, reason },
      );
    }
    if (reason === null || [...reason].length < 1 || [...reason].length > 256) {
      throw new ConfirmationError('GW_CONFIRM_REASON', 'A reason of 1-256 characters is required; nothing was changed.', { ...base, reason: null });
    }
    // Later rounds (the handler's own questions) carry the approval in the signed state.
    if (answers) answers[FORM_STATE_KEY] = { ...(answers[FORM_STATE_KEY] as FormState), ok: true, r: reason } satisfies FormState;
    return { ...base, reason };
  }

  /** A live (2025) form waits for the human at most the confirmation's lifetime. */
  private async withinLifetime<T>(question: Promise<T>, scope: RequestScope, tool: CompiledTool, base: Partial<ConfirmOutcome>): Promise<T> {
    const timer = setTimeout(() => scope.abort(new ConfirmationTimeout()), this.o.ttlMs);
    try {
      return await question;
    } catch (err) {
      if (scope.aborted && scope.signal.reason instanceof ConfirmationTimeout) {
        throw new ConfirmationError('GW_CONFIRM_EXPIRED', `No answer within ${Math.round(this.o.ttlMs / 1000)} s; ${tool.name} was not run.`, { ...base, reason: null });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

class ConfirmationTimeout extends Error {
  override name = 'ConfirmationTimeout';
}

/** What a 2026 form confirmation keeps in the signed state: nonce, issue time, and once approved the reason. */
interface FormState {
  n: string;
  t: number;
  ok?: boolean;
  r?: string;
}

/**
 * The Resource id a confirmation echoes: the tool's `resourceId` (an argument name or a
 * function), else the argument `id`, else every argument whose name ends in `id` (in schema
 * order, joined with `/`), else the tool's name.
 */
export function resourceIdOf(tool: CompiledTool, args: Record<string, unknown>): string {
  const rule = tool.def.resourceId as ToolDefinition['resourceId'];
  if (typeof rule === 'function') return String(rule(args));
  if (typeof rule === 'string' && args[rule] !== undefined && args[rule] !== '') return String(args[rule]);
  if (args.id !== undefined && typeof args.id !== 'object') return String(args.id);
  const props = Object.keys((tool.inputSchema.properties ?? {}) as Record<string, unknown>);
  // `product_id`, `product-id`, `productId`, `productID`: not `paid` or `valid`.
  const ids = props.filter((k) => /(?:[_-](?:id|ID)|[a-z0-9](?:Id|ID))$/.test(k) && args[k] !== undefined && args[k] !== '' && typeof args[k] !== 'object');
  return ids.length ? ids.map((k) => String(args[k])).join('/') : tool.name;
}

// AES-256-GCM under sha256("gangway-confirm:" + token): the lookup key is sha256(token) alone,
// so what the store holds derives neither the token nor this key.
const keyOf = (token: string) => hash('sha256', `gangway-confirm:${token}`, 'buffer');

function seal(token: string, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', keyOf(token), iv);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
}

function open(token: string, sealed: string): string {
  const [iv, tag, body] = sealed.split('.');
  const d = createDecipheriv('aes-256-gcm', keyOf(token), Buffer.from(iv!, 'base64url'));
  d.setAuthTag(Buffer.from(tag!, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(body!, 'base64url')), d.final()]).toString('utf8');
}

/** The built-in tool that completes a token confirmation (its handler never runs: policy/ does it). */
export function confirmToolDefinition(anonymous: boolean): ToolDefinition {
  return {
    name: CONFIRM_TOOL,
    title: 'Confirm a destructive action',
    description:
      'Runs a destructive action that is waiting for approval. Call it ONLY after the human operator has explicitly ' +
      'approved the pending action shown to them. Pass the token from the pending-action message, the Resource id ' +
      'exactly as shown, and the reason the human gave.',
    input: {
      type: 'object',
      properties: {
        token: { type: 'string', minLength: 1, maxLength: 512, description: 'The opaque token of the pending action' },
        resource_id_echo: { type: 'string', minLength: 1, maxLength: 4096, description: 'The Resource id, verbatim (case-sensitive)' },
        reason: { type: 'string', minLength: 1, maxLength: 256, description: 'Why, in 1-256 characters (kept in the audit log)' },
      },
      required: ['token', 'resource_id_echo', 'reason'],
      additionalProperties: false,
    },
    annotations: { title: 'Confirm a destructive action', destructiveHint: true, idempotentHint: false },
    ...(anonymous ? { anonymous: true } : {}),
    handler() {
      throw new Error('confirm_destructive_action runs inside policy/');
    },
  };
}
