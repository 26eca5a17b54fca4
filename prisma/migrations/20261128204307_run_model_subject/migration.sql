-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "modelId" UUID,
ADD COLUMN     "subjectId" UUID;

-- CreateIndex
CREATE INDEX "Run_benchmarkId_status_idx" ON "Run"("benchmarkId", "status");

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_subjectId_fkey" FOREIGN KEY ("subjectId") REFERENCES "Subject"("id") ON DELETE SET NULL ON UPDATE CASCADE;
