-- Responses imported from session files (NIfTI 4D / NSD-style HDF5 betas plus a design table).
ALTER TYPE "RunKind" ADD VALUE 'IMPORT_SESSIONS';

-- The NSD ncsnr map beside the noise ceiling and the split-half reliability.
ALTER TABLE "ResponseSet" ADD COLUMN "ncsnrArtifactId" UUID;
