#!/usr/bin/env node
// Registers a tiny study, uploads a response array straight to the artifact store, imports it
// and prints the per-voxel noise ceiling. Needs only Node.js 20 and a running BrainAlign:
//   npm start            (in another terminal)
//   node examples/register-and-import.mjs [http://localhost:4000/graphql]
// Writes need an API token: BRAINALIGN_TOKEN, else the embedded default's ./.data/admin-token.
// The service: the argument, else BRAINALIGN_URL (as the command line takes it), else localhost:4000.
// Running it again changes nothing: the dataset, its subject and stimuli are found by name and
// reported as existing, and the responses are imported only if no READY set holds them yet.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

const base = process.env.BRAINALIGN_URL?.replace(/\/+$/, '');
const url = process.argv[2] ?? (base ? (base.endsWith('/graphql') ? base : `${base}/graphql`) : 'http://localhost:4000/graphql');
const token = process.env.BRAINALIGN_TOKEN ?? (existsSync('.data/admin-token') ? readFileSync('.data/admin-token', 'utf8').trim() : undefined);
if (!token) throw new Error('Set BRAINALIGN_TOKEN to an API token (npm start prints the operator token)');

async function gql(query, variables) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors) throw new Error(body.errors.map((e) => `${e.extensions?.code}: ${e.message}`).join('\n'));
  return body.data;
}

/** A float32 C-order .npy, written by hand so the example needs no library. */
function npy(shape, values) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(Float32Array.from(values).buffer)]);
}

const [R, N, V] = [3, 50, 4];
const study = 'example-register-and-import';

// Found by name, or created: the same dataset on every run.
const { datasets } = await gql(`query($n: String!) { datasets(first: 100, filter: { nameContains: $n }) { edges { node {
    id name subjects { id name responseSets { id status } } stimulusSets { id name } } } } }`, { n: study });
const found = datasets.edges.map((e) => e.node).find((d) => d.name === study);
const dataset = found ?? (await gql(`mutation($n: String!) { createDataset(input: { name: $n }) { id } }`, { n: study })).createDataset;
console.log(`dataset ${study} ${found ? 'exists' : 'created'} (${dataset.id})`);
const subject =
  found?.subjects.find((s) => s.name === 'subj01') ??
  (
    await gql(
      `mutation($d: ID!) { createSubject(input: { datasetId: $d, name: "subj01", nVoxels: ${V}, rois: [{ name: "FFA", voxelIndices: [0, 1] }, { name: "PPA", voxelIndices: [2, 3] }] }) { id } }`,
      { d: dataset.id },
    )
  ).createSubject;
const stimuli = Array.from({ length: N }, (_, i) => ({ externalId: `img-${i}`, concepts: [i % 2 ? 'face' : 'place'] }));
const set =
  found?.stimulusSets.find((s) => s.name === 'images') ??
  (
    await gql(`mutation($d: ID!, $s: [StimulusInput!]!) { createStimulusSet(input: { datasetId: $d, name: "images", stimuli: $s }) { id } }`, {
      d: dataset.id,
      s: stimuli,
    })
  ).createStimulusSet;
const ready = subject.responseSets?.find((r) => r.status === 'READY');
const responseSetId = ready ? ready.id : await importResponses();
if (ready) console.log(`response set ${ready.id} exists (READY)`);

const { responseSet } = await gql(`query($id: ID!) { responseSet(id: $id) { status nRepeats noiseCeilingMedian noiseCeiling { downloadUrl } } }`, {
  id: responseSetId,
});
const nc = await (await fetch(responseSet.noiseCeiling.downloadUrl)).arrayBuffer();
const header = new DataView(nc).getUint16(8, true);
console.log('noise ceiling per voxel (% of variance):', Array.from(new Float32Array(nc.slice(10 + header))).map((x) => x.toFixed(1)).join(', '));
console.log('median:', responseSet.noiseCeilingMedian.toFixed(1));

/** Uploads the array straight to the artifact store and imports it; the response set's id. */
async function importResponses() {
  // Responses [repeats, stimuli, voxels]: a stimulus-driven signal plus noise that grows with the voxel index.
  const values = [];
  for (let r = 0; r < R; r++)
    for (let n = 0; n < N; n++) for (let v = 0; v < V; v++) values.push(Math.sin(n * (v + 1)) + (v + 1) * 0.3 * Math.sin(7 * r + 13 * n + v));
  const bytes = npy([R, N, V], values);
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  const { createArtifactUpload: up } = await gql(
    `mutation($i: CreateArtifactUploadInput!) { createArtifactUpload(input: $i) { id url method parts { partNumber url offset size } } }`,
    { i: { filename: 'betas.npy', size: String(bytes.length), sha256 } },
  );
  await fetch(up.url, { method: up.method, body: bytes }); // small file: one PUT (large ones get parts)
  const { finalizeArtifactUpload: artifact } = await gql(`mutation($i: FinalizeArtifactUploadInput!) { finalizeArtifactUpload(input: $i) { id dtype shape } }`, {
    i: { uploadId: up.id },
  });
  console.log('uploaded', artifact);

  const { importResponseSet } = await gql(
    `mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id } responseSet { id } } }`,
    { i: { subjectId: subject.id, stimulusSetId: set.id, artifactId: artifact.id, idempotencyKey: `${study}-betas-v1` } },
  );
  for (;;) {
    const { run } = await gql(`query($id: ID!) { run(id: $id) { status progress progressMessage error { message } } }`, { id: importResponseSet.run.id });
    console.log(`run ${run.status} ${(run.progress * 100).toFixed(0)}% ${run.progressMessage}`);
    if (run.status === 'FAILED') throw new Error(run.error.message);
    if (run.status === 'SUCCEEDED') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  return importResponseSet.responseSet.id;
}

