import { parseError } from '../errors.ts';

const MAX_DEPTH = 64;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

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

type Frame = { keys: Set<string> | null; expectKey: boolean };

function scanForAmbiguity(s: string): void {
  const stack: Frame[] = [];
  let top: Frame | undefined;
  const n = s.length;
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
      if (top?.keys && top.expectKey) {
        let key = s.slice(start + 1, i);
        if (escaped) {
          try {
            key = JSON.parse(s.slice(start, i + 1)) as string;
          } catch {
            return; // bad escape: JSON.parse reports it
          }
        }
        if (top.keys.has(key)) throw parseError(`duplicate key "${key.slice(0, 64)}"`);
        top.keys.add(key);
        top.expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_DEPTH) throw parseError(`nesting deeper than ${MAX_DEPTH}`);
      top = { keys: c === 0x7b ? new Set() : null, expectKey: c === 0x7b };
      stack.push(top);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      top = stack[stack.length - 1];
    } else if (c === 0x2c /* , */ && top?.keys) {
      top.expectKey = true;
    }
  }
}
