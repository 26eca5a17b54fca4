// The import rules of src/ (scripts/check-imports.js): no cycles, and src/compute imports only
// from itself and packages. The checker is also shown to see what it must catch.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const { check } = require('../../scripts/check-imports.js') as { check: (src?: string) => { files: number; cycles: string[][]; computeOutside: string[] } };

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
});
