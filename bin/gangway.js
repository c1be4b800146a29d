#!/usr/bin/env node
// The CLI runs the compiled package (dist/); in a checkout, `--conditions=gangway-source` (npm run
// demo, npm test) runs src/ instead. tsx compiles src/ then, and always the user's gangway.config.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('#cli');
process.exitCode = await main(process.argv.slice(2));
