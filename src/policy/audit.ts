import { hash } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import type { AuditEntry } from '../store/types.ts';

/** Redacted arguments above this size are summarised in the audit row, not stored whole. */
const ARGS_MAX = 8 * 1024;

/** sha256 of the arguments as sent (canonical enough: the same call digests the same). */
export function argsDigest(args: unknown): string {
  return hash('sha256', JSON.stringify(args ?? null), 'base64url');
}

/**
 * The audit row's `argsDigest` and `args`: the digest of the arguments as sent, and the redacted
 * arguments (or a note of their size when too large to keep). Serialised once when nothing is secret.
 */
export function auditedArgs(args: Record<string, unknown>, redacted: Record<string, unknown>): { argsDigest: string; args: unknown } {
  const text = JSON.stringify(args);
  const shown = redacted === args ? text : JSON.stringify(redacted);
  return {
    argsDigest: hash('sha256', text, 'base64url'),
    args: shown.length <= ARGS_MAX ? redacted : { truncated: true, bytes: shown.length },
  };
}

/** Who called, in the shape every audit row shares. */
export function who(principal: Principal): Pick<AuditEntry, 'subject' | 'tenant' | 'client' | 'via'> {
  return { subject: principal.subject, tenant: principal.tenant, client: principal.client, via: principal.via };
}

/** A tool result's outcome as the audit log spells it. */
export function outcomeOf(result: { isError?: boolean } | undefined): string {
  return result?.isError ? 'error' : 'ok';
}
