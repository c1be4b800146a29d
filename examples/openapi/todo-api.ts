import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/**
 * The upstream of examples/openapi: a tiny in-memory Todo API under /v1 that wants an
 * `x-api-key` and keeps each tenant's todos apart (`x-tenant`, set by Gangway's credentials hook).
 * `node --import tsx examples/openapi/todo-api.ts` runs it on 127.0.0.1:4010.
 */
interface Todo {
  id: string;
  title: string;
  done: boolean;
  tags: string[];
}

export function todoApi(apiKey: string): Server {
  const byTenant = new Map<string, Todo[]>();
  return createServer(async (req, res) => {
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.headers['x-api-key'] !== apiKey) return send(401, { message: 'Bad API key' });
    const todos = byTenant.get(String(req.headers['x-tenant'] ?? '')) ?? [];
    byTenant.set(String(req.headers['x-tenant'] ?? ''), todos);
    const url = new URL(req.url ?? '/', 'http://x');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Partial<Todo>) : {};
    const id = /^\/v1\/todos\/([^/]+)$/.exec(url.pathname)?.[1];
    if (url.pathname === '/v1/todos' && req.method === 'GET') {
      const tags = url.searchParams.getAll('tag');
      const done = url.searchParams.get('done');
      const hits = todos.filter((t) => (done === null || String(t.done) === done) && tags.every((g) => t.tags.includes(g)));
      const offset = Number(url.searchParams.get('offset') ?? 0);
      return send(200, { items: hits.slice(offset, offset + Number(url.searchParams.get('limit') ?? 20)), total: hits.length });
    }
    if (url.pathname === '/v1/todos' && req.method === 'POST') {
      const todo: Todo = { id: randomUUID().slice(0, 8), title: String(body.title), done: false, tags: body.tags ?? [] };
      todos.unshift(todo);
      return send(201, todo);
    }
    const todo = todos.find((t) => t.id === decodeURIComponent(id ?? ''));
    if (!todo) return send(404, { message: 'Todo not found' });
    if (req.method === 'GET') return send(200, todo);
    if (req.method === 'PATCH') return send(200, Object.assign(todo, { ...(body.title ? { title: body.title } : {}), ...(body.done !== undefined ? { done: body.done } : {}) }));
    if (req.method === 'DELETE') {
      todos.splice(todos.indexOf(todo), 1);
      return send(204);
    }
    send(405, { message: 'Method not allowed' });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  todoApi(process.env.TODO_API_KEY ?? 'demo-key').listen(4010, '127.0.0.1', () => console.log('Todo API on http://127.0.0.1:4010/v1'));
}
