/**
 * HTTP fuzzing of the MCP endpoint (SECURITY.md, Transport 4 and 5). Generators (gen.ts): valid
 * requests of all four protocol eras, then mutated structurally (members, ids, params, method
 * names, _meta), textually (raw and \u-escaped duplicate keys, truncation, deep nesting, bodies
 * at the size limit) and byte-wise (invalid UTF-8); batches, notifications, responses, junk; random
 * header sets (content type, accept, MCP-Protocol-Version, Mcp-Method / Mcp-Name plain, base64
 * sentinel or malformed sentinel, sessions live or random, Origin, Host, duplicates, oversize);
 * GET / DELETE / PUT / OPTIONS / HEAD / PATCH; clients that vanish early, mid-upload or at the
 * response headers. Faces: app.fetch(Request) in process (most runs) and node:http over a socket
 * with raw bytes; one at a time, and in concurrent groups while resource updates fire. Dialogues
 * (dialogue.ts) answer the fixture's questions live (2025) or through input_required (2026).
 *
 * For every request:
 *   - no 5xx, no hang, no reset (except under a body refused for size), app.fetch() never
 *     rejects, no -32603 "Internal error" (the fixture's handlers never produce one: only an
 *     escaped exception does);
 *   - no uncaught exception or unhandled rejection anywhere in the process;
 *   - the reply is a well-formed JSON-RPC error (4xx or 200), a 200 JSON-RPC result or SSE stream
 *     (read to its end, or cut at a bound for GET / listen streams), a 202/204 without a body, or
 *     another 4xx; replies never carry an id that was not sent, never answer a readable request
 *     id with null, and never 202 a body holding a request.
 * REGRESSIONS holds the shrunk reproducers of every bug found so far; they run first.
 *
 * FUZZ_RUNS (default 12000: 70% fetch, 25% node:http, 5% concurrent groups, 2% dialogues) scales
 * the run count; FUZZ_SEED replays a run. The seed is printed as a test diagnostic, and
 * fast-check prints seed and path with every counterexample.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Gangway } from '../../src/index.ts';
import { type DialogueIo, dialogueArb, runDialogue } from './dialogue.ts';
import { fixtureServer, RESOURCE_URI } from './fixture.ts';
import { caseArb, type FuzzCase, socketCaseArb } from './gen.ts';
import {
  describeExchange,
  type Observed,
  replyProblem,
  resolveHeaders,
  SessionPool,
  sendFetch,
  sendNode,
  sessionSlots,
} from './harness.ts';

const TOTAL = Number(process.env.FUZZ_RUNS ?? 12_000);
const FETCH_RUNS = Math.max(1, Math.round(TOTAL * 0.7));
const NODE_RUNS = Math.max(1, Math.round(TOTAL * 0.25));
/** Groups of 2-6 concurrent requests (about 4 requests each). */
const CONCURRENT_RUNS = Math.max(1, Math.round(TOTAL * 0.05));
const DIALOGUE_RUNS = Math.max(1, Math.round(TOTAL * 0.02));
const SEED =
  process.env.FUZZ_SEED !== undefined
    ? Number(process.env.FUZZ_SEED)
    : (Date.now() ^ (Math.random() * 2 ** 31)) | 0;

/** Errors that escaped to the process while the fuzzer ran. */
const escaped: string[] = [];
const onUncaught = (err: unknown) =>
  escaped.push(`uncaughtException: ${(err as Error)?.stack ?? String(err)}`);
const onRejection = (reason: unknown) =>
  escaped.push(`unhandledRejection: ${(reason as Error)?.stack ?? String(reason)}`);

const settle = () => new Promise<void>((r) => setImmediate(() => setImmediate(r)));
const enc = new TextEncoder();

// ------------------------------------------------------------------------------------------
// Shrunk reproducers of bugs the fuzzer found. They run one by one (both faces) in the first
// test, so the suite fails on every seed until they are fixed; the random properties below may
// find them again, and anything new.

const META =
  '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}';
const modernHeaders = (method: string, name?: string): FuzzCase['headers'] => [
  ['Host', '127.0.0.1:3000'],
  ['Content-Type', 'application/json'],
  ['Accept', 'application/json, text/event-stream'],
  ['MCP-Protocol-Version', '2026-07-28'],
  ['Mcp-Method', method],
  ...(name === undefined ? [] : ([['Mcp-Name', name]] as const)),
];
const post = (label: string, headers: FuzzCase['headers'], body: string): FuzzCase => ({
  target: 'stateful',
  method: 'POST',
  path: '/mcp',
  headers,
  body: enc.encode(body),
  chunks: 0,
  label,
});

export const REGRESSIONS: readonly FuzzCase[] = [
  // 500: Mcp-Name mismatch message calls String() on a params.name object whose own toString is not a function
  post(
    'bug1: tools/call name {"toString":1} -> 500',
    modernHeaders('tools/call', 'echo'),
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":{"toString":1},${META}}}`,
  ),
  post(
    'bug1: resources/read uri {"toString":{}} -> 500',
    modernHeaders('resources/read', 'x'),
    `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":{"toString":{}},${META}}}`,
  ),
  // 500: the protocolVersion mismatch message calls String() on the _meta value
  post(
    'bug2: _meta protocolVersion {"toString":1} -> 500',
    modernHeaders('tools/list'),
    '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":{"toString":1},"io.modelcontextprotocol/clientCapabilities":{}}}}',
  ),
  // id lost: initialize with bad params answers id null
  post(
    'bug3: initialize protocolVersion 1 -> id null',
    [
      ['Host', '127.0.0.1:3000'],
      ['Content-Type', 'application/json'],
    ],
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1}}',
  ),
  // -32603: completion/complete calls String() on ref.name / ref.uri
  post(
    'bug4: completion/complete ref.name {"toString":1} -> -32603',
    modernHeaders('completion/complete'),
    `{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":{"toString":1}},"argument":{"name":"name","value":""},${META}}}`,
  ),
  // fetch face: a request body stream that errors (client gone mid-upload) makes app.fetch() reject
  {
    ...post(
      'bug5: body stream errors mid-upload -> app.fetch() rejects',
      modernHeaders('tools/list'),
      `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{${META}}}`,
    ),
    abort: 'body',
  },
];

// ------------------------------------------------------------------------------------------

interface Stats {
  requests: number;
  labels: Map<string, number>;
  statuses: Map<string, number>;
}
const newStats = (): Stats => ({ requests: 0, labels: new Map(), statuses: new Map() });
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
const family = (label: string) => label.split(/[+:]/)[0]!;

describe('HTTP fuzz: /mcp never crashes, never 5xx, always a well-formed reply', {
  concurrency: false,
}, () => {
  let stateful: Gangway;
  let stateless: Gangway;
  let pool: SessionPool;
  const ports: Record<FuzzCase['target'], number> = { stateful: 0, stateless: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  before(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onRejection);
    stateful = fixtureServer({ stateless: false });
    stateless = fixtureServer({ stateless: true });
    pool = new SessionPool(stateful);
    ports.stateful = (await stateful.listen({ port: 0, host: '127.0.0.1' })).port;
    ports.stateless = (await stateless.listen({ port: 0, host: '127.0.0.1' })).port;
  });

  after(async () => {
    agent.destroy();
    await Promise.all([stateful?.close(), stateless?.close()]);
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onRejection);
  });

  /** One request through one face, checked; throws with a full reproducer. */
  async function exchange(face: 'fetch' | 'node', c: FuzzCase, stats: Stats): Promise<Observed> {
    const mark = escaped.length;
    const headers = await resolveHeaders(c.headers, pool);
    const app = c.target === 'stateful' ? stateful : stateless;
    let obs: Observed | undefined;
    try {
      obs =
        face === 'fetch'
          ? await sendFetch(app, c, headers)
          : await sendNode(ports[c.target], agent, c, headers);
    } catch (err) {
      await settle();
      throw new Error(`the request itself threw: ${(err as Error).stack}\n${describeExchange(c, headers, obs)}`, {
        cause: err,
      });
    }
    // sessions the case ended: start fresh ones for later cases
    if (obs.status === 404 || (c.method === 'DELETE' && obs.status === 204))
      for (const s of sessionSlots(c.headers)) pool.forget(s);
    await settle();

    stats.requests++;
    bump(stats.labels, family(c.label));
    bump(stats.statuses, `${obs.status}${obs.contentType.startsWith('text/event-stream') ? '-sse' : ''}`);

    if (escaped.length > mark) {
      throw new Error(
        `process-level error while serving:\n${escaped.slice(mark).join('\n')}\n${describeExchange(c, headers, obs)}`,
      );
    }
    const problem = replyProblem(c, obs);
    if (problem) throw new Error(`${problem}\n${describeExchange(c, headers, obs)}`);
    return obs;
  }

  function summary(t: { diagnostic(msg: string): void }, stats: Stats, started: number) {
    t.diagnostic(
      `${stats.requests} requests in ${((performance.now() - started) / 1000).toFixed(1)} s (seed ${SEED})`,
    );
    t.diagnostic(
      `statuses: ${[...stats.statuses]
        .sort()
        .map(([k, n]) => `${k}=${n}`)
        .join(' ')}`,
    );
    t.diagnostic(
      `generators: ${[...stats.labels]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k}=${n}`)
        .join(' ')}`,
    );
  }

  const params = (numRuns: number, seed: number) => ({ numRuns, seed, includeErrorInReport: true });

  it('regressions: every shrunk reproducer, through both faces', async (t) => {
    const stats = newStats();
    for (const c of REGRESSIONS) {
      for (const face of ['fetch', 'node'] as const) {
        await t.test(`${face}: ${c.label}`, async () => {
          await exchange(face, c, stats);
        });
      }
    }
  });

  it(`fetch face: ${FETCH_RUNS} random cases through app.fetch(Request)`, async (t) => {
    t.diagnostic(`seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const stats = newStats();
    const started = performance.now();
    try {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          await exchange('fetch', c, stats);
        }),
        params(FETCH_RUNS, SEED),
      );
    } finally {
      summary(t, stats, started);
    }
  });

  it(`node:http face: ${NODE_RUNS} random cases as raw bytes over a socket`, async (t) => {
    const stats = newStats();
    const started = performance.now();
    try {
      await fc.assert(
        fc.asyncProperty(socketCaseArb, async (c) => {
          await exchange('node', c, stats);
        }),
        params(NODE_RUNS, SEED + 1),
      );
    } finally {
      summary(t, stats, started);
    }
  });

  it(`both faces at once: ${CONCURRENT_RUNS} groups of 2-6 concurrent requests`, async (t) => {
    const stats = newStats();
    const started = performance.now();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.constantFrom('fetch' as const, 'node' as const), socketCaseArb), {
            minLength: 2,
            maxLength: 6,
          }),
          async (group) => {
            // resource updates while GET and listen streams may be open
            const notify = setTimeout(() => {
              stateful.notifyResourceUpdated(RESOURCE_URI);
              stateless.notifyResourceUpdated('fixture://items/1');
            }, 3);
            try {
              await Promise.all(group.map(([face, c]) => exchange(face, c, stats)));
            } finally {
              clearTimeout(notify);
            }
          },
        ),
        { numRuns: CONCURRENT_RUNS, seed: SEED + 2, includeErrorInReport: true },
      );
    } finally {
      summary(t, stats, started);
    }
  });

  it(`dialogues: ${DIALOGUE_RUNS} elicitation / sampling / roots exchanges (2025 live, 2026 input_required)`, async (t) => {
    const stats = newStats();
    const started = performance.now();
    const io: DialogueIo = {
      app: stateful,
      sessionId: (slot) => pool.get(slot),
      send: (face, c) => exchange(face, c, stats),
      otherState: undefined,
    };
    try {
      await fc.assert(
        fc.asyncProperty(dialogueArb, async (d) => {
          const mark = escaped.length;
          bump(stats.labels, await runDialogue(d, io));
          await settle();
          if (escaped.length > mark)
            throw new Error(`process-level error:\n${escaped.slice(mark).join('\n')}`);
        }),
        params(DIALOGUE_RUNS, SEED + 3),
      );
    } finally {
      summary(t, stats, started);
    }
  });

  it('the process is alive and both servers still answer', async () => {
    assert.deepEqual(escaped, []);
    const res = await stateful.fetch(new Request('http://127.0.0.1:3000/healthz'));
    assert.equal(res.status, 200);
    for (const target of ['stateful', 'stateless'] as const) {
      const c: FuzzCase = {
        ...post(
          'liveness',
          modernHeaders('server/discover'),
          `{"jsonrpc":"2.0","id":7,"method":"server/discover","params":{${META}}}`,
        ),
        target,
      };
      const headers = await resolveHeaders(c.headers, pool);
      const obs = await sendNode(ports[target], agent, c, headers);
      assert.equal(obs.status, 200, describeExchange(c, headers, obs));
      assert.equal((JSON.parse(obs.body.toString()) as { id: number }).id, 7);
    }
  });
});
