import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Principal } from '../../src/auth/principal.ts';
import { createGangway, type Gangway } from '../../src/index.ts';
import type { OperationPlan, ParameterPlan } from '../../src/openapi/operation.ts';
import { openapiTools } from '../../src/openapi/tools.ts';
import { createUpstream, type Upstream } from '../../src/upstream/index.ts';
import { RecordingUpstream, type Recorded } from './recording-upstream.ts';

/**
 * Black-box: the official SDK 1.x client calls tools whose handlers are OperationPlans proxied
 * by createUpstream; the recording upstream shows exactly what went over the wire. Every
 * expectation below is written out by hand from the OpenAPI rules, not computed by the code
 * under test.
 */

const CANARY = `canary-${randomUUID()}`;
const ALICE: Principal = { subject: 'alice', tenant: 'acme', scopes: [], client: null, via: 'custom' };

const str = { type: 'string' };
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required });
const p = (argument: string, location: ParameterPlan['in'], style: ParameterPlan['style'], explode: boolean, over: Partial<ParameterPlan> = {}): ParameterPlan => ({
  argument,
  in: location,
  name: argument,
  required: location === 'path',
  style,
  explode,
  ...over,
});

function plan(tool: string, method: OperationPlan['method'], path: string, inputSchema: Record<string, unknown>, over: Partial<OperationPlan> = {}): OperationPlan {
  return { tool, operationId: tool, method, path, inputSchema, annotations: {}, destructive: false, scopes: [], tags: [], parameters: [], body: null, produces: [], ...over };
}

interface Case {
  plan: OperationPlan;
  args: Record<string, unknown>;
  method: string;
  /** Raw request-target at the upstream (base path included). */
  target: string;
  /** Headers beyond the ones every request carries. */
  headers?: Record<string, string>;
  body?: string | Buffer | ((contentType: string) => Buffer);
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0xff]);

const CASES: Case[] = [
  {
    plan: plan(
      'get_pet',
      'get',
      '/pets/{petId}',
      obj({ petId: str, tags: { type: 'array', items: str }, fields: { type: 'array', items: str }, request_id: str, session: str }, ['petId']),
      {
        parameters: [
          p('petId', 'path', 'simple', false),
          p('tags', 'query', 'form', true),
          p('fields', 'query', 'form', false),
          p('request_id', 'header', 'simple', false, { name: 'X-Request-Id' }),
          p('session', 'cookie', 'form', true, { name: 'sid' }),
        ],
        produces: ['application/json'],
      },
    ),
    args: { petId: 'a b/../c', tags: ['x&y', 'z'], fields: ['id', 'name'], request_id: 'r-1', session: 's=1' },
    method: 'GET',
    target: '/v1/pets/a%20b%2F..%2Fc?tags=x%26y&tags=z&fields=id,name',
    headers: { accept: 'application/json', 'x-request-id': 'r-1', cookie: 'sid=s%3D1' },
  },
  {
    plan: plan('styled_path', 'get', '/m/{m}/l/{l}/s/{s}', obj({ m: { type: 'array', items: str }, l: { type: 'object' }, s: { type: 'object' } }, ['m', 'l', 's']), {
      parameters: [p('m', 'path', 'matrix', true), p('l', 'path', 'label', false), p('s', 'path', 'simple', true)],
    }),
    args: { m: ['a', 'b'], l: { R: 1, G: 2 }, s: { x: 'é', y: '1,2' } },
    method: 'GET',
    target: '/v1/m/;m=a;m=b/l/.R,1,G,2/s/x=%C3%A9,y=1%2C2',
  },
  {
    plan: plan(
      'search',
      'get',
      '/search',
      obj({ filter: { type: 'object' }, words: { type: 'array' }, ids: { type: 'array' }, path: str, where: { type: 'object' }, cols: { type: 'array' } }),
      {
        parameters: [
          p('filter', 'query', 'deepObject', true),
          p('words', 'query', 'spaceDelimited', false),
          p('ids', 'query', 'pipeDelimited', false),
          p('path', 'query', 'form', true, { allowReserved: true }),
          p('where', 'query', 'form', true, { contentType: 'application/json' }),
          p('cols', 'query', 'form', false, { delimiter: '\t' }),
        ],
      },
    ),
    args: { filter: { status: 'open', owner: { id: 7 } }, words: ['a', 'b'], ids: [1, 2], path: '/a/b?c', where: { n: 1 }, cols: ['x', 'y'] },
    method: 'GET',
    target:
      '/v1/search?filter%5Bstatus%5D=open&filter%5Bowner%5D%5Bid%5D=7&words=a%20b&ids=1%7C2&path=/a/b?c&where=%7B%22n%22%3A1%7D&cols=x%09y',
  },
  {
    plan: plan('create_issue', 'post', '/repos/{owner}/{repo}/issues', obj({ owner: str, repo: str, title: str, labels: { type: 'array' }, body_owner: str }, ['owner', 'repo', 'title']), {
      parameters: [p('owner', 'path', 'simple', false), p('repo', 'path', 'simple', false)],
      body: { mode: 'spread', properties: { title: 'title', labels: 'labels', body_owner: 'owner' }, required: true, mediaType: 'application/json' },
      produces: ['application/json'],
    }),
    args: { owner: 'octo', repo: 'hello', title: 'Bug', labels: ['a'], body_owner: 'someone' },
    method: 'POST',
    target: '/v1/repos/octo/hello/issues',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: '{"title":"Bug","labels":["a"],"owner":"someone"}',
  },
  {
    plan: plan('replace_config', 'put', '/configs/{name}', obj({ name: str, body: { type: 'object' } }, ['name', 'body']), {
      parameters: [p('name', 'path', 'simple', false)],
      body: { mode: 'whole', argument: 'body', required: true, mediaType: 'application/json' },
    }),
    args: { name: 'main', body: { nested: { list: [1, null, true] }, text: 'line\nbreak' } },
    method: 'PUT',
    target: '/v1/configs/main',
    headers: { 'content-type': 'application/json' },
    body: '{"nested":{"list":[1,null,true]},"text":"line\\nbreak"}',
  },
  {
    plan: plan('patch_pod', 'patch', '/api/v1/namespaces/{namespace}/pods/{name}', obj({ namespace: str, name: str, body: { type: 'object' } }, ['namespace', 'name', 'body']), {
      parameters: [p('namespace', 'path', 'simple', false), p('name', 'path', 'simple', false)],
      body: { mode: 'whole', argument: 'body', required: true, mediaType: 'application/merge-patch+json' },
    }),
    args: { namespace: 'default', name: 'web-1', body: { metadata: { labels: { tier: 'front' } } } },
    method: 'PATCH',
    target: '/v1/api/v1/namespaces/default/pods/web-1',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: '{"metadata":{"labels":{"tier":"front"}}}',
  },
  {
    plan: plan('token', 'post', '/oauth/token', obj({ grant_type: str, scope: { type: 'array' }, note: str }), {
      body: { mode: 'spread', properties: { grant_type: 'grant_type', scope: 'scope', note: 'note' }, required: true, mediaType: 'application/x-www-form-urlencoded', encoding: { scope: { style: 'spaceDelimited', explode: false } } },
    }),
    args: { grant_type: 'client_credentials', scope: ['read', 'write'], note: 'a b&c' },
    method: 'POST',
    target: '/v1/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=read%20write&note=a+b%26c',
  },
  {
    plan: plan('upload_avatar', 'post', '/users/{id}/avatar', obj({ id: { type: 'integer' }, file: str, caption: str }, ['id', 'file']), {
      parameters: [p('id', 'path', 'simple', false)],
      body: { mode: 'spread', properties: { file: 'file', caption: 'caption' }, required: true, mediaType: 'multipart/form-data', fileFields: ['file'] },
    }),
    args: { id: 42, file: PNG.toString('base64'), caption: 'me' },
    method: 'POST',
    target: '/v1/users/42/avatar',
    body: (contentType) => {
      const boundary = /boundary=(.+)$/.exec(contentType)![1]!;
      return Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\nContent-Type: application/octet-stream\r\n\r\n`),
        PNG,
        Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="caption"\r\n\r\nme\r\n--${boundary}--\r\n`),
      ]);
    },
  },
  {
    plan: plan('post_note', 'post', '/notes', obj({ text: str }, ['text']), { body: { mode: 'whole', argument: 'text', required: true, mediaType: 'text/plain' } }),
    args: { text: 'héllo\nworld' },
    method: 'POST',
    target: '/v1/notes',
    headers: { 'content-type': 'text/plain' },
    body: 'héllo\nworld',
  },
  {
    plan: plan('put_blob', 'put', '/blobs/{key}', obj({ key: str, data: str }, ['key', 'data']), {
      parameters: [p('key', 'path', 'simple', false)],
      body: { mode: 'whole', argument: 'data', required: true, mediaType: 'application/octet-stream', contentEncoding: 'base64' },
    }),
    args: { key: 'k', data: PNG.toString('base64') },
    method: 'PUT',
    target: '/v1/blobs/k',
    headers: { 'content-type': 'application/octet-stream' },
    body: PNG,
  },
  {
    plan: plan('delete_pet', 'delete', '/pets/{petId}', obj({ petId: { type: 'integer' } }, ['petId']), { parameters: [p('petId', 'path', 'simple', false)] }),
    args: { petId: 7 },
    method: 'DELETE',
    target: '/v1/pets/7',
  },
];

/** What every request carries: the pool's framing, our User-Agent, and the credentials hook's headers. */
function baseHeaders(host: string): Record<string, string> {
  return { host, connection: 'keep-alive', 'user-agent': 'gangway', authorization: 'Bearer upstream-token-acme', 'x-api-key': 'key-for-alice' };
}

/** Raw headers as a lower-case map; a repeated header fails the test (nothing is sent twice). */
function headerMap(rec: Recorded): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < rec.rawHeaders.length; i += 2) {
    const name = rec.rawHeaders[i]!.toLowerCase();
    assert.equal(out[name], undefined, `header ${name} sent twice`);
    out[name] = rec.rawHeaders[i + 1]!;
  }
  return out;
}

describe('exact requests through a real MCP client', () => {
  let up: RecordingUpstream;
  let upstream: Upstream;
  let app: Gangway;
  let client: Client;
  const authSeen: Array<string | undefined> = [];

  before(async () => {
    up = await new RecordingUpstream().start();
    upstream = createUpstream({
      baseUrl: `${up.url}/v1`,
      credentials: (principal) => ({ Authorization: `Bearer upstream-token-${principal.tenant}`, 'X-Api-Key': `key-for-${principal.subject}` }),
    });
    app = createGangway({
      name: 'exact',
      version: '1.0.0',
      store: 'memory',
      logger: { level: 'silent' },
      // The importer's openapiTools builds the tools, exactly as a config would.
      tools: openapiTools(
        { format: 1, specDigest: '', title: 'hand-written', version: '1', servers: [], operations: CASES.map((c) => c.plan), listTokens: 0 },
        { mode: 'all' },
        upstream.call,
      ),
      // The MCP credential is checked here and turned into a Principal; nothing else reads it.
      authenticate: (input) => {
        authSeen.push(input.header('authorization'));
        return ALICE;
      },
    });
    const url = new URL((await app.listen({ port: 0 })).url);
    client = new Client({ name: 'exact-requests', version: '0.0.0' });
    const headers = { authorization: `Bearer ${CANARY}`, 'x-api-key': CANARY, cookie: `mcp_session=${CANARY}` };
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
  });
  after(async () => {
    await client.close();
    await app.close();
    await upstream.close();
    await up.close();
  });

  for (const c of CASES) {
    it(`${c.plan.tool}: ${c.method} ${c.target}`, async () => {
      const before = up.requests.length;
      const result = await client.callTool({ name: c.plan.tool, arguments: c.args });
      assert.notEqual(result.isError, true, JSON.stringify(result));
      assert.equal(up.requests.length, before + 1, 'exactly one upstream request');
      const rec = up.last;
      assert.equal(rec.method, c.method);
      assert.equal(rec.target, c.target);
      const expectedBody = typeof c.body === 'function' ? c.body(headerMap(rec)['content-type'] ?? '') : c.body;
      const bodyBytes = expectedBody === undefined ? Buffer.alloc(0) : Buffer.from(expectedBody);
      const expectedHeaders: Record<string, string> = { ...baseHeaders(new URL(up.url).host), ...c.headers };
      if (typeof c.body === 'function') expectedHeaders['content-type'] = headerMap(rec)['content-type']!;
      if (bodyBytes.length) expectedHeaders['content-length'] = String(bodyBytes.length);
      assert.deepEqual(headerMap(rec), expectedHeaders);
      assert.deepEqual(rec.body, bodyBytes);
    });
  }

  it('the answer comes back as structured content', async () => {
    up.on('GET', '/v1/pets/9', { body: { id: 9, name: 'Rex' } });
    const result = await client.callTool({ name: 'get_pet', arguments: { petId: '9' } });
    assert.deepEqual(result.structuredContent, { id: 9, name: 'Rex' });
    assert.deepEqual(result.content, [{ type: 'text', text: '{"id":9,"name":"Rex"}' }]);
  });

  it('an upstream error comes back as isError with the status and message', async () => {
    up.on('DELETE', '/v1/pets/404', { status: 404, body: { message: 'No such pet' } });
    const result = await client.callTool({ name: 'delete_pet', arguments: { petId: 404 } });
    assert.equal(result.isError, true);
    assert.deepEqual(result.content, [{ type: 'text', text: 'The API answered 404 Not Found: No such pet' }]);
  });

  it('a path argument that would climb out is refused and nothing is sent', async () => {
    const before = up.requests.length;
    const result = await client.callTool({ name: 'get_pet', arguments: { petId: '..' } });
    assert.equal(result.isError, true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(up.requests.length, before);
  });

  it('no token passthrough: the caller’s MCP credential never reaches the upstream', () => {
    assert.ok(authSeen.length > 0 && authSeen.every((a) => a === `Bearer ${CANARY}`), 'the canary did reach Gangway');
    assert.ok(up.requests.length >= CASES.length);
    for (const rec of up.requests) {
      const wire = Buffer.concat([Buffer.from(`${rec.method} ${rec.target}\n${rec.rawHeaders.join('\n')}\n`), rec.body]);
      assert.equal(wire.indexOf(CANARY), -1, `canary seen in ${rec.method} ${rec.target}`);
      assert.equal(wire.indexOf(encodeURIComponent(CANARY)), -1);
      assert.equal(rec.headers.authorization, 'Bearer upstream-token-acme', 'the credentials hook supplied the upstream credential');
      assert.equal(rec.headers['x-api-key'], 'key-for-alice');
    }
  });
});
