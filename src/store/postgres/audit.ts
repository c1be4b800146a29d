import { auditLimit } from '../arguments.ts';
import { checkEntry, toJson } from '../audit-record.ts';
import type { AuditEntry, AuditLog, AuditQuery, AuditRecord } from '../types.ts';
import type { AuditRow } from '../rows.ts';
import type { WriteBatcher, WriteKind } from './batcher.ts';
import { type Database, fromRow } from './database.ts';
import { AUDIT_LOCK_CLASS, schemaKey } from './migrations.ts';

/** The columns in insert order, with the array type each is sent as. */
const COLUMNS = [
  ['at', 'bigint'],
  ['event', 'text'],
  ['outcome', 'text'],
  ['subject', 'text'],
  ['tenant', 'text'],
  ['client', 'text'],
  ['via', 'text'],
  ['tool', 'text'],
  ['args_digest', 'text'],
  ['args', 'json'],
  ['resource_id', 'text'],
  ['reason', 'text'],
  ['latency_ms', 'double precision'],
  ['request_id', 'text'],
  ['detail', 'json'],
] as const;

/** One entry, checked and serialised once (a bad entry fails before it is queued), as sent and as read back. */
interface Prepared {
  params: unknown[];
  record: Omit<AuditRecord, 'seq'>;
}

/**
 * Postgres text cannot hold NUL. A caller's text (a confirmation reason, a resource id) must not
 * make its call unrecordable, so in audit rows a NUL is stored as U+FFFD; JSON columns keep their
 * `\u0000` escapes as they are.
 */
const text = <T extends string | null>(value: T): T => (value !== null && value.includes('\u0000') ? (value.replaceAll('\u0000', '\uFFFD') as T) : value);

function prepare(entry: AuditEntry, now: number): Prepared {
  checkEntry(entry);
  const args = toJson(entry.args);
  const detail = toJson(entry.detail);
  const record: Omit<AuditRecord, 'seq'> = {
    at: entry.at ?? now,
    event: text(entry.event),
    outcome: text(entry.outcome),
    subject: text(entry.subject ?? null),
    tenant: text(entry.tenant ?? null),
    client: text(entry.client ?? null),
    via: text(entry.via ?? null),
    tool: text(entry.tool ?? null),
    argsDigest: entry.argsDigest ?? null,
    args: null,
    resourceId: text(entry.resourceId ?? null),
    reason: text(entry.reason ?? null),
    latencyMs: entry.latencyMs ?? null,
    requestId: text(entry.requestId ?? null),
    detail: null,
  };
  const params = [
    record.at, record.event, record.outcome, record.subject, record.tenant, record.client, record.via,
    record.tool, record.argsDigest, args, record.resourceId, record.reason, record.latencyMs,
    record.requestId, detail,
  ];
  return { params, record };
}

/** Each record parsed from its own JSON text, so the caller's copy shares nothing with a later read. */
function finish(p: Prepared, seq: number): AuditRecord {
  const args = p.params[9] as string | null;
  const detail = p.params[14] as string | null;
  return {
    seq,
    ...p.record,
    args: args === null ? null : JSON.parse(args),
    detail: detail === null ? null : (JSON.parse(detail) as Record<string, unknown>),
  };
}

/**
 * Audit rows of one batch: one INSERT from arrays, rows in queue order. The batch holds an advisory
 * lock on this schema's audit from before the INSERT until its commit, so batches of all processes
 * append one after the other: seqs are consecutive within a batch (appendMany promises that), and a
 * seq is never committed after a larger one, so a reader paging with `after` never skips a late commit.
 */
function appendKind(db: Database, schema: string): WriteKind<Prepared[], AuditRecord[]> {
  const columns = COLUMNS.map(([name]) => name).join(', ');
  return {
    order: 0,
    lock: [AUDIT_LOCK_CLASS, schemaKey(schema)],
    params: COLUMNS.length,
    returning: true,
    sql(first, from) {
      const arrays = COLUMNS.map(([, type], i) => `$${first + i}::${type}[]`).join(', ');
      return `INSERT INTO ${db.tables.audit} (${columns})
    SELECT ${columns} FROM ${from}unnest(${arrays}) WITH ORDINALITY AS u (${columns}, n) ORDER BY n
    RETURNING seq`;
    },
    values(inputs) {
      const rows = inputs.flat();
      return COLUMNS.map((_, c) => rows.map((r) => r.params[c]));
    },
    outputs(inputs, returned) {
      // Identity values are drawn as the ordered rows are inserted, under the lock: the k-th
      // smallest seq is the k-th row.
      const seqs = returned.slice().sort((a, b) => a - b);
      let next = 0;
      return inputs.map((group) => group.map((p) => finish(p, seqs[next++]!)));
    },
  };
}

const FILTERS: ReadonlyArray<[keyof AuditQuery, string]> = [
  ['from', 'at >= '],
  ['to', 'at < '],
  ['subject', 'subject = '],
  ['tenant', 'tenant = '],
  ['tool', 'tool = '],
  ['event', 'event = '],
];

export function postgresAudit(db: Database, batcher: WriteBatcher, schema: string): AuditLog {
  const appends = appendKind(db, schema);
  return {
    async append(entry) {
      db.assertOpen();
      const [record] = await batcher.enqueue(appends, [prepare(entry, db.now())]);
      return record!;
    },

    async appendMany(entries) {
      db.assertOpen();
      const now = db.now();
      const prepared = entries.map((e) => prepare(e, now));
      if (prepared.length === 0) return [];
      return batcher.enqueue(appends, prepared);
    },

    async query(query = {}) {
      db.assertOpen();
      const limit = auditLimit(query.limit);
      const desc = query.order === 'desc';
      const where: string[] = [];
      const params: unknown[] = [];
      for (const [key, sql] of FILTERS) {
        if (query[key] === undefined) continue;
        params.push(query[key]);
        where.push(`${sql}$${params.length}`);
      }
      if (query.after !== undefined) {
        params.push(query.after);
        where.push(`seq ${desc ? '<' : '>'} $${params.length}`);
      }
      params.push(limit);
      const rows = await db.query<AuditRow<unknown>>(
        `SELECT * FROM ${db.tables.audit} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY seq ${desc ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
        params,
      );
      return rows.map(fromRow.audit);
    },
  };
}
