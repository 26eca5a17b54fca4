#!/usr/bin/env node
// Builds the lab dashboard (web/) when its sources are newer than the build: first the operation
// result types from the GraphQL schema (web/src/generated), then the Vite bundle (web/dist).
// `node scripts/build-dashboard.js [--force]`; also called by ensure-ready.js and the browser tests.
const { execFileSync } = require('node:child_process');
const { closeSync, existsSync, openSync, readdirSync, rmSync, statSync, utimesSync } = require('node:fs');
const { createHash } = require('node:crypto');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const web = path.join(root, 'web');
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

/** Newest modification time of the files under `dir` (recursively), skipping `skip` folders. */
function newestUnder(dir, skip = []) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skip.includes(entry.name)) newest = Math.max(newest, newestUnder(p, skip));
    } else newest = Math.max(newest, mtime(p));
  }
  return newest;
}

const schemaTime = () => newestUnder(path.join(root, 'src/schema'));
const typesOut = path.join(web, 'src/generated/graphql.ts');
const bundleOut = path.join(web, 'dist/index.html');

function typesStale() {
  return Math.max(schemaTime(), newestUnder(path.join(web, 'src/graphql')), mtime(path.join(web, 'codegen.ts'))) > mtime(typesOut);
}

function bundleStale() {
  return (
    Math.max(newestUnder(path.join(web, 'src')), mtime(path.join(web, 'index.html')), mtime(path.join(web, 'vite.config.mts'))) > mtime(bundleOut)
  );
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function generateTypes() {
  execFileSync(bin('graphql-codegen'), ['--config', 'web/codegen.ts', '--silent'], { cwd: root, stdio: 'inherit' });
  // Codegen leaves an unchanged file alone; mark it current so the check above settles.
  const now = new Date();
  utimesSync(typesOut, now, now);
}

function buildBundle() {
  execFileSync(bin('vite'), ['build', '--config', 'web/vite.config.mts'], { cwd: root, stdio: 'inherit' });
}

// Test files and `npm start` may ask at the same moment; one builds, the others wait and recheck.
const lockFile = path.join(os.tmpdir(), `brainalign-dashboard-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.lock`);
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function withBuildLock(work) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      closeSync(openSync(lockFile, 'wx'));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // A lock left by a killed build is taken over after two minutes.
      if (Date.now() - mtime(lockFile) > 120_000) rmSync(lockFile, { force: true });
      if (Date.now() > deadline) throw new Error(`waited too long for ${lockFile}`);
      sleep(250);
    }
  }
  try {
    return work();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

/** Regenerates and rebuilds what is stale (or everything with force); returns what it did. */
function ensureDashboard({ force = false } = {}) {
  if (!force && !typesStale() && !bundleStale()) return [];
  return withBuildLock(() => build(force));
}

function build(force) {
  const done = [];
  if (force || typesStale()) {
    generateTypes();
    done.push('types');
  }
  if (force || bundleStale()) {
    buildBundle();
    done.push('bundle');
  }
  return done;
}

module.exports = { ensureDashboard, bundleOut };

if (require.main === module) {
  const done = ensureDashboard({ force: process.argv.includes('--force') });
  console.log(done.length ? `dashboard: rebuilt ${done.join(' and ')}` : 'dashboard: up to date');
}
