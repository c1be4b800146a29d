import { StoreError } from './errors.ts';

/** Usage buckets are UTC days (`YYYY-MM-DD`); months are UTC (`YYYY-MM`). */

const DAY_MS = 86_400_000;
/** The last day computed: usage counts every call, and nearly all fall on the same day. */
let cached = { start: 0, end: 0, key: '' };

export function utcDay(at: number): string {
  if (!Number.isFinite(at)) throw new StoreError('GW_STORE_INVALID', `not a time: ${at}`);
  if (at >= cached.start && at < cached.end) return cached.key;
  const start = Math.floor(at / DAY_MS) * DAY_MS;
  cached = { start, end: start + DAY_MS, key: new Date(at).toISOString().slice(0, 10) };
  return cached.key;
}

/** First and last possible day keys of a month; string comparison on `YYYY-MM-DD` is date order. */
export function monthBounds(month: string): { first: string; last: string } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) throw new StoreError('GW_STORE_INVALID', `month must be YYYY-MM, got "${month}"`);
  return { first: `${month}-01`, last: `${month}-31` };
}
