// `gangway serve` start-up: milliseconds from spawn to the banner's "MCP endpoint" line, and RSS
// then, for the demo shop and for one small config in an ES module and a CommonJS project.
//   npm run bench:cli                (BENCH_RUNS=5 by default; needs dist/, which npm ci builds)
// The baseline, in the same run, is a process that starts a bare node:http server and says so.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from './lib/target-process.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BIN = join(ROOT, 'bin/gangway.js');

/** Spawns `args` (no source condition: what an installed package runs) until a line matches. */
function run(args: string[], ready: RegExp, cwd = ROOT): Promise<{ ms: number; rssMb: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const seen = (d: Buffer) => {
      out += d.toString();
      if (!ready.test(out)) return;
      const ms = performance.now() - started;
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
      child.stdout.off('data', seen);
      child.kill('SIGTERM');
      resolve({ ms, rssMb: rss });
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (ready.test(out) ? undefined : reject(new Error(`${args.join(' ')} exited ${code}: ${out}`))));
  });
}

async function median(args: string[], ready: RegExp, cwd?: string): Promise<{ ms: number; rssMb: number }> {
  const rows: Array<{ ms: number; rssMb: number }> = [];
  for (let i = 0; i < RUNS; i++) rows.push(await run(args, ready, cwd));
  const mid = (pick: (r: { ms: number; rssMb: number }) => number) => rows.map(pick).sort((a, b) => a - b)[Math.floor(rows.length / 2)]!;
  return { ms: mid((r) => r.ms), rssMb: mid((r) => r.rssMb) };
}

/** A project whose gangway.config.ts imports from 'gangway', installed as npm links a file: dependency. */
function project(tmp: string, type: 'module' | 'commonjs'): string {
  const dir = join(tmp, type);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'gangway'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: type, private: true, ...(type === 'module' ? { type } : {}) }));
  writeFileSync(
    join(dir, 'gangway.config.ts'),
    `import { defineConfig, ToolError } from 'gangway';
export default defineConfig({ name: '${type}', version: '1.0.0', store: 'memory', tools: [
  { name: 'find', description: 'Finds', input: { type: 'object' }, handler: (): string => { throw new ToolError('not found'); } },
] });
`,
  );
  return dir;
}

const banner = /MCP endpoint/;
const baseline = await compile(join(ROOT, 'bench/lib/openapi-baseline.ts'));
// Under the repository, so that the package's own dependencies resolve from its node_modules.
mkdirSync(join(ROOT, '.cache'), { recursive: true });
const tmp = mkdtempSync(join(ROOT, '.cache', 'bench-cli-'));
const lines: string[] = [];
try {
  const base = await median([baseline], /readyAt/);
  const row = (name: string, r: { ms: number; rssMb: number }) =>
    lines.push(`| ${name} | ${r.ms.toFixed(0)} | ${(r.ms / base.ms).toFixed(2)}x | ${r.rssMb.toFixed(0)} |`);
  row('baseline: node, a bare node:http server', base);
  row('`gangway serve` the demo shop (dist/, as installed)', await median([BIN, 'serve', '--cwd', 'examples/demo', '--port', '0'], banner));
  row('the same from the sources (`--conditions=gangway-source`, tsx)', await median(['--conditions=gangway-source', BIN, 'serve', '--cwd', 'examples/demo', '--port', '0'], banner));
  const esm = project(tmp, 'module');
  const cjs = project(tmp, 'commonjs');
  row('a config importing from gangway, ES module project (one copy)', await median([BIN, 'serve', '--port', '0'], banner, esm));
  row('the same config, CommonJS project (tsImport: a second copy)', await median([BIN, 'serve', '--port', '0'], banner, cjs));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`# gangway serve start-up (median of ${RUNS} runs, Node ${process.version})\n`);
console.log('| row | ms spawn to banner | vs baseline | RSS MB |');
console.log('|---|--:|--:|--:|');
for (const l of lines) console.log(l);
