// Text PostgreSQL cannot store (NUL, lone surrogates) is refused wherever text enters, naming where
// it is: GraphQL arguments (variables and literals, nested lists, through fragments), CLI
// manifests and stimuli files, VQA benchmark and answers files, and site bundles.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { loadManifest, readStimuliFile } from '../../src/cli/manifest';
import { checkAnswersFile } from '../../src/compute/vqa/answers-file';
import { checkBenchmarkFile } from '../../src/compute/vqa/benchmark-file';
import type { Services } from '../../src/services';
import { importBundle } from '../../src/sites/import';
import { checkStorableText, findUnstorableText, unstorableTextReason } from '../../src/text/storable-text';
import { startTestApi, type TestApi } from '../helpers/api';
import { uniqueName } from '../helpers/db';

describe('which text PostgreSQL can store', () => {
  it('refuses NUL and lone surrogates, with their position', () => {
    expect(unstorableTextReason('a\u0000b')).toBe('contains a NUL character (U+0000) at position 1, which cannot be stored as text');
    expect(unstorableTextReason('ab\uD800')).toBe('contains a lone surrogate (U+D800) at position 2, which cannot be stored as text');
    expect(unstorableTextReason('\uDC00x')).toBe('contains a lone surrogate (U+DC00) at position 0, which cannot be stored as text');
  });

  it('accepts paired surrogates (emoji), other control characters and non-Latin text', () => {
    for (const ok of ['🧠 V1', 'tab\tand\nnewline \u0001', 'Größe', '视觉皮层', '\uFFFE', '']) expect(unstorableTextReason(ok)).toBeUndefined();
  });

  it('names the path inside nested arrays and objects, keys included', () => {
    expect(findUnstorableText({ rois: [{ name: 'FFA' }, { name: 'P\u0000PA' }] }, 'input')).toEqual({ field: 'input.rois[1].name', reason: expect.stringContaining('NUL') });
    expect(findUnstorableText({ meta: { 'k\u0000': 1 } }, 'input')?.field).toBe('input.meta');
    expect(findUnstorableText({ n: 1, when: new Date(), list: [1, 2] }, 'input')).toBeUndefined();
    expect(() => checkStorableText(['ok', 'b\uD800'], 'concepts')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'concepts[1]' }) }));
  });
});

describe('GraphQL arguments', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const datasets = async () => api.db.dataset.count();

  it('a NUL in a variable is BAD_USER_INPUT naming input.name (HTTP 400), and nothing is written', async () => {
    const before = await datasets();
    const res = await api.as('operator').post(JSON.stringify({ query: `mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, variables: { i: { name: 'a\u0000b' } } }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: any[] };
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
    expect(body.errors[0].message).toMatch(/input\.name contains a NUL character/);
    expect(await datasets()).toBe(before);
  });

  // (graphql-js itself refuses a lone surrogate escape in a literal, as a parse error.)
  it('names list positions of nested input objects in literals', async () => {
    const { createDataset } = await api.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name: uniqueName('ds') } });
    const literal = `mutation { createStimulusSet(input: { datasetId: "${createDataset.id}", name: "s", stimuli: [{ externalId: "a" }, { externalId: "b", concepts: ["face", "\\u0000"] }] }) { id } }`;
    const body = await api.gql(literal);
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.stimuli[1].concepts[1]' });
    expect(await api.db.stimulusSet.count({ where: { datasetId: createDataset.id } })).toBe(0);
  });

  it('checks arguments of nested fields and inside fragments (queries too)', async () => {
    const body = await api.gql(`query($n: String) { ...F } fragment F on Query { datasets(filter: { nameContains: $n }) { totalCount } }`, { n: 'x\u0000' });
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.nameContains' });
  });

  it('checks JSON arguments down to their keys', async () => {
    const body = await api.gql(`mutation($b: JSON!) { importSiteBundle(bundle: $b) { bundleId } }`, { b: { content: { site: { name: 'x\u0000' } } } });
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'bundle.content.site.name' });
  });
});

describe('files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ba-storable-'));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('CLI manifests (YAML and JSON) and stimuli files', async () => {
    const schema = z.object({ name: z.string(), subjects: z.array(z.object({ name: z.string() })) });
    await expect(loadManifest(file('m.yaml', 'name: nsd\nsubjects:\n  - name: "s\\0b"\n'), schema)).rejects.toMatchObject({
      message: expect.stringContaining('subjects[0].name contains a NUL character'),
    });
    await expect(loadManifest(file('m.json', '{"name":"\\ud800","subjects":[]}'), schema)).rejects.toMatchObject({ message: expect.stringContaining('name contains a lone surrogate') });
    await expect(readStimuliFile(file('s.csv', 'externalId,caption\nimg-0,ok\nimg-1,a\u0000b\n'))).rejects.toMatchObject({ message: expect.stringContaining('[1].caption contains a NUL') });
  });

  it('VQA benchmark and answers files: a line error naming the field', () => {
    const bench = [
      { question_id: 'q1', stimulus_id: 'img-0', category: 'color', question: 'What color?', answer_type: 'other', answers: ['red'] },
      { question_id: 'q2', stimulus_id: 'img-0', category: 'color', question: 'Wh\u0000at?', answer_type: 'other', answers: ['red'] },
    ];
    const checked = checkBenchmarkFile(Buffer.from(bench.map((b) => JSON.stringify(b)).join('\n')), 'jsonl', new Set(['img-0']));
    expect(checked.errors).toEqual([{ line: 2, reason: expect.stringMatching(/^question contains a NUL character/) }]);
    const answers = checkAnswersFile(Buffer.from('question_id,answer\nq1,red\nq2,"bl\u0000ue"\n'), 'csv', new Set(['q1', 'q2']));
    expect(answers.errors).toEqual([{ line: 3, reason: expect.stringMatching(/^answer contains a NUL character/) }]);
    const lone = checkAnswersFile(Buffer.from('{"question_id":"q1","answer":"\\udc00"}\n'), 'jsonl', new Set(['q1']));
    expect(lone.errors[0].reason).toMatch(/^answer contains a lone surrogate/);
  });

  it('site bundles that did not pass the GraphQL boundary (pulled from another site)', async () => {
    await expect(importBundle({} as Services, { content: { site: { name: 'x\u0000' } }, signature: 's' })).rejects.toMatchObject({
      extensions: { code: 'BUNDLE_MALFORMED', field: 'bundle.content.site.name' },
    });
  });
});

describe('name filters', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  it('nameContains matches % and _ literally (they are not LIKE wildcards)', async () => {
    const tag = uniqueName('pct');
    for (const name of [`${tag} 100% v1`, `${tag} 100 v1`, `${tag} a_b`, `${tag} axb`, `${tag} back\\slash`])
      await api.ok(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, { i: { name } });
    const names = async (n: string) =>
      (await api.ok(`query($n: String) { datasets(first: 50, filter: { nameContains: $n }) { edges { node { name } } } }`, { n })).datasets.edges.map((e: any) => e.node.name).sort();
    expect(await names(`${tag} 100%`)).toEqual([`${tag} 100% v1`]);
    expect(await names(`${tag} a_b`)).toEqual([`${tag} a_b`]);
    expect(await names(`${tag} back\\s`)).toEqual([`${tag} back\\slash`]);
    const models = await api.gql(`{ models(filter: { nameContains: "%", labId: "not-an-id" }) { totalCount } }`);
    expect(models.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.labId' });
  });
});
