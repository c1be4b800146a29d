import { resolve } from 'node:path';
import { createGangway } from '../app.ts';
import { createLogger } from '../logger.ts';
import type { GangwayConfig } from '../config.ts';
import { SUPPORTED_VERSIONS } from '../protocol/eras.ts';
import { limitsApply, resolvePolicy } from '../policy/config.ts';
import { isLoopbackHost } from '../transport/guard.ts';
import { redact } from '../store/spec.ts';
import { applyOverrides, loadConfig } from './load-config.ts';

export interface ServeFlags {
  cwd?: string;
  config?: string;
  port?: string;
  host?: string;
  store?: string;
}

/** `gangway serve`: load the config, listen, print where to connect, stop cleanly on a signal. */
export async function serve(flags: ServeFlags, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const cwd = resolve(flags.cwd ?? '.');
  process.chdir(cwd); // relative paths in the config (sqlite:./data/...) are the project's
  const { file, config: loaded } = await loadConfig(cwd, flags.config);
  const config = applyOverrides(loaded, flags, process.env);
  const logger =
    config.logger && 'info' in config.logger
      ? config.logger
      : createLogger({ pretty: Boolean(process.stdout.isTTY) && !process.env.CI, ...(config.logger as object) });
  const app = createGangway({ ...config, logger });
  const { url } = await app.listen();
  const r = app.registry;
  const spec = (v: unknown, fallback: string) => (typeof v === 'string' ? redact(v) : v ? 'custom' : fallback);
  const store = `${spec(config.store, 'sqlite:./data/gangway.db')}, ephemeral ${spec(config.ephemeral, 'memory')}`;
  out.write(
    [
      '',
      `  Gangway  ${config.name} ${config.version}`,
      `  MCP endpoint   ${url}`,
      `  config         ${file}`,
      `  serving        ${r.toolList.length} tools, ${r.resourceList.length} resources, ${r.templates.length} resource templates, ${r.promptList.length} prompts`,
      `  protocol       ${SUPPORTED_VERSIONS.join(', ')}${config.http?.stateless ? ' (2025 eras stateless)' : ''}`,
      `  store          ${store}`,
      ...authLines(config, new URL(url).origin),
      ...policyLines(config, app.enabled, r.toolList.filter((t) => t.def.destructive).length),
      '',
      `  Connect:  claude mcp add --transport http ${slug(config.name)} ${url}`,
      `            npx @modelcontextprotocol/inspector  (Streamable HTTP, URL ${url})`,
      '',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // second signal: stop now
    stopping = true;
    app.logger.info({ signal }, 'shutting down: draining in-flight requests');
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // on, not once: a second signal must reach stop() (and exit now), also as PID 1 in a container
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return new Promise<number>(() => {}); // runs until a signal
}

/** What the banner says about who may call (nothing without `auth`: everyone is anonymous). */
function authLines(config: GangwayConfig, origin: string): string[] {
  const a = config.auth;
  if (config.authenticate) return ['  auth           custom authenticate()'];
  if (!a) return ['  auth           none: every caller is anonymous'];
  const ways: string[] = [];
  if (a.oauth) ways.push('OAuth 2.1 (built-in authorization server)');
  if (a.external) ways.push(`JWTs from ${a.external.issuer}`);
  if (a.apiKeyHeader !== false) ways.push(`API keys (${a.apiKeyHeader ?? 'x-api-key'})`);
  if (a.managementTokenHeader !== false) ways.push(`management tokens (${a.managementTokenHeader ?? 'x-management-token'})`);
  const lines = [`  auth           ${ways.join(', ')}`];
  // The page needs a sign-in: the configured one, or the built-in email sign-in on loopback.
  const signIn = a.signIn ?? (isLoopbackHost(new URL(origin).hostname) ? 'email' : undefined);
  if (signIn && (a.apiKeyHeader !== false || a.managementTokenHeader !== false || a.oauth)) lines.push(`  API tokens     ${origin}/settings/tokens  (or gangway tokens create)`);
  return lines;
}

/** What the banner says about the guard rails: limits, quotas, confirmation, the master switch. */
function policyLines(config: GangwayConfig, enabled: boolean, destructive: number): string[] {
  if (!enabled) return ['  MCP surface    DISABLED (enabled: false or GANGWAY_MCP_ENABLED=0): every MCP and OAuth route answers 404'];
  const p = resolvePolicy(config.policy);
  const limited = limitsApply(config);
  const rate = p.limits.perCredential;
  const parts = [limited && rate ? `${rate.max} requests per ${rate.windowMs / 1000} s per credential` : 'no rate limit'];
  if (limited && p.quotas) parts.push(`monthly quotas (${Object.keys(p.quotas.plans).join(', ')})`);
  const lines = [`  limits         ${parts.join('; ')}`];
  if (destructive) lines.push(`  confirmation   ${destructive} destructive tool${destructive === 1 ? '' : 's'} ask${destructive === 1 ? 's' : ''} first (${p.confirmation.mode})`);
  lines.push(`  audit          ${p.audit ? 'every call, in the store (gangway audit tail)' : 'off'}`);
  return lines;
}

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'gangway';
