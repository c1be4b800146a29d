import { parseArgs } from 'node:util';
import { GangwayConfigError } from '../errors.ts';
import { StoreError } from '../store/errors.ts';
import { AUDIT_HELP, auditCommand } from './audit.ts';
import { IMPORT_HELP, importCommand } from './import.ts';
import { init } from './init.ts';
import { serve } from './serve.ts';
import { tokensCommand } from './tokens.ts';

const HELP = `gangway: a production remote MCP server from code or an OpenAPI spec

Usage:
  gangway serve [--cwd DIR] [--config FILE] [--port N] [--host ADDR] [--store SPEC]
      Serve the MCP server defined by gangway.config.{ts,mts,js,mjs,json}.
      Env overrides: GANGWAY_PORT (or PORT), GANGWAY_HOST, GANGWAY_PUBLIC_URL, GANGWAY_STORE,
      GANGWAY_EPHEMERAL, GANGWAY_SECRET, GANGWAY_LOG_LEVEL.
  gangway init [DIR]
      Create a new project (gangway.config.ts) that serves out of the box.
${IMPORT_HELP}  gangway tokens create --tenant T [--kind api_key|management] [--name N] [--scopes a,b]
                        [--subject S] [--expires-days N] [--json]
  gangway tokens list [--tenant T] [--kind api_key|management] [--json]
  gangway tokens revoke ID [--tenant T]
      Mint, list and revoke API keys and management tokens in the project's store
      (the secret is printed once). Also: --cwd DIR, --config FILE, --store SPEC.
${AUDIT_HELP}  gangway help
`;

/** CLI entry: returns the exit code. Configuration errors print one clear line, no stack. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve': {
        const { values } = parseArgs({
          args: rest,
          options: {
            cwd: { type: 'string' },
            config: { type: 'string', short: 'c' },
            port: { type: 'string', short: 'p' },
            host: { type: 'string' },
            store: { type: 'string' },
          },
          strict: true,
        });
        return await serve(values);
      }
      case 'init': {
        const { positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true });
        return init(positionals[0] ?? '.');
      }
      case 'import':
        return await importCommand(rest);
      case 'tokens':
        return await tokensCommand(rest, {});
      case 'audit':
        return await auditCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return 0;
      default:
        process.stderr.write(`gangway: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof GangwayConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gangway: ${(err as Error).message}${'code' in (err as object) ? ` [${(err as GangwayConfigError).code}]` : ''}\n`);
      return 2;
    }
    if ((err as { code?: string }).code === 'EADDRINUSE') {
      process.stderr.write(`gangway: ${(err as Error).message}: the port is taken; pass --port or set GANGWAY_PORT\n`);
      return 1;
    }
    // A store that cannot be opened (Postgres down, a file not writable): one line, not a stack.
    if (err instanceof StoreError) {
      process.stderr.write(`gangway: ${err.message} [${err.code}]\n`);
      return 1;
    }
    throw err;
  }
}
