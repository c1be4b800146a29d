import type { GangwayConfig } from 'gangway';

/**
 * A REST API served as MCP tools: every operation of openapi.yaml becomes a tool (or a resource,
 * where `x-mcp` says so), proxied to the Todo API. Callers use an API key minted with
 * `gangway tokens create`; Gangway calls the API with its own key, never the caller's.
 *   node --import tsx examples/openapi/todo-api.ts          # the upstream, on :4010
 *   node bin/gangway.js serve --cwd examples/openapi        # the MCP server, on :3001
 */
export default {
  name: 'todo-mcp',
  version: '1.0.0',
  http: { port: 3001 },
  store: 'sqlite:./data/gangway.db',
  auth: { scopes: { 'todos:read': 'Read your todos', 'todos:write': 'Create, change and delete your todos' } },
  openapi: {
    spec: './openapi.yaml', // or `manifest: './gangway.manifest.json'` from `gangway import`
    upstream: {
      baseUrl: process.env.TODO_API_URL ?? 'http://127.0.0.1:4010/v1',
      // Per-caller upstream credentials: here one service key, and the caller's verified tenant.
      credentials: (principal) => ({ 'x-api-key': process.env.TODO_API_KEY ?? 'demo-key', 'x-tenant': principal.tenant ?? '' }),
    },
  },
} satisfies GangwayConfig;
