// The RSA demo: once the layer demo's imports are READY (both subjects, so the shared images and
// an across-subject ceiling exist), one REPRESENTATIONAL_SIMILARITY run of subj01 against the
// three-stage model, on an RSA benchmark, so the dashboard shows RDMs and a layer x ROI matrix.
import type { Log } from '../log';
import type { Services } from '../services';
import { domainContext } from '../domain/context';
import { createBenchmark } from '../domain/leaderboards';
import { submitRepresentationalSimilarity } from '../domain/representational-similarity';
import { DEMO_LAYER_DATASET, DEMO_LAYER_MODEL } from './demo-data';
import { existingRunKeys, logQueued } from './demo-common';

const KEY = 'demo-rsa-subj01';

export const DEMO_RSA_BENCHMARK = 'synthetic-layers-rsa';

/** Retries (returns false) until the inputs are READY; true once queued or when there is nothing to do. */
export async function queueDemoRsa(services: Services, log: Log): Promise<boolean> {
  const sets = await services.db.responseSet.findMany({
    where: { subject: { dataset: { labId: services.defaultLabId, name: DEMO_LAYER_DATASET } } },
    include: { subject: true },
  });
  const features = await services.db.featureSet.findMany({
    where: { model: { labId: services.defaultLabId, name: DEMO_LAYER_MODEL }, stimulusSetId: { in: sets.map((s) => s.stimulusSetId) } },
  });
  const all = [...sets, ...features];
  if (sets.length === 0 || all.some((s) => s.status === 'FAILED')) return true;
  if (all.some((s) => s.status !== 'READY')) return false;
  const target = sets.find((s) => s.subject.name === 'subj01');
  if (!target || sets.length < 2 || features.filter((f) => f.stimulusSetId === target.stimulusSetId).length < 3) return false;
  const present = await existingRunKeys(services, [KEY]);
  if (present.has(KEY)) {
    logQueued(log, 'demo RSA run', [], [KEY]);
    return true;
  }
  const ctx = domainContext(services);
  const benchmark =
    (await services.db.benchmark.findUnique({ where: { name: DEMO_RSA_BENCHMARK } })) ??
    (await createBenchmark(ctx, {
      name: DEMO_RSA_BENCHMARK,
      kind: 'RSA',
      metric: 'rsa.spearman',
      description: 'RSA of the synthetic layer demo: Spearman rho between brain and model RDMs on the shared images, each ROI at the layer chosen on the other images',
      datasetId: target.subject.datasetId,
    }));
  const model = await services.db.model.findUniqueOrThrow({ where: { labId_name: { labId: services.defaultLabId, name: DEMO_LAYER_MODEL } } });
  await submitRepresentationalSimilarity(ctx, {
    modelId: model.id,
    responseSetId: target.id,
    bootstrapSamples: 200,
    benchmarkId: benchmark.id,
    idempotencyKey: KEY,
  });
  logQueued(log, 'demo RSA run', [KEY], [], { subject: 'subj01', model: DEMO_LAYER_MODEL });
  return true;
}
