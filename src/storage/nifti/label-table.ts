// Label tables that name the integer labels of an ROI volume: FreeSurfer colour tables (.ctab /
// LUT: "index name r g b a" per line, '#' comments), NSD's two-column "index name" text, or JSON
// ({"1": "V1v", ...}, [[1, "V1v"], ...] or [{"index": 1, "name": "V1v"}, ...]).
import { NiftiFormatError } from './errors';

/** index -> name; index 0 is the background and never an ROI, whatever the table calls it. */
export type LabelTable = Map<number, string>;

export function parseLabelTable(text: string, file: string): LabelTable {
  const table: LabelTable = new Map();
  const add = (index: unknown, name: unknown, where: string) => {
    const i = Number(index);
    if (!Number.isInteger(i) || i < 0) throw new NiftiFormatError(file, 'index', `${where}: label index ${JSON.stringify(index)} is not a non-negative integer`);
    const n = String(name ?? '').trim();
    if (!n) throw new NiftiFormatError(file, 'name', `${where}: label ${i} has no name`);
    if (table.has(i)) throw new NiftiFormatError(file, 'index', `${where}: label ${i} is listed twice (${table.get(i)} and ${n})`);
    if (i !== 0) table.set(i, n);
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new NiftiFormatError(file, 'json', `is not valid JSON (${(err as Error).message})`);
    }
    if (Array.isArray(parsed))
      parsed.forEach((entry, k) => {
        if (Array.isArray(entry)) add(entry[0], entry[1], `entry ${k}`);
        else if (entry && typeof entry === 'object') add((entry as any).index ?? (entry as any).label, (entry as any).name, `entry ${k}`);
        else throw new NiftiFormatError(file, 'json', `entry ${k} is neither [index, name] nor {index, name}`);
      });
    else for (const [k, v] of Object.entries(parsed as object)) add(k, v, `key ${k}`);
  } else {
    text.split(/\r?\n/).forEach((line, k) => {
      const content = line.replace(/#.*/, '').trim();
      if (!content) return;
      const [index, name] = content.split(/\s+/);
      add(index, name, `line ${k + 1}`);
    });
  }
  if (table.size === 0) throw new NiftiFormatError(file, 'labels', 'names no label other than 0 (background)');
  return table;
}
