// Every mutation of the schema, read from the schema itself so new ones are covered without editing
// this file, is sent hostile values in each of its string, number, JSON and list arguments (input
// object fields and list elements included). None may answer INTERNAL (or a 5xx), and a refused
// mutation must leave every table's row count as it was: nothing half-written.
import {
  buildSchema,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { randomUUID } from 'node:crypto';
import { loadTypeDefs } from '../../src/resolvers';
import { MAX_ARGUMENT_CHARS } from '../../src/server/storable-arguments';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';

// JSON has no NaN or Infinity; JSON.parse reads an overflowing literal as Infinity, so these
// placeholders are replaced by 1e999 / -1e999 in the request body. NaN cannot travel in a
// GraphQL request at all (neither JSON variables nor GraphQL literals can spell it).
const INF = '__sweep_infinity__';
const NEG_INF = '__sweep_negative_infinity__';
const TEN_MB = 'x'.repeat(10 * 1024 * 1024);
// Just past the boundary's cap on String and ID arguments: sent to every text slot; the 10 MB
// string goes to the first text slot of each mutation only (it costs ~0.1 s a request).
const OVER_CAP = 'x'.repeat(MAX_ARGUMENT_CHARS + 1);
const HUGE_LIST = 100_000;
// Lists of input objects (stimuli, ROIs) get fewer, each element being a whole object.
const LONG_OBJECT_LIST = 10_000;

type Path = (string | number)[];
interface Variant {
  label: string;
  value: unknown;
}
/** A place in a mutation's arguments that receives hostile values. */
interface Slot {
  path: Path;
  variants: Variant[];
}

let api: TestApi;
let schema: GraphQLSchema;
/** Existing objects, so ids named after them reach the checks past "does it exist". */
const known: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi();
  // The SDL the server is built from (a full introspection query nests deeper than the API allows).
  schema = buildSchema(loadTypeDefs());
  const { createDataset } = await api.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id lab { id } } }`, { i: { name: uniqueName('sweep') } });
  known.datasetId = createDataset.id;
  known.labId = createDataset.lab.id;
  const { createSubject } = await api.ok(`mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`, {
    i: { datasetId: createDataset.id, name: 'subj01', nVoxels: 4, rois: [{ name: 'FFA', voxelIndices: [0, 1] }] },
  });
  known.subjectId = createSubject.id;
  const { createStimulusSet } = await api.ok(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
    i: { datasetId: createDataset.id, name: 'images', stimuli: [{ externalId: 'img-0' }, { externalId: 'img-1' }] },
  });
  known.stimulusSetId = createStimulusSet.id;
  const { registerModel } = await api.ok(`mutation($i: RegisterModelInput!) { registerModel(input: $i) { id } }`, { i: { name: uniqueName('model'), kind: 'BACKBONE' } });
  known.modelId = registerModel.id;
});
afterAll(() => api?.close());

/** A plausible value for a field, so that only the slot under test is hostile. */
function plausible(type: GraphQLInputType, name: string, depth: number): unknown {
  const t = getNullableType(type) as GraphQLInputType;
  if (isListType(t)) return [plausible(t.ofType, name, depth + 1)];
  if (isInputObjectType(t)) {
    const out: Record<string, unknown> = {};
    for (const f of Object.values(t.getFields()))
      if (isNonNullType(f.type) && f.defaultValue === undefined) out[f.name] = plausible(f.type, f.name, depth + 1);
    return out;
  }
  if (isEnumType(t)) return t.getValues()[0].value;
  switch (t.name) {
    case 'ID':
      return known[name] ?? randomUUID();
    case 'String':
      return 'sweep';
    case 'Int':
      return 1;
    case 'Float':
      return 0.5;
    case 'Boolean':
      return false;
    case 'JSON':
      return {};
    case 'DateTime':
      return new Date(Date.now() + 86_400_000).toISOString();
    case 'BigInt':
      return '1';
    default:
      return null;
  }
}

function scalarVariants(typeName: string): Variant[] {
  switch (typeName) {
    case 'String':
      return [
        { label: 'NUL', value: 'a\u0000b' },
        { label: 'lone surrogate', value: 'a\uD800b' },
        { label: 'over the cap', value: OVER_CAP },
        { label: 'empty', value: '' },
      ];
    case 'ID':
      return [
        { label: 'NUL', value: 'a\u0000b' },
        { label: 'wrong shape', value: 'not-an-id' },
        { label: 'unknown uuid', value: randomUUID() },
        { label: 'over the cap', value: OVER_CAP },
      ];
    case 'Int':
      return [
        { label: '-1', value: -1 },
        { label: '2^31-1', value: 2 ** 31 - 1 },
        { label: 'Infinity', value: INF },
      ];
    case 'Float':
      return [
        { label: 'Infinity', value: INF },
        { label: '-Infinity', value: NEG_INF },
        { label: '-1', value: -1 },
        { label: '1e308', value: 1e308 },
      ];
    case 'JSON':
      return [
        { label: 'NUL in a value', value: { name: 'a\u0000b' } },
        { label: 'NUL in a key', value: { 'a\u0000b': 1 } },
        { label: 'Infinity inside', value: { value: INF, n: INF } },
        { label: '10 MB string', value: TEN_MB },
        { label: 'empty list', value: [] },
      ];
    default:
      return [];
  }
}

function listVariants(element: GraphQLInputType, name: string): Variant[] {
  const named = getNamedType(element);
  const one = () => (named.name === 'ID' ? randomUUID() : plausible(element, name, 1));
  const length = isInputObjectType(named) ? LONG_OBJECT_LIST : HUGE_LIST;
  return [
    { label: 'empty list', value: [] },
    { label: `${length} elements`, value: Array.from({ length }, one) },
  ];
}

/** Every slot under one argument: scalars, lists and (through the first list element) nested fields. */
function slotsOf(type: GraphQLInputType, path: Path, name: string, depth: number): Slot[] {
  if (depth > 5) return [];
  const t = getNullableType(type) as GraphQLInputType;
  if (isListType(t)) {
    return [{ path, variants: listVariants(t.ofType, name) }, ...slotsOf(t.ofType, [...path, 0], name, depth + 1)];
  }
  if (isInputObjectType(t)) return Object.values(t.getFields()).flatMap((f) => slotsOf(f.type, [...path, f.name], f.name, depth + 1));
  if (isScalarType(t)) return scalarVariants(t.name).length ? [{ path, variants: scalarVariants(t.name) }] : [];
  return [];
}

/** The plausible arguments with `value` put at `path` (optional objects and lists on the way made plausible). */
function withValue(base: Record<string, unknown>, path: Path, value: unknown, argTypes: Map<string, GraphQLInputType>): Record<string, unknown> {
  const root: any = structuredClone(base);
  let node = root;
  let type = argTypes.get(String(path[0]))!;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    if (node[key] === undefined || node[key] === null) node[key] = plausible(type, String(key), 1);
    node = node[key];
    type = childType(type, path[i + 1])!;
  }
  node[path[path.length - 1]] = value;
  return root;
}

/** The type one step further down: a list's element or an input object's field. */
function childType(type: GraphQLInputType, key: string | number): GraphQLInputType | undefined {
  const t = getNullableType(type) as GraphQLInputType;
  if (typeof key === 'number') return isListType(t) ? t.ofType : undefined;
  return isInputObjectType(t) ? t.getFields()[key]?.type : undefined;
}

function fieldName(path: Path): string {
  return path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');
}

async function rowCounts(): Promise<Record<string, number>> {
  const tables = await api.db.$queryRawUnsafe<{ tablename: string }[]>(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations' ORDER BY 1`,
  );
  const sql = `SELECT ${tables.map((t, i) => `(SELECT count(*)::int FROM "${t.tablename}") AS c${i}`).join(', ')}`;
  const [row] = await api.db.$queryRawUnsafe<Record<string, number>[]>(sql);
  return Object.fromEntries(tables.map((t, i) => [t.tablename, row[`c${i}`]]));
}

async function send(query: string, variables: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const raw = JSON.stringify({ query, variables }).replaceAll(`"${INF}"`, '1e999').replaceAll(`"${NEG_INF}"`, '-1e999');
  const res = await api.as('operator').post(raw);
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = { unparseable: text.slice(0, 200) };
  }
  return { status: res.status, body };
}

it('no mutation answers INTERNAL to hostile arguments, and refusals write nothing', async () => {
  const mutations = Object.values(schema.getMutationType()!.getFields());
  expect(mutations.length).toBeGreaterThan(20);
  const problems: string[] = [];
  let requests = 0;
  let before = await rowCounts();
  for (const mutation of mutations) {
    const argTypes = new Map(mutation.args.map((a) => [a.name, a.type]));
    const varDefs = mutation.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
    const argList = mutation.args.map((a) => `${a.name}: $${a.name}`).join(', ');
    const selection = isLeafType(getNamedType(mutation.type)) ? '' : ' { __typename }';
    const query = `mutation Sweep${varDefs ? `(${varDefs})` : ''} { ${mutation.name}${argList ? `(${argList})` : ''}${selection} }`;
    const base: Record<string, unknown> = {};
    for (const a of mutation.args) if (isNonNullType(a.type)) base[a.name] = plausible(a.type, a.name, 0);
    const slots = mutation.args.flatMap((a) => slotsOf(a.type, [a.name], a.name, 0));
    const firstText = slots.find((slot) => slot.variants.some((v) => v.value === OVER_CAP));
    firstText?.variants.push({ label: '10 MB', value: TEN_MB });
    for (const slot of slots) {
      for (const variant of slot.variants) {
        const { status, body } = await send(query, withValue(base, slot.path, variant.value, argTypes));
        requests++;
        const where = `${mutation.name} ${fieldName(slot.path)} = ${variant.label}`;
        const codes: string[] = (body.errors ?? []).map((e: any) => String(e.extensions?.code));
        const after = await rowCounts();
        if (status >= 500 || body.unparseable !== undefined || codes.includes('INTERNAL')) {
          problems.push(`${where}: HTTP ${status} ${JSON.stringify(body.errors?.[0]?.message ?? body.unparseable)}`);
        } else if (codes.length > 0) {
          const changed = Object.keys(after).filter((t) => after[t] !== before[t]);
          if (changed.length) problems.push(`${where}: refused (${codes.join(',')}) but changed ${changed.join(', ')}`);
        }
        before = after;
        // Text PostgreSQL cannot store is always refused, naming where it was.
        if (/NUL|surrogate/.test(variant.label) && codes.length === 0) problems.push(`${where}: accepted`);
        // No 10 MB string is stored as a name, description, key or id.
        if ((variant.value === TEN_MB || variant.value === OVER_CAP) && codes.length === 0) problems.push(`${where}: accepted`);
      }
    }
  }
  if (problems.length) console.log(problems.join('\n'));
  expect(requests).toBeGreaterThan(100);
  expect(problems).toEqual([]);
}, 600_000);
