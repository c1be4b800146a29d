import { auditLimit } from '../arguments.ts';
import { toAuditRecord, toJson } from '../audit-record.ts';
import type { AuditEntry, AuditLog, AuditQuery, AuditRecord } from '../types.ts';
import type { WriteBatcher } from './batcher.ts';
import type { Connection } from './database.ts';

interface AuditRow {
  seq: number;
  at: number;
  event: string;
  outcome: string;
  subject: string | null;
  tenant: string | null;
  client: string | null;
  via: string | null;
  tool: string | null;
  args_digest: string | null;
  args: string | null;
  resource_id: string | null;
  reason: string | null;
  latency_ms: number | null;
  request_id: string | null;
  detail: string | null;
}

const toRecord = (r: AuditRow): AuditRecord => ({
  seq: r.seq,
  at: r.at,
  event: r.event,
  outcome: r.outcome,
  subject: r.subject,
  tenant: r.tenant,
  client: r.client,
  via: r.via,
  tool: r.tool,
  argsDigest: r.args_digest,
  args: r.args === null ? null : JSON.parse(r.args),
  resourceId: r.resource_id,
  reason: r.reason,
  latencyMs: r.latency_ms,
  requestId: r.request_id,
  detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
});

const INSERT = `INSERT INTO audit (at, event, outcome, subject, tenant, client, via, tool, args_digest, args,
    resource_id, reason, latency_ms, request_id, detail)
  VALUES (@at, @event, @outcome, @subject, @tenant, @client, @via, @tool, @argsDigest, @args,
    @resourceId, @reason, @latencyMs, @requestId, @detail)`;

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
  /** Runs inside the batcher's transaction. Serialising first: a bad entry fails alone. */
  const prepare = (entry: AuditEntry, now: number): (() => AuditRecord) => {
    const { seq: _, ...record } = toAuditRecord(entry, 0, now);
    const params = { ...record, args: toJson(record.args), detail: toJson(record.detail) };
    return () => {
      const { lastInsertRowid } = conn.stmt(INSERT).run(params);
      return { ...record, seq: Number(lastInsertRowid) };
    };
  };

  return {
    async append(entry) {
      conn.assertOpen();
      return batcher.enqueue(prepare(entry, conn.now()));
    },

    async appendMany(entries) {
      conn.assertOpen();
      const now = conn.now();
      const inserts = entries.map((e) => prepare(e, now));
      return batcher.enqueue(() => inserts.map((insert) => insert()));
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
      return conn.stmt<AuditRow>(sql).all(params).map(toRecord);
    },
  };
}
