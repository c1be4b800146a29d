import { invalidParams, RpcCode, RpcError, ToolError } from '../errors.ts';
import type {
  ElicitRequest,
  ElicitResult,
  HandlerContext,
  LogLevel,
  Root,
  SamplingRequest,
  UrlElicitRequest,
} from '../registry/types.ts';
import { InputRequired } from './input-required.ts';
import { levelEnabled, type RequestScope } from './scope.ts';

/**
 * Builds what a handler sees from the request scope. The same calls work in every era:
 * `elicit` is a live request over the SSE stream in 2025 eras and an `input_required`
 * round trip in 2026-07-28.
 */
export function handlerContext(scope: RequestScope): HandlerContext {
  return new Context(scope);
}

/** A class rather than an object of closures: one is made for every call. */
class Context implements HandlerContext {
  private lastProgress = Number.NEGATIVE_INFINITY;
  private autoKey = 0;
  // 2026-07-28: every question still unanswered in this run. Questions asked concurrently
  // (Promise.all) share the record, so they go to the client together in one round (mrtr).
  private asked: Record<string, { method: string; params: unknown }> | undefined;

  constructor(private readonly scope: RequestScope) {}

  get principal() {
    return this.scope.principal;
  }
  get signal() {
    return this.scope.signal; // created on first use: most handlers never look
  }
  get protocolVersion() {
    return this.scope.era.version;
  }
  get sessionId() {
    return this.scope.session?.id;
  }
  get clientCapabilities() {
    return this.scope.clientCapabilities;
  }

  progress(progress: number, total?: number, message?: string): void {
    const scope = this.scope;
    if (scope.progressToken === undefined || !(progress > this.lastProgress)) return;
    this.lastProgress = progress;
    const params: Record<string, unknown> = { progressToken: scope.progressToken, progress };
    if (total !== undefined) params.total = total;
    if (message !== undefined) params.message = message;
    scope.send({ jsonrpc: '2.0', method: 'notifications/progress', params });
  }

  log(level: LogLevel, data: unknown, logger?: string): void {
    if (!levelEnabled(level, this.scope.logLevel)) return;
    this.scope.send({
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: logger === undefined ? { level, data } : { level, logger, data },
    });
  }

  async elicit(request: ElicitRequest | UrlElicitRequest, key?: string): Promise<ElicitResult> {
    const era = this.scope.era;
    // Elicitation arrived in 2025-06-18: a 2025-03-26 session must never see elicitation/create,
    // even from a client that declares the capability.
    if (!era.modern && !era.liveElicitation) {
      throw new ToolError(`This tool needs a client that supports elicitation (protocol ${era.version} has none).`);
    }
    if (request.mode === 'url') {
      if (era.version === '2025-06-18') {
        throw new ToolError('This tool needs URL elicitation, which protocol 2025-06-18 does not have.');
      }
      // A client declares URL mode explicitly: `elicitation: {}` means form only (client/elicitation).
      // 2026-07-28 dropped elicitationId; the state of the out-of-band step is the server's to keep.
      const params = era.modern ? withoutElicitationId(request) : request;
      return (await this.ask('elicitation/create', params, 'elicitation', key, 'url')) as ElicitResult;
    }
    const params = era.version === '2025-06-18' && request.mode === 'form' ? stripMode(request) : request;
    return (await this.ask('elicitation/create', params, 'elicitation', key)) as ElicitResult;
  }

  async sample(request: SamplingRequest, key?: string): Promise<Record<string, unknown>> {
    // Tools in a sampling request need the client's `sampling.tools` (client/sampling).
    const sub = request.tools !== undefined || request.toolChoice !== undefined ? 'tools' : undefined;
    return (await this.ask('sampling/createMessage', request, 'sampling', key, sub)) as Record<string, unknown>;
  }

  async roots(key?: string): Promise<{ roots: Root[] }> {
    return (await this.ask('roots/list', {}, 'roots', key)) as { roots: Root[] };
  }

  private async ask(
    method: string,
    params: unknown,
    capability: string,
    key: string | undefined,
    sub?: string,
  ): Promise<unknown> {
    const scope = this.scope;
    const k = key ?? `input-${++this.autoKey}`;
    const declared = scope.clientCapabilities[capability] as Record<string, unknown> | undefined;
    const capable = declared !== undefined && declared !== null && (sub === undefined || (typeof declared === 'object' && sub in declared));
    if (scope.era.modern) {
      if (scope.inputResponses && k in scope.inputResponses) {
        const problem = answerProblem(method, scope.inputResponses[k]);
        if (problem) throw invalidParams(`Invalid inputResponses["${k.slice(0, 64)}"]: ${problem}`);
        return scope.inputResponses[k];
      }
      if (!capable) {
        const name = sub ? `${capability}.${sub}` : capability;
        throw new RpcError(
          RpcCode.MissingRequiredClientCapability,
          `This request needs the client capability "${name}"`,
          { requiredCapabilities: { [capability]: sub ? { [sub]: {} } : {} } },
          400,
        );
      }
      this.asked ??= {};
      this.asked[k] = { method, params };
      throw new InputRequired(this.asked);
    }
    const session = scope.session;
    if (!session || !capable) {
      throw new ToolError(`This tool needs a client that supports ${sub ? `${capability}.${sub}` : capability}.`);
    }
    const { id, answer } = session.expectAnswer(scope.signal);
    if (!scope.send({ jsonrpc: '2.0', id, method, params })) {
      session.settle(id, undefined, { code: RpcCode.InternalError, message: 'no stream' });
      await answer.catch(() => undefined);
      throw new ToolError(`This tool needs a client that accepts a streamed (SSE) response to ask for ${capability}.`);
    }
    const value = await answer;
    const problem = answerProblem(method, value);
    if (problem) throw new ToolError(`The client answered ${method} with an invalid result: ${problem}`);
    return value;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What is wrong with a client's answer to a server-to-client request, or undefined if it has
 * the shape the handler is promised (ElicitResult, CreateMessageResult, ListRootsResult).
 * 2026-07-28 answers arrive as request params, so they are untrusted input like any other.
 */
function answerProblem(method: string, value: unknown): string | undefined {
  if (!isObject(value)) return 'must be an object';
  if (method === 'elicitation/create') {
    if (value.action !== 'accept' && value.action !== 'decline' && value.action !== 'cancel') {
      return 'action must be "accept", "decline" or "cancel"';
    }
    if (value.content !== undefined && !isObject(value.content)) return 'content must be an object';
  } else if (method === 'sampling/createMessage') {
    if (typeof value.role !== 'string' || !(isObject(value.content) || Array.isArray(value.content))) {
      return 'a sampling result needs role and content';
    }
  } else if (method === 'roots/list') {
    if (!Array.isArray(value.roots) || !value.roots.every((r) => isObject(r) && typeof r.uri === 'string')) {
      return 'roots must be an array of { uri }';
    }
  }
  return undefined;
}

function stripMode(r: ElicitRequest): Omit<ElicitRequest, 'mode'> {
  const { mode: _mode, ...rest } = r;
  return rest;
}

function withoutElicitationId(r: UrlElicitRequest): Omit<UrlElicitRequest, 'elicitationId'> {
  const { elicitationId: _id, ...rest } = r;
  return rest;
}
