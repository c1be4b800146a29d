import { invalidParams, RpcError, ToolError } from '../errors.ts';
import type { CompiledTool, Registry } from '../registry/registry.ts';
import { describeErrors } from '../registry/schema.ts';
import type { CallToolResult, ContentBlock, ToolReturn } from '../registry/types.ts';
import type { Era } from './eras.ts';
import { TimeoutError, untilAborted } from './deadline.ts';
import { handlerContext } from './handler-context.ts';
import { InputRequired } from './input-required.ts';
import type { RequestScope } from './scope.ts';

export interface ToolRunnerOptions {
  registry: Registry;
  timeoutMs: number;
  /** Called with the error a handler threw that was not a ToolError (logged, never sent). */
  onHandlerError(tool: string, err: unknown, scope: RequestScope): string;
  /** policy/: confirmation, audit and secrets around every validated call. */
  pipeline?: CallPipeline;
}

export type WireResult = CallToolResult & { resultType?: string };
/** Runs a validated call: handler, deadline, result shaped for the era. */
export type RunTool = (tool: CompiledTool, args: Record<string, unknown>, scope: RequestScope) => WireResult | Promise<WireResult>;

/** What protocol/ asks of policy/ (which implements it): protocol/ never imports policy/. */
export interface CallPipeline {
  tool(tool: CompiledTool, args: Record<string, unknown>, scope: RequestScope, run: RunTool): WireResult | Promise<WireResult>;
  read(method: string, target: string, scope: RequestScope, run: () => unknown): unknown;
  /** A call refused for its arguments before anything ran (audited, not run). */
  invalid(tool: CompiledTool, scope: RequestScope): void;
  /** A call to a tool that does not exist (audited: a caller probing for names shows). */
  unknown(name: string, scope: RequestScope): void;
}

const runners = new WeakMap<ToolRunnerOptions, RunTool>();

/** tools/call: find, validate, run with a deadline, normalise the result for the era. */
/** Synchronous when the handler is: a quick tool is answered without a promise in between. */
export function callTool(
  params: Record<string, unknown> | undefined,
  scope: RequestScope,
  o: ToolRunnerOptions,
): WireResult | Promise<WireResult> {
  const name = params?.name;
  if (typeof name !== 'string') throw invalidParams('tools/call needs params.name (string)');
  const tool = o.registry.tools.get(name);
  if (!tool) {
    o.pipeline?.unknown(name, scope);
    throw invalidParams(`Unknown tool: ${name.slice(0, 128)}`);
  }
  const args = params?.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw invalidParams(`Invalid arguments for tool ${name}: arguments must be an object`);
  }
  const validate = tool.validateInput();
  if (!validate(args)) {
    o.pipeline?.invalid(tool, scope);
    const message = `Invalid arguments for tool ${name}: ${describeErrors(validate.errors)}`;
    // 2025-11-25 (SEP-1303): validation failures are tool errors the model can correct.
    if (scope.era.validationAsToolError) return errorResult(message, scope.era);
    throw invalidParams(message);
  }
  if (!o.pipeline) return runTool(tool, args as Record<string, unknown>, scope, o);
  let run = runners.get(o);
  if (!run) runners.set(o, (run = (t, a, s) => runTool(t, a, s, o)));
  return o.pipeline.tool(tool, args as Record<string, unknown>, scope, run);
}

function runTool(
  tool: CompiledTool,
  args: Record<string, unknown>,
  scope: RequestScope,
  o: ToolRunnerOptions,
): WireResult | Promise<WireResult> {
  let value: ToolReturn | Promise<ToolReturn>;
  try {
    value = tool.def.handler(args, handlerContext(scope));
  } catch (err) {
    return toolFailure(tool, err, scope, o);
  }
  if (!(value instanceof Promise)) return toolResult(tool, value, scope.era);
  return awaitTool(tool, value, scope, o);
}

/** Only a handler that waits can overrun its deadline; a synchronous one has returned. */
async function awaitTool(tool: CompiledTool, pending: Promise<ToolReturn>, scope: RequestScope, o: ToolRunnerOptions) {
  const ms = tool.def.timeoutMs ?? o.timeoutMs;
  const timer = setTimeout(() => scope.abort(new TimeoutError(`Tool ${tool.name} timed out after ${ms} ms`)), ms);
  try {
    return toolResult(tool, await untilAborted(pending, scope.signal), scope.era);
  } catch (err) {
    return toolFailure(tool, err, scope, o);
  } finally {
    clearTimeout(timer);
  }
}

function toolFailure(tool: CompiledTool, err: unknown, scope: RequestScope, o: ToolRunnerOptions): WireResult {
  if (err instanceof ToolError) return errorResult(err.message, scope.era, err.structured);
  if (err instanceof InputRequired || err instanceof RpcError) throw err;
  if (err instanceof TimeoutError) return errorResult(err.message, scope.era);
  if (scope.aborted) throw scope.signal.reason;
  const ref = o.onHandlerError(tool.name, err, scope);
  return errorResult(`Tool ${tool.name} failed (reference ${ref}).`, scope.era);
}

function toolResult(tool: CompiledTool, value: ToolReturn, era: Era): WireResult {
  let result: CallToolResult;
  if (typeof value === 'string') result = { content: [{ type: 'text', text: value }] };
  else if (value === undefined || value === null) result = { content: [] };
  else if (isCallToolResult(value)) result = value;
  else {
    const text = JSON.stringify(value);
    result = Array.isArray(value)
      ? { content: [{ type: 'text', text }] }
      : { content: [{ type: 'text', text }], structuredContent: value as Record<string, unknown> };
  }
  const validateOutput = tool.validateOutput?.();
  if (validateOutput && !result.isError) {
    if (!result.structuredContent) {
      return errorResult(`Tool ${tool.name} returned no structured content although it declares an outputSchema`, era);
    }
    if (!validateOutput(result.structuredContent)) {
      return errorResult(
        `Tool ${tool.name} returned output that does not match its outputSchema: ${describeErrors(validateOutput.errors)}`,
        era,
      );
    }
  }
  return forEra(result, era);
}

function isCallToolResult(v: object): v is CallToolResult {
  if (!Array.isArray((v as CallToolResult).content)) return false;
  for (const k in v) if (!RESULT_KEYS.has(k)) return false;
  return true;
}
const RESULT_KEYS = new Set(['content', 'structuredContent', 'isError', '_meta']);

export function errorResult(text: string, era: Era, structured?: Record<string, unknown>): WireResult {
  const content: ContentBlock[] = [{ type: 'text', text }];
  return forEra(structured ? { content, structuredContent: structured, isError: true } : { content, isError: true }, era);
}

/** The result as the era spells it; a handler's own object is never modified. */
function forEra(result: CallToolResult, era: Era): WireResult {
  if (era.structured && !era.resultType) return result;
  if (!era.structured) {
    const old: CallToolResult = { content: result.content };
    if (result.isError !== undefined) old.isError = result.isError;
    return old;
  }
  // Property by property, not a spread: this runs for every 2026 call.
  const out: WireResult = { content: result.content };
  if (result.structuredContent !== undefined) out.structuredContent = result.structuredContent;
  if (result.isError !== undefined) out.isError = result.isError;
  if (result._meta !== undefined) out._meta = result._meta;
  out.resultType = 'complete';
  return out;
}
