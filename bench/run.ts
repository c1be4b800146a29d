// Gangway bench runner: `npm run bench`. See bench/README.md for what is measured and why.
//
// Per scenario: start every target as its own process (pinned to CPU 0 once ready, when the
// machine has 2+ cores and taskset), probe each for correct answers, warm up, then run R rounds
// of D seconds with the targets interleaved round-robin (the load generator, its own process,
// pinned to CPU 1), sampling each target's CPU time around every run and its RSS before and
// after, and stop the targets by PID. Prints a Markdown report to stdout (progress goes to
// stderr) and writes bench/results/latest.{md,json}.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  hasCommand,
  type LoadGenName,
  type LoadResult,
  pickLoadGenerator,
  runLoad,
  stopLoadGenerators,
} from './lib/load.ts';
import { probe } from './lib/probe.ts';
import { cpuTicks, renderReport, type Row, type RunInfo, SCENARIO_TITLES } from './lib/report.ts';
import { buildRequest, type ScenarioId, STYLES, type Style } from './lib/requests.ts';
import { prepareStyle } from './lib/session.ts';
import { startTarget, type TargetProcess } from './lib/target-process.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);

interface TargetDef {
  name: string;
  file: string;
  style: Style;
  /** Extra environment for the target process. */
  env?: Record<string, string>;
  /** Scenarios this row takes part in (default: all). */
  scenarios?: ScenarioId[];
  /** Not run unless named in BENCH_TARGETS. */
  optional?: boolean;
  /** Sent with every request of this row (a credential). */
  headers?: Record<string, string>;
  note?: string;
  /** A row of the policy-stage table; `vs` names the row this stage adds to. */
  stage?: { label: string; vs?: string };
}

/** A fresh API key per run for the `gangway-apikey` row (the target stores only its hash). */
const BENCH_API_KEY = `gwk_${randomBytes(32).toString('base64url')}`;
/** Every API-key row: 2025 stateless requests, auth on with this key. */
const STAGE_ENV = { BENCH_GANGWAY_STATELESS: '1', BENCH_API_KEY };

const SDK_ZOD_NOTE =
  process.env.BENCH_SDK_ZOD === 'per-request' ? 'zod shapes built per request' : 'zod shapes built once';

/** A policy-stage row: tools/call `echo` with the bench API key, the policy set by `p`. */
function stageRow(
  name: string,
  p: { scopes: string; limits: string; audit: string },
  stage: { label: string; vs: string },
  note: string,
  optional = false,
): TargetDef {
  return {
    name,
    file: 'targets/gangway.ts',
    style: '2025-06-18',
    env: { ...STAGE_ENV, BENCH_SCOPES: p.scopes, BENCH_LIMITS: p.limits, BENCH_AUDIT: p.audit },
    headers: { 'x-api-key': BENCH_API_KEY },
    scenarios: ['call'],
    ...(optional ? { optional } : {}),
    stage,
    note,
  };
}

// Each row is its own process, even when two rows share a module, so RSS stays per row.
// `optional` rows run only when named in BENCH_TARGETS (or BENCH_TARGETS=all).
const TARGETS: TargetDef[] = [
  { name: 'bare', file: 'targets/bare.ts', style: '2025-06-18' },
  { name: 'bare-2026', file: 'targets/bare.ts', style: '2026-07-28', note: 'the limit for 2026-07-28 requests' },
  { name: 'sdk-stateless', file: 'targets/sdk-stateless.ts', style: '2025-06-18', note: SDK_ZOD_NOTE },
  {
    name: 'sdk-stateless-echo',
    file: 'targets/sdk-stateless.ts',
    style: '2025-06-18',
    env: { BENCH_SDK_TOOLS: 'echo' },
    scenarios: ['call'],
    note: 'only `echo` registered',
  },
  // The policy stages (call scenario): each row adds one stage to the one before, so the
  // difference between two rows is what that stage costs. `gangway` is stage 1 for both scenarios.
  {
    name: 'gangway',
    file: 'targets/gangway.ts',
    style: '2025-06-18',
    env: { BENCH_GANGWAY_STATELESS: '1' },
    stage: { label: '1. policy off: anonymous, no limits, audit off' },
    note: 'http.stateless; policy off (anonymous, no limits, audit off)',
  },
  { name: 'gangway-2026', file: 'targets/gangway.ts', style: '2026-07-28', note: 'policy off (anonymous, no limits, audit off)' },
  stageRow('gangway-apikey', { scopes: '0', limits: 'off', audit: 'off' }, { label: '2. + API key (cached verdict; usage counted in memory)', vs: 'gangway' }, 'http.stateless, auth on, every call with an API key (cached verdict); no tool scopes, limits off, audit off'),
  stageRow('gangway-scope', { scopes: '1', limits: 'off', audit: 'off' }, { label: '3. + scope check (every tool needs `bench:call`)', vs: 'gangway-apikey' }, 'as gangway-apikey, and every tool needs scope bench:call, which the key holds'),
  stageRow('gangway-limits', { scopes: '1', limits: 'on', audit: 'off' }, { label: '4. + rate limit (per-credential window, concurrency cap)', vs: 'gangway-scope' }, 'as gangway-scope, plus a per-credential window of 1e9/min (counted, never refusing) and the concurrency cap (16)'),
  stageRow('gangway-full', { scopes: '1', limits: 'on', audit: 'sqlite' }, { label: '5. + durable audit on SQLite (synchronous=FULL) = the full pipeline', vs: 'gangway-limits' }, 'as gangway-limits, on a SQLite store (fresh file, WAL, synchronous=FULL): a durable audit row per call before the answer, usage group-committed with it'),
  stageRow('gangway-full-normal', { scopes: '1', limits: 'on', audit: 'sqlite-normal' }, { label: '(5 with synchronous=NORMAL: survives SIGKILL, not power loss)', vs: 'gangway-limits' }, 'as gangway-full with synchronous=NORMAL: no fsync per commit'),
  stageRow('gangway-audit-memory', { scopes: '1', limits: 'on', audit: 'memory' }, { label: '(5 on the memory store: the audit row without SQLite)', vs: 'gangway-limits' }, 'as gangway-limits with audit into the memory store (not durable; the rows pile up in the heap)', true),
  stageRow('gangway-pg-redis', { scopes: '1', limits: 'on', audit: 'postgres' }, { label: '(5 on Postgres + Redis: the multi-process mode, one process)', vs: 'gangway-full' }, 'as gangway-full, with the store on Postgres (a fresh schema; audit and usage group-committed, synchronous_commit on) and the rate window in Redis (one round trip per request)', true),
  {
    name: 'gangway-session',
    file: 'targets/gangway.ts',
    style: '2025-06-18-session',
    optional: true,
    note: 'one session shared by all connections',
  },
];
TARGETS.push(...extraTargets(process.env.BENCH_EXTRA));

/**
 * BENCH_EXTRA=name=path[@style][~row],... adds ad-hoc targets (same child protocol:
 * lib/target-child.ts). `~row` runs the module with that row's environment, headers and
 * scenarios: an A/B of another build (a copy of the tree with a differently named target file,
 * since bundles are named after the file) against the row, in the same run.
 */
function extraTargets(raw: string | undefined): TargetDef[] {
  if (!raw) return [];
  return raw.split(',').map((spec) => {
    const m = /^([\w.-]+)=([^@~]+)(?:@([\w-]+))?(?:~([\w.-]+))?$/.exec(spec.trim());
    const like = m?.[4] === undefined ? undefined : TARGETS.find((t) => t.name === m[4]);
    const style = (m?.[3] ?? like?.style ?? '2025-06-18') as Style;
    if (!m || !STYLES.includes(style) || (m[4] !== undefined && !like)) {
      throw new Error(`BENCH_EXTRA: expected name=path[@${STYLES.join('|@')}][~row], got ${spec}`);
    }
    const def: TargetDef = { name: m[1]!, file: resolve(m[2]!), style };
    if (like) {
      if (like.env) def.env = like.env;
      if (like.headers) def.headers = like.headers;
      if (like.scenarios) def.scenarios = like.scenarios;
      def.note = `${m[2]} with the environment of ${like.name}`;
    }
    return def;
  });
}

/** Heap per live 2025 session, from bench/session-memory.ts in its own process. */
function sessionMemory(): string | undefined {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(BENCH_DIR, 'session-memory.ts')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = r.stdout.trim().split('\n').pop();
  try {
    const { sessions, bytesPerSession } = JSON.parse(line ?? '') as { sessions: number; bytesPerSession: number };
    return `${bytesPerSession} bytes of heap per live session (${sessions} sessions opened with initialize + notifications/initialized, measured after GC)`;
  } catch {
    log(`session memory: no result (${(r.stderr || r.error?.message || '').trim().slice(0, 300)})`);
    return undefined;
  }
}

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} must be an integer in [${min}, ${max}]`);
  return n;
}

function listEnv<T extends string>(name: string, all: readonly T[], raw = process.env[name]): T[] {
  if (!raw) return [...all];
  const picked = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = picked.filter((p) => !all.includes(p as T));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return picked as T[];
}

/**
 * Default: every row not marked optional; `all`: every row; else the named rows, where `stages`
 * stands for bare and every policy-stage row (`BENCH_SCENARIOS=call BENCH_TARGETS=stages`).
 */
function pickTargets(raw: string | undefined): string[] {
  if (raw === 'all') return TARGETS.map((t) => t.name);
  if (!raw) return TARGETS.filter((t) => !t.optional).map((t) => t.name);
  const stages = ['bare', ...TARGETS.filter((t) => t.stage).map((t) => t.name)];
  const expanded = raw
    .split(',')
    .map((s) => s.trim())
    .flatMap((s) => (s === 'stages' ? stages : [s]));
  return listEnv(
    'BENCH_TARGETS',
    TARGETS.map((t) => t.name),
    [...new Set(expanded)].join(','),
  );
}

const config = {
  rounds: intEnv('BENCH_ROUNDS', 3, 1, 50),
  seconds: intEnv('BENCH_SECONDS', 5, 1, 120),
  warmup: intEnv('BENCH_WARMUP', 1, 0, 60),
  connections: intEnv('BENCH_CONNECTIONS', 16, 1, 1024),
  targets: pickTargets(process.env.BENCH_TARGETS),
  scenarios: listEnv<ScenarioId>('BENCH_SCENARIOS', ['call', 'list']),
};

const loadGen: LoadGenName = pickLoadGenerator(process.env.BENCH_LOADGEN);
const pin = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && hasCommand('taskset');
const SERVER_CPUS = pin ? '0' : undefined;
const LOAD_CPUS = pin ? '1' : undefined;

function loadGenVersion(): string {
  if (loadGen === 'wrk') {
    const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
    return (out.stdout || out.stderr).split('\n')[0]?.split(' Copyright')[0]?.trim() || 'wrk';
  }
  const pkg = createRequire(import.meta.url)('autocannon/package.json') as { version: string };
  const hint = hasCommand('wrk')
    ? ''
    : ' (wrk not on PATH: `apt-get install wrk` for a lighter load generator)';
  return `autocannon ${pkg.version}${hint}`;
}

const live = new Set<TargetProcess>();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping targets…`);
    stopLoadGenerators();
    void Promise.all([...live].map((t) => t.stop(500))).finally(() => process.exit(130));
  });
}

const log = (msg: string) => console.error(msg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Slot {
  def: TargetDef;
  row: Row;
  proc?: TargetProcess;
  /** Per-row headers from prepareStyle(), e.g. Mcp-Session-Id. */
  headers: Record<string, string>;
}

function fail(slot: Slot, status: Row['status'], reason: string): void {
  slot.row.status = status;
  slot.row.reason = reason;
  log(`  ${slot.def.name}: ${status}: ${reason}`);
  // A misbehaving target must not keep burning the CPU the others are measured on.
  if (slot.proc?.alive) void slot.proc.stop(500);
}

/** One timed (or warm-up) run; returns undefined and fails the slot when it went wrong. */
async function measure(slot: Slot, scenario: ScenarioId, seconds: number): Promise<LoadResult | undefined> {
  const proc = slot.proc!;
  const before = await proc.stats();
  let result: LoadResult;
  try {
    result = await runLoad(loadGen, {
      port: proc.port,
      request: buildRequest(scenario, slot.def.style, { headers: slot.headers }),
      connections: config.connections,
      seconds,
      cpus: LOAD_CPUS,
    });
  } catch (err) {
    fail(
      slot,
      'failed',
      proc.alive ? `load generator: ${(err as Error).message}` : `target ${proc.exitReason}`,
    );
    return undefined;
  }
  const after = await proc.stats();
  if (!proc.alive) {
    fail(slot, 'failed', `target ${proc.exitReason}`);
    return undefined;
  }
  if (before && after && result.requests > 0) {
    result.cpuMicrosPerRequest = (after.cpuMicros - before.cpuMicros) / result.requests;
  }
  if (before?.counters && after?.counters) {
    result.counters = Object.fromEntries(
      Object.entries(after.counters).map(([k, v]) => [k, v - (before.counters![k] ?? 0)]),
    );
  }
  if (result.requests === 0) {
    fail(slot, 'failed', 'no request completed');
    return undefined;
  }
  if (result.failures > 0) {
    slot.row.rounds.push(result);
    fail(slot, 'invalid', `${result.failures} failed responses (${result.failureDetail})`);
    return undefined;
  }
  // Headers vary by target, but a response shorter than the verified body is not that body.
  if (result.bytesPerResponse < slot.row.bodyBytes) {
    slot.row.rounds.push(result);
    fail(
      slot,
      'invalid',
      `${Math.round(result.bytesPerResponse)} bytes/response under load, ${slot.row.bodyBytes} verified`,
    );
    return undefined;
  }
  return result;
}

async function runScenario(scenario: ScenarioId): Promise<Row[]> {
  log(`\n== ${SCENARIO_TITLES[scenario]}`);
  const defs = TARGETS.filter(
    (t) => config.targets.includes(t.name) && (!t.scenarios || t.scenarios.includes(scenario)),
  );
  const slots: Slot[] = defs.map((def) => ({
    def,
    row: {
      scenario,
      target: def.name,
      style: def.style,
      status: 'ok',
      reason: '',
      notes: def.note ? [def.note] : [],
      ...(def.stage ? { stage: def.stage } : {}),
      rounds: [],
      bodyBytes: 0,
    },
    headers: {},
  }));

  // Start the targets one by one (each gets the whole machine and its own 10 s to report
  // ready); idle ones cost memory, not CPU.
  for (const slot of slots) {
    if (interrupted) break;
    const started = await startTarget({
      name: slot.def.name,
      file: resolve(BENCH_DIR, slot.def.file),
      cpus: SERVER_CPUS,
      cwd: ROOT,
      env: slot.def.env,
    });
    if (!started.ok) {
      fail(slot, started.skipped ? 'skipped' : 'failed', started.reason);
      continue;
    }
    slot.proc = started.target;
    live.add(started.target);
  }
  const active = () => slots.filter((s) => s.row.status === 'ok' && s.proc && !interrupted);

  try {
    for (const slot of active()) {
      slot.row.rssStart = (await slot.proc!.stats())?.rss;
      const prepared = await prepareStyle(slot.proc!.port, slot.def.style);
      if (!prepared.ok) {
        fail(slot, 'failed', prepared.reason);
        continue;
      }
      slot.headers = { ...prepared.headers, ...slot.def.headers };
      const p = await probe(slot.proc!.port, scenario, slot.def.style, slot.headers);
      if (!p.ok) {
        fail(slot, 'failed', `correctness probe: ${p.detail}`);
        continue;
      }
      slot.row.bodyBytes = p.bodyBytes;
      if (p.detail) slot.row.notes.push(p.detail);
      log(
        `  ${slot.def.name}: pid ${slot.proc!.pid}, port ${slot.proc!.port}, probe ok (${p.bodyBytes} bytes)`,
      );
    }
    if (config.warmup > 0) {
      for (const slot of active()) {
        const r = await measure(slot, scenario, config.warmup);
        if (r) log(`  ${slot.def.name}: warm-up ${Math.round(r.rps)} req/s`);
      }
    }
    for (let round = 0; round < config.rounds; round++) {
      const order = active();
      // Rotate the starting target each round so no one always runs first or last.
      const rotated = order.map((_, i) => order[(i + round) % order.length]!);
      for (const slot of rotated) {
        if (slot.row.status !== 'ok') continue;
        await sleep(150); // let the previous target's tail (GC, closing sockets) finish
        const r = await measure(slot, scenario, config.seconds);
        if (!r) continue;
        slot.row.rounds.push(r);
        log(
          `  round ${round + 1}/${config.rounds} ${slot.def.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99Ms.toFixed(2)} ms, ` +
            `${r.cpuMicrosPerRequest?.toFixed(0) ?? '?'} CPU µs/req`,
        );
      }
    }
    for (const slot of slots) {
      if (slot.row.status === 'ok' && slot.proc?.alive) slot.row.rssEnd = (await slot.proc.stats())?.rss;
    }
  } finally {
    await Promise.all(
      slots.map(async (slot) => {
        if (!slot.proc) return;
        await slot.proc.stop();
        live.delete(slot.proc);
      }),
    );
  }
  return slots.map((s) => s.row);
}

async function main(): Promise<void> {
  const started = Date.now();
  const readText = (path: string) => readFileSync(path, 'utf8');
  const ticksBefore = cpuTicks(readText);
  const info: RunInfo = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    loadGen: loadGenVersion(),
    pinning: pin ? `targets on CPU ${SERVER_CPUS}, load generator on CPU ${LOAD_CPUS} (taskset)` : 'none',
    connections: config.connections,
    rounds: config.rounds,
    seconds: config.seconds,
    warmup: config.warmup,
  };
  log(`gangway bench: ${info.loadGen}; pinning: ${info.pinning}`);
  log(
    `targets: ${config.targets.join(', ')}; ${config.warmup} s warm-up + ${config.rounds} x ${config.seconds} s each`,
  );

  const rows: Row[] = [];
  for (const scenario of config.scenarios) {
    if (interrupted) break;
    rows.push(...(await runScenario(scenario)));
  }
  const sessionLine = interrupted ? undefined : sessionMemory();
  info.wallSeconds = (Date.now() - started) / 1000;
  const ticksAfter = cpuTicks(readText);
  if (ticksBefore && ticksAfter && ticksAfter.total > ticksBefore.total) {
    info.stealPercent = (100 * (ticksAfter.steal - ticksBefore.steal)) / (ticksAfter.total - ticksBefore.total);
  }

  const report = sessionLine ? `${renderReport(info, rows)}\n## (c) one 2025 session\n\n${sessionLine}\n` : renderReport(info, rows);
  const outDir = join(BENCH_DIR, 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.md'), `${report}\n`);
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify({ info, config, rows }, null, 2)}\n`);
  process.stdout.write(`\n${report}\n`);
  log(`written: bench/results/latest.md, bench/results/latest.json`);
  // Exit non-zero only if nothing at all could be measured.
  process.exitCode = rows.some((r) => r.status === 'ok') ? 0 : 1;
}

await main();
