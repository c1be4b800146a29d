import { isObject } from './document.ts';
import { OpenApiImportError } from './errors.ts';

/**
 * The `x-mcp` extension on an Operation Object, and the `overrides` import option (keyed by
 * operationId, generated tool name, or "METHOD /path"), which wins field by field.
 */
export interface McpOverride {
  /** Tool name (1-64 of A-Z a-z 0-9 _ - .); must be unique. */
  name?: string;
  title?: string;
  description?: string;
  /** Leave the operation out entirely (not a tool, not reachable through the meta tools). */
  hidden?: boolean;
  /** Replace the scopes taken from `security`. */
  scopes?: string[];
  /** Needs confirmation (and destructiveHint); default: DELETE only. */
  destructive?: boolean;
  /** GET only: also serve it as an MCP resource (true: a default URI template). */
  resource?: boolean | { uriTemplate?: string; name?: string; description?: string; mimeType?: string };
}

const KEYS: Record<keyof McpOverride, (v: unknown) => boolean> = {
  name: (v) => typeof v === 'string',
  title: (v) => typeof v === 'string',
  description: (v) => typeof v === 'string',
  hidden: (v) => typeof v === 'boolean',
  scopes: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0),
  destructive: (v) => typeof v === 'boolean',
  resource: (v) =>
    typeof v === 'boolean' ||
    (isObject(v) &&
      Object.entries(v).every(([k, x]) => ['uriTemplate', 'name', 'description', 'mimeType'].includes(k) && typeof x === 'string')),
};

/** Checks an x-mcp value or an override entry; unknown keys are refused (a typo would be silent). */
export function readOverride(value: unknown, where: string): McpOverride | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `${where} must be an object`);
  for (const [key, v] of Object.entries(value)) {
    const check = KEYS[key as keyof McpOverride];
    if (!check) {
      throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `${where}: unknown key "${key}" (known: ${Object.keys(KEYS).join(', ')})`);
    }
    if (!check(v)) throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `${where}: "${key}" has the wrong type`);
  }
  return value as McpOverride;
}

export function mergeOverrides(base: McpOverride | undefined, top: McpOverride | undefined): McpOverride | undefined {
  if (!base) return top;
  if (!top) return base;
  return { ...base, ...top };
}
