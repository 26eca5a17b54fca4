-- CreateEnum
CREATE TYPE "Visibility" AS ENUM ('PRIVATE', 'SHARED', 'PUBLIC');

-- CreateEnum
CREATE TYPE "ModelKind" AS ENUM ('BACKBONE', 'ENCODER', 'IN_CONTEXT_ENCODER', 'DECODER');

-- CreateEnum
CREATE TYPE "SetStatus" AS ENUM ('PENDING', 'IMPORTING', 'READY', 'FAILED');

-- CreateEnum
CREATE TYPE "RunKind" AS ENUM ('IMPORT_RESPONSES', 'IMPORT_FEATURES', 'ENCODING_RIDGE', 'ENCODING_ICL', 'CAUSAL_TEST', 'VQA_EVAL');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "BenchmarkKind" AS ENUM ('ENCODING', 'IN_CONTEXT', 'CAUSAL', 'VQA');

-- CreateTable
CREATE TABLE "Lab" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Lab_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Dataset" (
    "id" UUID NOT NULL,
    "labId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "visibility" "Visibility" NOT NULL DEFAULT 'PRIVATE',
    "sharedWith" UUID[] DEFAULT ARRAY[]::UUID[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Dataset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Subject" (
    "id" UUID NOT NULL,
    "datasetId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "nVoxels" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Subject_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Roi" (
    "id" UUID NOT NULL,
    "subjectId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "voxelIndices" INTEGER[],

    CONSTRAINT "Roi_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StimulusSet" (
    "id" UUID NOT NULL,
    "datasetId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StimulusSet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Stimulus" (
    "id" UUID NOT NULL,
    "stimulusSetId" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "externalId" TEXT NOT NULL,
    "concepts" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "caption" TEXT,

    CONSTRAINT "Stimulus_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Model" (
    "id" UUID NOT NULL,
    "labId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "ModelKind" NOT NULL,
    "family" TEXT NOT NULL DEFAULT '',
    "description" TEXT NOT NULL DEFAULT '',
    "featureWidth" INTEGER,
    "artifactId" UUID,
    "backboneId" UUID,
    "visibility" "Visibility" NOT NULL DEFAULT 'PRIVATE',
    "sharedWith" UUID[] DEFAULT ARRAY[]::UUID[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Model_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FeatureSet" (
    "id" UUID NOT NULL,
    "modelId" UUID NOT NULL,
    "stimulusSetId" UUID NOT NULL,
    "layer" TEXT NOT NULL DEFAULT '',
    "status" "SetStatus" NOT NULL DEFAULT 'PENDING',
    "artifactId" UUID,
    "dim" INTEGER,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FeatureSet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ResponseSet" (
    "id" UUID NOT NULL,
    "subjectId" UUID NOT NULL,
    "stimulusSetId" UUID NOT NULL,
    "name" TEXT NOT NULL DEFAULT 'betas',
    "status" "SetStatus" NOT NULL DEFAULT 'PENDING',
    "artifactId" UUID,
    "nRepeats" INTEGER,
    "meanArtifactId" UUID,
    "sdArtifactId" UUID,
    "noiseCeilingArtifactId" UUID,
    "noiseCeilingMedian" DOUBLE PRECISION,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ResponseSet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Artifact" (
    "id" UUID NOT NULL,
    "labId" UUID,
    "sha256" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "mediaType" TEXT NOT NULL DEFAULT 'application/octet-stream',
    "filename" TEXT NOT NULL DEFAULT '',
    "dtype" TEXT,
    "shape" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Artifact_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ArtifactUpload" (
    "id" UUID NOT NULL,
    "labId" UUID NOT NULL,
    "stagingKey" TEXT NOT NULL,
    "multipartId" TEXT,
    "expectedSha256" TEXT NOT NULL,
    "expectedSize" BIGINT NOT NULL,
    "filename" TEXT NOT NULL DEFAULT '',
    "mediaType" TEXT NOT NULL DEFAULT 'application/octet-stream',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ArtifactUpload_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Benchmark" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "BenchmarkKind" NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "metric" TEXT NOT NULL,
    "higherIsBetter" BOOLEAN NOT NULL DEFAULT true,
    "datasetId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Benchmark_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Run" (
    "id" UUID NOT NULL,
    "labId" UUID NOT NULL,
    "kind" "RunKind" NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'QUEUED',
    "params" JSONB NOT NULL,
    "idempotencyKey" TEXT,
    "benchmarkId" UUID,
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "progressMessage" TEXT NOT NULL DEFAULT '',
    "error" JSONB,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "provenance" JSONB NOT NULL DEFAULT '{}',
    "outputs" JSONB NOT NULL DEFAULT '{}',
    "visibility" "Visibility" NOT NULL DEFAULT 'PRIVATE',
    "sharedWith" UUID[] DEFAULT ARRAY[]::UUID[],
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Score" (
    "id" UUID NOT NULL,
    "runId" UUID NOT NULL,
    "benchmarkId" UUID,
    "metric" TEXT NOT NULL,
    "scope" TEXT NOT NULL DEFAULT '',
    "roiId" UUID,
    "value" DOUBLE PRECISION NOT NULL,
    "ciLow" DOUBLE PRECISION,
    "ciHigh" DOUBLE PRECISION,
    "normalized" DOUBLE PRECISION,
    "n" INTEGER,
    "extra" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Score_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Lab_name_key" ON "Lab"("name");

-- CreateIndex
CREATE INDEX "Dataset_visibility_idx" ON "Dataset"("visibility");

-- CreateIndex
CREATE UNIQUE INDEX "Dataset_labId_name_key" ON "Dataset"("labId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Subject_datasetId_name_key" ON "Subject"("datasetId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Roi_subjectId_name_key" ON "Roi"("subjectId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "StimulusSet_datasetId_name_key" ON "StimulusSet"("datasetId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Stimulus_stimulusSetId_externalId_key" ON "Stimulus"("stimulusSetId", "externalId");

-- CreateIndex
CREATE UNIQUE INDEX "Stimulus_stimulusSetId_position_key" ON "Stimulus"("stimulusSetId", "position");

-- CreateIndex
CREATE INDEX "Model_visibility_idx" ON "Model"("visibility");

-- CreateIndex
CREATE UNIQUE INDEX "Model_labId_name_key" ON "Model"("labId", "name");

-- CreateIndex
CREATE INDEX "FeatureSet_stimulusSetId_idx" ON "FeatureSet"("stimulusSetId");

-- CreateIndex
CREATE UNIQUE INDEX "FeatureSet_modelId_stimulusSetId_layer_key" ON "FeatureSet"("modelId", "stimulusSetId", "layer");

-- CreateIndex
CREATE INDEX "ResponseSet_stimulusSetId_idx" ON "ResponseSet"("stimulusSetId");

-- CreateIndex
CREATE UNIQUE INDEX "ResponseSet_subjectId_stimulusSetId_name_key" ON "ResponseSet"("subjectId", "stimulusSetId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Artifact_sha256_key" ON "Artifact"("sha256");

-- CreateIndex
CREATE UNIQUE INDEX "ArtifactUpload_stagingKey_key" ON "ArtifactUpload"("stagingKey");

-- CreateIndex
CREATE INDEX "ArtifactUpload_expiresAt_idx" ON "ArtifactUpload"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "Benchmark_name_key" ON "Benchmark"("name");

-- CreateIndex
CREATE INDEX "Run_status_createdAt_idx" ON "Run"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Run_kind_idx" ON "Run"("kind");

-- CreateIndex
CREATE UNIQUE INDEX "Run_labId_idempotencyKey_key" ON "Run"("labId", "idempotencyKey");

-- CreateIndex
CREATE INDEX "Score_benchmarkId_metric_value_idx" ON "Score"("benchmarkId", "metric", "value");

-- CreateIndex
CREATE INDEX "Score_roiId_idx" ON "Score"("roiId");

-- CreateIndex
CREATE UNIQUE INDEX "Score_runId_metric_scope_key" ON "Score"("runId", "metric", "scope");

-- AddForeignKey
ALTER TABLE "Dataset" ADD CONSTRAINT "Dataset_labId_fkey" FOREIGN KEY ("labId") REFERENCES "Lab"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Subject" ADD CONSTRAINT "Subject_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Roi" ADD CONSTRAINT "Roi_subjectId_fkey" FOREIGN KEY ("subjectId") REFERENCES "Subject"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StimulusSet" ADD CONSTRAINT "StimulusSet_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Stimulus" ADD CONSTRAINT "Stimulus_stimulusSetId_fkey" FOREIGN KEY ("stimulusSetId") REFERENCES "StimulusSet"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Model" ADD CONSTRAINT "Model_labId_fkey" FOREIGN KEY ("labId") REFERENCES "Lab"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Model" ADD CONSTRAINT "Model_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Model" ADD CONSTRAINT "Model_backboneId_fkey" FOREIGN KEY ("backboneId") REFERENCES "Model"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FeatureSet" ADD CONSTRAINT "FeatureSet_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FeatureSet" ADD CONSTRAINT "FeatureSet_stimulusSetId_fkey" FOREIGN KEY ("stimulusSetId") REFERENCES "StimulusSet"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FeatureSet" ADD CONSTRAINT "FeatureSet_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ResponseSet" ADD CONSTRAINT "ResponseSet_subjectId_fkey" FOREIGN KEY ("subjectId") REFERENCES "Subject"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ResponseSet" ADD CONSTRAINT "ResponseSet_stimulusSetId_fkey" FOREIGN KEY ("stimulusSetId") REFERENCES "StimulusSet"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ResponseSet" ADD CONSTRAINT "ResponseSet_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Artifact" ADD CONSTRAINT "Artifact_labId_fkey" FOREIGN KEY ("labId") REFERENCES "Lab"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactUpload" ADD CONSTRAINT "ArtifactUpload_labId_fkey" FOREIGN KEY ("labId") REFERENCES "Lab"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_labId_fkey" FOREIGN KEY ("labId") REFERENCES "Lab"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_benchmarkId_fkey" FOREIGN KEY ("benchmarkId") REFERENCES "Benchmark"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Score" ADD CONSTRAINT "Score_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Score" ADD CONSTRAINT "Score_benchmarkId_fkey" FOREIGN KEY ("benchmarkId") REFERENCES "Benchmark"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Score" ADD CONSTRAINT "Score_roiId_fkey" FOREIGN KEY ("roiId") REFERENCES "Roi"("id") ON DELETE SET NULL ON UPDATE CASCADE;

