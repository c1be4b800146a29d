// Load generators, each run as its own child process for a bounded time against 127.0.0.1:
// wrk (Debian's package, preferred when on PATH: C, little CPU) or autocannon (npm, always here).
// Both report the same normalised numbers.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchRequest } from './requests.ts';

export type LoadGenName = 'wrk' | 'autocannon';

export interface LoadOptions {
  port: number;
  request: BenchRequest;
  connections: number;
  seconds: number;
  /** CPU list for `taskset -c`, or undefined. */
  cpus?: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Bytes read per response, headers included. */
  bytesPerResponse: number;
  /** Responses that were not 2xx, plus socket errors and timeouts. */
  failures: number;
  failureDetail: string;
  /** Target CPU time (user + system) per response, in microseconds; filled by the runner. */
  cpuMicrosPerRequest?: number;
  /** How much each of the target's own counters (lib/target-child.ts) grew during the run. */
  counters?: Record<string, number>;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** BENCH_LOADGEN=wrk|autocannon forces one; otherwise wrk when on PATH. */
export function pickLoadGenerator(forced: string | undefined): LoadGenName {
  if (forced === 'wrk' || forced === 'autocannon') {
    if (forced === 'wrk' && !hasCommand('wrk')) throw new Error('BENCH_LOADGEN=wrk but wrk is not on PATH');
    return forced;
  }
  if (forced) throw new Error(`BENCH_LOADGEN must be wrk or autocannon, not ${forced}`);
  return hasCommand('wrk') ? 'wrk' : 'autocannon';
}

export function runLoad(gen: LoadGenName, opts: LoadOptions): Promise<LoadResult> {
  return gen === 'wrk' ? runWrk(opts) : runAutocannon(opts);
}

function pinned(cpus: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return cpus ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
}

const running = new Set<number>();

/** Kill (by PID) any load generator still running: for the runner's SIGINT path. */
export function stopLoadGenerators(): void {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

/** Run a command to completion with a hard deadline; resolves with its stdout. */
function capture(cmd: string, args: string[], deadlineMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid) running.add(pid);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err = (err + c).slice(-4000);
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
    }, deadlineMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (pid) running.delete(pid);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${signal ?? `exit ${code}`}: ${(err || out).trim().slice(-800)}`));
    });
  });
}

// ---------------------------------------------------------------- wrk

function luaString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value) || value.includes('"') || value.includes('\\')) {
    throw new Error(`header value not representable in the wrk script: ${value}`);
  }
  return `"${value}"`;
}

function wrkScript(request: BenchRequest): string {
  if (request.body.includes(']==]')) throw new Error('request body not representable in the wrk script');
  const headers = Object.entries(request.headers)
    .map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)
    .join('\n');
  return `wrk.method = "${request.method}"
wrk.body = [==[${request.body}]==]
${headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_WRK {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

interface WrkSummary {
  requests: number;
  duration_us: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50_us: number;
  p99_us: number;
}

let scriptDir: string | undefined;

/** One temp dir per runner process for wrk scripts, removed when the runner exits. */
function wrkScriptPath(): string {
  if (!scriptDir) {
    const dir = mkdtempSync(join(tmpdir(), 'gangway-bench-'));
    scriptDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return join(scriptDir, 'request.lua');
}

async function runWrk(opts: LoadOptions): Promise<LoadResult> {
  const script = wrkScriptPath();
  writeFileSync(script, wrkScript(opts.request));
  const url = `http://127.0.0.1:${opts.port}${opts.request.path}`;
  const [cmd, args] = pinned(opts.cpus, 'wrk', [
    '-t1',
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    script,
    url,
  ]);
  const out = await capture(cmd, args, (opts.seconds + 15) * 1000);
  const line = out.split('\n').find((l) => l.startsWith('BENCH_WRK '));
  if (!line) throw new Error(`wrk printed no summary: ${out.slice(-500)}`);
  const s = JSON.parse(line.slice('BENCH_WRK '.length)) as WrkSummary;
  const seconds = s.duration_us / 1e6;
  const failures = s.status + s.connect + s.read + s.write + s.timeout;
  return {
    requests: s.requests,
    seconds,
    rps: s.requests / seconds,
    p50Ms: s.p50_us / 1000,
    p99Ms: s.p99_us / 1000,
    bytesPerResponse: s.requests ? s.bytes / s.requests : 0,
    failures,
    failureDetail: failures
      ? `non-2xx/3xx ${s.status}, connect ${s.connect}, read ${s.read}, write ${s.write}, timeout ${s.timeout}`
      : '',
  };
}

// ---------------------------------------------------------------- autocannon

interface AutocannonJson {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  throughput: { total: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
}

async function runAutocannon(opts: LoadOptions): Promise<LoadResult> {
  const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const headerArgs = Object.entries(opts.request.headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
  const url = `http://127.0.0.1:${opts.port}${opts.request.path}`;
  const [cmd, args] = pinned(opts.cpus, process.execPath, [
    cli,
    '--json',
    '--no-progress',
    '-c',
    String(opts.connections),
    '-d',
    String(opts.seconds),
    '-t',
    '10',
    '-m',
    opts.request.method,
    ...headerArgs,
    '-b',
    opts.request.body,
    url,
  ]);
  const out = await capture(cmd, args, (opts.seconds + 15) * 1000);
  const jsonStart = out.indexOf('{');
  if (jsonStart < 0) throw new Error(`autocannon printed no JSON: ${out.slice(-500)}`);
  const r = JSON.parse(out.slice(jsonStart)) as AutocannonJson;
  const failures = r.non2xx + r.errors + r.timeouts;
  const codes = Object.entries(r.statusCodeStats ?? {})
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, v]) => `${code}x${v.count}`)
    .join(' ');
  return {
    requests: r.requests.total,
    seconds: r.duration,
    rps: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    bytesPerResponse: r.requests.total ? r.throughput.total / r.requests.total : 0,
    failures,
    failureDetail: failures ? `non-2xx ${r.non2xx} ${codes}, errors ${r.errors}, timeouts ${r.timeouts}` : '',
  };
}
