// Finds catalog objects by the names manifests use (names are how scientists refer to them).
import type { ApiClient } from './client';
import { CliError, EXIT } from './exit-codes';

const PAGE = 100;

export interface DatasetView {
  id: string;
  name: string;
  subjects: { id: string; name: string; nVoxels: number; responseSets: { id: string; name: string; status: string; stimulusSet: { id: string } }[] }[];
  stimulusSets: { id: string; name: string; nStimuli: number }[];
}

export interface ModelView {
  id: string;
  name: string;
  kind: string;
  featureSets: { id: string; layer: string; status: string; stimulusSet: { id: string } }[];
}

const DATASET_FIELDS = `id name subjects { id name nVoxels responseSets { id name status stimulusSet { id } } } stimulusSets { id name nStimuli }`;
const MODEL_FIELDS = `id name kind featureSets { id layer status stimulusSet { id } }`;

export const missing = (what: string, name: string, hint = '') =>
  new CliError(`No ${what} named ${JSON.stringify(name)} is visible to you${hint}`, EXIT.NOT_FOUND, 'NOT_FOUND');

export class CatalogLookup {
  private readonly datasets = new Map<string, DatasetView | null>();
  private readonly models = new Map<string, ModelView | null>();
  private benchmarks?: { id: string; name: string }[];

  constructor(private readonly client: ApiClient) {}

  /** Forgets what was read, after writes. */
  invalidate(): void {
    this.datasets.clear();
    this.models.clear();
    this.benchmarks = undefined;
  }

  async dataset(name: string): Promise<DatasetView | null> {
    if (!this.datasets.has(name)) {
      const { datasets } = await this.client.request(
        `query($f: DatasetFilter, $n: Int) { datasets(first: $n, filter: $f) { edges { node { ${DATASET_FIELDS} } } } }`,
        { f: { nameContains: name }, n: PAGE },
      );
      this.datasets.set(name, datasets.edges.map((e: any) => e.node).find((d: DatasetView) => d.name === name) ?? null);
    }
    return this.datasets.get(name)!;
  }

  async model(name: string): Promise<ModelView | null> {
    if (!this.models.has(name)) {
      const { models } = await this.client.request(
        `query($f: ModelFilter, $n: Int) { models(first: $n, filter: $f) { edges { node { ${MODEL_FIELDS} } } } }`,
        { f: { nameContains: name }, n: PAGE },
      );
      this.models.set(name, models.edges.map((e: any) => e.node).find((m: ModelView) => m.name === name) ?? null);
    }
    return this.models.get(name)!;
  }

  async benchmark(name: string): Promise<{ id: string; name: string } | null> {
    if (!this.benchmarks) this.benchmarks = (await this.client.request(`{ benchmarks { id name } }`)).benchmarks as { id: string; name: string }[];
    return this.benchmarks.find((b) => b.name === name) ?? null;
  }

  // --- references that must exist ----------------------------------------------------------

  async requireDataset(name: string): Promise<DatasetView> {
    const d = await this.dataset(name);
    if (!d) throw missing('dataset', name);
    return d;
  }

  async requireModel(name: string): Promise<ModelView> {
    const m = await this.model(name);
    if (!m) throw missing('model', name);
    return m;
  }

  async stimulusSet(datasetName: string, setName: string) {
    const d = await this.requireDataset(datasetName);
    const s = d.stimulusSets.find((x) => x.name === setName);
    if (!s) throw missing('stimulus set', setName, ` in dataset ${datasetName} (it has: ${d.stimulusSets.map((x) => x.name).join(', ') || 'none'})`);
    return s;
  }

  async subject(datasetName: string, subjectName: string) {
    const d = await this.requireDataset(datasetName);
    const s = d.subjects.find((x) => x.name === subjectName);
    if (!s) throw missing('subject', subjectName, ` in dataset ${datasetName} (it has: ${d.subjects.map((x) => x.name).join(', ') || 'none'})`);
    return s;
  }
}
