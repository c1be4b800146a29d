import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register, tsImport } from 'tsx/esm/api';
import type { GangwayConfig } from '../config.ts';
import type { Store } from '../store/types.ts';
import { GangwayConfigError, loadedCopies } from '../errors.ts';

/** The flags every command that works on a project's store takes (`parseArgs` options). */
export const PROJECT_OPTIONS = {
  cwd: { type: 'string' },
  config: { type: 'string', short: 'c' },
  store: { type: 'string' },
} as const;

export const CONFIG_NAMES = ['gangway.config.ts', 'gangway.config.mts', 'gangway.config.js', 'gangway.config.mjs', 'gangway.config.json'];

/** Finds and loads the project's config: the default export of a TS/JS module, or JSON. */
export async function loadConfig(cwd: string, explicit?: string): Promise<{ file: string; config: GangwayConfig }> {
  const file = explicit ? resolve(cwd, explicit) : CONFIG_NAMES.map((n) => resolve(cwd, n)).find((f) => existsSync(f));
  if (!file || !existsSync(file)) {
    throw new GangwayConfigError(
      'GW_CONFIG_NOT_FOUND',
      explicit ? `config file not found: ${file}` : `no ${CONFIG_NAMES.join(' / ')} in ${cwd} (run \`gangway init\` to create one)`,
    );
  }
  let config: unknown;
  if (file.endsWith('.json')) {
    try {
      config = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new GangwayConfigError('GW_CONFIG_PARSE', `${file}: ${(err as Error).message}`);
    }
  } else {
    const esm = isEsm(file);
    const mod = (await importConfig(file, esm).catch((err: unknown) => {
      throw notInstalled(err, file) ?? err;
    })) as { default?: unknown };
    if (loadedCopies() > 1) {
      process.stderr.write(
        `gangway: note: ${file} loaded a second copy of gangway (about 1 s and 40 MB more at start)` +
          (esm ? '\n' : ': Node reads it as CommonJS; "type": "module" in its package.json avoids that\n'),
      );
    }
    let value = mod.default;
    if (value && typeof value === 'object' && 'default' in value && !('name' in value)) value = (value as { default: unknown }).default;
    config = typeof value === 'function' ? await (value as () => unknown)() : value;
  }
  if (!config || typeof config !== 'object') {
    throw new GangwayConfigError('GW_CONFIG_SHAPE', `${file} must export a config object as its default export`);
  }
  return { file, config: config as GangwayConfig };
}

/** Environment overrides, for containers and platforms that set PORT. Flags win over env. */
export function applyOverrides(
  config: GangwayConfig,
  flags: { port?: string; host?: string; store?: string },
  env: NodeJS.ProcessEnv,
): GangwayConfig {
  const http = { ...config.http };
  const port = flags.port ?? env.GANGWAY_PORT ?? env.PORT;
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new GangwayConfigError('GW_CONFIG_HTTP', `port must be 0-65535 (got ${port})`);
    http.port = n;
  }
  const host = flags.host ?? env.GANGWAY_HOST;
  if (host) http.host = host;
  if (env.GANGWAY_PUBLIC_URL) http.publicUrl = env.GANGWAY_PUBLIC_URL;
  const store = flags.store ?? env.GANGWAY_STORE;
  return {
    ...config,
    http,
    ...(store ? { store } : {}),
    ...(env.GANGWAY_EPHEMERAL ? { ephemeral: env.GANGWAY_EPHEMERAL } : {}),
    ...(env.GANGWAY_SECRET ? { secret: env.GANGWAY_SECRET } : {}),
  };
}

/**
 * The store `serve` would open, for a CLI command working on it from outside the server:
 * relative SQLite paths are the project directory's. An in-memory store is refused (it lives
 * only inside the serving process), and with `mustExist` a SQLite file that does not exist
 * (opening it would create an empty one): the refusal is returned as `{ refused }`.
 */
export function projectStore(config: GangwayConfig, cwd: string, mustExist: boolean): string | Store | { refused: string } {
  const spec = config.store ?? 'sqlite:./data/gangway.db';
  if (typeof spec !== 'string') return spec;
  const text = spec.trim();
  if (text === 'memory' || text === ':memory:' || text === 'sqlite::memory:') {
    return { refused: `the store is "${text}": it lives only inside the serving process; configure a durable store or pass --store` };
  }
  if (!text.startsWith('sqlite:') || text.startsWith('sqlite://') || text === 'sqlite:') return text;
  const q = text.indexOf('?');
  const options = q < 0 ? '' : text.slice(q);
  const path = resolve(cwd, text.slice('sqlite:'.length, q < 0 ? undefined : q));
  if (mustExist && !existsSync(path)) return { refused: `no SQLite database at ${path}: nothing has been recorded there yet` };
  return `sqlite:${path}${options}`;
}

let registered: unknown;

/**
 * An ES module config joins this process's module graph (tsx's loader registered once), so its
 * `import ... from 'gangway'` is the copy that serves it. A config Node reads as CommonJS (a .ts
 * in a package without "type": "module") cannot (ERR_REQUIRE_CYCLE_MODULE): tsImport compiles it
 * apart, with its own copy of gangway, and its export arrives wrapped in `default`.
 */
async function importConfig(file: string, esm: boolean): Promise<unknown> {
  if (!esm) return tsImport(pathToFileURL(file).href, import.meta.url);
  registered ??= register();
  return import(pathToFileURL(file).href);
}

/** Whether Node reads `file` as an ES module: .mjs/.mts, or .js/.ts under a "type": "module" package.json. */
function isEsm(file: string): boolean {
  if (/\.m[jt]s$/.test(file)) return true;
  if (/\.c[jt]s$/.test(file)) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false; // Node refuses such a package.json anyway; tsImport reports it
      }
    }
    if (dirname(dir) === dir) return false;
  }
}

/** A package the config imports is not installed: one clear line instead of a stack. */
function notInstalled(err: unknown, file: string): GangwayConfigError | undefined {
  const e = err as { code?: unknown; message?: unknown };
  if ((e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'MODULE_NOT_FOUND') || typeof e.message !== 'string') return undefined;
  const name = /Cannot find (?:package|module) '([^']+)'/.exec(e.message)?.[1];
  if (!name || name.startsWith('.') || name.startsWith('/')) return undefined; // a missing file of the project: its stack says where
  const hint = name === 'gangway' ? ' (a project made by `gangway init` lists it in its package.json)' : '';
  return new GangwayConfigError('GW_CONFIG_IMPORT', `${file} needs '${name}', which is not installed: run \`npm install\` in ${dirname(file)}${hint}`);
}
