import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tokensCommand } from '../../src/cli/tokens.ts';
import { createGangway, type Gangway } from '../../src/index.ts';
import { MODERN } from '../helpers/http.ts';

const root = mkdtempSync(join(tmpdir(), 'gangway-tokens-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CONFIG = `export default {
  name: 'shop',
  version: '1.0.0',
  store: 'sqlite:./data/gangway.db',
  logger: { level: 'silent' },
  auth: { cacheMs: 0, scopes: { 'items:read': 'Read items', 'items:write': 'Change items' } },
  tools: [
    { name: 'read_items', scopes: ['items:read'], handler: () => ({ items: ['apple'] }) },
    { name: 'write_items', scopes: ['items:write'], handler: () => ({ ok: true }) },
  ],
};
`;

/** Runs the command in-process from another working directory, capturing its output. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await tokensCommand(argv, { cwd: project, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

let project: string;
let app: Gangway;
let url: string;

async function callTool(name: string, headers: Record<string, string>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': name, ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name, arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} } },
    }),
  });
  return { status: res.status, text: await res.text() };
}

describe('gangway tokens', () => {
  before(async () => {
    project = join(root, 'shop');
    mkdirSync(project);
    writeFileSync(join(project, 'gangway.config.ts'), CONFIG);
  });
  after(() => app?.close());

  let secret = '';
  let id = '';

  it('creates a key in the project\'s SQLite store and prints the secret once, with its header', async () => {
    const r = await run('create', '--tenant', 'acme', '--name', 'ci bot', '--scopes', 'items:read', '--expires-days', '30');
    assert.equal(r.code, 0, r.err);
    const m = /^(gwk_[\w-]{43})$/m.exec(r.out);
    assert.ok(m, r.out);
    secret = m[1]!;
    assert.equal(r.out.split(secret).length - 1, 2, 'the secret alone on a line, and in the header example');
    assert.match(r.out, new RegExp(`x-api-key: ${secret}`));
    assert.match(r.out, /tenant acme, subject acme, scopes items:read, expires 20\d\d-/);
    id = /Created API key (\S+)/.exec(r.out)![1]!;
    // Relative to the project, like `serve`, not to this process's working directory.
    assert.ok(readdirSync(join(project, 'data')).includes('gangway.db'));

    // A server on the same store accepts it for its scope only.
    app = createGangway({
      ...(await import(join(project, 'gangway.config.ts'))).default,
      store: `sqlite:${join(project, 'data/gangway.db')}`,
    });
    ({ url } = await app.listen({ port: 0 }));
    const ok = await callTool('read_items', { 'x-api-key': secret });
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /apple/);
    assert.equal((await callTool('write_items', { 'x-api-key': secret })).status, 403);
  });

  it('creates management tokens, with --json', async () => {
    const r = await run('create', '--kind', 'management', '--tenant', 'acme', '--subject', 'ops', '--scopes', 'items:read,items:write', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.kind, 'management');
    assert.equal(j.header, 'x-management-token');
    assert.deepEqual(j.scopes, ['items:read', 'items:write']);
    assert.equal(j.subject, 'ops');
    assert.equal(j.expiresAt, null);
    assert.match(j.secret, /^gwm_/);
    assert.equal(j.keyHash, undefined);
    assert.equal((await callTool('write_items', { 'x-management-token': j.secret })).status, 200);
  });

  it('lists keys with filters and never prints a secret', async () => {
    const all = await run('list');
    assert.equal(all.code, 0);
    const lines = all.out.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+KIND\s+NAME\s+HINT\s+TENANT\s+SCOPES\s+CREATED\s+EXPIRES\s+LAST USED\s+STATE$/);
    assert.equal(lines.length, 3);
    assert.ok(all.out.includes(`gwk_…${secret.slice(-4)}`));
    assert.doesNotMatch(all.out, /gw[km]_[\w-]{20,}/, 'no secret');
    const row = lines.find((l) => l.startsWith(id))!;
    assert.match(row, /api_key\s+ci bot\s+gwk_…\S+\s+acme\s+items:read\s+.*\s+active$/);
    assert.doesNotMatch(row, /LAST USED|\s-\s+active$/, 'the key was used: last use is shown');

    const keys = JSON.parse((await run('list', '--kind', 'api_key', '--json')).out);
    assert.deepEqual(keys.map((k: { id: string }) => k.id), [id]);
    assert.ok(!JSON.stringify(keys).includes(secret));
    assert.equal(keys[0].keyHash, undefined);
    assert.equal((await run('list', '--tenant', 'other')).out, 'No keys.\n');
  });

  it('revokes a key: the server refuses it', async () => {
    const r = await run('revoke', id.slice(0, 8));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`Revoked ${id}\\. Running servers refuse it within 0 s`));
    assert.equal((await callTool('read_items', { 'x-api-key': secret })).status, 401);
    assert.match((await run('list', '--kind', 'api_key')).out, /revoked$/m);
    assert.match((await run('revoke', id)).out, /already revoked/);
    const unknown = await run('revoke', '00000000-0000-0000-0000-000000000000');
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no key with id/);
  });

  it('refuses bad flags with exit code 2 and creates nothing', async () => {
    const before = (await run('list', '--json')).out;
    for (const [args, message] of [
      [['create'], /needs --tenant/],
      [['create', '--tenant', 'acme', '--kind', 'root'], /--kind must be api_key or management/],
      [['create', '--tenant', 'acme', '--scopes', 'a"b'], /not a valid scope name/],
      [['create', '--tenant', 'acme', '--expires-days', '0'], /--expires-days must be/],
      [['create', '--tenant', 'acme', '--bogus'], /Unknown option '--bogus'/],
      [['list', '--name', 'x'], /--name does not apply to "tokens list"/],
      [['revoke'], /takes one key id/],
      [['delete'], /unknown subcommand "delete"/],
      [['create', '--tenant', 'acme', '--store', 'memory'], /lives only inside the serving process/],
    ] as const) {
      const r = await run(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
      assert.equal(r.out, '');
    }
    const missing = await tokensCommand(['list'], { cwd: join(root, 'nowhere'), stderr: { write: () => true } });
    assert.equal(missing, 2);
    assert.equal((await run('list', '--json')).out, before, 'nothing was created');
  });

  it('accepts an undeclared scope (the operator decides) with a note', async () => {
    const r = await run('create', '--tenant', 'acme', '--scopes', 'reports:read', '--json');
    assert.equal(r.code, 0);
    assert.match(r.err, /no tool or auth.scopes entry declares reports:read/);
  });

  it('leaves no secret in the database files', async () => {
    await app.close();
    const files = readdirSync(join(project, 'data'));
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(project, 'data', f))));
    assert.ok(bytes.length > 0);
    assert.equal(bytes.indexOf(secret), -1);
    assert.equal(bytes.indexOf(secret.slice(4)), -1, 'not even without its prefix');
    assert.ok(bytes.indexOf(id) >= 0, 'the file does hold the key record');
  });
});
