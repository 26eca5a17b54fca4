// Some result views read fields that only newer servers have (e.g. causalTestResult). The schema
// is asked which of the wanted fields exist, so the page shows what the server offers and says
// so plainly when it offers nothing, instead of failing validation.
import { request } from './client';

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface FieldInfo {
  name: string;
  type: TypeRef;
}

const cache = new Map<string, Promise<FieldInfo[] | null>>();

function fieldsOf(typeName: string): Promise<FieldInfo[] | null> {
  if (!cache.has(typeName)) {
    const q = `query TypeFields($name: String!) { __type(name: $name) { fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }`;
    cache.set(
      typeName,
      request<{ __type: { fields: FieldInfo[] | null } | null }, { name: string }>(q, { name: typeName }).then(
        (d) => d.__type?.fields ?? null,
        () => null,
      ),
    );
  }
  return cache.get(typeName)!;
}

/** The named type under NON_NULL and LIST wrappers, and whether it is an object. */
function named(t: TypeRef): { name: string; object: boolean } {
  let cur: TypeRef | null = t;
  while (cur && !cur.name) cur = cur.ofType;
  return { name: cur?.name ?? '', object: cur?.kind === 'OBJECT' };
}

/** What to select: leaf fields as `true`, object fields as a nested spec. */
export type Spec = { [field: string]: true | Spec };

/** A selection set containing only those fields of `spec` that `typeName` has, or null if none. */
export async function existingSelection(typeName: string, spec: Spec): Promise<string | null> {
  const fields = await fieldsOf(typeName);
  if (!fields) return null;
  const parts: string[] = [];
  for (const [name, sub] of Object.entries(spec)) {
    const f = fields.find((x) => x.name === name);
    if (!f) continue;
    const t = named(f.type);
    if (sub === true) {
      if (!t.object) parts.push(name);
      continue;
    }
    if (!t.object) continue;
    const inner = await existingSelection(t.name, sub);
    if (inner) parts.push(`${name} ${inner}`);
  }
  return parts.length ? `{ ${parts.join(' ')} }` : null;
}

/** The return type of a Query field, or null when the server has no such field. */
export async function queryFieldType(field: string): Promise<string | null> {
  const fields = await fieldsOf('Query');
  const f = fields?.find((x) => x.name === field);
  return f ? named(f.type).name : null;
}

/** Names of the list fields of `typeName` whose elements carry all of `mustHave`. */
export async function listFieldsWith(typeName: string, mustHave: string[]): Promise<string[]> {
  const fields = (await fieldsOf(typeName)) ?? [];
  const out: string[] = [];
  for (const f of fields) {
    const t = named(f.type);
    if (!t.object) continue;
    const inner = (await fieldsOf(t.name)) ?? [];
    if (mustHave.every((m) => inner.some((x) => x.name === m))) out.push(f.name);
  }
  return out;
}
