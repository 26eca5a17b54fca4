// What the demo modules share: arrays stored as artifacts the way an upload ends, a synthetic
// subject registered through the catalog mutations, queueing once the imports a run needs are
// READY, and idempotency keys that tell a first start from a later one in the log.
import type { Services } from '../services';
import type { Log } from '../log';
import type { DomainContext } from '../domain/context';
import { storeArtifact } from '../domain/artifacts';
import { createStimulusSet, createSubject } from '../domain/catalog';
import { importFeatureSet, importResponseSet } from '../domain/imports';
import { encodeNpy } from '../storage';
import type { DemoSubject } from './demo-data';

/** A float32 array stored as an .npy artifact of the default lab. */
export function saveNpy(services: Services, name: string, shape: number[], values: Float32Array) {
  return storeArtifact(services, Buffer.from(encodeNpy({ dtype: '<f4', shape, data: values })), { filename: name, labId: services.defaultLabId, dtype: '<f4', shape });
}

/**
 * Registers a synthetic subject (its ROIs, one stimulus set, features of each backbone, responses
 * with repeats) through createSubject, createStimulusSet, importFeatureSet and importResponseSet.
 */
export async function registerDemoSubject(
  ctx: DomainContext,
  input: { datasetId: string; subject: DemoSubject; models: Map<string, string>; keyPrefix: string; stimulusSetName: string },
) {
  const { services } = ctx;
  const s = input.subject;
  const subject = await createSubject(ctx, { datasetId: input.datasetId, name: s.name, nVoxels: s.nVoxels, rois: s.rois });
  const set = await createStimulusSet(ctx, { datasetId: input.datasetId, name: input.stimulusSetName, description: s.stimulusDescription, stimuli: s.stimuli });
  for (const [backbone, features] of s.features) {
    const artifact = await saveNpy(services, `${s.name}-${backbone}.npy`, [s.stimuli.length, features.width], features.values);
    await importFeatureSet(ctx, { modelId: input.models.get(backbone)!, stimulusSetId: set.id, artifactId: artifact.id, idempotencyKey: `${input.keyPrefix}-${s.name}-${backbone}` });
  }
  const responses = await saveNpy(services, `${s.name}-betas.npy`, [s.nRepeats, s.stimuli.length, s.nVoxels], s.responses);
  await importResponseSet(ctx, { subjectId: subject.id, stimulusSetId: set.id, artifactId: responses.id, idempotencyKey: `${input.keyPrefix}-${s.name}-betas` });
  return { subjectId: subject.id, stimulusSetId: set.id };
}

/** Calls `attempt` every second until it reports done (true) or throws. */
export function whenReady(log: Log, what: string, attempt: () => Promise<boolean>): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (stopped) return;
    attempt().then(
      (done) => {
        if (!done && !stopped) timer = setTimeout(tick, 1000);
      },
      (err) => log('warn', `${what} not queued: ${(err as Error).message}`),
    );
  };
  tick();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Which of these idempotency keys already name a run of the default lab (a later start). */
export async function existingRunKeys(services: Services, keys: string[]): Promise<Set<string>> {
  const runs = await services.db.run.findMany({ where: { labId: services.defaultLabId, idempotencyKey: { in: keys } }, select: { idempotencyKey: true } });
  return new Set(runs.map((r) => r.idempotencyKey!));
}

/** The log line of a demo step: what it queued now and what an earlier start had already queued. */
export function logQueued(log: Log, what: string, queued: string[], present: string[], fields: Record<string, unknown> = {}) {
  if (queued.length === 0) log('info', `${what}: nothing to queue, already queued by an earlier start`, { present, ...fields });
  else log('info', `${what} queued`, { queued, ...(present.length ? { alreadyPresent: present } : {}), ...fields });
}
