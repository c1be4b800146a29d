#!/usr/bin/env node
// The package ships TypeScript; tsx compiles it (and the user's gangway.config.ts) on load.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
