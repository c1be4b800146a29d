import { closedError } from '../errors.ts';
import type {
  ApiKeyRecord,
  AuditRecord,
  Clock,
  GrantRecord,
  OAuthClientRecord,
  TokenRecord,
} from '../types.ts';

export interface UsageRow {
  tenant: string;
  credential: string;
  tool: string;
  day: string;
  count: number;
}

/** Everything the memory Store holds. Records leave through `copy` so callers cannot mutate them. */
export class MemoryState {
  closed = false;
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  readonly apiKeyIdByHash = new Map<string, string>();
  readonly clients = new Map<string, OAuthClientRecord>();
  readonly grants = new Map<string, GrantRecord>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly audit: AuditRecord[] = [];
  readonly usage = new Map<string, UsageRow>();

  constructor(readonly now: Clock) {}

  open(): void {
    if (this.closed) throw closedError('store');
  }
}

export const copy = <T>(value: T): T => structuredClone(value);

/** Newest first, ties in reverse insertion order: the order the SQL adapters use. */
export function newestFirst<T extends { createdAt: number }>(records: Iterable<T>): T[] {
  return [...records].reverse().sort((a, b) => b.createdAt - a.createdAt);
}
