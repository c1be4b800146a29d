import { auditLimit, checkCount } from '../arguments.ts';
import { toAuditRecord } from '../audit-record.ts';
import { monthBounds, utcDay } from '../buckets.ts';
import type { AuditLog, AuditQuery, AuditRecord, UsageMonth, UsageRepo } from '../types.ts';
import { copy, type MemoryState } from './state.ts';

export function memoryAudit(state: MemoryState): AuditLog {
  return {
    async append(entry) {
      state.open();
      const record = toAuditRecord(entry, state.audit.length + 1, state.now());
      state.audit.push(record);
      return copy(record);
    },

    async appendMany(entries) {
      state.open();
      const now = state.now();
      // Build all before storing any: all or nothing.
      const records = entries.map((e, i) => toAuditRecord(e, state.audit.length + 1 + i, now));
      state.audit.push(...records);
      return records.map(copy);
    },

    async query(query: AuditQuery = {}) {
      state.open();
      const limit = auditLimit(query.limit);
      const desc = query.order === 'desc';
      const matches = (r: AuditRecord): boolean =>
        (query.from === undefined || r.at >= query.from) &&
        (query.to === undefined || r.at < query.to) &&
        (query.subject === undefined || r.subject === query.subject) &&
        (query.tenant === undefined || r.tenant === query.tenant) &&
        (query.tool === undefined || r.tool === query.tool) &&
        (query.event === undefined || r.event === query.event) &&
        (query.after === undefined || (desc ? r.seq < query.after : r.seq > query.after));
      const out: AuditRecord[] = [];
      const n = state.audit.length;
      for (let i = 0; i < n && out.length < limit; i++) {
        const record = state.audit[desc ? n - 1 - i : i]!;
        if (matches(record)) out.push(copy(record));
      }
      return out;
    },
  };
}

export function memoryUsage(state: MemoryState): UsageRepo {
  return {
    async add(increment) {
      state.open();
      const count = increment.count ?? 1;
      checkCount(count);
      const day = utcDay(increment.at ?? state.now());
      const { tenant, credential, tool } = increment;
      const key = JSON.stringify([tenant, credential, tool, day]);
      const row = state.usage.get(key);
      if (row) row.count += count;
      else state.usage.set(key, { tenant, credential, tool, day, count });
    },

    async month(query) {
      state.open();
      const { first, last } = monthBounds(query.month);
      const result: UsageMonth = { month: query.month, total: 0, byTool: {}, byDay: {} };
      for (const row of state.usage.values()) {
        if (row.day < first || row.day > last) continue;
        if (query.tenant !== undefined && row.tenant !== query.tenant) continue;
        if (query.credential !== undefined && row.credential !== query.credential) continue;
        if (query.tool !== undefined && row.tool !== query.tool) continue;
        result.total += row.count;
        result.byTool[row.tool] = (result.byTool[row.tool] ?? 0) + row.count;
        result.byDay[row.day] = (result.byDay[row.day] ?? 0) + row.count;
      }
      return result;
    },
  };
}
