import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OpenApiImportError } from '../openapi/errors.ts';
import { importSpec, type ImportProgress } from '../openapi/import.ts';
import { writeManifest } from '../openapi/manifest.ts';
import { modeCost } from '../openapi/mode-tokens.ts';
import type { Manifest } from '../openapi/operation.ts';
import { TOKENIZER } from '../openapi/tokens.ts';
import { DEFAULT_TOKEN_BUDGET, type ToolsMode, type ToolsOptions } from '../openapi/tools.ts';
import { readOverride, type McpOverride } from '../openapi/x-mcp.ts';

export const IMPORT_HELP = `  gangway import <spec> [--out FILE] [--mode auto|all|toolsets|meta|curated] [--budget N]
                 [--toolsets TAG,...] [--tools NAME,...] [--meta] [--overrides FILE]
                 [--skip-invalid] [--no-examples] [--max-description N] [--quiet]
      Import a Swagger 2.0 / OpenAPI 3.0 / 3.1 document (JSON or YAML) into a manifest
      (default gangway.manifest.json) that the server loads without re-parsing the spec;
      prints operations, tools and tools/list tokens for every mode.
`;

const MODES = new Set(['auto', 'all', 'toolsets', 'meta', 'curated']);

/** `gangway import`: returns the exit code. Errors with a code are printed as one line by main. */
export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: 'string', short: 'o' },
      mode: { type: 'string' },
      budget: { type: 'string' },
      toolsets: { type: 'string' },
      tools: { type: 'string' },
      meta: { type: 'boolean' },
      overrides: { type: 'string' },
      'skip-invalid': { type: 'boolean' },
      'no-examples': { type: 'boolean' },
      'max-description': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  const [spec] = positionals;
  if (!spec || positionals.length > 1) {
    process.stderr.write(`gangway import: give one spec file\n\nUsage:\n${IMPORT_HELP}`);
    return 2;
  }
  const mode = (values.mode ?? 'auto') as ToolsMode;
  if (!MODES.has(mode)) throw new OpenApiImportError('GW_OPENAPI_MODE', `--mode must be one of ${[...MODES].join(', ')}`);
  const tools: ToolsOptions = { mode };
  if (values.budget !== undefined) tools.tokenBudget = positiveInt(values.budget, '--budget');
  if (values.toolsets !== undefined) tools.toolsets = list(values.toolsets);
  if (values.tools !== undefined) tools.tools = list(values.tools);
  if (values.meta) tools.meta = true;
  const out = resolve(values.out ?? 'gangway.manifest.json');
  const quiet = values.quiet === true;

  const started = performance.now();
  let bytes: Buffer;
  try {
    bytes = readFileSync(spec);
  } catch (err) {
    throw new OpenApiImportError('GW_OPENAPI_PARSE', `cannot read ${spec}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const manifest = importSpec(bytes, {
    overrides: values.overrides ? readOverrides(values.overrides) : undefined,
    examples: values['no-examples'] !== true,
    maxDescriptionChars: values['max-description'] !== undefined ? positiveInt(values['max-description'], '--max-description') : undefined,
    skipInvalid: values['skip-invalid'] === true,
    check: 'compile',
    onProgress: quiet ? undefined : progressPrinter(started),
  });
  manifest.tools = { mode, ...tools };
  const chosen = modeCost(manifest, tools); // also checks --toolsets / --tools against the manifest
  const size = writeManifest(out, manifest);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(report(manifest, chosen, tools, out, size, seconds));
  return 0;
}

function report(m: Manifest, chosen: ReturnType<typeof modeCost>, tools: ToolsOptions, out: string, size: number, seconds: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const all = modeCost(m, { mode: 'all' });
  const meta = modeCost(m, { mode: 'meta' });
  const lines = [
    `Imported ${m.title || 'API'} ${m.version}: ${n(m.operations.length)} operations${m.skipped?.length ? ` (${m.skipped.length} left out)` : ''} in ${seconds.toFixed(1)} s`,
    `tools/list tokens (${TOKENIZER}): all ${n(all.tokens)} (${n(all.tools)} tools), meta ${n(meta.tokens)} (${meta.tools} tools)`,
    `mode ${tools.mode}${tools.mode === 'auto' ? ` (budget ${n(tools.tokenBudget ?? DEFAULT_TOKEN_BUDGET)})` : ''} -> ${chosen.mode}: ${n(chosen.tools)} tools, ${n(chosen.tokens)} tokens`,
    `Wrote ${out} (${(size / 1048576).toFixed(1)} MB)`,
  ];
  for (const s of m.skipped ?? []) lines.push(`  left out ${s.operation}: ${s.reason}`);
  return `${lines.join('\n')}\n`;
}

/** One stderr line per phase, and every ~second within a long one. */
function progressPrinter(started: number): (p: ImportProgress) => void {
  let phase = '';
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (p.phase === phase && now - last < 1000 && p.done !== p.total) return;
    if (p.phase === 'done') return;
    phase = p.phase;
    last = now;
    const label = { parse: 'parsed', plan: 'translating operations', check: 'compiling input schemas', tokens: 'counting tokens', done: '' }[p.phase];
    process.stderr.write(`import: ${label} ${p.total > 1 ? `${p.done}/${p.total} ` : ''}(${((now - started) / 1000).toFixed(1)} s)\n`);
  };
}

function readOverrides(path: string): Record<string, McpOverride> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `cannot read overrides ${path}: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OpenApiImportError('GW_OPENAPI_OVERRIDE', `overrides ${path} must be a JSON object keyed by operation`);
  }
  for (const [k, v] of Object.entries(value)) readOverride(v, `override "${k}"`);
  return value as Record<string, McpOverride>;
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

function positiveInt(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new OpenApiImportError('GW_OPENAPI_MODE', `${flag} must be a positive integer`);
  return n;
}
