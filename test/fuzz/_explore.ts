// scratch: run many cases, collect distinct problems without stopping (deleted after use)
import http from 'node:http';
import fc from 'fast-check';
import { fixtureServer } from './fixture.ts';
import { caseArb, socketCaseArb } from './gen.ts';
import {
  describeExchange,
  replyProblem,
  resolveHeaders,
  SessionPool,
  sendFetch,
  sendNode,
  sessionSlots,
} from './harness.ts';
const escaped: string[] = [];
process.on('uncaughtException', (e) => escaped.push(`uncaught: ${(e as Error).stack}`));
process.on('unhandledRejection', (e) => escaped.push(`unhandled: ${(e as Error)?.stack ?? e}`));
import pino from 'pino';
const stacks = new Map<string, number>();
const sink = { write(line: string) { const o = JSON.parse(line); const st = String(o.err?.stack ?? o.msg).split('\n').slice(0, 4).join(' | '); stacks.set(st, (stacks.get(st) ?? 0) + 1); } };
const logger = pino({ level: 'error' }, sink);
const stateful = fixtureServer({ stateless: false, logger });
const stateless = fixtureServer({ stateless: true, logger });
const sse = new Map<string, number>();
const pool = new SessionPool(stateful);
const ports = {
  stateful: (await stateful.listen({ port: 0 })).port,
  stateless: (await stateless.listen({ port: 0 })).port,
};
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const found = new Map<string, { n: number; ex: string }>();
const N = Number(process.env.N ?? 20000);
const seed = Number(process.env.S ?? 7);
const int = new Map<string, string>();
const st = new Map<string, number>();
const t0 = performance.now();
for (const [face, arb] of [
  ['fetch', caseArb],
  ['node', socketCaseArb],
] as const) {
  const cases = fc.sample(arb, { numRuns: face === 'fetch' ? N : Math.round(N * 0.36), seed });
  for (const c of cases) {
    const mark = escaped.length;
    const h = await resolveHeaders(c.headers, pool);
    const obs =
      face === 'fetch'
        ? await sendFetch(c.target === 'stateful' ? stateful : stateless, c, h)
        : await sendNode(ports[c.target], agent, c, h);
    if (obs.status === 404 || (c.method === 'DELETE' && obs.status === 204))
      for (const s of sessionSlots(c.headers)) pool.forget(s);
    await new Promise((r) => setImmediate(() => setImmediate(r)));
    st.set(face + ' ' + obs.status, (st.get(face + ' ' + obs.status) ?? 0) + 1);
    let p = replyProblem(c, obs);
    if (escaped.length > mark) p = `process: ${escaped.slice(mark).join(' | ').slice(0, 300)}`;
    if (obs.body.includes('"code":-32603')) {
      const k = `${c.label}`;
      if (!int.has(k)) int.set(k, describeExchange(c, h, obs));
    }
    if (!p) continue;
    const key = `${face} ${p
      .split('\n')[0]!
      .replace(/reference \w+/, '')
      .replace(/id ("[^"]*"|-?\d+)/g, 'id ?')}`;
    const f = found.get(key);
    const ex = describeExchange(c, h, obs);
    if (!f) found.set(key, { n: 1, ex });
    else {
      f.n++;
      if (ex.length < f.ex.length) f.ex = ex;
    }
  }
}
for (const [k, v] of found) console.log(`=== ${k} x${v.n}\n${v.ex}\n`);
console.log('--- internal errors (-32603) by label');
for (const [k, v] of int) console.log(`# ${k}\n${v}\n`);
console.log('logged errors:'); for (const [k, n] of stacks) console.log(n, k);
console.log('sse:', [...sse]);
console.log('elapsed s', ((performance.now() - t0) / 1000).toFixed(1));
console.log([...st].sort().join(' '));
agent.destroy();
await Promise.all([stateful.close(), stateless.close()]);
