import type { Principal } from '../auth/principal.ts';

/** JSON Schema (2020-12) as a plain object. */
export type JsonSchema = Record<string, unknown>;
/** A zod 4 schema (anything with `_zod`), converted to JSON Schema once at start-up. */
export interface ZodLike {
  readonly _zod: unknown;
}
export type SchemaInput = JsonSchema | ZodLike;

export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'alert' | 'emergency';

export interface Icon {
  src: string;
  mimeType?: string;
  sizes?: string[];
  theme?: 'light' | 'dark';
}

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export type ContentBlock =
  | { type: 'text'; text: string; annotations?: Record<string, unknown>; _meta?: Record<string, unknown> }
  | { type: 'image'; data: string; mimeType: string; annotations?: Record<string, unknown> }
  | { type: 'audio'; data: string; mimeType: string; annotations?: Record<string, unknown> }
  | { type: 'resource'; resource: ResourceContents; annotations?: Record<string, unknown> }
  | {
      type: 'resource_link';
      uri: string;
      name: string;
      title?: string;
      description?: string;
      mimeType?: string;
    };

export type ResourceContents =
  | { uri: string; mimeType?: string; text: string; _meta?: Record<string, unknown> }
  | { uri: string; mimeType?: string; blob: string; _meta?: Record<string, unknown> };

export interface CallToolResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

/** Form elicitation request (2025-06-18+) as a handler asks for it. */
export interface ElicitRequest {
  mode?: 'form';
  message: string;
  requestedSchema: JsonSchema;
}
export interface UrlElicitRequest {
  mode: 'url';
  message: string;
  url: string;
  /** Required by 2025-11-25; 2026-07-28 dropped it (Gangway leaves it out there). */
  elicitationId: string;
}
export interface ElicitResult {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, unknown>;
}
export interface SamplingRequest {
  messages: Array<{ role: 'user' | 'assistant'; content: ContentBlock }>;
  maxTokens: number;
  systemPrompt?: string;
  /** Tools the client's model may call; needs the client's `sampling.tools` capability. */
  tools?: unknown[];
  toolChoice?: unknown;
  [k: string]: unknown;
}

/** A directory or file the client exposes (roots/list). */
export interface Root {
  uri: string;
  name?: string;
}

/** What a handler gets besides its arguments. Same shape in every protocol era. */
export interface HandlerContext {
  readonly principal: Principal;
  /** Aborted on cancellation, client disconnect, timeout or shutdown. */
  readonly signal: AbortSignal;
  /** The negotiated protocol revision, for the rare handler that cares. */
  readonly protocolVersion: string;
  readonly sessionId: string | undefined;
  /** Reports progress if the client asked for it (a progressToken); otherwise a no-op. */
  progress(progress: number, total?: number, message?: string): void;
  /** Sends a log message to the client if its level is enabled for this request. */
  log(level: LogLevel, data: unknown, logger?: string): void;
  /**
   * Asks the user through the client. 2025 eras: a live request over the SSE stream.
   * 2026-07-28: an `input_required` result; the handler runs again from the start when the
   * client retries with the answer, so everything before `elicit` must be side-effect free.
   * `key` names the question within this call (stable across retries).
   */
  elicit(request: ElicitRequest | UrlElicitRequest, key?: string): Promise<ElicitResult>;
  /** Asks the client's model (sampling). Same delivery rules as `elicit`. */
  sample(request: SamplingRequest, key?: string): Promise<Record<string, unknown>>;
  /** Asks the client for its roots (roots/list). Same delivery rules as `elicit`. */
  roots(key?: string): Promise<{ roots: Root[] }>;
  /** The client's declared capabilities (initialize or the request `_meta`). */
  readonly clientCapabilities: Record<string, unknown>;
}

export type ToolReturn = CallToolResult | string | Record<string, unknown> | unknown[] | undefined | null;

export interface ToolDefinition<Args = Record<string, unknown>> {
  name: string;
  title?: string;
  description?: string;
  /** JSON Schema 2020-12 (`type: "object"`) or a zod 4 object schema. Default: no arguments. */
  input?: SchemaInput;
  output?: SchemaInput;
  annotations?: ToolAnnotations;
  icons?: Icon[];
  /** OAuth scopes / key scopes needed to call it (enforced by policy/). */
  scopes?: string[];
  /** Needs the two-step confirmation (policy/). Implies `annotations.destructiveHint`. */
  destructive?: boolean;
  /**
   * The Resource id a confirmation shows and wants echoed: an argument's name, or a function of
   * the arguments. Default: the argument `id`, else the arguments ending in `id`, else the name.
   */
  resourceId?: string | ((args: Args) => string);
  /**
   * Write-only fields chosen by the arguments, as paths into them (property names, `*` for any
   * item or map value): for a tool that forwards `arguments` to another schema, like the OpenAPI
   * meta tools. Fields marked `writeOnly: true` in `input` are found without it.
   */
  argumentSecrets?: (args: Args) => ReadonlyArray<readonly string[]>;
  /** May be called with no credential at all. */
  anonymous?: boolean;
  /** Overrides the server's per-request timeout. */
  timeoutMs?: number;
  _meta?: Record<string, unknown>;
  /** Method syntax on purpose: lets `({ id }: { id: string }) => ...` be assigned (bivariant args). */
  handler(args: Args, ctx: HandlerContext): ToolReturn | Promise<ToolReturn>;
}

export type Completer = (
  value: string,
  context: { arguments: Record<string, string>; principal: Principal },
) => string[] | Promise<string[]>;

export interface ResourceDefinition {
  uri: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  size?: number;
  icons?: Icon[];
  annotations?: Record<string, unknown>;
  scopes?: string[];
  anonymous?: boolean;
  /** Returns the text (string), bytes (Uint8Array, sent as base64 `blob`) or full contents. */
  read: (ctx: HandlerContext) => ResourceReturn | Promise<ResourceReturn>;
}

export type ResourceReturn = string | Uint8Array | ResourceContents | ResourceContents[];

export interface ResourceTemplateDefinition {
  /** RFC 6570 URI template, e.g. `conferbot://chatbot/{chatbotId}/analytics`. */
  uriTemplate: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  icons?: Icon[];
  annotations?: Record<string, unknown>;
  scopes?: string[];
  anonymous?: boolean;
  /** Completions for template variables, by variable name. */
  complete?: Record<string, Completer>;
  /** Returns undefined/null when the resource does not exist (-> "not found"). */
  read: (
    uri: string,
    variables: Record<string, string | string[]>,
    ctx: HandlerContext,
  ) => ResourceReturn | null | undefined | Promise<ResourceReturn | null | undefined>;
}

export interface PromptArgument {
  name: string;
  title?: string;
  description?: string;
  required?: boolean;
  complete?: Completer;
}

export type PromptMessage = { role: 'user' | 'assistant'; content: ContentBlock };

export interface PromptDefinition {
  name: string;
  title?: string;
  description?: string;
  icons?: Icon[];
  arguments?: PromptArgument[];
  scopes?: string[];
  anonymous?: boolean;
  get(
    args: Record<string, string>,
    ctx: HandlerContext,
  ):
    | string
    | PromptMessage[]
    | { description?: string; messages: PromptMessage[] }
    | Promise<string | PromptMessage[] | { description?: string; messages: PromptMessage[] }>;
}
