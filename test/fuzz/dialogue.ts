import fc from 'fast-check';
import type { Gangway } from '../../src/index.ts';
import { ANSWERS, type FuzzCase, LEGACY_ERAS, MODERN, weird } from './gen.ts';
import { type Observed, parseSse, replyProblem } from './harness.ts';

/**
 * Multi-message exchanges the single-request fuzzer cannot reach: the fixture's `interview` tool
 * asks three questions (elicitation and sampling together, then roots).
 *   2025 eras: the questions are live requests on the tool call's SSE stream; the client answers
 *   each with a JSON-RPC response POSTed on the same session (right or wrong shape, an error,
 *   a wrong id, twice, or not at all).
 *   2026-07-28: the call returns input_required with a signed requestState; the client retries
 *   with answers (right or wrong) and the state (kept, tampered, truncated, dropped, from
 *   another call) and possibly different arguments.
 * Every reply goes through the same oracle as the random cases; with right answers and an
 * untouched state the call must also end in a result.
 */

const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CAPS = 'io.modelcontextprotocol/clientCapabilities';
const KEY_FOR: Record<string, 'confirm' | 'model' | 'roots'> = {
  'elicitation/create': 'confirm',
  'sampling/createMessage': 'model',
  'roots/list': 'roots',
};
const GOOD = {
  confirm: { action: 'accept', content: { ok: true } },
  model: { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' },
  roots: { roots: [{ uri: 'file:///tmp' }] },
};

type Answer =
  | { readonly k: 'good' }
  | { readonly k: 'value'; readonly confirm: unknown; readonly model: unknown; readonly roots: unknown }
  | { readonly k: 'error'; readonly code: number; readonly message: string }
  | { readonly k: 'wrongId'; readonly id: unknown }
  | { readonly k: 'twice' }
  | { readonly k: 'none' };

const answerArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ k: 'good' as const }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('value' as const), ...ANSWERS }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('error' as const),
      code: fc.integer(),
      message: fc.string({ maxLength: 10 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('wrongId' as const),
      id: fc.oneof(fc.constantFrom('gw-0', 'gw-999', 0), weird),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ k: 'twice' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'none' as const }) },
);

type StateUse = 'keep' | 'flip' | 'truncate' | 'drop' | 'swap' | 'garbage';

export interface Dialogue {
  readonly modern: boolean;
  /** 2025: pool slot (odd: a client with elicitation, sampling and roots). */
  readonly slot: number;
  readonly topic: string;
  readonly answerFace: 'fetch' | 'node';
  readonly answers: readonly Answer[];
  /** 2026 rounds: how the retry treats the requestState and arguments. */
  readonly rounds: ReadonlyArray<{
    readonly state: StateUse;
    readonly topic: string | undefined;
    readonly extraKey: boolean;
  }>;
  readonly caps: Record<string, unknown>;
}

export const dialogueArb: fc.Arbitrary<Dialogue> = fc.record({
  modern: fc.boolean(),
  slot: fc.integer({ min: 0, max: LEGACY_ERAS.length - 1 }).map((e) => e * 2 + 1),
  topic: fc.string({ maxLength: 8 }),
  answerFace: fc.constantFrom('fetch' as const, 'node' as const),
  answers: fc.array(answerArb, { minLength: 3, maxLength: 3 }),
  rounds: fc.array(
    fc.record({
      state: fc.oneof(
        { weight: 6, arbitrary: fc.constant<StateUse>('keep') },
        { weight: 1, arbitrary: fc.constantFrom<StateUse>('flip', 'truncate', 'drop', 'swap', 'garbage') },
      ),
      topic: fc.oneof(
        { weight: 6, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
      ),
      extraKey: fc.boolean(),
    }),
    { minLength: 2, maxLength: 3 },
  ),
  caps: fc.constantFrom<Record<string, unknown>>(
    { elicitation: {}, sampling: {}, roots: {} },
    { elicitation: {}, sampling: {}, roots: {} },
    { elicitation: {} },
    {},
  ),
});

export interface DialogueIo {
  readonly app: Gangway;
  sessionId(slot: number): Promise<string>;
  /** Sends one case through a face and checks it with the oracle; returns what came back. */
  send(face: 'fetch' | 'node', c: FuzzCase): Promise<Observed>;
  /** A requestState issued earlier for some other call (for 'swap'). */
  otherState: string | undefined;
}

const enc = new TextEncoder();
const post = (headers: Array<[string, string]>, body: unknown, label: string): FuzzCase => ({
  target: 'stateful',
  method: 'POST',
  path: '/mcp',
  headers: [['Host', '127.0.0.1:3000'], ['Content-Type', 'application/json'], ...headers],
  body: enc.encode(JSON.stringify(body)),
  chunks: 0,
  label,
});

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Runs one dialogue; throws (with the transcript) on the first problem. Returns how it ended. */
export async function runDialogue(d: Dialogue, io: DialogueIo): Promise<string> {
  const transcript: string[] = [];
  const fail = (msg: string): never => {
    throw new Error(`${msg}\ndialogue: ${JSON.stringify(d)}\ntranscript:\n${transcript.join('\n')}`);
  };
  return d.modern ? modern(d, io, transcript, fail) : legacy(d, io, transcript, fail);
}

/** How a tool call reply ended: result (ok / isError / input_required) or error code. */
function outcome(text: string): string {
  try {
    const m = JSON.parse(text) as {
      result?: { isError?: boolean; resultType?: string };
      error?: { code: number };
    };
    if (m.error) return `error ${m.error.code}`;
    if (m.result?.resultType === 'input_required') return 'input_required';
    return m.result?.isError ? 'tool error' : 'success';
  } catch {
    return 'unparsed';
  }
}

async function legacy(
  d: Dialogue,
  io: DialogueIo,
  transcript: string[],
  fail: (m: string) => never,
): Promise<string> {
  const era = LEGACY_ERAS[(d.slot - 1) / 2]!;
  const session = await io.sessionId(d.slot);
  const headers: Array<[string, string]> = [
    ['Accept', 'application/json, text/event-stream'],
    ['Mcp-Session-Id', session],
    ['MCP-Protocol-Version', era],
  ];
  const callId = 'survey-1';
  const call = post(
    headers,
    {
      jsonrpc: '2.0',
      id: callId,
      method: 'tools/call',
      params: { name: 'interview', arguments: { topic: d.topic } },
    },
    'dialogue:2025',
  );
  const res = await io.app.fetch(
    new Request('http://127.0.0.1:3000/mcp', {
      method: 'POST',
      headers: [...call.headers] as Array<[string, string]>,
      body: call.body as Uint8Array<ArrayBuffer>,
    }),
  );
  const type = res.headers.get('content-type') ?? '';
  transcript.push(`call -> ${res.status} ${type}`);
  const obs: Observed = {
    face: 'fetch',
    status: res.status,
    contentType: type,
    headers: {},
    body: Buffer.alloc(0),
    ended: false,
    cut: false,
    netError: undefined,
  };
  const parts: Buffer[] = [];
  if (res.body) {
    const reader = res.body.getReader();
    let handled = 0;
    let answerIndex = 0;
    const deadline = Date.now() + 3_000;
    // a question left unanswered on purpose: the client gives up shortly after (closes the stream)
    let givenUpAt = Number.POSITIVE_INFINITY;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const step = await Promise.race([
        reader.read(),
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), Math.max(0, Math.min(deadline, givenUpAt) - Date.now()));
        }),
      ]);
      clearTimeout(timer);
      if (step === 'timeout') {
        await reader.cancel().catch(() => {});
        if (givenUpAt <= deadline) obs.cut = true;
        else obs.netError = 'tool call stream did not end within 3 s';
        break;
      }
      if (step.done) {
        obs.ended = true;
        break;
      }
      parts.push(Buffer.from(step.value));
      const events = parseSse(Buffer.concat(parts).toString('utf8'));
      for (; handled < events.length; handled++) {
        const m = JSON.parse(events[handled]!.data) as Record<string, unknown>;
        transcript.push(`  stream: ${events[handled]!.data.slice(0, 200)}`);
        if (typeof m.method !== 'string' || !('id' in m)) continue;
        const plan = d.answers[answerIndex++ % d.answers.length]!;
        if (plan.k === 'none' || plan.k === 'wrongId') givenUpAt = Math.min(givenUpAt, Date.now() + 40);
        await answer(m.id, m.method, plan, d.answerFace, headers, io, transcript, fail);
      }
    }
  }
  obs.body = Buffer.concat(parts);
  const problem = replyProblem(call, obs);
  if (problem) fail(`tool call reply: ${problem}`);
  // right answers to every question, in an era with elicitation: the tool must succeed
  const final = parseSse(obs.body.toString('utf8')).at(-1);
  const allGood = d.answers.every((a) => a.k === 'good');
  if (obs.cut) return '2025 stream: client gave up on an unanswered question';
  if (allGood && era !== '2025-03-26' && type.startsWith('text/event-stream')) {
    const m = final ? (JSON.parse(final.data) as { result?: { isError?: boolean } }) : undefined;
    if (!m?.result || m.result.isError)
      fail('right answers to every question, but the tool call did not succeed');
  }
  const last = type.startsWith('text/event-stream') ? (final?.data ?? '') : obs.body.toString('utf8');
  return `2025 ${type.startsWith('text/event-stream') ? 'stream' : 'json'}: ${outcome(last)}`;
}

async function answer(
  id: unknown,
  method: string,
  plan: Answer,
  face: 'fetch' | 'node',
  headers: Array<[string, string]>,
  io: DialogueIo,
  transcript: string[],
  fail: (m: string) => never,
): Promise<void> {
  if (plan.k === 'none') return;
  const key = KEY_FOR[method] ?? 'confirm';
  let msg: Record<string, unknown>;
  if (plan.k === 'good' || plan.k === 'twice') msg = { jsonrpc: '2.0', id, result: GOOD[key] };
  else if (plan.k === 'value') msg = { jsonrpc: '2.0', id, result: plan[key] };
  else if (plan.k === 'error')
    msg = { jsonrpc: '2.0', id, error: { code: plan.code, message: plan.message } };
  else msg = { jsonrpc: '2.0', id: plan.id, result: GOOD[key] };
  const c = post(headers, msg, 'dialogue:2025-answer');
  for (let i = 0; i < (plan.k === 'twice' ? 2 : 1); i++) {
    const obs = await io.send(i ? (face === 'fetch' ? 'node' : 'fetch') : face, c);
    transcript.push(
      `  answer ${JSON.stringify(msg).slice(0, 200)} -> ${obs.status} ${obs.body.toString().slice(0, 200)}`,
    );
    if (obs.status !== 202 && !(obs.status >= 400 && obs.status < 500))
      fail(`an answer was met with ${obs.status}`);
  }
}

async function modern(
  d: Dialogue,
  io: DialogueIo,
  transcript: string[],
  fail: (m: string) => never,
): Promise<string> {
  const headers: Array<[string, string]> = [
    ['Accept', 'application/json, text/event-stream'],
    ['MCP-Protocol-Version', MODERN],
    ['Mcp-Method', 'tools/call'],
    ['Mcp-Name', 'interview'],
  ];
  const meta = { [META_VERSION]: MODERN, [META_CAPS]: d.caps };
  let args: Record<string, unknown> = { topic: d.topic };
  let params: Record<string, unknown> = { name: 'interview', arguments: args, _meta: meta };
  let untouched = true;
  const allGood = d.answers.every((a) => a.k === 'good');
  for (let round = 0; ; round++) {
    const c = post(
      headers,
      { jsonrpc: '2.0', id: round + 1, method: 'tools/call', params },
      `dialogue:2026-round-${round}`,
    );
    const obs = await io.send(round % 2 ? 'node' : 'fetch', c);
    transcript.push(
      `round ${round}: ${JSON.stringify(params).slice(0, 300)}\n  -> ${obs.status} ${obs.body.toString().slice(0, 300)}`,
    );
    let result: Record<string, unknown> | undefined;
    const text = obs.contentType.startsWith('text/event-stream')
      ? (parseSse(obs.body.toString('utf8')).at(-1)?.data ?? '')
      : obs.body.toString('utf8');
    try {
      result = (JSON.parse(text) as { result?: Record<string, unknown> }).result;
    } catch {
      result = undefined;
    }
    const complete = d.caps.roots !== undefined && allGood && untouched;
    if (result?.resultType !== 'input_required') {
      if (complete && (!result || result.isError))
        fail('right answers and an untouched requestState, but no result');
      return `2026 round ${round}: ${outcome(text)}`;
    }
    if (typeof result.requestState === 'string') io.otherState = io.otherState ?? result.requestState;
    const plan = d.rounds[round];
    if (!plan) return `2026 round ${round}: input_required (client stopped)`;
    const requests = isObject(result.inputRequests) ? result.inputRequests : {};
    const responses: Record<string, unknown> = {};
    for (const key of Object.keys(requests)) {
      const a = d.answers[Object.keys(responses).length % d.answers.length]!;
      const k = (KEY_FOR[String((requests[key] as { method?: unknown })?.method)] ??
        'confirm') as keyof typeof GOOD;
      responses[key] = a.k === 'value' ? a[k] : a.k === 'none' ? undefined : GOOD[k];
    }
    if (plan.extraKey) responses.extra = { action: 'accept' };
    const state = result.requestState as string;
    let nextState: unknown = state;
    if (plan.state === 'flip') nextState = `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`;
    else if (plan.state === 'truncate') nextState = state.slice(0, state.length >> 1);
    else if (plan.state === 'drop') nextState = undefined;
    else if (plan.state === 'swap') nextState = io.otherState;
    else if (plan.state === 'garbage') nextState = { state };
    if (plan.state !== 'keep' && !(plan.state === 'swap' && io.otherState === state)) untouched = false;
    if (plan.topic !== undefined) {
      args = { topic: plan.topic };
      untouched = false;
    }
    params = { name: 'interview', arguments: args, inputResponses: responses, _meta: meta };
    if (nextState !== undefined) params.requestState = nextState;
  }
}
