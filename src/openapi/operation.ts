import type { JsonSchema, ToolAnnotations } from '../registry/types.ts';

/**
 * The contract between the importer (spec -> tools) and the proxy (arguments -> HTTP request).
 * One `OperationPlan` per tool, JSON-serialisable: it is what the manifest stores, so the server
 * starts without parsing the spec again. The mapping from arguments back to the request is exact:
 * every argument names where it goes and how it is serialised.
 */

export type ParameterLocation = 'path' | 'query' | 'header' | 'cookie';

/** OpenAPI 3 serialisation styles (Swagger 2.0 collectionFormat is translated to these). */
export type ParameterStyle = 'simple' | 'label' | 'matrix' | 'form' | 'spaceDelimited' | 'pipeDelimited' | 'deepObject';

export interface ParameterPlan {
  /** Property name in the tool's input schema (collisions already resolved, e.g. `body_id`). */
  argument: string;
  in: ParameterLocation;
  /** Name on the wire (path template variable, query key, header or cookie name). */
  name: string;
  required: boolean;
  style: ParameterStyle;
  explode: boolean;
  /** Query only: `allowReserved` (RFC 3986 reserved characters sent unescaped). */
  allowReserved?: boolean;
  /** Swagger 2.0 `collectionFormat: tsv` has no OpenAPI 3 style: kept explicitly. */
  delimiter?: string;
  /** `content`-encoded parameter (OpenAPI 3 `content: {application/json: ...}`): JSON-encode the value. */
  contentType?: string;
}

export interface BodyPlan {
  /**
   * How the body appears in the arguments: `whole` means the argument named `argument` holds the
   * whole body; `spread` means the body's object properties are top-level arguments (listed in
   * `properties`, each mapped argument -> body property name).
   */
  mode: 'whole' | 'spread';
  argument?: string;
  properties?: Record<string, string>;
  required: boolean;
  /** Chosen media type: application/json (and +json), application/x-www-form-urlencoded, multipart/form-data, text/plain, application/octet-stream. */
  mediaType: string;
  /** multipart/form-data: properties that are files (accepted as base64 in arguments). */
  fileFields?: string[];
  /**
   * Form bodies (urlencoded, multipart): how a body property is written, keyed by the body
   * property name (as in OpenAPI 3 `encoding`; Swagger 2.0 formData `collectionFormat` is
   * translated into it: csv = form/explode false, multi = form/explode true, ssv =
   * spaceDelimited, pipes = pipeDelimited, tsv = form/explode false with delimiter "\t").
   * Absent: form style, explode true (OpenAPI 3 default).
   */
  encoding?: Record<string, BodyEncoding>;
  /** `whole` bodies of a binary media type: the argument is base64; send the decoded bytes. */
  contentEncoding?: 'base64';
}

export interface BodyEncoding {
  contentType?: string;
  style?: ParameterStyle;
  explode?: boolean;
  allowReserved?: boolean;
  delimiter?: string;
}

export interface OperationPlan {
  /** Tool name: safe, <= 64 characters, unique and stable across runs. */
  tool: string;
  operationId: string | null;
  method: 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
  /** Path template as in the spec (`/repos/{owner}/{repo}`), appended to the upstream base URL. */
  path: string;
  title?: string;
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  annotations: ToolAnnotations;
  /** Needs the two-step confirmation (DELETE by default). */
  destructive: boolean;
  /** Scopes from the operation's `security` (any one requirement object satisfied is enough upstream; we require the first one's scopes unless overridden). */
  scopes: string[];
  tags: string[];
  parameters: ParameterPlan[];
  body: BodyPlan | null;
  /** Media types the operation may answer with (from `responses`), for the Accept header. */
  produces: string[];
  /**
   * A GET also served as an MCP resource (x-mcp `resource`). The template's variables are
   * argument names of this operation (path parameters, then query parameters as `{?a,b}`):
   * reading a URI is calling the operation with the matched variables as arguments.
   */
  resource?: { uriTemplate: string; name: string; description?: string; mimeType?: string };
  /** Token cost of this tool's entry in `tools/list` (same encoding as Manifest.listTokens). */
  listTokens?: number;
}

export interface Manifest {
  /** Manifest format version. */
  format: 1;
  /** sha256 of the spec bytes the manifest was built from. */
  specDigest: string;
  title: string;
  version: string;
  /** Servers declared in the spec (the upstream is still chosen by config). */
  servers: string[];
  operations: OperationPlan[];
  /** Token cost of `tools/list` with every operation as a tool, measured at import. */
  listTokens: number;
  /** Encoding used for the token counts (gpt-tokenizer). */
  tokenizer?: 'o200k_base';
  /**
   * The tools mode chosen at import (`gangway import --mode`); the server's config wins.
   * Same shape as ToolsOptions in tools.ts.
   */
  tools?: { mode: 'auto' | 'all' | 'toolsets' | 'meta' | 'curated'; tokenBudget?: number; toolsets?: string[]; tools?: string[]; meta?: boolean };
  /** Operations left out (x-mcp `hidden`, or unusable with `skipInvalid`), with why. */
  skipped?: Array<{ operation: string; reason: string }>;
}
