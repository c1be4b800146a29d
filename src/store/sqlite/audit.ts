import { auditLimit } from '../arguments.ts';
import { checkEntry, toJson } from '../audit-record.ts';
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

// Positional parameters: binding an array is cheaper than an object, on every call.
const INSERT = `INSERT INTO audit (at, event, outcome, subject, tenant, client, via, tool, args_digest, args,
    resource_id, reason, latency_ms, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

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
  /** Runs inside the batcher's transaction. Checked and serialised first (once): a bad entry fails alone. */
  const prepare = (entry: AuditEntry, now: number): (() => AuditRecord) => {
    checkEntry(entry);
    const args = toJson(entry.args);
    const detail = toJson(entry.detail);
    const at = entry.at ?? now;
    const params = [
      at, entry.event, entry.outcome, entry.subject ?? null, entry.tenant ?? null, entry.client ?? null, entry.via ?? null,
      entry.tool ?? null, entry.argsDigest ?? null, args, entry.resourceId ?? null, entry.reason ?? null,
      entry.latencyMs ?? null, entry.requestId ?? null, detail,
    ];
    const insert = conn.stmt(INSERT);
    return () => {
      const seq = Number(insert.run(params).lastInsertRowid);
      return toRecord({
        seq, at, event: entry.event, outcome: entry.outcome, subject: params[3] as string | null, tenant: params[4] as string | null,
        client: params[5] as string | null, via: params[6] as string | null, tool: params[7] as string | null,
        args_digest: params[8] as string | null, args, resource_id: params[10] as string | null, reason: params[11] as string | null,
        latency_ms: params[12] as number | null, request_id: params[13] as string | null, detail,
      });
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
