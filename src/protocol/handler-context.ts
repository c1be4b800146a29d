import { RpcCode, RpcError, ToolError } from '../errors.ts';
import type { ElicitRequest, ElicitResult, HandlerContext, LogLevel, SamplingRequest, UrlElicitRequest } from '../registry/types.ts';
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

  const ask = async (method: string, params: unknown, capability: string, key: string | undefined) => {
    const k = key ?? `input-${++autoKey}`;
    if (scope.era.modern) {
      if (scope.inputResponses && k in scope.inputResponses) return scope.inputResponses[k];
      if (!scope.clientCapabilities[capability]) {
        throw new RpcError(
          RpcCode.MissingRequiredClientCapability,
          `This request needs the client capability "${capability}"`,
          { requiredCapabilities: { [capability]: {} } },
          400,
        );
      }
      throw new InputRequired({ [k]: { method, params } });
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
    return answer;
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
      const params = scope.era.version === '2025-06-18' && request.mode === 'form' ? stripMode(request) : request;
      return (await ask('elicitation/create', params, 'elicitation', key)) as ElicitResult;
    },
    async sample(request: SamplingRequest, key?: string) {
      return (await ask('sampling/createMessage', request, 'sampling', key)) as Record<string, unknown>;
    },
  };
}

function stripMode(r: ElicitRequest): Omit<ElicitRequest, 'mode'> {
  const { mode: _mode, ...rest } = r;
  return rest;
}
