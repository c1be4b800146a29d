import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Helpers for test/conformance: start the fixture server (examples/conformance) through the
 * real CLI, and run @modelcontextprotocol/conformance against it on Node 20.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHIM = join(ROOT, 'test/conformance/globsync-shim.mjs');

/** The two suite versions, installed as devDependencies (the alpha under an npm alias). */
export const SUITES = {
  stable: join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js'),
  next: join(ROOT, 'node_modules/conformance-next/dist/index.js'),
} as const;

/** The child's environment without GANGWAY_* overrides that could change the fixture. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1', NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('GANGWAY_') || k === 'PORT') delete env[k];
  return env;
}

/** `gangway serve --cwd examples/conformance --port 0`; resolves with the URL it prints. */
export interface Fixture {
  readonly url: string;
  readonly child: ChildProcess;
  /** What the server wrote to stderr so far (its logs), for failure messages. */
  stderr(): string;
  stop(): Promise<void>;
}

export function startFixture(timeoutMs = 20_000): Promise<Fixture> {
  return startServe(join(ROOT, 'examples/conformance'), [], {}, timeoutMs);
}

/** `gangway serve --cwd DIR --port 0 ...ARGS` with extra environment; resolves with the URL it prints. */
export function startServe(dir: string, args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<Fixture> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/gangway.js'), 'serve', '--cwd', dir, '--port', '0', '--host', '127.0.0.1', ...args],
    { cwd: ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    process.kill(child.pid, 'SIGTERM'); // serve drains and exits 0 on SIGTERM
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise<Fixture>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop().finally(() =>
        reject(new Error(`gangway serve printed no URL within ${timeoutMs} ms\n${out}\n${err}`)),
      );
    }, timeoutMs);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`gangway serve exited with ${code} before listening\n${out}\n${err}`));
    };
    child.once('exit', early);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /MCP endpoint\s+(http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({ url: m[1]!, child, stderr: () => err, stop });
    });
  });
}

export interface SuiteRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Per scenario: passed and failed check counts, from the summary. */
  readonly scenarios: Map<string, { passed: number; failed: number }>;
  /** `--requirements` runs: scenarios the revision runs but does not score. */
  readonly unscored: Set<string>;
  /** The `=== SUMMARY ===` block as printed. */
  readonly summary: string;
  /** Every non-passing check (FAILURE and WARNING) from the -o checks.json files. */
  readonly problems: Problem[];
}

/** Runs one suite command, killed after `timeoutMs`; results come from stdout and -o files. */
export function runSuite(dist: string, args: string[], outDir: string, timeoutMs: number): Promise<SuiteRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', SHIM, dist, ...args, '-o', outDir], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (signal)
        return reject(
          new Error(`conformance ${args.join(' ')} killed (${signal}) after ${timeoutMs} ms\n${stdout}`),
        );
      resolve({ code, stdout, stderr, ...parseSummary(stdout), problems: readProblems(outDir) });
    });
  });
}

// ANSI colour codes, in case the suite colours its summary.
const ANSI = /\u001b\[[0-9;]*m/g;

function parseSummary(raw: string) {
  const stdout = raw.replace(ANSI, '');
  const at = stdout.indexOf('=== SUMMARY ===');
  const summary = at < 0 ? '' : stdout.slice(at).trim();
  const scenarios = new Map<string, { passed: number; failed: number }>();
  for (const m of summary.matchAll(/^[✓✗] ([\w.-]+): (\d+) passed, (\d+) failed/gmu)) {
    scenarios.set(m[1]!, { passed: Number(m[2]), failed: Number(m[3]) });
  }
  const unscored = new Set<string>();
  const block = summary.indexOf('Not scored for');
  if (block >= 0) {
    for (const m of summary.slice(block).matchAll(/^\s+[✓✗] ([\w.-]+) \(/gmu)) unscored.add(m[1]!);
  }
  return { summary, scenarios, unscored };
}

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

export interface Problem {
  readonly scenario: string;
  readonly text: string;
}

function readProblems(outDir: string): Problem[] {
  if (!existsSync(outDir)) return [];
  const problems: Problem[] = [];
  for (const dir of readdirSync(outDir).sort()) {
    const file = join(outDir, dir, 'checks.json');
    if (!existsSync(file)) continue;
    const scenario = dir.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
    for (const c of JSON.parse(readFileSync(file, 'utf8')) as Check[]) {
      if (c.status === 'FAILURE' || c.status === 'WARNING') {
        problems.push({
          scenario,
          text: `${c.status} ${scenario} [${c.id}] ${(c.errorMessage ?? '').slice(0, 300)}`,
        });
      }
    }
  }
  return problems;
}
