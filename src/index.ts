export { createGangway, type Gangway } from './app.ts';
export type { GangwayConfig, HttpConfig } from './config.ts';
export { GangwayConfigError, RpcCode, RpcError, ToolError } from './errors.ts';
export { ANONYMOUS, type Principal } from './auth/principal.ts';
export { SUPPORTED_VERSIONS } from './protocol/eras.ts';
export { defineConfig, definePrompt, defineResource, defineResourceTemplate, defineTool } from './define.ts';
export type {
  CallToolResult,
  ContentBlock,
  HandlerContext,
  JsonSchema,
  PromptDefinition,
  PromptMessage,
  ResourceContents,
  ResourceDefinition,
  ResourceTemplateDefinition,
  ToolAnnotations,
  ToolDefinition,
} from './registry/types.ts';
export type { Authenticate, HttpInput } from './transport/endpoint.ts';
export type { AuthConfig, ExternalIssuerConfig, OAuthServerConfig, SignedInUser, SignInHook } from './auth/config.ts';
export { importSpec, type ImportOptions } from './openapi/import.ts';
export { loadManifest, writeManifest } from './openapi/manifest.ts';
export type { Manifest, OperationPlan } from './openapi/operation.ts';
export { openapiTools, type OperationCall, type ToolsOptions } from './openapi/tools.ts';
export { openapiResources } from './openapi/resources.ts';
export type { OpenApiConfig } from './openapi/setup.ts';
export type { McpOverride } from './openapi/x-mcp.ts';
export { OpenApiImportError } from './openapi/errors.ts';
export { createUpstream, type Upstream, type UpstreamOptions } from './upstream/index.ts';
export { openEphemeral, openStore } from './store/index.ts';
export type { Ephemeral, Store } from './store/types.ts';
export type { ConfirmationConfig, LimitsConfig, PolicyConfig, QuotaConfig, RateRule } from './policy/config.ts';
export { maskSecret } from './policy/secrets.ts';
