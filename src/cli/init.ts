import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GangwayConfigError } from '../errors.ts';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const CONFIG = (name: string) => `import type { GangwayConfig } from 'gangway';

// Your MCP server. \`gangway serve\` loads this file; edit a tool, restart, and clients see it.
export default {
  name: ${JSON.stringify(name)},
  version: '0.1.0',
  instructions: 'Tools for ${name}. Call list_items before get_item.',
  store: 'sqlite:./data/gangway.db',
  http: { port: 3000 },
  // Who may call. Without \`auth\` everyone is anonymous. Uncomment for API keys (minted at
  // /settings/tokens or with \`gangway tokens create\`) and the built-in OAuth server; mark
  // public tools \`anonymous: true\` and give the others \`scopes\`.
  // auth: { scopes: { 'items:read': 'Read your items' }, oauth: true },
  tools: [
    {
      name: 'list_items',
      title: 'List items',
      description: 'List the items in this workspace.',
      annotations: { readOnlyHint: true },
      handler: () => ({ items: ITEMS }),
    },
    {
      name: 'get_item',
      title: 'Get an item',
      description: 'Read one item by id.',
      input: {
        type: 'object',
        properties: { id: { type: 'string', description: 'Item id, from list_items' } },
        required: ['id'],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: true },
      handler: ({ id }: { id: string }) => {
        const item = ITEMS.find((i) => i.id === id);
        return item ?? { content: [{ type: 'text', text: \`Item not found: \${id}\` }], isError: true };
      },
    },
  ],
  resources: [
    {
      uri: 'app://items',
      name: 'items',
      description: 'Every item as JSON',
      mimeType: 'application/json',
      read: () => JSON.stringify(ITEMS),
    },
  ],
  prompts: [
    {
      name: 'summarize_items',
      description: 'Summarise the workspace items',
      arguments: [{ name: 'focus', description: 'What to focus on', required: false }],
      get: ({ focus }: Record<string, string>) => \`Summarise the items from app://items\${focus ? \`, focusing on \${focus}\` : ''}.\`,
    },
  ],
} satisfies GangwayConfig;

const ITEMS = [
  { id: 'a1', name: 'First item' },
  { id: 'b2', name: 'Second item' },
];
`;

const PACKAGE = (name: string) =>
  `${JSON.stringify(
    {
      name,
      private: true,
      type: 'module',
      scripts: { start: 'gangway serve', dev: 'gangway serve' },
      // Not on npm yet (the name there is another project's): point at this copy of Gangway.
      dependencies: { gangway: `file:${PACKAGE_ROOT}` },
    },
    null,
    2,
  )}\n`;

/** `gangway init [dir]`: a project that `gangway serve` runs as it is. Never overwrites. */
export function init(dir: string, out: NodeJS.WritableStream = process.stdout): number {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).some((f) => f.startsWith('gangway.config.'))) {
    throw new GangwayConfigError('GW_INIT_EXISTS', `${target} already has a gangway config; nothing was changed`);
  }
  mkdirSync(target, { recursive: true });
  const name = basename(target).toLowerCase().replace(/[^a-z0-9-]+/g, '-') || 'my-mcp-server';
  const files: Record<string, string> = {
    'gangway.config.ts': CONFIG(name),
    '.gitignore': 'node_modules/\ndata/\n',
  };
  if (!existsSync(join(target, 'package.json'))) files['package.json'] = PACKAGE(name);
  for (const [f, text] of Object.entries(files)) {
    if (!existsSync(join(target, f))) writeFileSync(join(target, f), text);
  }
  out.write(
    `Created ${name} in ${target}:\n${Object.keys(files)
      .map((f) => `  ${f}\n`)
      .join('')}\nNext:\n  cd ${dir}\n  gangway serve\n\nBefore importing from 'gangway' in the config (ToolError, defineTool...), run \`npm install\` there:\nits package.json points at this copy of Gangway.\n`,
  );
  return 0;
}
