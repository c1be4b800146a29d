// Turns per-round measurements into the Markdown report (stdout + bench/results/latest.md).
import type { LoadResult } from './load.ts';
import type { ScenarioId, Style } from './requests.ts';

export interface Row {
  scenario: ScenarioId;
  target: string;
  style: Style;
  status: 'ok' | 'skipped' | 'failed' | 'invalid';
  /** Why a row is skipped, failed or invalid. */
  reason: string;
  /** Notes that don't invalidate the row. */
  notes: string[];
  rounds: LoadResult[];
  bodyBytes: number;
  rssStart?: number;
  rssEnd?: number;
  /** A row of the policy-stage table; `vs` names the row this stage adds to. */
  stage?: { label: string; vs?: string };
}

export interface RunInfo {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  loadGen: string;
  pinning: string;
  connections: number;
  rounds: number;
  seconds: number;
  warmup: number;
  wallSeconds?: number;
  /** Share of the machine's CPU time the hypervisor gave to other guests during the run (Linux `/proc/stat`). */
  stealPercent?: number;
}

/** The machine's steal and total CPU ticks so far (all CPUs), or undefined off Linux. */
export function cpuTicks(read: (path: string) => string): { steal: number; total: number } | undefined {
  try {
    const fields = read('/proc/stat').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
    const used = fields.slice(0, 8);
    if (used.length < 8 || used.some((n) => !Number.isFinite(n))) return undefined;
    return { steal: used[7]!, total: used.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

export const SCENARIO_TITLES: Record<ScenarioId, string> = {
  call: '(a) tools/call `echo`',
  list: '(b) tools/list (501 tools: echo + 500)',
};

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function medianRps(row: Row): number {
  return median(row.rounds.map((r) => r.rps));
}

export function medianP99(row: Row): number {
  return median(row.rounds.map((r) => r.p99Ms));
}

export function medianCpu(row: Row): number {
  return median(
    row.rounds.flatMap((r) => (r.cpuMicrosPerRequest === undefined ? [] : [r.cpuMicrosPerRequest])),
  );
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '—');
const mb = (n: number | undefined) => (n === undefined ? '?' : (n / 1048576).toFixed(1));

function times(r: number): string {
  if (!Number.isFinite(r)) return '—';
  return r >= 0.1 ? `${r.toFixed(2)}x` : `${r.toFixed(3)}x`;
}

/** Throughput relative to bare (higher is better). */
function ratio(row: Row, bare: Row | undefined): string {
  if (bare?.status !== 'ok' || row.status !== 'ok') return '—';
  return times(medianRps(row) / medianRps(bare));
}

/** Efficiency relative to bare: bare's CPU per request over this row's (higher is better). */
function cpuRatio(row: Row, bare: Row | undefined): string {
  if (bare?.status !== 'ok' || row.status !== 'ok') return '—';
  return times(medianCpu(bare) / medianCpu(row));
}

/**
 * The audit batcher under load, from the target's `groupCommits` counter: commits per second and
 * calls per commit (each call also queues its usage increment into the same commits).
 */
export function commitNote(row: Row): string | undefined {
  const per = row.rounds.flatMap((r) => (r.counters?.groupCommits ? [{ commits: r.counters.groupCommits, r }] : []));
  if (per.length === 0) return undefined;
  const perSecond = median(per.map((p) => p.commits / p.r.seconds));
  const callsPerCommit = median(per.map((p) => p.r.requests / p.commits));
  return `group commits: ${int(perSecond)}/s, ${callsPerCommit.toFixed(1)} calls per commit (medians)`;
}

/**
 * The row's best round against bare's best: on a machine whose noise (steal, a neighbour) only
 * ever slows a round down, the best rounds are the least disturbed ones.
 */
function bestRatio(row: Row, bare: Row | undefined): string {
  if (row.status !== 'ok' || bare?.status !== 'ok') return '—';
  const best = (r: Row) => Math.max(...r.rounds.map((x) => x.rps));
  return times(best(row) / best(bare));
}

/**
 * What each policy stage costs: every stage row against the row it adds to (`stage.vs`), in
 * throughput and in CPU time per request.
 */
export function stageTable(rows: Row[]): string | undefined {
  const staged = rows.filter((r) => r.stage);
  if (staged.length < 2) return undefined;
  const bare = rows.find((r) => r.target === 'bare');
  const lines = [
    '| stage | row | req/s | vs bare | vs bare (best rounds) | CPU µs/req | vs bare (CPU) | cost of the stage: req/s | cost of the stage: CPU µs/req | audit batcher |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  if (bare?.status === 'ok') {
    lines.push(`| 0. bare node:http (the limit) | bare | ${int(medianRps(bare))} | 1.00x | 1.00x | ${int(medianCpu(bare))} | 1.00x | | | |`);
  }
  const signed = (n: number, digits = 0) =>
    Number.isFinite(n) ? `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(digits)}` : '—';
  for (const row of staged) {
    const ok = row.status === 'ok';
    const prev = row.stage!.vs ? rows.find((r) => r.target === row.stage!.vs && r.status === 'ok') : undefined;
    const rps = ok ? medianRps(row) : Number.NaN;
    const cpu = ok ? medianCpu(row) : Number.NaN;
    const dRps = prev ? `${signed(((rps - medianRps(prev)) / medianRps(prev)) * 100, 1)}% vs ${prev.target}` : '';
    const dCpu = prev ? `${signed(cpu - medianCpu(prev), 1)} vs ${prev.target}` : '';
    lines.push(
      `| ${[
        cell(row.stage!.label),
        row.target,
        ok ? int(rps) : `**${row.status}**`,
        ratio(row, bare),
        bestRatio(row, bare),
        ok ? int(cpu) : '—',
        cpuRatio(row, bare),
        ok ? dRps : '',
        ok ? dCpu : '',
        (ok && commitNote(row)) || '',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

export function scenarioTable(rows: Row[]): string {
  // Each row is compared with the limit for the same request bytes: 2026-07-28 requests carry a
  // `_meta` envelope (a bigger body to parse) and get `resultType`, so they have their own bare row.
  const limitFor = (row: Row) =>
    rows.find((r) => r.target === (row.style === '2026-07-28' ? 'bare-2026' : 'bare')) ??
    rows.find((r) => r.target === 'bare');
  const lines = [
    '| target | style | req/s | vs bare | p99 ms | CPU µs/req | vs bare (CPU) | req/s per round | RSS start → end MB | body bytes | notes |',
    '|---|---|--:|--:|--:|--:|--:|---|---|--:|---|',
  ];
  for (const row of rows) {
    // An invalid row's numbers measured failures, not the server: keep them out of the columns.
    const shown = row.status === 'ok';
    const notes = [
      row.status === 'ok' ? '' : `**${row.status}**: ${row.reason}`,
      ...row.notes,
      (shown && commitNote(row)) || '',
    ].filter(Boolean);
    lines.push(
      `| ${[
        row.target,
        row.style,
        shown ? int(medianRps(row)) : '—',
        ratio(row, limitFor(row)),
        shown ? ms(medianP99(row)) : '—',
        shown ? int(medianCpu(row)) : '—',
        cpuRatio(row, limitFor(row)),
        (shown && row.rounds.map((r) => int(r.rps)).join(' / ')) || '—',
        row.rssStart === undefined && row.rssEnd === undefined
          ? '—'
          : `${mb(row.rssStart)} → ${mb(row.rssEnd)}`,
        row.bodyBytes ? int(row.bodyBytes) : '—',
        notes.map(cell).join('; '),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

export function renderReport(info: RunInfo, rows: Row[]): string {
  const out = [
    '# Gangway bench: latest run',
    '',
    `- date: ${info.date}${info.wallSeconds ? `, wall time ${Math.round(info.wallSeconds)} s` : ''}`,
    ...(info.stealPercent === undefined
      ? []
      : [
          `- steal time: ${info.stealPercent.toFixed(1)}% of the machine's CPU time went to other guests during the run${
            info.stealPercent >= 2 ? ' (a noisy VM: read the best rounds and CPU µs/req rather than medians of req/s)' : ''
          }`,
        ]),
    `- machine: ${info.cpu}, ${info.cores} cores; Node ${info.node}`,
    `- load generator: ${info.loadGen}; ${info.connections} connections; CPU pinning: ${info.pinning}`,
    `- per target and scenario: ${info.warmup} s warm-up, then ${info.rounds} round(s) of ${info.seconds} s, targets interleaved round-robin`,
    '- req/s, p99 and CPU µs/req are medians over the rounds. "vs bare" is req/s relative to the bare row',
    '  of the same request style (`bare`, or `bare-2026` for 2026-07-28 requests);',
    "  \"vs bare (CPU)\" is bare's CPU time per request over the target's (the target process's own",
    '  user+system time, so it holds up better than req/s when other work shares the machine).',
    '- "vs bare (best rounds)" in the policy-stage table is the row\'s best round over bare\'s best round:',
    '  noise only ever slows a round down, so on a noisy machine the best rounds disagree least.',
    "- RSS is the target process's own `rss` before warm-up and after the last round;",
    '  body bytes is the size of one verified response body.',
    '',
  ];
  for (const scenario of Object.keys(SCENARIO_TITLES) as ScenarioId[]) {
    const scenarioRows = rows.filter((r) => r.scenario === scenario);
    if (scenarioRows.length === 0) continue;
    out.push(`## ${SCENARIO_TITLES[scenario]}`, '', scenarioTable(scenarioRows), '');
    const stages = stageTable(scenarioRows);
    if (stages) out.push(`### Policy stages: ${SCENARIO_TITLES[scenario]}`, '', stages, '');
  }
  return out.join('\n');
}
