import type { JsonSchema } from '../registry/types.ts';

/**
 * Write-only fields (SECURITY 33, seeds 001 and 003): a property marked `writeOnly: true` in a
 * tool's input schema (JSON Schema's own keyword; in zod, `.meta({ writeOnly: true })`) is a
 * secret. Its value reaches the handler and nothing else: the audit row shows a mask, and the
 * value is cut out of the result, of error messages and of the log line of a failing handler.
 */
export const MASK = '[secret]';

/** Paths (property names; `*` for array items and for the values of a map) to every write-only field of a schema. */
export type SecretPath = readonly string[];

/** Finds the write-only fields of an input schema; local `$ref`s into `$defs` are followed once. */
export function secretPaths(schema: JsonSchema): SecretPath[] {
  const out: SecretPath[] = [];
  const defs = (schema.$defs ?? schema.definitions ?? {}) as Record<string, JsonSchema>;
  const walk = (s: unknown, path: string[], seen: Set<unknown>) => {
    if (!s || typeof s !== 'object' || seen.has(s) || path.length > 16) return;
    const node = s as JsonSchema;
    if (node.writeOnly === true) {
      out.push(path);
      return;
    }
    const next = new Set(seen).add(s);
    const ref = node.$ref;
    if (typeof ref === 'string') {
      const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
      if (m) walk(defs[decodeURIComponent(m[1]!).replaceAll('~1', '/').replaceAll('~0', '~')], path, next);
    }
    for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, unknown>)) walk(v, [...path, k], next);
    if (node.items && typeof node.items === 'object') walk(node.items, [...path, '*'], next);
    // Maps: `additionalProperties` and `patternProperties` values are reached through `*` too.
    if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties, [...path, '*'], next);
    for (const v of Object.values((node.patternProperties ?? {}) as Record<string, unknown>)) walk(v, [...path, '*'], next);
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      if (Array.isArray(node[key])) for (const sub of node[key] as unknown[]) walk(sub, path, next);
    }
  };
  walk(schema, [], new Set());
  return out;
}

/**
 * The secret values present in `args` at `paths`, as they would appear in text. Values shorter
 * than 4 characters are masked in the audit row (by path) but not searched for in results: cutting
 * every `1` or `true` out of an answer would garble it and protect nothing.
 */
export function secretValues(args: unknown, paths: readonly SecretPath[]): string[] {
  const values: string[] = [];
  const visit = (v: unknown, path: SecretPath, i: number) => {
    if (v === undefined || v === null) return;
    if (i === path.length) {
      if (typeof v === 'string' || typeof v === 'number') values.push(String(v));
      else values.push(JSON.stringify(v));
      return;
    }
    const step = path[i]!;
    if (step === '*') {
      if (v && typeof v === 'object') for (const item of Object.values(v)) visit(item, path, i + 1);
    } else if (typeof v === 'object' && Object.hasOwn(v as object, step)) visit((v as Record<string, unknown>)[step], path, i + 1);
  };
  for (const p of paths) visit(args, p, 0);
  return values.filter((s) => s.length >= 4);
}

/** A copy of `args` with every write-only value replaced by the mask. */
export function redact(args: Record<string, unknown>, paths: readonly SecretPath[]): Record<string, unknown> {
  if (paths.length === 0) return args;
  const copy = structuredClone(args);
  const visit = (v: unknown, path: SecretPath, i: number) => {
    if (!v || typeof v !== 'object') return;
    const step = path[i]!;
    const last = i === path.length - 1;
    if (step === '*') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (last) o[k] = MASK;
        else visit(o[k], path, i + 1);
      }
    } else if (Object.hasOwn(v, step)) {
      const o = v as Record<string, unknown>;
      if (last) o[step] = MASK;
      else visit(o[step], path, i + 1);
    }
  };
  for (const p of paths) {
    if (p.length === 0) return { [MASK]: true }; // the whole argument object is secret
    visit(copy, p, 0);
  }
  return copy;
}

function scrubString(text: string, secrets: readonly string[]): string {
  if (!secrets.some((s) => text.includes(s))) return text;
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      return scrubText(JSON.stringify(scrubValue(JSON.parse(text) as unknown, secrets)), secrets);
    } catch {
      // not JSON: plain replacement below
    }
  }
  return scrubText(text, secrets);
}

/** Replaces every occurrence of the given secrets in `text`. */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.replaceAll(s, MASK);
  return out;
}

/**
 * Cuts the secrets out of any JSON-like value (a tool result, a message to the client): every
 * string is scrubbed, a number or boolean equal to a secret becomes the mask, and a string that
 * holds JSON is scrubbed as JSON (so a text block stays parseable). Returns the same object when
 * nothing matched, so the common case copies nothing.
 */
export function scrubValue<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return scrubString(value, secrets) as T;
  if (typeof value === 'number' || typeof value === 'boolean') return (secrets.includes(String(value)) ? MASK : value) as T;
  if (!value || typeof value !== 'object') return value;
  let changed = false;
  const out: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  for (const [k, v] of Object.entries(value)) {
    const s = scrubValue(v, secrets);
    const key = Array.isArray(value) ? k : scrubText(k, secrets);
    if (s !== v || key !== k) changed = true;
    (out as Record<string, unknown>)[key] = s;
  }
  return changed ? (out as T) : value;
}

/**
 * A placeholder that shows a secret exists without revealing it (seed 001's provider keys):
 * `sk-…9f3a` for long values, `••••` for short ones. For handlers that list stored secrets.
 */
export function maskSecret(value: string, visible = 4): string {
  if (value.length < 12) return '••••';
  const prefix = /^[A-Za-z]{2,4}[-_]/.exec(value)?.[0] ?? '';
  return `${prefix}…${value.slice(-visible)}`;
}
