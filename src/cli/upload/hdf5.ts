// HDF5 datasets become .npy files in the state directory (converted once per file version), then
// upload like any .npy, resumable included.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CliError, EXIT, inputError } from '../exit-codes';
import { describeNpy, fileSource, type UploadSource } from './sources';

const CONVERTER = path.join(__dirname, 'hdf5-to-npy.mjs');

export interface ConvertedHdf5 {
  source: UploadSource;
  dtype: string;
  shape: number[];
}

export async function hdf5Source(file: string, dataset: string | undefined, workDir: string): Promise<ConvertedHdf5> {
  let st;
  try {
    st = await stat(file);
  } catch {
    throw inputError(`Cannot read ${file}: no such file`);
  }
  const stem = path.basename(file, path.extname(file));
  const datasetName = (dataset ?? '').replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  const id = createHash('sha256').update(`${path.resolve(file)}:${st.size}:${st.mtimeMs}:${dataset}`).digest('hex').slice(0, 24);
  const dir = path.join(workDir, 'converted');
  await mkdir(dir, { recursive: true });
  const out = path.join(dir, `${id}.npy`);
  const filename = `${stem}.${datasetName}.npy`;
  // Converted before (an interrupted upload being resumed): same bytes, same resume state.
  if (await stat(out).catch(() => null)) {
    const source = converted(await fileSource(out, filename), out);
    const header = await describeNpy(source);
    if (header) return { source, ...header };
  }
  const partial = `${out}.partial`;
  const info = await runConverter([path.resolve(file), dataset ?? '', partial]).catch(async (err) => {
    await rm(partial, { force: true });
    throw err;
  });
  await rename(partial, out);
  return { source: converted(await fileSource(out, filename), out), dtype: info.dtype, shape: info.shape };
}

/** A converted file is kept until its upload finishes, so an interrupted upload resumes on the same bytes. */
function converted(source: UploadSource, file: string): UploadSource {
  return { ...source, discard: () => rm(file, { force: true }) };
}

function runConverter(args: string[]): Promise<{ dtype: string; shape: number[] }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CONVERTER, ...args], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      let parsed: { error?: string; dtype?: string; shape?: number[] } | undefined;
      try {
        parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        parsed = undefined;
      }
      if (parsed?.error) return reject(inputError(parsed.error));
      if (err || !parsed?.dtype) return reject(new CliError(`HDF5 conversion failed: ${stderr.trim() || err?.message}`, EXIT.INPUT));
      resolve({ dtype: parsed.dtype, shape: parsed.shape ?? [] });
    });
  });
}
