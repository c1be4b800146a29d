import { checkCount } from '../arguments.ts';
import { monthBounds, utcDay } from '../buckets.ts';
import type { UsageMonth, UsageRepo } from '../types.ts';
import type { WriteBatcher, WriteKind } from './batcher.ts';
import type { Database } from './database.ts';

interface UsageRow {
  tenant: string;
  credential: string;
  tool: string;
  day: string;
  count: number;
}

/*
 * Postgres text cannot hold U+0000, and a tenant, credential or tool name may contain any
 * character. Names are stored with `\` doubled and NUL written `\0`: reversible, and a name without
 * either (nearly all) is stored as is, so SQL over the table still reads naturally.
 */
const encode = (name: string): string =>
  name.includes('\\') || name.includes('\u0000') ? name.replace(/\\/g, '\\\\').replace(/\u0000/g, '\\0') : name;
const decode = (name: string): string =>
  name.includes('\\') ? name.replace(/\\(\\|0)/g, (_, c: string) => (c === '0' ? '\u0000' : '\\')) : name;

/**
 * Increments wait up to this long for a group commit (USAGE_LINGER_MS): under load, one batch in
 * this interval carries the usage upsert instead of every batch (bench/README.md, section (e)). An
 * increment is acknowledged only once committed, and the answer of the call it counts never waits for it.
 */
const USAGE_LINGER_MS = 25;

/**
 * Increments of one batch: summed per row, then one upsert with the rows in key order (so two
 * processes' batches lock shared rows in the same order), instead of one statement per call.
 */
function addKind(db: Database): WriteKind<UsageRow, void> {
  return {
    order: 1,
    params: 5,
    lingerMs: USAGE_LINGER_MS,
    sql(first, from) {
      const [a, b, c, d, e] = [0, 1, 2, 3, 4].map((i) => `$${first + i}`);
      return `INSERT INTO ${db.tables.usage} AS u (tenant, credential, tool, day, count)
    SELECT r.tenant, r.credential, r.tool, r.day, r.count
    FROM ${from}unnest(${a}::text[], ${b}::text[], ${c}::text[], ${d}::text[], ${e}::bigint[])
      WITH ORDINALITY AS r (tenant, credential, tool, day, count, n)
    ORDER BY r.n
    ON CONFLICT (tenant, credential, tool, day) DO UPDATE SET count = u.count + excluded.count`;
    },
    values(inputs) {
      const rows = new Map<string, UsageRow>();
      for (const r of inputs) {
        // JSON, not a separator: any character may appear in a name.
        const key = JSON.stringify([r.tenant, r.credential, r.tool, r.day]);
        const row = rows.get(key);
        if (row) row.count += r.count;
        else rows.set(key, { ...r });
      }
      const sorted = [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
      return [
        sorted.map((r) => r.tenant),
        sorted.map((r) => r.credential),
        sorted.map((r) => r.tool),
        sorted.map((r) => r.day),
        sorted.map((r) => r.count),
      ];
    },
    outputs: (inputs) => inputs.map(() => undefined),
  };
}

export function postgresUsage(db: Database, batcher: WriteBatcher): UsageRepo {
  const adds = addKind(db);
  return {
    async add(increment) {
      db.assertOpen();
      const count = increment.count ?? 1;
      checkCount(count);
      const day = utcDay(increment.at ?? db.now());
      await batcher.enqueue(adds, {
        tenant: encode(increment.tenant),
        credential: encode(increment.credential),
        tool: encode(increment.tool),
        day,
        count,
      });
    },

    async month(query) {
      db.assertOpen();
      const { first, last } = monthBounds(query.month);
      const rows = await db.query<{ tool: string; day: string; n: number }>(
        `SELECT tool, day, SUM(count)::bigint AS n FROM ${db.tables.usage}
         WHERE day BETWEEN $1 AND $2
           AND ($3::text IS NULL OR tenant = $3)
           AND ($4::text IS NULL OR credential = $4)
           AND ($5::text IS NULL OR tool = $5)
         GROUP BY tool, day`,
        [
          first,
          last,
          query.tenant === undefined ? null : encode(query.tenant),
          query.credential === undefined ? null : encode(query.credential),
          query.tool === undefined ? null : encode(query.tool),
        ],
      );
      const result: UsageMonth = { month: query.month, total: 0, byTool: {}, byDay: {} };
      for (const row of rows) {
        const tool = decode(row.tool);
        result.total += row.n;
        result.byTool[tool] = (result.byTool[tool] ?? 0) + row.n;
        result.byDay[row.day] = (result.byDay[row.day] ?? 0) + row.n;
      }
      return result;
    },
  };
}
