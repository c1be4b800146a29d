import type { GangwayConfig } from './config.ts';
import type {
  PromptDefinition,
  ResourceDefinition,
  ResourceTemplateDefinition,
  ToolDefinition,
} from './registry/types.ts';

/**
 * Identity helpers: they only give definitions their types (and let a typed `Args` flow into
 * the handler). Validation happens once, in createGangway().
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the definition list is heterogeneous by design
export const defineTool = <Args = any>(tool: ToolDefinition<Args>): ToolDefinition => tool as unknown as ToolDefinition;
export const defineResource = (resource: ResourceDefinition): ResourceDefinition => resource;
export const defineResourceTemplate = (template: ResourceTemplateDefinition): ResourceTemplateDefinition => template;
export const definePrompt = (prompt: PromptDefinition): PromptDefinition => prompt;
export const defineConfig = (config: GangwayConfig): GangwayConfig => config;
