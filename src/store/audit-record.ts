import { StoreError } from './errors.ts';
import type { AuditEntry, AuditRecord } from './types.ts';

/**
 * The stored shape of an entry, built the same way by every adapter. `args` and `detail` go through
 * JSON so that what is read back is what a SQL adapter would return.
 */
export function toAuditRecord(entry: AuditEntry, seq: number, now: number): AuditRecord {
  checkEntry(entry);
  return {
    seq,
    at: entry.at ?? now,
    event: entry.event,
    outcome: entry.outcome,
    subject: entry.subject ?? null,
    tenant: entry.tenant ?? null,
    client: entry.client ?? null,
    via: entry.via ?? null,
    tool: entry.tool ?? null,
    argsDigest: entry.argsDigest ?? null,
    args: jsonCopy(entry.args),
    resourceId: entry.resourceId ?? null,
    reason: entry.reason ?? null,
    latencyMs: entry.latencyMs ?? null,
    requestId: entry.requestId ?? null,
    detail: jsonCopy(entry.detail) as Record<string, unknown> | null,
  };
}

/** `undefined` (and anything JSON cannot hold at the top level) is stored as null. */
export function jsonCopy(value: unknown): unknown {
  const text = toJson(value);
  return text === null ? null : JSON.parse(text);
}

export function toJson(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value) ?? null;
}

const TEXT_FIELDS = ['subject', 'tenant', 'client', 'via', 'tool', 'argsDigest', 'resourceId', 'reason', 'requestId'] as const;

/**
 * An entry every adapter refuses: no event or outcome, or a field of the wrong type. Checked before
 * anything is queued, so an entry that cannot be stored fails alone, never the batch it would join.
 */
export function checkEntry(entry: AuditEntry): void {
  if (typeof entry.event !== 'string' || entry.event === '') {
    throw new StoreError('GW_STORE_INVALID', 'audit event is required');
  }
  if (typeof entry.outcome !== 'string' || entry.outcome === '') {
    throw new StoreError('GW_STORE_INVALID', 'audit outcome is required');
  }
  if (entry.at !== undefined && !Number.isSafeInteger(entry.at)) {
    throw new StoreError('GW_STORE_INVALID', 'audit at must be an integer (epoch milliseconds)');
  }
  if (entry.latencyMs !== undefined && entry.latencyMs !== null && !Number.isFinite(entry.latencyMs)) {
    throw new StoreError('GW_STORE_INVALID', 'audit latencyMs must be a finite number');
  }
  for (const field of TEXT_FIELDS) {
    const value = entry[field];
    if (value !== undefined && value !== null && typeof value !== 'string') throw new StoreError('GW_STORE_INVALID', `audit ${field} must be a string`);
  }
}
