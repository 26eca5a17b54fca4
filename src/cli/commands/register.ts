// `brainalign register`: creates what a catalog manifest describes, in dependency order. Objects
// that already exist under the same name are reported as "exists" and left as they are.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { CatalogLookup } from '../catalog-lookup';
import type { ApiClient } from '../client';
import type { CommandContext } from '../context';
import { EXIT, inputError } from '../exit-codes';
import { emit, showsProgress } from '../io';
import { catalogManifest, loadManifest, readStimuliFile, type CatalogManifest } from '../manifest';
import { uploadFiles } from '../upload/resolve';
import { fileSource } from '../upload/sources';
import { UploadStateStore } from '../upload/state';
import { uploadSource } from '../upload/upload';
import { stateDir } from '../config';
import { describeEnd, waitForRuns } from './watch';

export interface RegisterAction {
  kind: 'dataset' | 'subject' | 'stimulusSet' | 'model' | 'featureSet' | 'responseSet' | 'benchmark';
  name: string;
  id: string;
  action: 'created' | 'exists';
  /** The import run of a feature or response set. */
  runId?: string;
  status?: string;
}

type ArrayFile = { file: string; member?: string; hdf5Dataset?: string };

class Registrar {
  readonly actions: RegisterAction[] = [];
  private readonly lookup: CatalogLookup;

  constructor(
    private readonly ctx: CommandContext,
    private readonly client: ApiClient,
    private readonly dir: string,
  ) {
    this.lookup = new CatalogLookup(client);
  }

  private record(a: RegisterAction) {
    this.actions.push(a);
  }

  private async uploadOne(f: ArrayFile, where: string): Promise<string> {
    const io = { ...this.ctx.io, cwd: this.dir };
    const reports = await uploadFiles([{ file: f.file, member: f.member, dataset: f.hdf5Dataset }], io, this.client, showsProgress(this.ctx.io, this.ctx.opts));
    if (reports.length !== 1)
      throw inputError(`${where}: ${f.file} holds ${reports.length} arrays (${reports.map((r) => r.member).join(', ')}); name one with member:`);
    return reports[0].id;
  }

  /** Uploads a file as it is (volumes, HDF5 sessions, design tables: the server reads them). */
  private async uploadRaw(file: string): Promise<string> {
    const source = await fileSource(path.resolve(this.dir, file));
    const states = new UploadStateStore(stateDir(this.ctx.io.env));
    const artifact = await uploadSource(source, { client: this.client, states, progress: { stream: this.ctx.io.stderr, enabled: showsProgress(this.ctx.io, this.ctx.opts) } });
    return artifact.id;
  }

  /** The same file for the same target gives the same key, so a retried import is not queued twice. */
  private key(...parts: string[]): string {
    return `register-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40)}`;
  }

  async datasets(list: CatalogManifest['datasets']) {
    for (const d of list) {
      let ds = await this.lookup.dataset(d.name);
      if (ds) this.record({ kind: 'dataset', name: d.name, id: ds.id, action: 'exists' });
      else {
        const { createDataset } = await this.client.request(`mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`, {
          i: { name: d.name, description: d.description, visibility: d.visibility },
        });
        this.record({ kind: 'dataset', name: d.name, id: createDataset.id, action: 'created' });
        this.lookup.invalidate();
      }
      for (const s of d.subjects) {
        ds = await this.lookup.requireDataset(d.name);
        const found = ds.subjects.find((x) => x.name === s.name);
        if (found) {
          if ('nVoxels' in s && found.nVoxels !== s.nVoxels)
            throw inputError(`datasets.${d.name}.subjects.${s.name}: the registered subject has ${found.nVoxels} voxels, the manifest says ${s.nVoxels}; rename it or fix nVoxels`);
          this.record({ kind: 'subject', name: `${d.name}/${s.name}`, id: found.id, action: 'exists' });
          continue;
        }
        let subjectId: string;
        if ('mask' in s) {
          const maskArtifactId = await this.uploadRaw(s.mask);
          const roiAtlases = [];
          for (const a of s.roiAtlases ?? []) roiAtlases.push({ labelsArtifactId: await this.uploadRaw(a.labels), tableArtifactId: await this.uploadRaw(a.table) });
          const { createSubjectFromMask } = await this.client.request(`mutation($i: CreateSubjectFromMaskInput!) { createSubjectFromMask(input: $i) { subject { id } } }`, {
            i: { datasetId: ds.id, name: s.name, maskArtifactId, roiAtlases },
          });
          subjectId = createSubjectFromMask.subject.id;
        } else {
          const { createSubject } = await this.client.request(`mutation($i: CreateSubjectInput!) { createSubject(input: $i) { id } }`, {
            i: { datasetId: ds.id, name: s.name, nVoxels: s.nVoxels, rois: s.rois ?? [] },
          });
          subjectId = createSubject.id;
        }
        this.record({ kind: 'subject', name: `${d.name}/${s.name}`, id: subjectId, action: 'created' });
        this.lookup.invalidate();
      }
      for (const s of d.stimulusSets) {
        ds = await this.lookup.requireDataset(d.name);
        const stimuli = typeof s.stimuli === 'string' ? await readStimuliFile(path.resolve(this.dir, s.stimuli)) : s.stimuli;
        const found = ds.stimulusSets.find((x) => x.name === s.name);
        if (found) {
          if (found.nStimuli !== stimuli.length)
            throw inputError(`datasets.${d.name}.stimulusSets.${s.name}: the registered set has ${found.nStimuli} stimuli, the manifest lists ${stimuli.length}; use a new name for a different set`);
          this.record({ kind: 'stimulusSet', name: `${d.name}/${s.name}`, id: found.id, action: 'exists' });
          continue;
        }
        const { createStimulusSet } = await this.client.request(`mutation($i: CreateStimulusSetInput!) { createStimulusSet(input: $i) { id } }`, {
          i: { datasetId: ds.id, name: s.name, description: s.description, stimuli },
        });
        this.record({ kind: 'stimulusSet', name: `${d.name}/${s.name}`, id: createStimulusSet.id, action: 'created' });
        this.lookup.invalidate();
      }
      for (const r of d.responseSets) {
        const subject = await this.lookup.subject(d.name, r.subject);
        const set = await this.lookup.stimulusSet(d.name, r.stimulusSet);
        const label = `${d.name}/${r.subject}/${r.name}`;
        const found = subject.responseSets.find((x) => x.name === r.name && x.stimulusSet.id === set.id);
        if (found) {
          this.record({ kind: 'responseSet', name: label, id: found.id, action: 'exists', status: found.status });
          continue;
        }
        const artifactId = await this.uploadOne(r, `datasets.${d.name}.responseSets.${r.name}`);
        const { importResponseSet } = await this.client.request(
          `mutation($i: ImportResponseSetInput!) { importResponseSet(input: $i) { run { id status } responseSet { id } } }`,
          { i: { subjectId: subject.id, stimulusSetId: set.id, name: r.name, artifactId, idempotencyKey: this.key('responses', subject.id, set.id, r.name, artifactId) } },
        );
        this.record({ kind: 'responseSet', name: label, id: importResponseSet.responseSet.id, action: 'created', runId: importResponseSet.run.id, status: importResponseSet.run.status });
      }
      for (const r of d.responseSessions) {
        this.lookup.invalidate();
        const subject = await this.lookup.subject(d.name, r.subject);
        const set = await this.lookup.stimulusSet(d.name, r.stimulusSet);
        const label = `${d.name}/${r.subject}/${r.name}`;
        const found = subject.responseSets.find((x) => x.name === r.name && x.stimulusSet.id === set.id);
        if (found && found.status !== 'FAILED') {
          this.record({ kind: 'responseSet', name: label, id: found.id, action: 'exists', status: found.status });
          continue;
        }
        const sessions = [];
        for (const s of r.sessions)
          sessions.push({
            betasArtifactId: await this.uploadRaw(s.betas),
            designArtifactId: await this.uploadRaw(s.design),
            ...(s.designSession !== undefined ? { designSession: String(s.designSession) } : {}),
            ...(s.hdf5Dataset ? { hdf5Dataset: s.hdf5Dataset } : {}),
          });
        const { sessions: _files, subject: _s, stimulusSet: _t, ...options } = r;
        const { importResponseSessions } = await this.client.request(
          `mutation($i: ImportResponseSessionsInput!) { importResponseSessions(input: $i) { run { id status } responseSet { id } } }`,
          {
            i: {
              subjectId: subject.id,
              stimulusSetId: set.id,
              ...options,
              sessions,
              idempotencyKey: this.key('sessions', subject.id, set.id, r.name, JSON.stringify(options), ...sessions.map((s) => `${s.betasArtifactId}:${s.designArtifactId}:${s.hdf5Dataset ?? ''}${s.designSession !== undefined ? `:${s.designSession}` : ''}`)),
            },
          },
        );
        this.record({ kind: 'responseSet', name: label, id: importResponseSessions.responseSet.id, action: 'created', runId: importResponseSessions.run.id, status: importResponseSessions.run.status });
      }
    }
    this.lookup.invalidate();
  }

  async models(list: CatalogManifest['models']) {
    for (const m of list) {
      let model = await this.lookup.model(m.name);
      if (model) this.record({ kind: 'model', name: m.name, id: model.id, action: 'exists' });
      else {
        const artifactId = m.file ? await this.uploadOne({ file: m.file }, `models.${m.name}.file`) : undefined;
        const backboneId = m.backbone ? (await this.lookup.requireModel(m.backbone)).id : undefined;
        const { registerModel } = await this.client.request(`mutation($i: RegisterModelInput!) { registerModel(input: $i) { id } }`, {
          i: { name: m.name, kind: m.kind, family: m.family, description: m.description, featureWidth: m.featureWidth, visibility: m.visibility, artifactId, backboneId },
        });
        this.record({ kind: 'model', name: m.name, id: registerModel.id, action: 'created' });
        this.lookup.invalidate();
      }
      model = await this.lookup.requireModel(m.name);
      for (const f of m.featureSets) {
        const set = await this.lookup.stimulusSet(f.dataset, f.stimulusSet);
        const label = `${m.name}/${f.dataset}/${f.stimulusSet}${f.layer ? `/${f.layer}` : ''}`;
        const found = model.featureSets.find((x) => x.layer === f.layer && x.stimulusSet.id === set.id);
        if (found) {
          this.record({ kind: 'featureSet', name: label, id: found.id, action: 'exists', status: found.status });
          continue;
        }
        const artifactId = await this.uploadOne(f, `models.${m.name}.featureSets`);
        const { importFeatureSet } = await this.client.request(
          `mutation($i: ImportFeatureSetInput!) { importFeatureSet(input: $i) { run { id status } featureSet { id } } }`,
          { i: { modelId: model.id, stimulusSetId: set.id, layer: f.layer, artifactId, idempotencyKey: this.key('features', model.id, set.id, f.layer, artifactId) } },
        );
        this.record({ kind: 'featureSet', name: label, id: importFeatureSet.featureSet.id, action: 'created', runId: importFeatureSet.run.id, status: importFeatureSet.run.status });
      }
    }
  }

  async benchmarks(list: CatalogManifest['benchmarks']) {
    for (const b of list) {
      const found = await this.lookup.benchmark(b.name);
      if (found) {
        this.record({ kind: 'benchmark', name: b.name, id: found.id, action: 'exists' });
        continue;
      }
      const datasetId = b.dataset ? (await this.lookup.requireDataset(b.dataset)).id : undefined;
      const { createBenchmark } = await this.client.request(`mutation($i: CreateBenchmarkInput!) { createBenchmark(input: $i) { id } }`, {
        i: { name: b.name, kind: b.kind, metric: b.metric, description: b.description, higherIsBetter: b.higherIsBetter, datasetId },
      });
      this.record({ kind: 'benchmark', name: b.name, id: createBenchmark.id, action: 'created' });
    }
  }
}

export async function register(ctx: CommandContext, manifestPath: string, options: { wait?: boolean }): Promise<number> {
  const manifest = await loadManifest(path.resolve(ctx.io.cwd ?? process.cwd(), manifestPath), catalogManifest);
  const client = await ctx.client();
  const r = new Registrar(ctx, client, manifest.dir);
  await r.datasets(manifest.value.datasets);
  await r.models(manifest.value.models);
  await r.benchmarks(manifest.value.benchmarks);

  const imports = r.actions.filter((a) => a.runId);
  let failed: any[] = [];
  if (options.wait !== false && imports.length) {
    const finals = await waitForRuns(ctx, client, imports.map((a) => a.runId!), {});
    for (const run of finals) {
      const a = imports.find((x) => x.runId === run.id)!;
      a.status = run.status;
    }
    failed = finals.filter((run) => run.status !== 'SUCCEEDED');
    for (const run of failed) ctx.io.stderr.write(`${describeEnd(run)}\n`);
  }
  const created = r.actions.filter((a) => a.action === 'created').length;
  emit(ctx.io, ctx.opts, { actions: r.actions, created, existing: r.actions.length - created }, () =>
    r.actions.map((a) => `${a.action.padEnd(7)} ${a.kind} ${a.name} ${a.id}${a.runId ? ` (import run ${a.runId}: ${a.status})` : ''}\n`).join('') +
    `${created} created, ${r.actions.length - created} already there${imports.length ? `; ${imports.length} imports ${options.wait === false ? 'queued' : failed.length ? `finished, ${failed.length} failed` : 'succeeded'}` : ''}`,
  );
  return failed.length ? EXIT.RUN_FAILED : EXIT.OK;
}
