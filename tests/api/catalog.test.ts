import { testDb, uniqueName } from '../helpers/db';
import { startTestApi, type TestApi } from '../helpers/api';

const CREATE_DATASET = `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id name visibility lab { name } } }`;
const CREATE_SUBJECT = `mutation($input: CreateSubjectInput!) { createSubject(input: $input) { id name nVoxels rois { name nVoxels } } }`;
const CREATE_STIMULI = `mutation($input: CreateStimulusSetInput!) { createStimulusSet(input: $input) { id nStimuli stimuli(first: 2) { totalCount edges { node { position externalId concepts caption } } } } }`;

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const codeOf = (body: { errors?: any[] }) => body.errors?.[0]?.extensions?.code;

describe('catalog', () => {
  it('registers a dataset with subjects, ROIs and stimuli and reads them back', async () => {
    const name = uniqueName('nsd');
    const { createDataset: ds } = await api.ok(CREATE_DATASET, { input: { name, description: 'test', visibility: 'PUBLIC' } });
    expect(ds).toMatchObject({ name, visibility: 'PUBLIC' });
    const { createSubject: subj } = await api.ok(CREATE_SUBJECT, {
      input: { datasetId: ds.id, name: 'subj01', nVoxels: 10, rois: [{ name: 'FFA', voxelIndices: [0, 1, 2] }, { name: 'PPA', voxelIndices: [5, 6] }] },
    });
    expect(subj.rois).toEqual([{ name: 'FFA', nVoxels: 3 }, { name: 'PPA', nVoxels: 2 }]);
    const { createStimulusSet: set } = await api.ok(CREATE_STIMULI, {
      input: {
        datasetId: ds.id,
        name: 'images',
        stimuli: [
          { externalId: 'img-0', concepts: ['face'], caption: 'a face' },
          { externalId: 'img-1', concepts: ['house'] },
          { externalId: 'img-2' },
        ],
      },
    });
    expect(set.nStimuli).toBe(3);
    expect(set.stimuli.totalCount).toBe(3);
    expect(set.stimuli.edges.map((e: any) => e.node)).toEqual([
      { position: 0, externalId: 'img-0', concepts: ['face'], caption: 'a face' },
      { position: 1, externalId: 'img-1', concepts: ['house'], caption: null },
    ]);
    const { dataset } = await api.ok(`query($id: ID!) { dataset(id: $id) { name subjects { name rois { name voxelIndices } } stimulusSets { name } } }`, { id: ds.id });
    expect(dataset.subjects[0].rois[1]).toEqual({ name: 'PPA', voxelIndices: [5, 6] });
    expect(dataset.stimulusSets).toEqual([{ name: 'images' }]);
  });

  it('refuses duplicates, bad ROIs and unknown ids with stable codes and named fields', async () => {
    const name = uniqueName('dup');
    const { createDataset: ds } = await api.ok(CREATE_DATASET, { input: { name } });
    const dup = await api.gql(CREATE_DATASET, { input: { name } });
    expect(codeOf(dup)).toBe('CONFLICT');
    expect(dup.errors![0].message).toMatch(name);

    const badRoi = await api.gql(CREATE_SUBJECT, { input: { datasetId: ds.id, name: 's1', nVoxels: 4, rois: [{ name: 'V1', voxelIndices: [0, 4] }] } });
    expect(codeOf(badRoi)).toBe('BAD_USER_INPUT');
    expect(badRoi.errors![0].extensions.field).toBe('rois[0].voxelIndices[1]');
    expect(badRoi.errors![0].message).toMatch(/outside 0\.\.3/);

    const repeated = await api.gql(CREATE_STIMULI, { input: { datasetId: ds.id, name: 'x', stimuli: [{ externalId: 'a' }, { externalId: 'a' }] } });
    expect(codeOf(repeated)).toBe('BAD_USER_INPUT');
    expect(repeated.errors![0].extensions.field).toBe('stimuli.externalId[1]');

    const unknown = await api.gql(CREATE_SUBJECT, { input: { datasetId: '00000000-0000-4000-8000-000000000000', name: 's', nVoxels: 3 } });
    expect(codeOf(unknown)).toBe('NOT_FOUND');
    const malformed = await api.gql(`{ dataset(id: "not-a-uuid") { id } }`);
    expect(codeOf(malformed)).toBe('BAD_USER_INPUT');
    expect(await api.ok(`{ dataset(id: "00000000-0000-4000-8000-000000000000") { id } }`)).toEqual({ dataset: null });

    // Nothing half-written: the failed subject left no row behind.
    expect(await api.db.subject.count({ where: { datasetId: ds.id } })).toBe(0);
  });

  it('pages through datasets with Relay cursors and filters', async () => {
    const tag = uniqueName('page');
    for (let i = 0; i < 5; i++) await api.ok(CREATE_DATASET, { input: { name: `${tag}-${i}` } });
    const PAGE = `query($after: String) { datasets(first: 2, after: $after, filter: { nameContains: "${tag}" }) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }`;
    const names: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { datasets }: any = await api.ok(PAGE, { after });
      expect(datasets.totalCount).toBe(5);
      names.push(...datasets.edges.map((e: any) => e.node.name));
      if (!datasets.pageInfo.hasNextPage) break;
      after = datasets.pageInfo.endCursor;
    }
    expect(names).toEqual([0, 1, 2, 3, 4].map((i) => `${tag}-${i}`));
    const tooMany = await api.gql(`{ datasets(first: 1000) { totalCount } }`);
    expect(codeOf(tooMany)).toBe('BAD_USER_INPUT');
  });

  it('refuses queries nested too deeply or selecting too many fields before running them', async () => {
    let deep = 'id';
    for (let i = 0; i < 7; i++) deep = `subjects { dataset { ${deep} } }`;
    const tooDeep = await api.gql(`{ datasets { edges { node { ${deep} } } } }`);
    expect(tooDeep.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'maxDepth', max: 12 });
    const wide = Array.from({ length: 2100 }, (_, i) => `a${i}: id`).join(' ');
    const tooWide = await api.gql(`{ labs { ${wide} } }`);
    expect(tooWide.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'maxFields' });
    expect(tooWide.data).toBeUndefined();
  });

  it('refuses an oversized request body with PAYLOAD_TOO_LARGE', async () => {
    const res = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ labs { id } }', variables: { pad: 'x'.repeat(17 * 1024 * 1024) } }),
    });
    expect(res.status).toBe(413);
    const body: any = await res.json();
    expect(body.errors[0].extensions).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('DataLoader batching', () => {
  it('lists 50 datasets with subjects and ROIs in a bounded number of SQL queries', async () => {
    const tag = uniqueName('n1');
    const seed = testDb();
    const lab = await seed.lab.create({ data: { name: uniqueName('lab') } });
    for (let i = 0; i < 50; i++)
      await seed.dataset.create({
        data: {
          labId: lab.id,
          name: `${tag}-${String(i).padStart(2, '0')}`,
          subjects: {
            create: [0, 1].map((s) => ({
              name: `subj0${s}`,
              nVoxels: 100,
              rois: { create: ['V1', 'FFA', 'PPA'].map((r, k) => ({ name: r, voxelIndices: [k] })) },
            })),
          },
        },
      });
    await seed.$disconnect();

    const queries: string[] = [];
    const counted = await startTestApi({ db: testDb({ onQuery: (sql) => queries.push(sql) }) });
    try {
      const run = async (first: number) => {
        queries.length = 0;
        const data = await counted.ok(`{ datasets(first: ${first}, filter: { nameContains: "${tag}" }) { edges { node { name subjects { name rois { name } } } } } }`);
        return { data, n: queries.length };
      };
      // A token's first request of the minute also records lastUsedAt; keep it out of the counts.
      await run(1);
      await new Promise((r) => setTimeout(r, 200));
      const ten = await run(10);
      const fifty = await run(50);
      expect(fifty.data.datasets.edges).toHaveLength(50);
      expect(fifty.data.datasets.edges[49].node.subjects[1].rois.map((r: any) => r.name)).toEqual(['FFA', 'PPA', 'V1']);
      // token lookup + page + count + subjects + ROIs, independent of the number of rows.
      expect(fifty.n).toBeLessThanOrEqual(7);
      expect(fifty.n).toBe(ten.n);
    } finally {
      await counted.close();
      await counted.db.$disconnect();
    }
  });
});
