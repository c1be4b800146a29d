/**
 * A tool as `tools/list` shows it (protocol/shape.ts toolWire, 2025-06-18 and later), and the
 * token arithmetic over entries. No tokenizer here: serving reads counts from the manifest, so
 * a server never loads gpt-tokenizer's o200k tables (~65 MB RSS, ~180 ms).
 */
export function toolEntry(t: {
  tool?: string;
  name?: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  input?: unknown;
  annotations?: unknown;
}): Record<string, unknown> {
  const entry: Record<string, unknown> = { name: t.tool ?? t.name };
  if (t.title !== undefined) entry.title = t.title;
  if (t.description !== undefined) entry.description = t.description;
  entry.inputSchema = t.inputSchema ?? t.input ?? { type: 'object', properties: {} };
  if (t.annotations !== undefined) entry.annotations = t.annotations;
  return entry;
}

/** Tokens of `{"tools":[]}` in o200k_base (measured: `{"`, `tools`, `":[`, `]}`). */
export const WRAPPER_TOKENS = 4;

/**
 * Token cost of a tools/list result made of entries with these counts: the sum of each entry's
 * count, the wrapper and one comma between entries. Summing per entry (rather than tokenizing one
 * string) lets every mode's cost be computed from the manifest; it differs from a whole-list count
 * by well under 1% (measured on GitHub's spec: see docs/openapi.md).
 */
export function listTokens(entryTokens: readonly number[]): number {
  return entryTokens.reduce((a, b) => a + b, WRAPPER_TOKENS + Math.max(0, entryTokens.length - 1));
}
