import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Principal } from '../../src/auth/principal.ts';
import { createGangway, type Gangway } from '../../src/index.ts';
import { importSpec } from '../../src/openapi/import.ts';
import type { Manifest, OperationPlan } from '../../src/openapi/operation.ts';
import { openapiTools } from '../../src/openapi/tools.ts';
import { createAjv } from '../../src/registry/schema.ts';
import type { ToolDefinition } from '../../src/registry/types.ts';
import { createUpstream, type Upstream } from '../../src/upstream/index.ts';
import { ensureCorpus } from '../../scripts/corpus.ts';
import { RecordingUpstream, type Recorded } from './recording-upstream.ts';

/**
 * Exact requests for a deterministic sample of real operations (GitHub, Kubernetes 1.13
 * Swagger 2.0 with write bodies, @readme/oas-examples), called through the SDK 1.x client.
 * Arguments are generated from each tool's input schema; the expected request is computed
 * here from the plan's mapping with a hand-written encoding table, never by buildRequest.
 */

const CANARY = `canary-${randomUUID()}`;
/** The caller; it is given every scope the sampled tools declare (the gate checks them). */
const BOB: Principal = { subject: 'bob', tenant: 'globex', scopes: [], client: null, via: 'custom' };
type Json = Record<string, unknown>;

// ---- what the test expects, written independently of src/upstream ----

/** RFC 3986 percent-encoding, by hand: unreserved characters stay, these are the only others generated. */
const ESCAPES: Record<string, string> = {
  ' ': '%20', '/': '%2F', ':': '%3A', '&': '%26', '=': '%3D', '+': '%2B', '?': '%3F', '#': '%23', '%': '%25', ',': '%2C',
  '@': '%40', '"': '%22', "'": '%27', '[': '%5B', ']': '%5D', é: '%C3%A9', '*': '%2A', '!': '%21', '(': '%28', ')': '%29', $: '%24', ';': '%3B',
};
function expectEncoded(s: string): string | undefined {
  let out = '';
  for (const c of s) {
    if (/[A-Za-z0-9\-._~]/.test(c)) out += c;
    else if (ESCAPES[c]) out += ESCAPES[c];
    else return undefined;
  }
  return out;
}
const NEVER_SENT_FROM_ARGUMENTS = ['authorization', 'cookie', 'host', 'content-type', 'content-length', 'accept', 'proxy-authorization'];

interface Expected {
  method: string;
  target: string;
  /** `content-type` holds `{boundary}` for multipart; `content-length` is `by body` when there is one. */
  headers: Record<string, string>;
  /** The body for the multipart boundary the proxy chose (the one free variable on the wire). */
  body: (boundary: string) => Buffer;
}

/** WHATWG application/x-www-form-urlencoded: like the URI table, but space is `+` and `~` is escaped. */
function expectFormEncoded(s: string): string | undefined {
  const e = expectEncoded(s);
  return e?.replace(/%20/g, '+').replace(/~/g, '%7E');
}

/** The body as the plan says it goes: undefined for none, null when this expectation does not cover it. */
function expectBody(body: NonNullable<OperationPlan['body']>, args: Json): { contentType: string; bytes: (boundary: string) => Buffer } | null | undefined {
  let value: unknown;
  if (body.mode === 'whole') value = args[body.argument!];
  else {
    const o: Json = {};
    for (const [argument, property] of Object.entries(body.properties ?? {})) if (args[argument] !== undefined) o[property] = args[argument];
    value = Object.keys(o).length || body.required ? o : undefined;
  }
  if (value === undefined) return undefined;
  const type = body.mediaType;
  if (type === 'application/json' || type.endsWith('+json')) {
    return { contentType: type, bytes: () => Buffer.from(JSON.stringify(value)) };
  }
  if (body.contentEncoding === 'base64' && typeof value === 'string') {
    return { contentType: type, bytes: () => Buffer.from(value, 'base64') };
  }
  if (body.encoding || typeof value !== 'object' || value === null) return null;
  const fields = Object.entries(value as Json);
  const primitive = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (type === 'application/x-www-form-urlencoded') {
    if (!fields.every(([, v]) => primitive(v))) return null;
    const pairs = fields.map(([k, v]) => [expectFormEncoded(k), expectFormEncoded(String(v))]);
    if (pairs.some(([k, v]) => k === undefined || v === undefined)) return null;
    return { contentType: type, bytes: () => Buffer.from(pairs.map(([k, v]) => `${k}=${v}`).join('&')) };
  }
  if (type === 'multipart/form-data') {
    // RFC 7578: one part per field, files (base64 in the arguments) as bytes with a filename.
    const files = new Set(body.fileFields ?? []);
    const parts: Array<{ head: string; bytes: Buffer }> = [];
    for (const [k, v] of fields) {
      for (const member of files.has(k) && Array.isArray(v) ? v : [v]) {
        if (files.has(k) && typeof member === 'string') {
          parts.push({
            head: `Content-Disposition: form-data; name="${k}"; filename="${k}"\r\nContent-Type: application/octet-stream\r\n`,
            bytes: Buffer.from(member, 'base64'),
          });
        } else if (primitive(member) && !files.has(k)) {
          parts.push({ head: `Content-Disposition: form-data; name="${k}"\r\n`, bytes: Buffer.from(String(member)) });
        } else return null;
      }
    }
    return {
      contentType: 'multipart/form-data; boundary={boundary}',
      bytes: (b) => Buffer.concat([...parts.flatMap((p) => [Buffer.from(`--${b}\r\n${p.head}\r\n`), p.bytes, Buffer.from('\r\n')]), Buffer.from(`--${b}--\r\n`)]),
    };
  }
  return null;
}

/** Null when the operation uses a serialisation this small expectation does not cover (the unit tests do). */
function expectRequest(plan: OperationPlan, args: Json, basePath: string): Expected | null {
  let path = plan.path;
  const query: string[] = [];
  const headers: Record<string, string> = {};
  const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
  for (const p of plan.parameters) {
    const v = args[p.argument];
    if (p.allowReserved || p.contentType || p.delimiter !== undefined) return null;
    if (p.in === 'path') {
      const e = text(v) === undefined ? undefined : expectEncoded(text(v)!);
      if (p.style !== 'simple' || e === undefined) return null;
      path = path.split(`{${p.name}}`).join(e);
    } else if (p.in === 'query') {
      if (v === undefined) continue;
      if (p.style !== 'form') return null;
      const name = expectEncoded(p.name);
      const items = Array.isArray(v) ? v.map(text) : [text(v)];
      const encoded = items.map((i) => (i === undefined ? undefined : expectEncoded(i)));
      if (!name || encoded.some((e) => e === undefined)) return null;
      if (Array.isArray(v) && !p.explode) query.push(`${name}=${encoded.join(',')}`);
      else for (const e of encoded) query.push(`${name}=${e}`);
    } else if (p.in === 'header') {
      if (v === undefined) continue;
      if (text(v) === undefined) return null;
      if (!NEVER_SENT_FROM_ARGUMENTS.includes(p.name.toLowerCase())) headers[p.name.toLowerCase()] = text(v)!;
    } else return null;
  }
  const encoded = plan.body ? expectBody(plan.body, args) : undefined;
  if (encoded === null) return null;
  const body = encoded?.bytes ?? (() => Buffer.alloc(0));
  if (encoded) {
    headers['content-type'] = encoded.contentType;
    headers['content-length'] = 'by body';
  }
  // RFC 9110 8.6: a request whose method defines a body says how long it is, even when empty.
  if (!encoded && ['post', 'put', 'patch'].includes(plan.method)) headers['content-length'] = '0';
  if (plan.produces.length) headers.accept = plan.produces.join(', ');
  const target = basePath + path + (query.length ? `?${query.join('&')}` : '');
  return { method: plan.method.toUpperCase(), target, headers, body };
}

// ---- arguments from the input schema, deterministically ----

const PIECES = [' ', '/', 'é', '&', '=', '+', '?', '#', '%', ',', "'", ':'];

function generate(schema: unknown, root: Json, seed: { n: number }, depth: number, headerSafe: boolean): unknown {
  let s = (schema ?? {}) as Json;
  for (let i = 0; i < 20 && typeof s.$ref === 'string'; i++) s = ((root.$defs as Json)?.[(s.$ref as string).replace('#/$defs/', '')] ?? {}) as Json;
  if (Array.isArray(s.enum)) return s.enum.find((e) => e !== null);
  if ('const' in s) return s.const;
  if (Array.isArray(s.allOf)) return generate(Object.assign({}, ...s.allOf.map((x) => resolve(x, root))), root, seed, depth, headerSafe);
  for (const k of ['oneOf', 'anyOf']) if (Array.isArray(s[k])) return generate((s[k] as unknown[]).find((x) => resolve(x, root).type !== 'null'), root, seed, depth, headerSafe);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  const n = seed.n++;
  switch (type ?? (s.properties ? 'object' : undefined)) {
    case 'string': {
      const formats: Record<string, string> = { 'date-time': '2024-01-02T03:04:05Z', date: '2024-01-02', email: 'a@example.com', uri: 'https://example.com/x', uuid: '123e4567-e89b-12d3-a456-426614174000' };
      if (typeof s.format === 'string' && formats[s.format]) return formats[s.format];
      if (s.contentEncoding === 'base64') return Buffer.from(`bytes ${n}`).toString('base64');
      return headerSafe ? `v${n}-h` : `v${n}${PIECES[n % PIECES.length]}${PIECES[(n + 5) % PIECES.length]}z`;
    }
    case 'integer':
      return typeof s.minimum === 'number' ? s.minimum : 7 + n;
    case 'number':
      return 1.5;
    case 'boolean':
      return true;
    case 'array':
      return depth > 4 ? [] : [generate(s.items, root, seed, depth + 1, headerSafe), generate(s.items, root, seed, depth + 1, headerSafe)];
    case 'object': {
      const out: Json = {};
      const props = (s.properties ?? {}) as Json;
      const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
      for (const [k, v] of Object.entries(props)) if (required.has(k) && depth < 6) out[k] = generate(v, root, seed, depth + 1, headerSafe);
      if (!Object.keys(out).length && depth === 1 && !Object.keys(props).length) out.gangway = `v${n}`;
      return out;
    }
    default:
      return depth === 1 ? { metadata: { labels: { gangway: `v${n}` } } } : `v${n}`;
  }
}
const resolve = (x: unknown, root: Json): Json => {
  let s = (x ?? {}) as Json;
  for (let i = 0; i < 20 && typeof s.$ref === 'string'; i++) s = ((root.$defs as Json)?.[(s.$ref as string).replace('#/$defs/', '')] ?? {}) as Json;
  return s;
};

/** Every argument the schema declares at the top (required and optional): parameters and body alike. */
function argumentsFor(plan: OperationPlan, index: number): Json {
  const root = plan.inputSchema as Json;
  const seed = { n: index * 7 };
  const headers = new Set(plan.parameters.filter((p) => p.in === 'header').map((p) => p.argument));
  const out: Json = {};
  for (const [k, v] of Object.entries((root.properties ?? {}) as Json)) out[k] = generate(v, root, seed, 1, headers.has(k));
  return out;
}

// ---- the sample ----

interface Spec {
  label: string;
  file: string;
  /** How many operations to take, and which kinds first. */
  take: number;
  writesFirst?: number;
}

interface Sampled {
  plan: OperationPlan;
  args: Json;
  spec: string;
  /** Base path of this spec's upstream (all specs share one recording server). */
  basePath: string;
}

/** A deterministic sample: a fixed stride through the operations, keeping those the expectation covers. */
function sample(spec: Spec, plans: OperationPlan[], basePath: string, ajv: ReturnType<typeof createAjv>): Sampled[] {
  const out: Sampled[] = [];
  const consider = (plan: OperationPlan, i: number): boolean => {
    if (out.some((s) => s.plan.tool === plan.tool)) return false;
    const args = argumentsFor(plan, i);
    let validate;
    try {
      validate = ajv.compile(plan.inputSchema);
    } catch {
      return false;
    }
    // The engine validates with useDefaults: the same Ajv settings fill the same defaults here.
    if (!validate(args)) return false;
    if (!expectRequest(plan, args, basePath)) return false;
    out.push({ plan, args, spec: spec.label, basePath });
    return true;
  };
  const writes = plans.filter((p) => p.body && ['post', 'put', 'patch'].includes(p.method));
  for (let i = 0, taken = 0; taken < (spec.writesFirst ?? 0) && i < writes.length; i++) {
    if (consider(writes[(i * 17) % writes.length]!, i)) taken++;
  }
  // Every stride-th operation, then the ones after those, and so on: spread over the whole spec.
  const stride = Math.max(1, Math.floor(plans.length / (spec.take * 2)));
  for (let offset = 0; offset < stride; offset++) {
    for (let i = offset; i < plans.length && out.length < spec.take; i += stride) consider(plans[i]!, i);
  }
  return out;
}

function headerMap(rec: Recorded): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < rec.rawHeaders.length; i += 2) {
    const name = rec.rawHeaders[i]!.toLowerCase();
    assert.equal(out[name], undefined, `header ${name} sent twice`);
    out[name] = rec.rawHeaders[i + 1]!;
  }
  return out;
}

describe('exact requests for a sample of real specs, through a real MCP client', async () => {
  const specs = await corpusSpecs();
  const ajv = createAjv();
  const sampled: Sampled[] = [];
  for (const spec of specs) {
    const manifest = importSpec(readFileSync(spec.file), { skipInvalid: true });
    const basePath = `/${spec.label.replace(/[^a-z0-9]+/gi, '-')}`;
    sampled.push(...sample(spec, manifest.operations, basePath, ajv));
  }
  // Tool names are unique within a spec; across specs (two petstores) a prefix keeps them apart.
  const names = new Set<string>();
  const cases = sampled.map((s, i) => {
    const name = names.has(s.plan.tool) ? `s${i}_${s.plan.tool}`.slice(0, 64) : s.plan.tool;
    names.add(name);
    return { ...s, name };
  });

  let up: RecordingUpstream;
  const upstreams: Upstream[] = [];
  let app: Gangway;
  let client: Client;
  let destructive = new Set<string>();

  before(async () => {
    up = await new RecordingUpstream().start();
    // One upstream per spec (base URL = recording server + the spec's path), tools built by the
    // importer's openapiTools exactly as a config would build them.
    const tools: ToolDefinition[] = [];
    for (const basePath of new Set(cases.map((c) => c.basePath))) {
      const upstream = createUpstream({ baseUrl: up.url + basePath, credentials: (p) => ({ authorization: `token upstream-${p.tenant}` }) });
      upstreams.push(upstream);
      const operations = cases.filter((c) => c.basePath === basePath).map((c) => ({ ...c.plan, tool: c.name }));
      const manifest: Manifest = { format: 1, specDigest: '', title: basePath, version: '1', servers: [], operations, listTokens: 0 };
      tools.push(...openapiTools(manifest, { mode: 'all' }, upstream.call));
    }
    // No rate limit here: this test is about exact requests, and sends hundreds of calls.
    app = createGangway({
      name: 'corpus',
      version: '1.0.0',
      store: 'memory',
      logger: { level: 'silent' },
      tools,
      authenticate: () => ({ ...BOB, scopes: [...new Set(tools.flatMap((t) => t.scopes ?? []))] }),
      policy: { limits: { perCredential: false } },
    });
    destructive = new Set(tools.filter((t) => t.destructive).map((t) => t.name));
    client = new Client({ name: 'corpus-sample', version: '0.0.0' });
    const headers = { authorization: `Bearer ${CANARY}`, 'x-api-key': CANARY };
    await client.connect(new StreamableHTTPClientTransport(new URL((await app.listen({ port: 0 })).url), { requestInit: { headers } }));
  });
  after(async () => {
    await client.close();
    await app.close();
    await Promise.all(upstreams.map((u) => u.close()));
    await up.close();
  });

  it('the sample has at least 50 operations from every corpus, Kubernetes writes with bodies among them', () => {
    assert.ok(cases.length >= 50, `only ${cases.length} operations sampled`);
    const k8sWrites = cases.filter((c) => c.spec === 'kubernetes' && c.plan.body && ['post', 'put', 'patch'].includes(c.plan.method));
    assert.ok(k8sWrites.length >= 5, `${k8sWrites.length} Kubernetes writes`);
    for (const method of ['post', 'put', 'patch']) assert.ok(k8sWrites.some((c) => c.plan.method === method), `a Kubernetes ${method}`);
    assert.ok(cases.filter((c) => c.spec === 'github').length >= 20);
    assert.ok(new Set(cases.filter((c) => c.spec.startsWith('oas-examples')).map((c) => c.spec)).size >= 10, 'ten oas-examples fixtures');
    const kinds = new Set(cases.map((c) => c.plan.body?.mediaType));
    for (const kind of ['application/json', 'application/merge-patch+json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'image/png']) {
      assert.ok(kinds.has(kind), `no ${kind} body in the sample`);
    }
  });

  for (const c of cases) {
    it(`${c.spec}: ${c.plan.tool} (${c.plan.method.toUpperCase()} ${c.plan.path})`, async () => {
      const expected = expectRequest(c.plan, c.args, c.basePath)!;
      const before = up.requests.length;
      let result = await client.callTool({ name: c.name, arguments: c.args });
      if (destructive.has(c.name)) {
        // A destructive operation does not reach the API until it is confirmed (seed 000).
        assert.equal(up.requests.length, before, 'a destructive call ran before its confirmation');
        const pending = result.structuredContent as { token: string; resourceId: string };
        result = await client.callTool({ name: 'confirm_destructive_action', arguments: { token: pending.token, resource_id_echo: pending.resourceId, reason: 'corpus test' } });
      }
      assert.notEqual(result.isError, true, JSON.stringify(result.content));
      assert.equal(up.requests.length, before + 1);
      const rec = up.last;
      assert.equal(rec.method, expected.method);
      assert.equal(rec.target, expected.target);
      const actual = headerMap(rec);
      // RFC 2046 5.1.1 boundary characters; any fresh value is fine, it is then used throughout.
      const boundary = /^multipart\/form-data; boundary=([0-9A-Za-z'()+_,./:=?-]{1,70})$/.exec(actual['content-type'] ?? '')?.[1] ?? '';
      const body = expected.body(boundary);
      const headers = { ...expected.headers };
      if (headers['content-type']) headers['content-type'] = headers['content-type'].replace('{boundary}', boundary);
      if (headers['content-length'] === 'by body') headers['content-length'] = String(body.length);
      assert.deepEqual(actual, { host: new URL(up.url).host, connection: 'keep-alive', 'user-agent': 'gangway', authorization: 'token upstream-globex', ...headers });
      assert.deepEqual(rec.body, body);
    });
  }

  it('no token passthrough: the MCP credential appears nowhere upstream', () => {
    assert.ok(up.requests.length >= cases.length);
    for (const rec of up.requests) {
      const wire = Buffer.concat([Buffer.from(`${rec.target}\n${rec.rawHeaders.join('\n')}\n`), rec.body]);
      assert.equal(wire.indexOf(CANARY), -1, `canary in ${rec.method} ${rec.target}`);
    }
  });
});

/** The corpus specs, extracted from pinned npm packages by scripts/corpus.ts (not committed). */
async function corpusSpecs(): Promise<Spec[]> {
  const corpus = await ensureCorpus();
  // The YAML fixtures repeat the JSON ones: one of each is enough here.
  const fixtures = corpus.examples.filter((e) => e.name.endsWith('.json'));
  return [
    { label: 'github', file: corpus.github.file, take: 24, writesFirst: 8 },
    { label: 'kubernetes', file: corpus.kubernetes.file, take: 16, writesFirst: 9 },
    ...fixtures.map((f): Spec => ({ label: f.name, file: f.file, take: 2, writesFirst: 1 })),
  ];
}
