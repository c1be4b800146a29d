/**
 * Fits a JSON response into the byte budget the model gets. Cutting JSON text in the middle
 * leaves something neither the model nor a client can parse, so when the bulk of the response
 * is one list (a top-level array, or `items`/`data`/... in an envelope such as GitHub search
 * or a Kubernetes List), the list is shortened instead and the result stays valid JSON.
 * Only when that is impossible is the text cut at the budget.
 */
export interface FittedJson {
  /** Compact JSON (valid unless `rawCut`). */
  text: string;
  /** The value `text` encodes; absent when the text was cut mid-JSON. */
  value?: unknown;
  /** Set when a list was shortened: how many items were kept, of how many, and where. */
  shortened?: { kept: number; total: number; property: string | null };
  /** The text was cut at the budget mid-JSON. */
  rawCut: boolean;
  /** Size of the whole response as compact JSON. */
  totalBytes: number;
}

export function fitJson(value: unknown, budget: number): FittedJson {
  const text = JSON.stringify(value) ?? 'null';
  const totalBytes = Buffer.byteLength(text);
  if (totalBytes <= budget) return { text, value, rawCut: false, totalBytes };

  if (Array.isArray(value)) {
    const kept = itemsThatFit(value, budget);
    if (kept > 0) {
      const shortened = value.slice(0, kept);
      return { text: JSON.stringify(shortened), value: shortened, shortened: { kept, total: value.length, property: null }, rawCut: false, totalBytes };
    }
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const property = largestArrayProperty(record);
    if (property !== undefined) {
      const list = record[property] as unknown[];
      const rest = Buffer.byteLength(JSON.stringify({ ...record, [property]: [] }));
      const kept = itemsThatFit(list, budget - rest + 2);
      if (kept > 0) {
        const shortened = { ...record, [property]: list.slice(0, kept) };
        return { text: JSON.stringify(shortened), value: shortened, shortened: { kept, total: list.length, property }, rawCut: false, totalBytes };
      }
    }
  }
  return { text: cutUtf8(text, budget), rawCut: true, totalBytes };
}

/** The largest k such that `[item0,...,item(k-1)]` fits in `room` bytes (linear, one stringify per item). */
function itemsThatFit(items: unknown[], room: number): number {
  let size = 2; // `[]`
  for (let k = 0; k < items.length; k++) {
    size += Buffer.byteLength(JSON.stringify(items[k]) ?? 'null') + (k > 0 ? 1 : 0);
    if (size > room) return k;
  }
  return items.length;
}

function largestArrayProperty(record: Record<string, unknown>): string | undefined {
  let best: string | undefined;
  let bestSize = -1;
  for (const [k, v] of Object.entries(record)) {
    if (!Array.isArray(v) || v.length === 0) continue;
    const size = Buffer.byteLength(JSON.stringify(v));
    if (size > bestSize) {
      best = k;
      bestSize = size;
    }
  }
  return best;
}

/** The first `budget` bytes of `text` as UTF-8, never splitting a character. */
export function cutUtf8(text: string, budget: number): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= budget) return text;
  let end = Math.max(0, budget);
  // Back up over continuation bytes (10xxxxxx) to the start of the character that would be split.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
