import { checkCount } from '../arguments.ts';
import { monthBounds, utcDay } from '../buckets.ts';
import type { UsageMonth, UsageRepo } from '../types.ts';
import type { WriteBatcher } from './batcher.ts';
import type { Connection } from './database.ts';

export function sqliteUsage(conn: Connection, batcher: WriteBatcher): UsageRepo {
  return {
    async add(increment) {
      const count = increment.count ?? 1;
      checkCount(count);
      const params = {
        tenant: increment.tenant,
        credential: increment.credential,
        tool: increment.tool,
        day: utcDay(increment.at ?? conn.now()),
        count,
      };
      // Counted on every call: rides the audit group commit instead of paying its own fsync.
      await batcher.enqueue(() =>
        conn
          .stmt(
            `INSERT INTO usage (tenant, credential, tool, day, count) VALUES (@tenant, @credential, @tool, @day, @count)
             ON CONFLICT (tenant, credential, tool, day) DO UPDATE SET count = count + excluded.count`,
          )
          .run(params),
      );
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
