// Turns a path (and --member / --dataset) into the artifacts to upload, by file type.
import path from 'node:path';
import { stateDir } from '../config';
import { inputError } from '../exit-codes';
import type { CliIo } from '../io';
import type { ApiClient } from '../client';
import { hdf5Source } from './hdf5';
import { describeNpy, fileSource, npzMemberSources, type UploadSource } from './sources';
import { UploadStateStore } from './state';
import { uploadSource, type UploadedArtifact } from './upload';

export interface FileRef {
  file: string;
  /** .npz: one member (default: every member, each its own artifact). */
  member?: string;
  /** .h5/.hdf5: the dataset path inside the file (required). */
  dataset?: string;
}

export interface UploadReport extends UploadedArtifact {
  source: string;
  member?: string;
  dataset?: string;
}

const HDF5 = /\.(h5|hdf5|he5)$/i;

export async function sourcesFor(ref: FileRef, io: CliIo): Promise<Array<{ source: UploadSource; member?: string; dataset?: string }>> {
  const file = path.resolve(io.cwd ?? process.cwd(), ref.file);
  if (/\.npz$/i.test(file)) {
    return npzMemberSources(file, ref.member);
  }
  if (ref.member) throw inputError(`--member applies to .npz archives; ${ref.file} is not one`);
  if (HDF5.test(file)) {
    const converted = await hdf5Source(file, ref.dataset, stateDir(io.env));
    return [{ source: converted.source, dataset: ref.dataset }];
  }
  if (ref.dataset) throw inputError(`--dataset applies to HDF5 files (.h5, .hdf5); ${ref.file} is not one`);
  const source = await fileSource(file);
  return [{ source }];
}

/** Checks every source (valid .npy header) before the first byte is sent, then uploads each. */
export async function uploadFiles(
  refs: FileRef[],
  io: CliIo,
  client: ApiClient,
  progress: boolean,
  tuning: { parallel?: number; afterPart?: (partNumber: number) => void | Promise<void> } = {},
): Promise<UploadReport[]> {
  const planned: Array<{ ref: FileRef; source: UploadSource; member?: string; dataset?: string }> = [];
  for (const ref of refs) for (const s of await sourcesFor(ref, io)) planned.push({ ref, ...s });
  for (const p of planned) await describeNpy(p.source);
  const states = new UploadStateStore(stateDir(io.env));
  const reports: UploadReport[] = [];
  for (const p of planned) {
    const artifact = await uploadSource(p.source, { client, states, progress: { stream: io.stderr, enabled: progress }, ...tuning });
    await p.source.discard?.();
    reports.push({ source: p.ref.file, ...(p.member ? { member: p.member } : {}), ...(p.dataset ? { dataset: p.dataset } : {}), ...artifact });
  }
  return reports;
}
