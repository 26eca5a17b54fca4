#!/usr/bin/env node
// Makes a fresh clone runnable: installs dependencies when missing and regenerates the Prisma
// client and GraphQL resolver types when their sources changed. Used by `npm start` and `npm test`.
const { execSync } = require('node:child_process');
const { existsSync, statSync, readdirSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' });
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const newest = (dir, ext) => Math.max(0, ...readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => mtime(path.join(dir, f))));

const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || mtime(lock) > mtime(installed)) {
  console.log('Installing dependencies (npm ci) ...');
  run('npm ci --no-audit --no-fund');
}

const prismaOut = path.join(root, 'src/generated/prisma/client.ts');
if (mtime(path.join(root, 'prisma/schema.prisma')) > mtime(prismaOut)) run('npx prisma generate');

const gqlOut = path.join(root, 'src/generated/graphql.ts');
if (Math.max(newest(path.join(root, 'src/schema'), '.graphql'), mtime(path.join(root, 'codegen.ts'))) > mtime(gqlOut))
  run('npx graphql-codegen --config codegen.ts --silent');

// The lab dashboard served at /dashboard/: its operation types and bundle, when sources changed.
// A failed dashboard build must not keep the API from starting: /dashboard/ then says it is missing.
try {
  require('./build-dashboard').ensureDashboard();
} catch (err) {
  console.warn(`The dashboard was not built (${err.message.split('\n')[0]}); the API runs without it.`);
}
