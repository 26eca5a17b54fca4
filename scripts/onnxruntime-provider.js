#!/usr/bin/env node
// Installs ONNX Runtime's CUDA execution provider on a GPU host, and only there.
//
// The CPU runtime ships inside onnxruntime-node. Its own install script would, on Linux x64,
// download the CUDA provider from NuGet on every install, which fails offline; package.json
// therefore denies that script (`allowScripts`), and this project postinstall runs it only when
// asked: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci`. With the variable unset (or `skip`) it does
// nothing. When the provider libraries are already in place (npm 10 runs onnxruntime-node's own
// script, which has then just installed them) it does nothing either.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const requested = process.env.ONNXRUNTIME_NODE_INSTALL || process.env.npm_config_onnxruntime_node_install;
if (!requested || requested === 'skip') process.exit(0);

let packageDir;
try {
  packageDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
} catch {
  // `npm prune --omit=...` or a partial tree: nothing to install into.
  process.exit(0);
}

const platform = `${os.platform()}/${os.arch()}`;
const metadata = require(path.join(packageDir, 'script', 'install-metadata.js'));
const manifests = requested
  .split(',')
  .map((name) => metadata.manifests[`${platform}:${name.trim()}`])
  .filter(Boolean);
const binFolder = path.join(packageDir, 'bin', 'napi-v6', platform);
const installed =
  manifests.length > 0 && manifests.every((m) => Object.keys(m).every((file) => existsSync(path.join(binFolder, file))));
if (installed) process.exit(0);

console.log(`Installing ONNX Runtime execution provider "${requested}" for ${platform} ...`);
const result = spawnSync(process.execPath, [path.join('script', 'install.js')], {
  cwd: packageDir,
  stdio: 'inherit',
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: requested },
});
process.exit(result.status ?? 1);
