import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import YAML from 'yaml';
import { ensureCorpus, type Corpus } from '../../scripts/corpus.ts';
import { importSpec } from '../../src/openapi/import.ts';
import { TOOL_NAME } from '../../src/openapi/naming.ts';
import type { Manifest, OperationPlan } from '../../src/openapi/operation.ts';
import { countJsonTokens } from '../../src/openapi/tokens.ts';
import { toolEntry } from '../../src/openapi/tool-entry.ts';
import { openapiTools } from '../../src/openapi/tools.ts';
import { Registry } from '../../src/registry/registry.ts';
import { createAjv } from '../../src/registry/schema.ts';

/**
 * The corpus (scripts/corpus.ts): GitHub, Kubernetes 1.13 and every @readme/oas-examples
 * fixture. Each must import, with safe unique names, schemas that compile, annotations that
 * match the method, arguments that cover every path variable, and names stable across runs.
 */
let corpus: Corpus;
const manifests = new Map<string, Manifest>();

before(async () => {
  corpus = await ensureCorpus();
}, { timeout: 600_000 });

function imported(name: string, file: string): Manifest {
  let m = manifests.get(name);
  if (!m) {
    m = importSpec(readFileSync(file), { check: 'none' });
    manifests.set(name, m);
  }
  return m;
}

function checkNames(m: Manifest): void {
  const names = m.operations.map((p) => p.tool);
  assert.equal(new Set(names).size, names.length, 'tool names are unique');
  for (const n of names) assert.match(n, TOOL_NAME);
}

function checkAnnotations(p: OperationPlan): void {
  const a = p.annotations;
  const where = `${p.tool} (${p.method})`;
  assert.equal(a.openWorldHint, true, where);
  assert.equal(a.destructiveHint, p.destructive, where);
  assert.equal(p.destructive, p.method === 'delete', where);
  assert.equal(a.readOnlyHint, p.method === 'get' || p.method === 'head' || p.method === 'options' || p.method === 'trace', where);
  assert.equal(a.idempotentHint, p.method !== 'post' && p.method !== 'patch', where);
}

/** Every argument the plans name exists in the schema, and every path variable has a parameter. */
function checkMapping(p: OperationPlan): void {
  const props = Object.keys(p.inputSchema.properties as object);
  const args = [...p.parameters.map((x) => x.argument), ...(p.body?.argument ? [p.body.argument] : []), ...Object.keys(p.body?.properties ?? {})];
  assert.deepEqual([...args].sort(), [...props].sort(), `${p.tool}: arguments and schema properties`);
  assert.equal(new Set(args).size, args.length, `${p.tool}: no argument mapped twice`);
  const vars = [...p.path.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]);
  const pathParams = p.parameters.filter((x) => x.in === 'path').map((x) => x.name);
  for (const v of vars) assert.ok(pathParams.includes(v!), `${p.tool}: path variable {${v}} has a parameter`);
}

/**
 * Two Ajv 2020-12 compilers: the registry's own (what serving does), and one with strictSchema
 * on, which proves no keyword outside JSON Schema 2020-12 survives translation. That one runs
 * with format validation off: specs use formats Ajv does not know ("int-or-string", "json"),
 * which strictSchema would report though they are legal (unknown formats are annotations).
 * The other strict checks stay off because they refuse legal schemas the specs are full of:
 * strictTypes (`properties` without `type: object`), strictRequired (required names declared
 * in another allOf branch).
 */
function compileAll(m: Manifest): void {
  const served = createAjv();
  const strict = new Ajv2020({ strict: false, strictSchema: true, validateFormats: false, logger: false });
  for (const p of m.operations) {
    for (const ajv of [served, strict]) {
      try {
        ajv.compile(p.inputSchema);
      } catch (err) {
        assert.fail(`${p.tool}: ${(err as Error).message}`);
      }
      ajv.removeSchema(p.inputSchema);
    }
  }
}

describe('corpus: every spec imports', () => {
  it('has GitHub, Kubernetes and the oas-examples fixtures (2.0, 3.0 and 3.1, JSON and YAML)', () => {
    const versions = new Set(corpus.examples.map((s) => s.name.split('/')[1]));
    assert.deepEqual([...versions].sort(), ['2.0', '3.0', '3.1']);
    assert.ok(corpus.examples.some((s) => s.name.endsWith('.yaml')));
    assert.ok(corpus.examples.length >= 100, String(corpus.examples.length));
  });

  it('GitHub: 1,223 operations, names safe and unique, annotations match methods, mappings exact', () => {
    const m = imported('github', corpus.github.file);
    assert.equal(m.operations.length, 1223);
    checkNames(m);
    for (const p of m.operations) {
      checkAnnotations(p);
      checkMapping(p);
    }
  });

  it('GitHub: every input schema compiles with Ajv 2020-12', { timeout: 300_000 }, () => compileAll(imported('github', corpus.github.file)));

  it('GitHub: the registry accepts all 1,223 tools; the stored token count matches a whole-list count within 1%', () => {
    const m = imported('github', corpus.github.file);
    const tools = openapiTools(m, { mode: 'all' }, async () => ({ content: [] }));
    assert.equal(new Registry({ tools }).tools.size, 1223);
    const whole = countJsonTokens({ tools: m.operations.map((p) => toolEntry(p)) });
    assert.ok(Math.abs(m.listTokens - whole) / whole < 0.01, `${m.listTokens} vs ${whole}`);
  });

  it('Kubernetes 1.13 (Swagger 2.0): 1,014 operations, writes carry JSON bodies', () => {
    const m = imported('kubernetes', corpus.kubernetes.file);
    assert.equal(m.operations.length, 1014);
    checkNames(m);
    for (const p of m.operations) {
      checkAnnotations(p);
      checkMapping(p);
    }
    const writes = m.operations.filter((p) => p.method === 'post' || p.method === 'put' || p.method === 'patch');
    assert.ok(writes.length > 300);
    // All but the `connect*` operations (exec/attach/proxy streams, no body in the spec) send JSON.
    for (const p of writes) {
      if (p.tool.startsWith('connect')) assert.equal(p.body, null, p.tool);
      else assert.ok(p.body && /json/.test(p.body.mediaType), `${p.tool} has a JSON body`);
    }
    const patch = m.operations.find((p) => p.tool === 'patchCoreV1NamespacedPod')!;
    assert.deepEqual([patch.body?.mode, patch.body?.mediaType, patch.body?.argument], ['whole', 'application/merge-patch+json', 'body']);
    const create = m.operations.find((p) => p.tool === 'createCoreV1NamespacedPod')!;
    assert.equal(create.body?.mode, 'spread');
    assert.deepEqual(Object.keys(create.body?.properties ?? {}).sort(), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  });

  it('Kubernetes: every input schema compiles with Ajv 2020-12', { timeout: 300_000 }, () => compileAll(imported('kubernetes', corpus.kubernetes.file)));

  it('every oas-examples fixture imports, names safe and unique, schemas compile, mappings exact', () => {
    for (const spec of corpus.examples) {
      const m = imported(spec.name, spec.file);
      assert.ok(m.operations.length > 0 || /webhooks|title/.test(spec.name), `${spec.name} has operations`);
      checkNames(m);
      for (const p of m.operations) {
        checkAnnotations(p);
        checkMapping(p);
      }
      compileAll(m);
    }
  });

  it('names are stable across imports and independent of document order', () => {
    for (const spec of [corpus.github, corpus.kubernetes, ...corpus.examples]) {
      const doc = parseAny(spec.file) as { paths?: Record<string, unknown> };
      const again = importSpec(readFileSync(spec.file), { check: 'none' });
      const first = imported(spec.name, spec.file);
      assert.deepEqual(again.operations.map((p) => p.tool), first.operations.map((p) => p.tool), spec.name);
      if (!doc.paths) continue;
      doc.paths = Object.fromEntries(Object.entries(doc.paths).reverse());
      const reversed = importSpec(doc, { check: 'none' });
      const key = (p: OperationPlan) => `${p.method} ${p.path}`;
      const byOp = new Map(first.operations.map((p) => [key(p), p.tool]));
      for (const p of reversed.operations) assert.equal(p.tool, byOp.get(key(p)), `${spec.name}: ${key(p)}`);
    }
  });
});

/** The document as an object (JSON or YAML), for reordering. */
function parseAny(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
}
