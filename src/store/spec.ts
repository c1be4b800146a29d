import { isAbsolute, resolve } from 'node:path';
import { StoreConfigError } from './errors.ts';

export type ParsedSpec =
  | { adapter: 'memory' }
  | { adapter: 'sqlite'; path: string; synchronous?: 'full' | 'normal' }
  | { adapter: 'postgres'; url: string }
  | { adapter: 'redis'; url: string };

const SHAPES = {
  store: '"memory", "sqlite:<path>", ":memory:" (SQLite in memory) or "postgres://…"',
  ephemeral: '"memory", "sqlite:<path>", ":memory:" (SQLite in memory) or "redis://…"',
};

/**
 * `memory` -> the in-process adapter; `sqlite:<path>` -> a file (relative to the working directory);
 * `:memory:` or `sqlite::memory:` -> SQLite without a file (the SQL code path, nothing kept).
 * `sqlite:<path>?synchronous=normal` trades power-loss durability for speed (see SqliteOptions).
 * `postgres://…` (Store only) and `redis://…` (Ephemeral only): the multi-process mode.
 */
export function parseSpec(spec: string, what: 'store' | 'ephemeral'): ParsedSpec {
  if (typeof spec !== 'string') throw new StoreConfigError(`${what} must be ${SHAPES[what]}`);
  const text = spec.trim();
  if (text === 'memory') return { adapter: 'memory' };
  if (text === ':memory:' || text === 'sqlite::memory:') return { adapter: 'sqlite', path: ':memory:' };
  if (text.startsWith('sqlite:')) {
    let path = text.slice('sqlite:'.length);
    let synchronous: 'full' | 'normal' | undefined;
    const q = path.indexOf('?');
    if (q >= 0) {
      const option = path.slice(q + 1);
      const m = /^synchronous=(full|normal)$/.exec(option);
      if (!m) throw new StoreConfigError(`${what} "${spec}": the only option is ?synchronous=full or ?synchronous=normal`);
      synchronous = m[1] as 'full' | 'normal';
      path = path.slice(0, q);
    }
    if (path === ':memory:') return { adapter: 'sqlite', path, ...(synchronous ? { synchronous } : {}) };
    if (path === '' || path.startsWith('//')) {
      // "sqlite://x" reads like a URL whose host is x; refuse rather than guess.
      throw new StoreConfigError(
        `${what} "${spec}": write sqlite:/absolute/path.db or sqlite:relative/path.db`,
      );
    }
    return { adapter: 'sqlite', path: isAbsolute(path) ? path : resolve(path), ...(synchronous ? { synchronous } : {}) };
  }
  if (/^postgres(ql)?:\/\//i.test(text)) {
    if (what === 'store') return { adapter: 'postgres', url: text };
    throw new StoreConfigError(`ephemeral "${redact(text)}": Postgres holds the durable records (set it as \`store\`); the ephemeral store takes ${SHAPES.ephemeral}`);
  }
  if (/^rediss?:\/\//i.test(text)) {
    if (what === 'ephemeral') return { adapter: 'redis', url: text };
    throw new StoreConfigError(`store "${redact(text)}": Redis holds short-lived state only (set it as \`ephemeral\`); the store takes ${SHAPES.store}`);
  }
  throw new StoreConfigError(`unknown ${what} "${redact(text)}": expected ${SHAPES[what]}`);
}

/**
 * A connection string may carry a password, in its userinfo or as a `password=` parameter: never
 * echo either (greedy up to the last `@`, so a password holding `@` or `/` goes too). Every
 * adapter's messages go through this one.
 */
export function redact(text: string): string {
  return text.replace(/\/\/[^\s]*@/g, '//***@').replace(/\b(password|sslpassword)=[^&\s]*/gi, '$1=***');
}
