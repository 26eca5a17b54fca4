/** Storage: the ArtifactStore interface and adapters, and the .npy / .npz array codecs. */
import path from 'node:path';
import type { ArtifactStore } from './artifact-store';
import { FsArtifactStore } from './fs-artifact-store';
import { S3ArtifactStore, type S3ConnectionConfig } from './s3-artifact-store';

export * from './artifact-store';
export * from './errors';
export * from './keys';
export { hashStream, readPrefix, type Digest } from './hashing';
export { S3ArtifactStore, type S3ArtifactStoreOptions, type S3ConnectionConfig } from './s3-artifact-store';
export { FsArtifactStore, type FsArtifactStoreOptions } from './fs-artifact-store';
export { createFsArtifactHttpHandler, type NodeHttpHandler } from './fs-http-handler';
export * from './npy';
export * from './npy-stream';
export * from './npz';
export * from './npy-fortran';

/**
 * The store a profile runs with, from the fields of src/config.ts it needs: S3 (MinIO) in
 * production, `<dataDir>/artifacts` with URLs on the API server (`publicUrl`) when embedded.
 */
export function createArtifactStore(config: {
  artifactStore: 'fs' | 's3';
  dataDir: string;
  publicUrl: string;
  s3: S3ConnectionConfig;
  uploadSecret: string;
  uploadPartSize: number;
}): ArtifactStore {
  if (config.artifactStore === 's3') {
    return S3ArtifactStore.fromConfig(config.s3, { partSize: config.uploadPartSize });
  }
  return new FsArtifactStore({
    rootDir: path.join(config.dataDir, 'artifacts'),
    publicBaseUrl: config.publicUrl,
    signingSecret: config.uploadSecret || undefined,
    partSize: config.uploadPartSize,
  });
}
