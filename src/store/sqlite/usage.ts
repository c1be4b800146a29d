import { checkCount } from '../arguments.ts';
import { monthBounds, utcDay } from '../buckets.ts';
import type { UsageMonth, UsageRepo } from '../types.ts';
import type { WriteBatcher } from './batcher.ts';
import type { Connection } from './database.ts';

export function sqliteUsage(conn: Connection, batcher: WriteBatcher): UsageRepo {
  // Increments waiting for the next commit, summed per row: one upsert per (tenant, credential,
  // tool, day) and batch instead of one per call. Every add settles with the commit that holds it.
  let pending: Map<string, { tenant: string; credential: string; tool: string; day: string; count: number }> | undefined;
  let committed: Promise<void> | undefined;
  const UPSERT = `INSERT INTO usage (tenant, credential, tool, day, count) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (tenant, credential, tool, day) DO UPDATE SET count = count + excluded.count`;
  return {
    async add(increment) {
      const count = increment.count ?? 1;
      checkCount(count);
      const day = utcDay(increment.at ?? conn.now());
      // JSON, not a separator: a tenant or tool name may contain any character.
      const key = JSON.stringify([increment.tenant, increment.credential, increment.tool, day]);
      if (!pending) {
        const rows = (pending = new Map());
        committed = batcher.enqueue(() => {
          if (pending === rows) pending = undefined; // later adds start the next batch's map
          const upsert = conn.stmt(UPSERT);
          for (const r of rows.values()) upsert.run(r.tenant, r.credential, r.tool, r.day, r.count);
        });
      }
      const row = pending.get(key);
      if (row) row.count += count;
      else pending.set(key, { tenant: increment.tenant, credential: increment.credential, tool: increment.tool, day, count });
      await committed;
    },

    async month(query) {
      const { first, last } = monthBounds(query.month);
      const rows = conn
        .stmt<{ tool: string; day: string; n: number }>(
          `SELECT tool, day, SUM(count) AS n FROM usage
           WHERE day BETWEEN @first AND @last
             AND (@tenant IS NULL OR tenant = @tenant)
             AND (@credential IS NULL OR credential = @credential)
             AND (@tool IS NULL OR tool = @tool)
           GROUP BY tool, day`,
        )
        .all({
          first,
          last,
          tenant: query.tenant ?? null,
          credential: query.credential ?? null,
          tool: query.tool ?? null,
        });
      const result: UsageMonth = { month: query.month, total: 0, byTool: {}, byDay: {} };
      for (const row of rows) {
        result.total += row.n;
        result.byTool[row.tool] = (result.byTool[row.tool] ?? 0) + row.n;
        result.byDay[row.day] = (result.byDay[row.day] ?? 0) + row.n;
      }
      return result;
    },
  };
}
