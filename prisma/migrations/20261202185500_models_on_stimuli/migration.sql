-- AlterEnum
ALTER TYPE "BenchmarkKind" ADD VALUE 'RSA';

-- AlterEnum


ALTER TYPE "RunKind" ADD VALUE 'FEATURE_EXTRACTION';
ALTER TYPE "RunKind" ADD VALUE 'LAYER_SWEEP';
ALTER TYPE "RunKind" ADD VALUE 'REPRESENTATIONAL_SIMILARITY';

-- AlterTable
ALTER TABLE "Model" ADD COLUMN     "layers" JSONB,
ADD COLUMN     "preprocessing" JSONB;

-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "parentRunId" UUID;

-- CreateTable
CREATE TABLE "StimulusImage" (
    "stimulusId" UUID NOT NULL,
    "artifactId" UUID NOT NULL,
    "format" TEXT NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "thumbnailArtifactId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StimulusImage_pkey" PRIMARY KEY ("stimulusId")
);

-- CreateIndex
CREATE INDEX "StimulusImage_artifactId_idx" ON "StimulusImage"("artifactId");

-- CreateIndex
CREATE INDEX "Run_parentRunId_idx" ON "Run"("parentRunId");

-- AddForeignKey
ALTER TABLE "StimulusImage" ADD CONSTRAINT "StimulusImage_stimulusId_fkey" FOREIGN KEY ("stimulusId") REFERENCES "Stimulus"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StimulusImage" ADD CONSTRAINT "StimulusImage_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StimulusImage" ADD CONSTRAINT "StimulusImage_thumbnailArtifactId_fkey" FOREIGN KEY ("thumbnailArtifactId") REFERENCES "Artifact"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_parentRunId_fkey" FOREIGN KEY ("parentRunId") REFERENCES "Run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

