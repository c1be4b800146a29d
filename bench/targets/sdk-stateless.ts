// The official SDK (@modelcontextprotocol/sdk 1.x) as its docs set up a stateless Streamable
// HTTP server (examples/server/simpleStatelessStreamableHttp + jsonResponseStreamableHttp):
// for every POST, getServer() builds a new McpServer and registers its tools, a new
// StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
// is connected to it, the request is handled, and both are closed when the response closes.
//
// Deviations, each in the SDK's favour (the baseline gets the benefit of the doubt):
// - plain node:http + JSON.parse instead of the docs' Express app (createMcpExpressApp +
//   express.json), so the difference to `bare` is the SDK itself, not Express;
// - the zod input shapes are built once at start and reused by every per-request server
//   (the SDK example writes them inline in getServer(), which costs ~10x more per request
//   with 501 tools): BENCH_SDK_ZOD=per-request restores that.
// BENCH_SDK_TOOLS=echo registers only `echo` (the runner's sdk-stateless-echo row), to
// separate the per-request protocol cost from the per-request registry cost.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod';
import { type BenchTool, benchTools, ECHO_TOOL, type FieldSpec } from '../fixtures/tools500.ts';
import { BENCH_HOST, benchPort, reportReady } from '../lib/target-child.ts';

const TOOLS = process.env.BENCH_SDK_TOOLS === 'echo' ? [ECHO_TOOL] : benchTools();
const ZOD_PER_REQUEST = process.env.BENCH_SDK_ZOD === 'per-request';
const HOISTED_SHAPES = ZOD_PER_REQUEST ? undefined : TOOLS.map((tool) => zodShape(tool));

/** The zod equivalent of a fixture field; its JSON Schema equals fixtures' fieldSchema(). */
function zodField(field: FieldSpec): z.ZodType {
  let schema: z.ZodType;
  switch (field.kind) {
    case 'string': {
      let s = z.string();
      if (field.minLength !== undefined) s = s.min(field.minLength);
      if (field.maxLength !== undefined) s = s.max(field.maxLength);
      schema = s;
      break;
    }
    case 'integer': {
      let n = z.number().int();
      if (field.minimum !== undefined) n = n.min(field.minimum);
      if (field.maximum !== undefined) n = n.max(field.maximum);
      schema = n;
      break;
    }
    case 'boolean':
      schema = z.boolean();
      break;
    case 'enum':
      schema = z.enum(field.values as [string, ...string[]]);
      break;
    case 'string[]':
      schema = z.array(z.string().max(field.maxLength)).max(field.maxItems);
      break;
  }
  schema = schema.describe(field.description);
  return field.required ? schema : schema.optional();
}

function zodShape(tool: BenchTool): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(tool.fields)) shape[key] = zodField(field);
  return shape;
}

/** As in the SDK's stateless example: the whole server, tools included, built per request. */
function getServer(): McpServer {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  TOOLS.forEach((tool, i) => {
    const inputSchema = HOISTED_SHAPES?.[i] ?? zodShape(tool);
    const config = { description: tool.description, inputSchema, annotations: tool.annotations };
    if (tool.name === 'echo') {
      server.registerTool('echo', config, async (args) => ({
        content: [{ type: 'text', text: String(args.text) }],
      }));
    } else {
      server.registerTool(tool.name, config, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
    }
  });
  return server;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function fail(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    fail(res, 405, -32000, 'Method not allowed.');
    return;
  }
  let body: unknown;
  try {
    body = await readJson(req);
  } catch {
    fail(res, 400, -32700, 'Parse error');
    return;
  }
  const server = getServer();
  try {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  } catch {
    fail(res, 500, -32603, 'Internal server error');
  }
}

const httpServer = createServer((req, res) => {
  void handle(req, res);
});

const port = benchPort();
httpServer.listen(port, BENCH_HOST, () => {
  reportReady(port, () => new Promise<void>((resolve) => httpServer.close(() => resolve())));
});
