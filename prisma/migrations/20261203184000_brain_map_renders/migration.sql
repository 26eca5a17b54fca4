-- CreateTable
CREATE TABLE "BrainMapRender" (
    "id" UUID NOT NULL,
    "sourceArtifactId" UUID NOT NULL,
    "subjectId" UUID NOT NULL,
    "row" INTEGER NOT NULL,
    "niftiArtifactId" UUID NOT NULL,
    "nFinite" INTEGER NOT NULL,
    "min" DOUBLE PRECISION,
    "max" DOUBLE PRECISION,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BrainMapRender_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BrainMapRender_niftiArtifactId_idx" ON "BrainMapRender"("niftiArtifactId");

-- CreateIndex
CREATE UNIQUE INDEX "BrainMapRender_sourceArtifactId_subjectId_row_key" ON "BrainMapRender"("sourceArtifactId", "subjectId", "row");

-- AddForeignKey
ALTER TABLE "BrainMapRender" ADD CONSTRAINT "BrainMapRender_subjectId_fkey" FOREIGN KEY ("subjectId") REFERENCES "Subject"("id") ON DELETE CASCADE ON UPDATE CASCADE;
