import { auditLimit } from '../arguments.ts';
import { checkEntry, toJson } from '../audit-record.ts';
import type { AuditEntry, AuditLog, AuditQuery, AuditRecord } from '../types.ts';
import type { AuditRow } from '../rows.ts';
import type { WriteBatcher } from './batcher.ts';
import { type Connection, fromRow } from './database.ts';

const COLUMNS = `(at, event, outcome, subject, tenant, client, via, tool, args_digest, args,
    resource_id, reason, latency_ms, request_id, detail)`;
const ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
/** Rows per INSERT statement (one compiled statement per row count, up to this many). */
const ROWS_PER_INSERT = 64;
const insertSql: string[] = [];
const insertOf = (rows: number) => (insertSql[rows] ??= `INSERT INTO audit ${COLUMNS} VALUES ${Array(rows).fill(ROW).join(', ')}`);

/** Filters in a fixed order, so each combination compiles to one cached statement. */
const FILTERS: ReadonlyArray<[keyof AuditQuery, string]> = [
  ['from', 'at >= @from'],
  ['to', 'at < @to'],
  ['subject', 'subject = @subject'],
  ['tenant', 'tenant = @tenant'],
  ['tool', 'tool = @tool'],
  ['event', 'event = @event'],
];

export function sqliteAudit(conn: Connection, batcher: WriteBatcher): AuditLog {
  /** A checked entry as its row's positional parameters (args and detail serialised once). */
  const rowOf = (entry: AuditEntry, now: number): unknown[] => {
    checkEntry(entry); // a bad entry fails here, alone: nothing it could fail on is left for the INSERT
    return [
      entry.at ?? now, entry.event, entry.outcome, entry.subject ?? null, entry.tenant ?? null, entry.client ?? null,
      entry.via ?? null, entry.tool ?? null, entry.argsDigest ?? null, toJson(entry.args), entry.resourceId ?? null,
      entry.reason ?? null, entry.latencyMs ?? null, entry.requestId ?? null, toJson(entry.detail),
    ];
  };
  const recordOf = (p: unknown[], seq: number): AuditRecord =>
    fromRow.audit({
      seq, at: p[0] as number, event: p[1] as string, outcome: p[2] as string, subject: p[3] as string | null,
      tenant: p[4] as string | null, client: p[5] as string | null, via: p[6] as string | null, tool: p[7] as string | null,
      args_digest: p[8] as string | null, args: p[9] as string | null, resource_id: p[10] as string | null,
      reason: p[11] as string | null, latency_ms: p[12] as number | null, request_id: p[13] as string | null, detail: p[14] as string | null,
    });

  // The rows waiting for the next group commit go in with one multi-row INSERT, not one statement
  // run per row (bench/README.md (d)). Rows of one INSERT get consecutive seqs: the table's rowid
  // is max + 1 per row, and the batcher's transaction holds the write lock.
  let pending: unknown[][] | undefined;
  let committed: Promise<number>;
  const insertAll = (rows: unknown[][]): number => {
    let first = 0;
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = i === 0 && rows.length <= ROWS_PER_INSERT ? rows : rows.slice(i, i + ROWS_PER_INSERT);
      const last = Number(conn.stmt(insertOf(chunk.length)).run(...chunk).lastInsertRowid);
      if (i === 0) first = last - chunk.length + 1;
    }
    return first;
  };
  /** Queues rows (kept together: one commit, consecutive seqs); resolves with the first one's seq. */
  const enqueue = (rows: unknown[][]): Promise<number> => {
    if (!pending || pending.length + rows.length > batcher.maxBatch) {
      const batch: unknown[][] = (pending = []);
      committed = batcher.enqueue(() => {
        if (pending === batch) pending = undefined;
        return insertAll(batch);
      });
    }
    const offset = pending.length;
    for (const row of rows) pending.push(row);
    if (pending.length >= batcher.maxBatch) batcher.flush(); // a full batch commits now, as the batcher's own do
    return offset === 0 ? committed : committed.then((first) => first + offset);
  };

  return {
    append(entry) {
      try {
        conn.assertOpen();
        const row = rowOf(entry, conn.now());
        return enqueue([row]).then((seq) => recordOf(row, seq));
      } catch (err) {
        return Promise.reject(err);
      }
    },

    appendMany(entries) {
      try {
        conn.assertOpen();
        const now = conn.now();
        const rows = entries.map((e) => rowOf(e, now));
        if (rows.length === 0) return Promise.resolve([]);
        return enqueue(rows).then((first) => rows.map((row, i) => recordOf(row, first + i)));
      } catch (err) {
        return Promise.reject(err);
      }
    },

    async query(query = {}) {
      const limit = auditLimit(query.limit);
      const desc = query.order === 'desc';
      const where = FILTERS.filter(([key]) => query[key] !== undefined).map(([, sql]) => sql);
      if (query.after !== undefined) where.push(desc ? 'seq < @after' : 'seq > @after');
      const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY seq ${desc ? 'DESC' : 'ASC'} LIMIT @limit`;
      const params: Record<string, unknown> = { limit };
      for (const [key] of FILTERS) if (query[key] !== undefined) params[key] = query[key];
      if (query.after !== undefined) params.after = query.after;
      return conn.stmt<AuditRow<string>>(sql).all(params).map(fromRow.audit);
    },
  };
}
