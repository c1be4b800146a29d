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
export function handlerContext(scope: RequestScope, signal: AbortSignal): HandlerContext {
  let lastProgress = Number.NEGATIVE_INFINITY;
  let autoKey = 0;
  // 2026-07-28: every question still unanswered in this run. Questions asked concurrently
  // (Promise.all) share the record, so they go to the client together in one round (mrtr).
  const asked: Record<string, { method: string; params: unknown }> = {};

  const ask = async (method: string, params: unknown, capability: string, key: string | undefined) => {
    const k = key ?? `input-${++autoKey}`;
    if (scope.era.modern) {
      if (scope.inputResponses && k in scope.inputResponses) {
        const problem = answerProblem(method, scope.inputResponses[k]);
        if (problem) throw invalidParams(`Invalid inputResponses["${k.slice(0, 64)}"]: ${problem}`);
        return scope.inputResponses[k];
      }
      if (!scope.clientCapabilities[capability]) {
        throw new RpcError(
          RpcCode.MissingRequiredClientCapability,
          `This request needs the client capability "${capability}"`,
          { requiredCapabilities: { [capability]: {} } },
          400,
        );
      }
      asked[k] = { method, params };
      throw new InputRequired(asked);
    }
    const session = scope.session;
    if (!session || !scope.clientCapabilities[capability]) {
      throw new ToolError(`This tool needs a client that supports ${capability}.`);
    }
    const { id, answer } = session.expectAnswer(signal);
    if (!scope.send({ jsonrpc: '2.0', id, method, params })) {
      session.settle(id, undefined, { code: RpcCode.InternalError, message: 'no stream' });
      await answer.catch(() => undefined);
      throw new ToolError(`This tool needs a client that accepts a streamed (SSE) response to ask for ${capability}.`);
    }
    const value = await answer;
    const problem = answerProblem(method, value);
    if (problem) throw new ToolError(`The client answered ${method} with an invalid result: ${problem}`);
    return value;
  };

  return {
    principal: scope.principal,
    signal,
    protocolVersion: scope.era.version,
    sessionId: scope.session?.id,
    clientCapabilities: scope.clientCapabilities,
    progress(progress, total, message) {
      if (scope.progressToken === undefined || !(progress > lastProgress)) return;
      lastProgress = progress;
      const params: Record<string, unknown> = { progressToken: scope.progressToken, progress };
      if (total !== undefined) params.total = total;
      if (message !== undefined) params.message = message;
      scope.send({ jsonrpc: '2.0', method: 'notifications/progress', params });
    },
    log(level: LogLevel, data: unknown, logger?: string) {
      if (!levelEnabled(level, scope.logLevel)) return;
      scope.send({
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: logger === undefined ? { level, data } : { level, logger, data },
      });
    },
    async elicit(request: ElicitRequest | UrlElicitRequest, key?: string): Promise<ElicitResult> {
      // Elicitation arrived in 2025-06-18: a 2025-03-26 session must never see elicitation/create,
      // even from a client that declares the capability.
      if (!scope.era.modern && !scope.era.liveElicitation) {
        throw new ToolError(`This tool needs a client that supports elicitation (protocol ${scope.era.version} has none).`);
      }
      const params = scope.era.version === '2025-06-18' && request.mode === 'form' ? stripMode(request) : request;
      return (await ask('elicitation/create', params, 'elicitation', key)) as ElicitResult;
    },
    async sample(request: SamplingRequest, key?: string) {
      return (await ask('sampling/createMessage', request, 'sampling', key)) as Record<string, unknown>;
    },
    async roots(key?: string) {
      return (await ask('roots/list', {}, 'roots', key)) as { roots: Root[] };
    },
  };
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
