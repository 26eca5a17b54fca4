// The import rules of src/ (scripts/check-imports.js): no cycles, src/compute imports only from
// itself and packages, and the lower layers (access, domain, auth, sites) import nothing from those
// above them. The checker is also shown to see what it must catch.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const { check, LAYERS } = require('../../scripts/check-imports.js') as {
  check: (src?: string) => { files: number; cycles: string[][]; computeOutside: string[]; layers: string[] };
  LAYERS: Record<string, string[]>;
};

describe('imports in src', () => {
  it('form no cycle, and src/compute imports nothing from outside itself', () => {
    const r = check();
    expect(r.files).toBeGreaterThan(100);
    expect(r.cycles).toEqual([]);
    expect(r.computeOutside).toEqual([]);
  });

  it('the checker finds a type-only cycle and an import out of compute', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'imports-'));
    const src = path.join(dir, 'src');
    mkdirSync(path.join(src, 'compute'), { recursive: true });
    mkdirSync(path.join(src, 'runs'), { recursive: true });
    writeFileSync(path.join(src, 'runs', 'a.ts'), "import type { B } from './b';\nexport type A = B;\n");
    writeFileSync(path.join(src, 'runs', 'b.ts'), "import {\n  type A,\n} from './a';\nexport type B = A | 1;\n");
    writeFileSync(path.join(src, 'compute', 'k.ts'), "// import { x } from '../runs/a';\nexport { type A } from '../runs/a';\n");
    const r = check(src);
    expect(r.cycles).toEqual([['src/runs/a.ts', 'src/runs/b.ts']]);
    expect(r.computeOutside).toEqual(['src/compute/k.ts imports src/runs/a.ts']);
  });

  it('keep their layers: src/access imports nothing from the domain, resolvers or server, and the domain nothing from resolvers', () => {
    expect(LAYERS.access).toEqual(expect.arrayContaining(['domain', 'resolvers', 'server']));
    expect(LAYERS.domain).toEqual(expect.arrayContaining(['resolvers', 'server']));
    expect(check().layers).toEqual([]);
  });

  it('the checker finds an import against the layers', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'layers-'));
    const src = path.join(dir, 'src');
    for (const d of ['access', 'domain', 'resolvers']) mkdirSync(path.join(src, d), { recursive: true });
    writeFileSync(path.join(src, 'resolvers', 'context.ts'), 'export interface Context { x: 1 }\n');
    writeFileSync(path.join(src, 'domain', 'rule.ts'), "import type { Context } from '../resolvers/context';\nexport type Rule = Context;\n");
    writeFileSync(path.join(src, 'access', 'viewer.ts'), "import type { Rule } from '../domain/rule';\nexport type Viewer = Rule;\n");
    writeFileSync(path.join(src, 'resolvers', 'uses.ts'), "import type { Viewer } from '../access/viewer';\nexport type Uses = Viewer;\n");
    const r = check(src);
    expect(r.cycles).toEqual([]);
    expect(r.layers.sort()).toEqual(['src/access/viewer.ts imports src/domain/rule.ts', 'src/domain/rule.ts imports src/resolvers/context.ts']);
  });
});
