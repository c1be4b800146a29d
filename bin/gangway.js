#!/usr/bin/env node
// The CLI runs the compiled package (dist/); in a checkout, `--conditions=gangway-source` (npm run
// demo, npm test) runs src/ instead, through tsx. A user's gangway.config.ts is compiled by tsx
// either way, when src/cli/load-config.ts loads it.
import { fileURLToPath } from 'node:url';

const entry = import.meta.resolve('#cli');
// Registered only for the sources: under its hooks every module of dist/ loads about 2x slower.
if (entry.endsWith('.ts')) (await import('tsx/esm/api')).register();
let cli;
try {
  cli = await import(entry);
} catch (err) {
  // A checkout installed without its prepare script (npm install --ignore-scripts) has no dist/.
  const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes(built)) throw err;
  process.stderr.write(`gangway: ${built} is missing: run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
