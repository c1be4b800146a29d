import { defineConfig } from 'gangway';
import { prompts, resources, resourceTemplates } from './catalog.ts';
import { contentTools } from './content-tools.ts';
import { inputRequiredPrompt, inputRequiredTools } from './input-required.ts';
import { interactiveTools } from './interactive-tools.ts';

/**
 * The fixture server for the official MCP conformance suite (@modelcontextprotocol/conformance
 * 0.1.16 and 0.2.0-alpha.12): every tool, resource, template, prompt and completion its server
 * scenarios call, on every protocol revision Gangway serves. Written from the scenario
 * descriptions (`conformance list`, each scenario's "Server Implementation Requirements").
 *
 *   node bin/gangway.js serve --cwd examples/conformance --port 3917
 *
 * test/conformance/conformance.test.ts starts it and runs the suites against it.
 */
export default defineConfig({
  name: 'gangway-conformance',
  version: '1.0.0',
  title: 'Gangway conformance fixture',
  instructions: 'Test fixture for the MCP conformance suite. Every tool is deterministic and harmless.',
  http: { host: '127.0.0.1', port: 3917 },
  store: 'memory',
  logger: { level: 'warn' },
  tools: [...contentTools, ...interactiveTools, ...inputRequiredTools],
  resources,
  resourceTemplates,
  prompts: [...prompts, inputRequiredPrompt],
});
