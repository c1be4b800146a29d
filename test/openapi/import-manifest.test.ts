import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { importCommand } from '../../src/cli/import.ts';
import { ANONYMOUS } from '../../src/auth/principal.ts';
import { importSpec } from '../../src/openapi/import.ts';
import { loadManifest, writeManifest } from '../../src/openapi/manifest.ts';
import { openapiResources } from '../../src/openapi/resources.ts';
import type { HandlerContext } from '../../src/registry/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'gangway-manifest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const spec = `openapi: 3.0.3
info: { title: Pet Shop, version: 2.1.0 }
servers: [{ url: https://pets.example.com/v1 }]
paths:
  /pets/{petId}:
    get:
      operationId: getPet
      x-mcp: { resource: true }
      parameters: [{ name: petId, in: path, required: true, schema: { type: integer } }]
      responses: { '200': { description: ok, content: { application/json: {} } } }
    delete:
      operationId: deletePet
      parameters: [{ name: petId, in: path, required: true, schema: { type: integer } }]
`;

/** Runs the CLI with stdout/stderr captured. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await importCommand(args), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

describe('manifest', () => {
  it('round-trips: what is written is what loads, compact, with the spec digest', () => {
    const m = importSpec(spec);
    const file = join(dir, 'a.json');
    const bytes = writeManifest(file, m);
    const text = readFileSync(file, 'utf8');
    assert.equal(bytes, Buffer.byteLength(text));
    assert.ok(!text.includes('\n'), 'compact JSON');
    assert.deepEqual(loadManifest(file), m);
    assert.equal(m.specDigest.length, 64);
    assert.deepEqual(m.servers, ['https://pets.example.com/v1']);
    assert.equal(m.tokenizer, 'o200k_base');
    assert.equal(importSpec(spec).specDigest, m.specDigest);
    assert.notEqual(importSpec(spec.replace('2.1.0', '2.1.1')).specDigest, m.specDigest);
  });

  it('refuses missing files, non-JSON, other formats and malformed operations with GW_OPENAPI_MANIFEST', () => {
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const code = { code: 'GW_OPENAPI_MANIFEST' };
    assert.throws(() => loadManifest(join(dir, 'missing.json')), { ...code, message: /cannot read manifest .*ENOENT/ });
    assert.throws(() => loadManifest(write('b.json', '{')), { ...code, message: /is not JSON/ });
    assert.throws(() => loadManifest(write('c.json', '{"openapi":"3.0.0"}')), { ...code, message: /not a Gangway manifest/ });
    assert.throws(() => loadManifest(write('d.json', '{"format":2}')), { ...code, message: /format 2.*gangway import again/ });
    assert.throws(() => loadManifest(write('e.json', '{"format":1,"specDigest":"x","listTokens":1,"operations":[{"tool":"a"}]}')), { ...code, message: /operation 0 is malformed/ });
  });
});

describe('gangway import', () => {
  it('writes the manifest and prints operations, tokens per mode, and the chosen mode', async () => {
    const src = join(dir, 'spec.yaml');
    writeFileSync(src, spec);
    const out = join(dir, 'out.json');
    const r = await cli([src, '--out', out, '--mode', 'auto', '--budget', '50']);
    assert.equal(r.code, 0);
    const m = loadManifest(out);
    assert.deepEqual(m.operations.map((p) => p.tool), ['getPet', 'deletePet']);
    assert.deepEqual(m.tools, { mode: 'auto', tokenBudget: 50 });
    assert.match(r.out, /^Imported Pet Shop 2\.1\.0: 2 operations in \d+\.\d s$/m);
    assert.match(r.out, new RegExp(`tools/list tokens \\(o200k_base\\): all ${m.listTokens} \\(2 tools\\), meta \\d+ \\(4 tools\\)`));
    assert.match(r.out, /mode auto \(budget 50\) -> meta: 4 tools/);
    assert.match(r.err, /import: parsed/);
  });

  it('--quiet prints no progress; bad input fails with the error code; no spec is a usage error', async () => {
    const src = join(dir, 'spec2.yaml');
    writeFileSync(src, spec);
    const quiet = await cli([src, '--out', join(dir, 'q.json'), '--quiet', '--mode', 'curated', '--tools', 'getPet']);
    assert.equal(quiet.err, '');
    assert.match(quiet.out, /mode curated -> curated: 1 tools/);
    await assert.rejects(cli([src, '--out', join(dir, 'r.json'), '--mode', 'curated', '--tools', 'nope']), { code: 'GW_OPENAPI_MODE' });
    writeFileSync(join(dir, 'bad.json'), '{"openapi":"4.0.0"}');
    await assert.rejects(cli([join(dir, 'bad.json'), '--out', join(dir, 's.json')]), { code: 'GW_OPENAPI_VERSION' });
    await assert.rejects(cli([join(dir, 'none.json')]), { code: 'GW_OPENAPI_PARSE', message: /ENOENT/ });
    assert.equal((await cli([])).code, 2);
  });
});

describe('resources from x-mcp resource', () => {
  it('reading a URI calls the GET with the template variables as arguments', async () => {
    const m = importSpec(spec);
    const seen: unknown[] = [];
    const [template, ...rest] = openapiResources(m, async (plan, args) => {
      seen.push([plan.tool, args]);
      return { content: [{ type: 'text', text: '{"id":7}' }], structuredContent: { id: 7 } };
    });
    assert.equal(rest.length, 0);
    assert.equal(template!.uriTemplate, 'pet-shop://pets/{petId}');
    assert.equal(template!.mimeType, 'application/json');
    const ctx = { principal: ANONYMOUS } as unknown as HandlerContext;
    const contents = await template!.read('pet-shop://pets/7', { petId: '7' }, ctx);
    assert.deepEqual(seen, [['getPet', { petId: '7' }]]);
    assert.deepEqual(contents, [{ uri: 'pet-shop://pets/7', mimeType: 'application/json', text: '{"id":7}' }]);
  });
});
