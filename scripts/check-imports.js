#!/usr/bin/env node
// Import rules of src/, checked without a build: no import cycles (type-only imports count, as
// madge counts them), src/compute imports only from src/compute and packages (it holds pure
// numeric kernels; I/O lives in src/jobs), and the layers below import nothing from those above
// them (LAYERS). `node scripts/check-imports.js` prints what breaks a rule and exits 1;
// tests/architecture/imports.test.ts runs the same check.
const fs = require('node:fs');
const path = require('node:path');

const DEFAULT_SRC = path.resolve(__dirname, '..', 'src');

/**
 * Folders of src/ and the folders they must not import from. Viewers and readability (access) sit
 * below the domain; the domain defines its own context and knows nothing of GraphQL resolvers or
 * the HTTP server; authentication and the site exchange use access, not the domain.
 */
const LAYERS = {
  access: ['domain', 'resolvers', 'server', 'auth', 'sites', 'embedded'],
  domain: ['resolvers', 'server', 'embedded'],
  auth: ['domain', 'resolvers', 'server'],
  sites: ['domain', 'resolvers', 'server'],
};

function sources(dir, ignored, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (p !== ignored) sources(p, ignored, out);
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative specifiers of static imports and re-exports (comments stripped first). */
function specifiers(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found = [];
  const re = /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*\s{},$]*?\s+from\s+)?['"]([^'"]+)['"]/g;
  let m;
  while ((m = re.exec(code))) found.push(m[1]);
  return found;
}

function resolve(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return null;
}

function graphOf(files, generated) {
  const graph = new Map();
  for (const f of files) {
    const deps = new Set();
    for (const spec of specifiers(fs.readFileSync(f, 'utf8'))) {
      const target = resolve(f, spec);
      if (target && !target.startsWith(generated + path.sep)) deps.add(target);
    }
    graph.set(f, [...deps]);
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself): the cycles. */
function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** `src` defaults to the repository's src/; generated code (src/generated) is left out. */
function check(src = DEFAULT_SRC) {
  const generated = path.join(src, 'generated');
  const graph = graphOf(sources(src, generated), generated);
  const rel = (f) => path.relative(path.dirname(src), f);
  const compute = path.join(src, 'compute') + path.sep;
  const outside = [];
  for (const [f, deps] of graph) {
    if (!f.startsWith(compute)) continue;
    for (const d of deps) if (!d.startsWith(compute)) outside.push(`${rel(f)} imports ${rel(d)}`);
  }
  const top = (f) => path.relative(src, f).split(path.sep)[0];
  const layers = [];
  for (const [f, deps] of graph) {
    const banned = LAYERS[top(f)];
    if (!banned) continue;
    for (const d of deps) if (banned.includes(top(d))) layers.push(`${rel(f)} imports ${rel(d)}`);
  }
  return { files: graph.size, cycles: cycles(graph).map((c) => c.map(rel)), computeOutside: outside, layers };
}

module.exports = { check, LAYERS };

if (require.main === module) {
  const r = check();
  for (const c of r.cycles) console.log(`cycle: ${c.join(' <-> ')}`);
  for (const o of r.computeOutside) console.log(`src/compute must not import from outside itself: ${o}`);
  for (const l of r.layers) console.log(`import against the layers (a lower folder imports a higher one): ${l}`);
  console.log(`${r.files} files, ${r.cycles.length} cycle(s), ${r.computeOutside.length} import(s) out of src/compute, ${r.layers.length} against the layers`);
  process.exit(r.cycles.length || r.computeOutside.length || r.layers.length ? 1 : 0);
}
