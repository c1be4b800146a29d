import { parseError } from '../errors.ts';

const MAX_DEPTH = 64;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Objects with more keys than this switch from a linear list to a Set (no quadratic scan). */
const SMALL = 16;

/**
 * JSON.parse, after one pass that rejects what JSON.parse silently accepts: duplicate keys at
 * any depth (`{"method":"a","method":"b"}`: parsers disagree on which wins, the root of the
 * key-confusion CVEs; escaped spellings such as "met\u0068od" count as the same key) and
 * nesting deeper than MAX_DEPTH. Syntax itself is left to JSON.parse.
 */
export function parseStrictJson(text: string): unknown {
  scanForAmbiguity(text);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw parseError((err as Error).message);
  }
}

/** The keys seen so far in one open object. */
type Keys = string[] | Set<string>;

// Reused between calls (the scan is synchronous): a request allocates no frames.
const keyStack: Array<Keys | null> = [];
const expectStack: boolean[] = [];
const spare: string[][] = [];

function scanForAmbiguity(s: string): void {
  let depth = 0;
  let keys: Keys | null = null;
  let expectKey = false;
  const n = s.length;
  try {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        const start = i;
        let escaped = false;
        for (i++; i < n; i++) {
          const d = s.charCodeAt(i);
          if (d === BACKSLASH) {
            escaped = true;
            i++;
          } else if (d === QUOTE) break;
        }
        if (i >= n) return; // unterminated: JSON.parse reports it
        if (keys && expectKey) {
          let key = s.slice(start + 1, i);
          if (escaped) {
            try {
              key = JSON.parse(s.slice(start, i + 1)) as string;
            } catch {
              return; // bad escape: JSON.parse reports it
            }
          }
          if (Array.isArray(keys)) {
            if (keys.includes(key)) throw parseError(`duplicate key "${key.slice(0, 64)}"`);
            keys.push(key);
            if (keys.length > SMALL) keys = new Set(keys);
          } else {
            if (keys.has(key)) throw parseError(`duplicate key "${key.slice(0, 64)}"`);
            keys.add(key);
          }
          expectKey = false;
        }
      } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (depth >= MAX_DEPTH) throw parseError(`nesting deeper than ${MAX_DEPTH}`);
        keyStack[depth] = keys;
        expectStack[depth] = expectKey;
        depth++;
        keys = c === 0x7b ? (spare.pop() ?? []) : null;
        expectKey = c === 0x7b;
      } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        release(keys);
        if (depth === 0) {
          keys = null;
          continue;
        }
        depth--;
        keys = keyStack[depth]!;
        expectKey = expectStack[depth]!;
      } else if (c === 0x2c /* , */ && keys) {
        expectKey = true;
      }
    }
  } finally {
    release(keys);
    for (let d = 0; d < depth; d++) {
      release(keyStack[d]!);
      keyStack[d] = null;
    }
  }
}

function release(keys: Keys | null): void {
  if (Array.isArray(keys) && spare.length < 256) {
    keys.length = 0;
    spare.push(keys);
  }
}
