// The correctness probe run before any timing: a target that answers wrongly must not be able
// to post a fast number. Sends the exact bytes the load generator will send, plus variants
// with other ids and texts (so a canned response fails), and checks every answer.
import { isDeepStrictEqual } from 'node:util';
import { listedTools } from '../fixtures/tools500.ts';
import { type BenchRequest, buildRequest, ECHO_TEXT, type ScenarioId, type Style } from './requests.ts';

export interface ProbeResult {
  ok: boolean;
  /** Why the target failed, or notes that do not fail it (e.g. extra fields in tools/list). */
  detail: string;
  bodyBytes: number;
}

const EXPECTED_TOOLS = new Map(listedTools().map((t) => [String(t.name), t]));

async function send(
  port: number,
  request: BenchRequest,
): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

type Check = { error: string } | { note: string };

function checkBody(
  scenario: ScenarioId,
  id: number | string,
  text: string,
  msg: Record<string, unknown>,
): Check {
  if (msg.jsonrpc !== '2.0') return { error: 'jsonrpc is not "2.0"' };
  if (msg.id !== id) return { error: `id ${JSON.stringify(msg.id)}, sent ${JSON.stringify(id)}` };
  if (msg.error !== undefined) return { error: `JSON-RPC error ${JSON.stringify(msg.error).slice(0, 300)}` };
  const result = msg.result as Record<string, unknown> | undefined;
  if (typeof result !== 'object' || result === null) return { error: 'no result object' };
  if (scenario === 'call') {
    const content = result.content as Array<Record<string, unknown>> | undefined;
    const first = Array.isArray(content) ? content[0] : undefined;
    if (first?.type !== 'text' || first.text !== text) {
      return {
        error: `echo content ${JSON.stringify(content).slice(0, 200)}, expected text ${JSON.stringify(text)}`,
      };
    }
    if (result.isError === true) return { error: 'isError: true' };
    return { note: '' };
  }
  const tools = result.tools as Array<Record<string, unknown>> | undefined;
  if (!Array.isArray(tools)) return { error: 'result.tools is not an array' };
  if (tools.length !== EXPECTED_TOOLS.size) {
    return { error: `${tools.length} tools listed, expected ${EXPECTED_TOOLS.size}` };
  }
  // Every listed tool must carry the fixture's definition (so every target sends the same
  // schemas, not a cheaper stand-in). Order is free; `$schema` (a dialect marker some
  // servers add) and extra keys are allowed and reported.
  const extra = new Set<string>();
  const seen = new Set<string>();
  for (const got of tools) {
    const name = String(got.name);
    const want = EXPECTED_TOOLS.get(name);
    if (!want) return { error: `unexpected tool ${name}` };
    if (seen.has(name)) return { error: `tool ${name} listed twice` };
    seen.add(name);
    for (const key of Object.keys(got)) if (!(key in want)) extra.add(key);
    for (const key of Object.keys(want)) {
      let value = got[key];
      if (key === 'inputSchema' && typeof value === 'object' && value !== null && '$schema' in value) {
        const { $schema, ...rest } = value as Record<string, unknown>;
        extra.add(`inputSchema.$schema (${String($schema)})`);
        value = rest;
      }
      if (!isDeepStrictEqual(value, want[key])) {
        return { error: `${name}.${key} differs from the fixture: ${JSON.stringify(value)?.slice(0, 200)}` };
      }
    }
  }
  return { note: extra.size ? `extra in tools/list: ${[...extra].join(', ')}` : '' };
}

export async function probe(
  port: number,
  scenario: ScenarioId,
  style: Style,
  headers: Record<string, string> = {},
): Promise<ProbeResult> {
  const cases: Array<{ id: number | string; text: string }> = [
    { id: 1, text: ECHO_TEXT }, // the exact load request
    { id: 1, text: ECHO_TEXT },
    { id: 'probe-7', text: `probe ${Math.random().toString(36).slice(2)} "quoted" ✓` },
    { id: 42, text: ECHO_TEXT },
  ];
  let bodyBytes = 0;
  let note = '';
  for (const c of cases) {
    const request = buildRequest(scenario, style, { ...c, headers });
    let res: Awaited<ReturnType<typeof send>>;
    try {
      res = await send(port, request);
    } catch (err) {
      return { ok: false, detail: `request failed: ${(err as Error).message}`, bodyBytes };
    }
    const where = `(id ${JSON.stringify(c.id)})`;
    if (res.status !== 200) {
      return { ok: false, detail: `HTTP ${res.status} ${where}: ${res.text.slice(0, 300)}`, bodyBytes };
    }
    if (!res.type.startsWith('application/json')) {
      return { ok: false, detail: `content-type ${JSON.stringify(res.type)} ${where}`, bodyBytes };
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      return { ok: false, detail: `body is not JSON ${where}: ${res.text.slice(0, 200)}`, bodyBytes };
    }
    const check = checkBody(scenario, c.id, c.text, msg);
    if ('error' in check) return { ok: false, detail: `${check.error} ${where}`, bodyBytes };
    if (c === cases[0]) {
      bodyBytes = Buffer.byteLength(res.text);
      note = check.note;
    }
  }
  return { ok: true, detail: note, bodyBytes };
}
