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
export { openEphemeral, openStore } from './store/index.ts';
export type { Ephemeral, Store } from './store/types.ts';
