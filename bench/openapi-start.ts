// OpenAPI figures (issue 5): import time, cold start from a manifest, RSS while serving, and the
// tools/list token cost per mode, on the pinned corpus (GitHub, Kubernetes 1.13).
//   npm run bench:openapi            (BENCH_RUNS=5 by default)
// Each cold start is its own process running compiled JavaScript (esbuild, packages external, as
// in production and in bench/run.ts); the baseline is the same child answering from a bare
// node:http server, so the rows show what Gangway, the manifest and the registry add.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCorpus } from '../scripts/corpus.ts';
import { compile } from './lib/target-process.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CHILD = join(ROOT, 'bench/lib/openapi-child.ts');

interface Phases {
  boot: number;
  library: number;
  manifest: number;
  listen: number;
}
interface Ready {
  phases: Phases;
  readyMs: number;
  rssReady: number;
  rssServing: number;
  tools: number;
  listBytes: number;
}

function run(entry: string, args: string[]): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [entry, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const r = JSON.parse(line) as Omit<Ready, 'readyMs'> & { readyAt: number };
      resolve({ phases: r.phases, readyMs: r.readyAt - started, rssReady: r.rssReady, rssServing: r.rssServing, tools: r.tools, listBytes: r.listBytes });
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => (out.includes('{') ? undefined : reject(new Error(`child exited ${code}: ${out}`))));
  });
}

async function median(entry: string, args: string[] = []): Promise<Ready> {
  const rows: Ready[] = [];
  for (let i = 0; i < RUNS; i++) rows.push(await run(entry, args));
  const mid = (pick: (r: Ready) => number) => rows.map(pick).sort((a, b) => a - b)[Math.floor(rows.length / 2)]!;
  return {
    phases: { boot: mid((r) => r.phases.boot), library: mid((r) => r.phases.library), manifest: mid((r) => r.phases.manifest), listen: mid((r) => r.phases.listen) },
    readyMs: mid((r) => r.readyMs),
    rssReady: mid((r) => r.rssReady),
    rssServing: mid((r) => r.rssServing),
    tools: rows[0]!.tools,
    listBytes: rows[0]!.listBytes,
  };
}

const child = await compile(CHILD);
const baseline = await compile(join(ROOT, 'bench/lib/openapi-baseline.ts'));
const corpus = await ensureCorpus();
const tmp = mkdtempSync(join(tmpdir(), 'gangway-bench-openapi-'));
const mb = (n: number) => (n / 1048576).toFixed(0);
const lines: string[] = [];
try {
  const base = await median(baseline);
  lines.push(`| baseline: node, a bare node:http server | | ${base.readyMs.toFixed(0)} | 1.00x | | ${mb(base.rssReady)} | ${mb(base.rssServing)} | |`);
  for (const [name, spec] of [['GitHub', corpus.github], ['Kubernetes 1.13', corpus.kubernetes]] as const) {
    const manifest = join(tmp, `${name.replace(/\W/g, '')}.json`);
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, [join(ROOT, 'bin/gangway.js'), 'import', spec.file, '--out', manifest, '--quiet'], { cwd: ROOT, stdio: 'ignore' });
      c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`import ${name} exited ${code}`))));
    });
    const importS = (performance.now() - t0) / 1000;
    lines.push(`| ${name}: \`gangway import\` (whole process), manifest ${(statSync(manifest).size / 1048576).toFixed(1)} MB | | ${(importS * 1000).toFixed(0)} | | | | | |`);
    for (const mode of ['all', 'meta'] as const) {
      const r = await median(child, [manifest, mode]);
      const p = r.phases;
      lines.push(
        `| ${name}: start from the manifest, mode \`${mode}\` | ${r.tools} | ${r.readyMs.toFixed(0)} | ${(r.readyMs / base.readyMs).toFixed(2)}x | ${(p.boot + p.library).toFixed(0)} / ${p.manifest.toFixed(0)} / ${p.listen.toFixed(0)} | ${mb(r.rssReady)} | ${mb(r.rssServing)} | ${(r.listBytes / 1024).toFixed(0)} KB |`,
      );
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`# OpenAPI start-up (median of ${RUNS} runs, Node ${process.version})\n`);
console.log('| row | tools | ms spawn to ready | vs baseline | ms node+modules / manifest+registry / listen | RSS ready MB | RSS after tools/list MB | tools/list body |');
console.log('|---|--:|--:|--:|--:|--:|--:|--:|');
for (const l of lines) console.log(l);
