import { invalidParams } from '../errors.ts';
import type { Registry } from '../registry/registry.ts';
import type { PromptMessage } from '../registry/types.ts';
import { handlerContext } from './handler-context.ts';
import type { RequestScope } from './scope.ts';

export async function getPrompt(params: Record<string, unknown> | undefined, scope: RequestScope, registry: Registry) {
  const name = params?.name;
  if (typeof name !== 'string') throw invalidParams('prompts/get needs params.name (string)');
  const prompt = registry.prompts.get(name);
  if (!prompt) throw invalidParams(`Unknown prompt: ${name.slice(0, 128)}`);
  const args = params?.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw invalidParams(`Invalid arguments for prompt ${name}: arguments must be an object of strings`);
  }
  for (const [k, v] of Object.entries(args)) {
    if (typeof v !== 'string') throw invalidParams(`Invalid arguments for prompt ${name}: "${k}" must be a string`);
  }
  const missing = (prompt.arguments ?? []).filter((a) => a.required && !(a.name in args)).map((a) => a.name);
  if (missing.length) {
    throw invalidParams(`Missing required argument${missing.length > 1 ? 's' : ''} for prompt ${name}: ${missing.join(', ')}`);
  }
  const value = await prompt.get(args as Record<string, string>, handlerContext(scope));
  let messages: PromptMessage[];
  let description = prompt.description;
  if (typeof value === 'string') messages = [{ role: 'user', content: { type: 'text', text: value } }];
  else if (Array.isArray(value)) messages = value;
  else {
    messages = value.messages;
    description = value.description ?? description;
  }
  const result: Record<string, unknown> = description === undefined ? { messages } : { description, messages };
  if (scope.era.resultType) result.resultType = 'complete';
  return result;
}
