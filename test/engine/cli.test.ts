import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const BIN = join(import.meta.dirname, '../../bin/gangway.js');
const dir = mkdtempSync(join(tmpdir(), 'gangway-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `gangway serve`, resolves with the URL from its banner. */
function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, ...env, CI: 'true' } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner:\n${out}`)), 20_000);
    child.stdout!.on('data', () => {
      const m = /MCP endpoint\s+(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, out: () => out });
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
}

/** A project with `config` as its gangway.config.ts, and gangway installed as npm installs a file: dependency (a symlink). */
function projectWith(name: string, config: string, type: 'module' | 'commonjs' = 'module'): string {
  const project = mkdtempSync(join(dir, `${name}-`));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(join(import.meta.dirname, '../..'), join(project, 'node_modules', 'gangway'), 'dir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, private: true, ...(type === 'module' ? { type } : {}) }));
  writeFileSync(join(project, 'gangway.config.ts'), config);
  return project;
}

/** JSON-RPC POSTs to a served endpoint, in a 2025 session once one is named. */
const poster = (url: string) => (body: unknown, session?: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(session ? { 'mcp-session-id': session } : {}) }, body: JSON.stringify(body) });

describe('gangway CLI', () => {
  it('init scaffolds a project that serves out of the box, and stops cleanly on SIGTERM', async () => {
    const project = join(dir, 'shop');
    const init = spawnSync(process.execPath, [BIN, 'init', project], { encoding: 'utf8' });
    assert.equal(init.status, 0, init.stderr);
    assert.match(readFileSync(join(project, 'gangway.config.ts'), 'utf8'), /satisfies GangwayConfig/);
    assert.match(init.stdout, /Before importing from 'gangway' in the config .*, run `npm install` there/);

    const again = spawnSync(process.execPath, [BIN, 'init', project], { encoding: 'utf8' });
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already has a gangway config; nothing was changed/);

    const { child, url } = await start(['--cwd', project, '--port', '0']);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } }),
    });
    assert.equal(res.status, 200);
    const session = res.headers.get('mcp-session-id')!;
    const list = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mcp-session-id': session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_item', arguments: { id: 'a1' } } }),
    });
    assert.match(await list.text(), /First item/);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('loads a gangway.config.ts from a package that is not "type": "module"', async () => {
    const project = mkdtempSync(join(dir, 'cjs-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'cjs', private: true }));
    writeFileSync(
      join(project, 'gangway.config.ts'),
      "const name: string = 'cjs-project';\nexport default { name, version: '1.0.0', store: 'memory', tools: [] };\n",
    );
    const { child, out } = await start(['--cwd', project, '--port', '0']);
    assert.match(out(), /Gangway {2}cjs-project 1\.0\.0/);
    child.kill('SIGTERM');
  });

  it("honours the errors a config throws with gangway's own classes, sharing the copy that serves it", async () => {
    const project = projectWith(
      'errors',
      `import { defineConfig, RpcError, ToolError } from 'gangway';
export default defineConfig({
  name: 'errors', version: '1.0.0', store: 'memory',
  tools: [
    { name: 'find_order', description: 'Finds an order', input: { type: 'object' }, handler: () => { throw new ToolError('Order not found', { id: 'o-1' }); } },
    { name: 'refuse', description: 'Refuses', input: { type: 'object' }, handler: () => { throw new RpcError(-32042, 'Refused by the product', { why: 'test' }); } },
  ],
});
`,
    );
    const { child, url, out } = await start(['--cwd', project, '--port', '0']);
    try {
      const post = poster(url);
      const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } });
      const session = init.headers.get('mcp-session-id')!;
      const found = (await (await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'find_order', arguments: {} } }, session)).json()) as {
        result: { isError: boolean; content: Array<{ text: string }>; structuredContent: unknown };
      };
      assert.equal(found.result.isError, true);
      assert.equal(found.result.content[0]!.text, 'Order not found', 'the message the handler wrote, not "failed (reference ...)"');
      assert.deepEqual(found.result.structuredContent, { id: 'o-1' });
      const refused = (await (await post({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'refuse', arguments: {} } }, session)).json()) as {
        error: { code: number; message: string; data: unknown };
      };
      assert.deepEqual(refused.error, { code: -32042, message: 'Refused by the product', data: { why: 'test' } });
      assert.doesNotMatch(out(), /tool handler threw/, 'nothing was logged as a crash');
      assert.doesNotMatch(out(), /second copy of gangway/, 'an ES module config shares the copy that serves it');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('serves a config Node reads as CommonJS that imports from gangway, and says how to avoid its second copy', async () => {
    const project = projectWith(
      'commonjs',
      `import { defineConfig, ToolError } from 'gangway';
export default defineConfig({
  name: 'commonjs', version: '1.0.0', store: 'memory',
  tools: [{ name: 'find_order', description: 'Finds an order', input: { type: 'object' }, handler: () => { throw new ToolError('Order not found'); } }],
});
`,
      'commonjs',
    );
    const { child, url, out } = await start(['--cwd', project, '--port', '0']);
    try {
      const post = poster(url);
      const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } });
      const found = (await (await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'find_order', arguments: {} } }, init.headers.get('mcp-session-id')!)).json()) as {
        result: { content: Array<{ text: string }> };
      };
      assert.equal(found.result.content[0]!.text, 'Order not found');
      const notes = out().split('\n').filter((l) => l.includes('second copy of gangway'));
      assert.deepEqual(notes, [`gangway: note: ${join(project, 'gangway.config.ts')} loaded a second copy of gangway (about 1 s and 40 MB more at start): Node reads it as CommonJS; "type": "module" in its package.json avoids that`]);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('reports a package the config imports but the project has not installed as one line with exit code 2', () => {
    for (const [name, hint] of [['gangway', ' (a project made by `gangway init` lists it in its package.json)'], ['left-pad-nope', '']] as const) {
      const project = mkdtempSync(join(dir, 'not-installed-'));
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'not-installed', private: true, type: 'module' }));
      writeFileSync(join(project, 'gangway.config.ts'), `import * as m from '${name}';\nexport default { name: 'x', version: '1.0.0', store: 'memory', m };\n`);
      const r = spawnSync(process.execPath, [BIN, 'serve', '--cwd', project], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      const file = join(project, 'gangway.config.ts');
      assert.equal(r.stderr, `gangway: ${file} needs '${name}', which is not installed: run \`npm install\` in ${project}${hint} [GW_CONFIG_IMPORT]\n`);
    }
  });

  it('reports a GangwayConfigError thrown by the config as one line with exit code 2', () => {
    const project = projectWith(
      'config-error',
      "import { GangwayConfigError } from 'gangway';\nexport default () => { throw new GangwayConfigError('GW_ACME_PLAN', 'ACME_PLAN is not set'); };\n",
    );
    const r = spawnSync(process.execPath, [BIN, 'serve', '--cwd', project], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, 'gangway: ACME_PLAN is not set [GW_ACME_PLAN]\n');
  });

  it('takes the port from GANGWAY_PORT and the host from --host', async () => {
    const project = join(dir, 'envport');
    spawnSync(process.execPath, [BIN, 'init', project]);
    const { child, url } = await start(['--cwd', project, '--host', 'localhost'], { GANGWAY_PORT: '0' });
    assert.match(url, /^http:\/\/localhost:\d+\/mcp$/);
    child.kill('SIGTERM');
  });

  it('reports a missing config and a bad port as one clear line with exit code 2', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const r = spawnSync(process.execPath, [BIN, 'serve', '--cwd', empty], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no gangway\.config\.ts .* \(run `gangway init` to create one\) \[GW_CONFIG_NOT_FOUND\]/);
    const project = join(dir, 'badport');
    spawnSync(process.execPath, [BIN, 'init', project]);
    const p = spawnSync(process.execPath, [BIN, 'serve', '--cwd', project, '--port', 'abc'], { encoding: 'utf8' });
    assert.equal(p.status, 2);
    assert.match(p.stderr, /port must be 0-65535/);
    assert.doesNotMatch(p.stderr, /\n\s+at /); // no stack trace
  });

  it('reports a store it cannot open as one line with exit code 1, its password hidden', () => {
    const project = join(dir, 'nostore');
    spawnSync(process.execPath, [BIN, 'init', project]);
    // Nothing listens on port 1: the Postgres store cannot open.
    const r = spawnSync(process.execPath, [BIN, 'serve', '--cwd', project], {
      encoding: 'utf8',
      env: { ...process.env, GANGWAY_STORE: 'postgres://gw:s3cretpw@127.0.0.1:1/x' },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^gangway: .*127\.0\.0\.1:1.* \[GW_STORE_UNAVAILABLE\]\n$/);
    assert.doesNotMatch(r.stderr + r.stdout, /s3cretpw/);
  });

  it('says how to build when the package has no dist/ (installed without its prepare script)', () => {
    const pkg = mkdtempSync(join(dir, 'unbuilt-'));
    mkdirSync(join(pkg, 'bin'));
    writeFileSync(join(pkg, 'bin', 'gangway.js'), readFileSync(BIN));
    writeFileSync(join(pkg, 'package.json'), readFileSync(join(import.meta.dirname, '../../package.json')));
    symlinkSync(join(import.meta.dirname, '../../node_modules'), join(pkg, 'node_modules'), 'dir');
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // as a user runs it: no source condition
    const r = spawnSync(process.execPath, [join(pkg, 'bin', 'gangway.js'), 'help'], { encoding: 'utf8', env });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `gangway: ${join(pkg, 'dist', 'cli', 'main.js')} is missing: run \`npm run build\` in ${pkg}/\n`);
  });

  it('refuses an unknown command with usage', () => {
    const r = spawnSync(process.execPath, [BIN, 'bogus'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "bogus"/);
  });
});
