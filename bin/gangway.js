#!/usr/bin/env node
// The CLI runs the compiled package (dist/); in a checkout, `--conditions=gangway-source` (npm run
// demo, npm test) runs src/ instead. tsx compiles src/ then, and always the user's gangway.config.ts.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
let cli;
try {
  cli = await import('#cli');
} catch (err) {
  // A checkout installed without its prepare script (npm install --ignore-scripts) has no dist/.
  const entry = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes(entry)) throw err;
  process.stderr.write(`gangway: ${entry} is missing: run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
