#!/usr/bin/env node
// The `brainalign` command: runs the TypeScript sources through tsx (a dependency), no build step.
import { createRequire } from 'node:module';
import { register } from 'tsx/cjs/api';

register();
const { main } = createRequire(import.meta.url)('../src/cli/main.ts');
const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
// Exit once stdout has drained, so piped output is complete and idle sockets do not hold the process.
process.stdout.write('', () => process.exit(code));
