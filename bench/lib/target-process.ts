// The runner side of the target protocol (child side: lib/target-child.ts). Each target is
// its own node process (compiled first, see compile()), started with a free port in BENCH_PORT, pinned to its
// CPU once ready (so start-up, a burst of TypeScript transforms, may use every core) and
// stopped by PID.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { createServer } from 'node:net';
import { READY_PREFIX, SKIP_PREFIX, type StatsMessage } from './target-child.ts';

export const READY_TIMEOUT_MS = 10_000;

export interface StartOptions {
  name: string;
  /** Absolute path of the target module. */
  file: string;
  /** CPU list for `taskset -c` once ready, or undefined to leave scheduling to the OS. */
  cpus?: string;
  cwd: string;
  env?: Record<string, string>;
}

export type StartResult =
  | { ok: true; target: TargetProcess }
  | { ok: false; skipped: boolean; reason: string };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export class TargetProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly stderr: string[];
  exitReason: string | undefined;

  constructor(name: string, port: number, child: ChildProcess, stderr: string[]) {
    this.name = name;
    this.port = port;
    this.child = child;
    this.pid = child.pid ?? -1;
    this.stderr = stderr;
    child.once('exit', (code, signal) => {
      this.exitReason ??= `exited (${signal ?? `code ${code}`})${tail(this.stderr)}`;
    });
  }

  get alive(): boolean {
    return this.exitReason === undefined;
  }

  /** Ask the target for its own memory and CPU usage over IPC. */
  stats(timeoutMs = 2000): Promise<StatsMessage | undefined> {
    if (!this.alive || !this.child.connected) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onMessage = (msg: unknown) => {
        if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'stats') {
          done(msg as StatsMessage);
        }
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done = (value: StatsMessage | undefined) => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(value);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'stats' });
    });
  }

  /** SIGTERM by PID, SIGKILL after a grace period. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.exitReason ??= 'stopped by the runner';
    killPid(this.pid, 'SIGTERM');
    const timer = setTimeout(() => killPid(this.pid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Pin every thread of a running process (threads it starts later inherit it). */
function pin(pid: number, cpus: string): string | undefined {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  return r.status === 0
    ? undefined
    : `taskset -a -p -c ${cpus} ${pid} failed: ${(r.stderr || r.error?.message || '').trim()}`;
}

/** The most telling part of a child's stderr: its error message line, else its last lines. */
function tail(chunks: string[]): string {
  const lines = chunks
    .join('')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l && !/^\s+at /.test(l) && !/^Node\.js v/.test(l));
  if (lines.length === 0) return '';
  const error = lines.find((l) => /^\w*(Error|Exception)\b|\bERR_[A-Z_]+/.test(l.trim()));
  const text = error ?? lines.slice(-3).join(' / ');
  return `: ${text.length > 600 ? `${text.slice(0, 600)}…` : text}`;
}

const built = new Map<string, string>();

/**
 * Targets run as compiled JavaScript, as a production server would: no TypeScript loader in
 * the process (tsx adds ~35 MB of RSS and a `__name` call per closure created), and every
 * target pays the same. One esbuild bundle per target; packages stay external.
 */
export async function compile(file: string): Promise<string> {
  const cached = built.get(file);
  if (cached) return cached;
  const { build } = await import('esbuild');
  const outfile = join(import.meta.dirname, '..', '.build', `${basename(file, '.ts')}.mjs`);
  await build({
    entryPoints: [file],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  built.set(file, outfile);
  return outfile;
}

/** Start a target and wait (at most READY_TIMEOUT_MS) for `BENCH_READY <port>`. */
export async function startTarget(opts: StartOptions): Promise<StartResult> {
  const port = await freePort();
  const entry = await compile(opts.file);
  const child = spawn(process.execPath, [entry], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, BENCH_PORT: String(port), NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const stderr: string[] = [];
  let stderrBytes = 0;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr.push(chunk);
    stderrBytes += chunk.length;
    while (stderrBytes > 16_384 && stderr.length > 1) stderrBytes -= stderr.shift()!.length;
  });

  return new Promise<StartResult>((resolve) => {
    let settled = false;
    let buffered = '';
    const settle = (result: StartResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!result.ok) killPid(child.pid ?? -1, 'SIGKILL');
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        settle({
          ok: false,
          skipped: false,
          reason: `no port reported within ${READY_TIMEOUT_MS / 1000} s${tail(stderr)}`,
        }),
      READY_TIMEOUT_MS,
    );
    child.once('error', (err) =>
      settle({ ok: false, skipped: false, reason: `spawn failed: ${err.message}` }),
    );
    child.once('exit', (code, signal) => {
      // Let the last stdout/stderr chunks arrive before reporting why.
      setTimeout(() => {
        settle({
          ok: false,
          skipped: false,
          reason: `exited before ready (${signal ?? `code ${code}`})${tail(stderr)}`,
        });
      }, 50);
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (settled) return; // keep draining, ignore target logs
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(SKIP_PREFIX)) {
          settle({ ok: false, skipped: true, reason: line.slice(SKIP_PREFIX.length) });
          return;
        }
        if (line.startsWith(READY_PREFIX)) {
          const reported = Number(line.slice(READY_PREFIX.length));
          if (reported !== port) {
            settle({ ok: false, skipped: false, reason: `reported port ${reported}, expected ${port}` });
          } else {
            const pinError = opts.cpus ? pin(child.pid ?? -1, opts.cpus) : undefined;
            if (pinError) settle({ ok: false, skipped: false, reason: pinError });
            else settle({ ok: true, target: new TargetProcess(opts.name, port, child, stderr) });
          }
          return;
        }
        nl = buffered.indexOf('\n');
      }
    });
  });
}
