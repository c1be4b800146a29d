import { createHash } from 'node:crypto';
import { OpenApiImportError } from './errors.ts';

/** MCP tool names (2025-11-25: SHOULD be A-Z a-z 0-9 _ - .); 64 is what most model APIs accept. */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX = 64;

export interface NameRequest {
  method: string;
  path: string;
  operationId: string | null;
  /** A name chosen by x-mcp or config: used as is, or the import fails. */
  explicit?: string;
}

/** Eight hex characters of sha256("METHOD /path"): identifies an operation whatever its order. */
export function operationHash(method: string, path: string): string {
  return createHash('sha256').update(`${method.toUpperCase()} ${path}`).digest('hex').slice(0, 8);
}

function sanitize(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/_{2,}/g, '_').replace(/^[_.-]+|[_.-]+$/g, '');
}

/** The name an operation asks for: its operationId made safe, else method and path. */
export function candidateName(r: NameRequest): string {
  if (r.explicit !== undefined) return r.explicit;
  const fromId = r.operationId ? sanitize(r.operationId) : '';
  if (fromId) return fromId;
  return sanitize(`${r.method}_${r.path.replace(/[{}]/g, '')}`) || r.method;
}

/**
 * Unique, stable tool names. An operation keeps its candidate when no other operation asks for
 * it, or when it is the only one asking whose operationId is that exact name (or that chose it
 * explicitly). Everybody else in a clash, and every name over 64 characters, gets
 * `_<hash of method and path>`: the same name on every run and in any order of the document.
 */
export function assignToolNames(requests: readonly NameRequest[]): string[] {
  const candidates = requests.map(candidateName);
  for (const [i, r] of requests.entries()) {
    if (r.explicit !== undefined && !TOOL_NAME.test(r.explicit)) {
      throw new OpenApiImportError('GW_OPENAPI_NAME', `x-mcp name "${r.explicit}" must be 1-64 characters of A-Z a-z 0-9 _ - .`, where(requests[i]!));
    }
  }
  const groups = new Map<string, number[]>();
  candidates.forEach((c, i) => groups.set(c, [...(groups.get(c) ?? []), i]));
  const names = [...candidates];
  for (const [name, members] of groups) {
    const explicit = members.filter((i) => requests[i]!.explicit !== undefined);
    if (explicit.length > 1) {
      throw new OpenApiImportError('GW_OPENAPI_NAME', `tool name "${name}" is chosen by ${explicit.map((i) => where(requests[i]!)).join(' and ')}`);
    }
    const exact = members.filter((i) => requests[i]!.operationId === name);
    const keeper = explicit.length ? explicit[0] : members.length === 1 || exact.length === 1 ? (exact[0] ?? members[0]) : undefined;
    for (const i of members) {
      if (i === keeper && name.length <= MAX) continue;
      const r = requests[i]!;
      names[i] = `${name.slice(0, MAX - 9).replace(/[_.-]+$/, '')}_${operationHash(r.method, r.path)}`;
    }
  }
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const other = seen.get(n);
    if (other !== undefined) {
      throw new OpenApiImportError('GW_OPENAPI_NAME', `tool name "${n}" is produced by ${where(requests[other]!)} and ${where(requests[i]!)}; rename one with x-mcp`);
    }
    seen.set(n, i);
  });
  return names;
}

function where(r: NameRequest): string {
  return `${r.method.toUpperCase()} ${r.path}`;
}
